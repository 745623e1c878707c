# SECURITY-CASES APX-06: no token or proof in any log, at any LogLevel. httpd's own http
# module lists every request header field at trace4, before any location is known: mod_ekey
# keeps an EKey credential and a DPoP field out of the request's fields from the moment the
# request is read, gives them back at a location that is not under E-Key (another module's
# DPoP), and the issuer drops a minting proof before the access log is written.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use EKeyTest;
use EKeyCheck;

plan tests => 7;

my $vh = 'ekey_tracelog';
my $base = EKeyTest::base_url($vh);
my @secrets;

# accepted, replayed, refused (a proof of another request)
my $k = client_key();
my ($t, $p, $c) = mint_pair(key => $k, vhost => $vh, path => '/traced',
                            token => { claims => { cap => { action => 'POST:/traced', limit => 1 } } });
push @secrets, $t, $p;
my $send = sub { send_req(vhost => $vh, path => '/traced', headers => [['Authorization' => "EKey $_[0]"], ['DPoP' => $_[1]]]) };
ok t_cmp($send->($t, $p)->code, 200, 'an E-Key at a location logging at trace8: served');
my $p2 = proof($k, 'POST', "$base/traced", $t, $c->{trace});
push @secrets, $p2;
ok t_cmp($send->($t, $p2)->code, 401, 'its replay: refused');

# a minting request with its proof, anonymous
my $mp = proof($k, 'POST', "$base/tracemint", 'x', undef, claims => { ath => undef, nonce => undef });
push @secrets, $mp;
my $body = JSON::PP->new->encode({ sub => 'agent-123', aud => 'https://api.example.com', bind => 'DPoP',
                                   cap => { action => 'POST:/traced', limit => 1 }, jwk => pub_jwk($k) });
my $mr = send_req(vhost => $vh, path => '/tracemint', headers => [['DPoP' => $mp]], body => $body);
ok t_cmp($mr->code, 200, 'minting with a proof there: 200');
push @secrets, body_json($mr)->{token} // 'none';

# a plain location: a DPoP field (another module's business) reaches the backend as sent
my $other = 'not-ours.' . b64u(pack('N3', rand(2**32), rand(2**32), time));
my $pr = send_req(method => 'GET', vhost => $vh, path => '/plain', headers => [['DPoP' => $other]]);
ok t_cmp(body_json($pr)->{HTTP_DPOP} // '', $other, 'a plain location gets its DPoP field back');

sleep 1;                                         # the log lines follow the answers
my $err = log_text('tracelog_error_log');
my $acc = log_text('tracelog_access_log');
ok t_cmp($err =~ /Headers received from client/ ? 'listed' : 'not listed', 'listed',
         'httpd listed the header fields (trace4)');
ok t_cmp(join(',', grep { index($err, $_) >= 0 } @secrets), '', 'no token or proof in the error log');
ok t_cmp(join(',', grep { index($acc, $_) >= 0 } @secrets), '', 'nor in the access log (%{Authorization}i, %{DPoP}i)');
