# Certificate-bound E-Keys (RFC 8705) over real mod_ssl: the bound certificate passes, no
# certificate or another certificate is refused, SPIFFE IDs are exposed and can be required.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use LWP::UserAgent ();
use MIME::Base64 qw(decode_base64);
use Digest::SHA qw(sha256);
use EKeyTest;
use EKeyCheck;

my $keys = t_root() . '/keys';
my $cfg = Apache::Test::config();
my $port = $cfg->{vhosts}{ekey_tls}{port};
my $base = "https://localhost:$port";

sub x5t {
    my ($name) = @_;
    open(my $fh, '<', "$keys/$name.crt") or die "$name.crt: $!";
    my $pem = do { local $/; <$fh> };
    $pem =~ s/-----[^-]+-----//g;
    return b64u(sha256(decode_base64($pem)));
}

sub tls_get {
    my ($cert, $path, @h) = @_;
    my $ua = LWP::UserAgent->new(timeout => 20, ssl_opts => {
        SSL_ca_file => "$keys/ca.crt", verify_hostname => 1,
        $cert ? (SSL_cert_file => "$keys/$cert.crt", SSL_key_file => "$keys/$cert.key") : () });
    my $req = HTTP::Request->new(POST => "$base$path");
    $req->push_header(@$_) for @h;
    return $ua->request($req);
}

sub send_cert {
    my ($cert, $tok, $path) = @_;
    return sub { tls_get($cert, $path || '/payments', ['Authorization' => "EKey $tok"]) };
}

my @cases = (
  ['no client certificate', sub { my ($t) = token(cert => x5t('client')); send_cert(undef, $t)->() }, 401, 'invalid_proof', 'invalid_token'],
  ['another client certificate', sub { my ($t) = token(cert => x5t('client')); send_cert('svid', $t)->() }, 401, 'invalid_proof', 'invalid_token'],
  ['DPoP token without proof over mTLS', sub { my ($t) = token(key => client_key()); send_cert('client', $t)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
  ['SPIFFE ID not equal to sub', sub { my ($t) = token(cert => x5t('svid'), claims => { cap => { action => 'POST:/spiffe', limit => 1 } }); send_cert('svid', $t, '/spiffe')->() }, 401, 'invalid_proof', 'invalid_token'],
  ['mTLS replay', sub { my ($t) = token(cert => x5t('client')); send_cert('client', $t)->(); send_cert('client', $t)->() }, 401, 'replay_detected', 'invalid_token'],
);

plan tests => 2 * ASSERTS_ALLOWED + 3 + ASSERTS_REFUSED * @cases;

my ($t) = token(cert => x5t('client'));
my $res = allowed('bound certificate', send_cert('client', $t));
my $env = body_json($res);
ok t_cmp($env->{EKEY_BIND} // '', 'mTLS', 'EKEY_BIND');
ok t_cmp($env->{EKEY_SUB} // '', 'agent-123', 'EKEY_SUB');

my $sub = 'spiffe://example.org/agent-123';
my ($ts) = token(cert => x5t('svid'), claims => { sub => $sub, cap => { action => 'POST:/spiffe', limit => 1 } });
my $rs = allowed('SVID whose SPIFFE ID is sub', send_cert('svid', $ts, '/spiffe'));
ok t_cmp(body_json($rs)->{EKEY_SPIFFE_ID} // '', $sub, 'EKEY_SPIFFE_ID');

# the mTLS replay case sends one good request first: account for its hit
for my $c (@cases) {
    if ($c->[0] eq 'mTLS replay') {
        my ($tr) = token(cert => x5t('client'));
        send_cert('client', $tr)->();
        refused($c->[0], send_cert('client', $tr), $c->[2], $c->[3], $c->[4]);
        next;
    }
    refused(@$c);
}
