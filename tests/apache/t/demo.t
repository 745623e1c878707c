# The demo configuration (httpd-conf/demo.conf) serves real requests: a second httpd is
# started from it on two free ports, the prototype's curl body mints, a DPoP-bound token and
# an mTLS-bound token are each spent once (200) and refused the second time.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Copy qw(copy);
use IO::Socket::INET ();
use JSON::PP ();
use EKeyTest;

my $root = t_root();
my $keys = keys_dir();
my $demo = "$root/logs/demo";
my $conf = "$root/../httpd-conf/demo.conf";

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  ReuseAddr => 1) or die "port: $!";
    return $s->sockport;
}
my ($http, $tls) = (free_port(), free_port());
$tls = free_port() while $tls == $http;

mkdir $demo; mkdir "$demo/htdocs";
copy("$keys/$_", "$demo/$_") or die "$_: $!" for qw(issuer.pem server.crt server.key ca.crt);
local $ENV{EKEY_DEMO} = $demo;
local $ENV{EKEY_MODULES} = "$root/modules";
local $ENV{EKEY_CONF} = "$root/../httpd-conf";
my @httpd = ('/usr/sbin/apache2', '-f', $conf, '-C', "Define EKEY_HTTP_PORT $http",
             '-C', "Define EKEY_TLS_PORT $tls", '-DEKEY_DEMO_NOUSER');

plan tests => 16;

my $cmd = join ' ', map { "'$_'" } @httpd;
my $out = `$cmd -t 2>&1`;
ok t_cmp("$? $out", qr/^0 .*Syntax OK/s, 'demo.conf: configtest passes');
system(@httpd, '-k', 'start');
my $up = 0;
for (1 .. 50) {
    last if ($up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$http", Timeout => 1) ? 1 : 0);
    select(undef, undef, undef, 0.1);
}
ok t_cmp($up, 1, 'demo httpd started');

my $J = JSON::PP->new->canonical(1);
my $base = "http://localhost:$http";
sub post {
    my (%o) = @_;
    return send_req(url => $o{url}, tls => $o{tls}, body => $o{body}, headers => $o{headers} || []);
}

# The prototype's request, verbatim (its jwk is the README's; we do not hold that key).
my $proto = '{"sub":"agent-123","aud":"https://api.example.com","ttl":30,"bind":"DPoP",'
  . '"cap":{"action":"POST:/payments","limit":1},"jwk":{"kty":"EC","crv":"P-256",'
  . '"x":"m3iO44EpoO0YX3XlKZtp1Y8hLe0KzlzSCuaCM6Kw_kA","y":"rM2zumW497ix-_mcZq4Js1EQn__MaJ50KPZ2hhShSP0"}}';
my $r = post(url => "$base/token", body => $proto);
ok t_cmp($r->code, 200, 'demo: the prototype curl body mints');
ok t_cmp(body_json($r)->{token_type} // '', 'EKey', 'demo: token_type EKey');

# DPoP: mint for our key, spend once, refused the second time.
my $k = client_key();
my $body = $J->encode({ sub => 'agent-123', aud => 'https://api.example.com', ttl => 30,
                        bind => 'DPoP', cap => { action => 'POST:/payments', limit => 1 },
                        jwk => pub_jwk($k) });
my $m = body_json(post(url => "$base/token", body => $body));
my $spend = sub {
    my $p = proof($k, 'POST', "$base/payments", $m->{token}, $m->{trace});
    post(url => "$base/payments", headers => [['Authorization' => "EKey $m->{token}"], ['DPoP' => $p]]);
};
my $s1 = $spend->();
ok t_cmp($s1->code, 200, 'demo: DPoP-bound token accepted');
ok t_cmp(body_json($s1)->{ekey_sub} // '', 'agent-123', 'demo: the backend sees the subject');
my $s2 = $spend->();
ok t_cmp($s2->code . ' ' . (body_json($s2)->{error} // ''), '401 replay_detected', 'demo: second use refused');
ok t_cmp(post(url => "$base/payments")->code, 401, 'demo: no E-Key, 401');

# JWKS.
{
    my $j = LWP::UserAgent->new(timeout => 10)->get("$base/.well-known/jwks.json");
    ok t_cmp($j->code, 200, 'demo: JWKS served');
    ok t_cmp(($j->decoded_content // '') =~ /"d"/ ? 'private' : 'public', 'public', 'demo: JWKS has no private member');
}

# mTLS on the TLS port: mint with bind mTLS over the client certificate, spend, replay.
{
    my $tbase = "https://localhost:$tls";
    my $mb = $J->encode({ sub => 'agent-123', aud => 'https://api.example.com', bind => 'mTLS',
                          cap => { action => 'POST:/payments', limit => 1 } });
    my $mt = body_json(post(url => "$tbase/token", tls => 'client', body => $mb));
    ok t_cmp($mt->{cnf}{'x5t#S256'} // '', x5t('client'), 'demo: mTLS minting binds the client certificate');
    my $u1 = post(url => "$tbase/payments", tls => 'client', headers => [['Authorization' => "EKey " . ($mt->{token} // '')]]);
    ok t_cmp($u1->code, 200, 'demo: mTLS-bound token accepted');
    ok t_cmp(body_json($u1)->{ekey_bind} // '', 'mTLS', 'demo: bound by mTLS');
    my $u2 = post(url => "$tbase/payments", tls => 'client', headers => [['Authorization' => "EKey " . ($mt->{token} // '')]]);
    ok t_cmp(body_json($u2)->{error} // '', 'replay_detected', 'demo: mTLS replay refused');
    my $u3 = post(url => "$tbase/payments", tls => 'client2', headers => [['Authorization' => "EKey " . ($mt->{token} // '')]]);
    ok t_cmp($u3->code, 401, 'demo: another certificate refused');
}

# Stop the demo httpd by its pid.
{
    my $pid = do { local (@ARGV, $/) = ("$demo/httpd.pid"); <> } // '';
    chomp $pid;
    kill 'TERM', $pid if $pid =~ /^\d+$/;
    my $gone = 0;
    for (1 .. 100) { last if ($gone = !kill(0, $pid)); select(undef, undef, undef, 0.1) }
    ok t_cmp($gone ? 'stopped' : 'running', 'stopped', 'demo httpd stopped');
}
