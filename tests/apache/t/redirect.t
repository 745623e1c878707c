# Internal redirects under E-Key (SECURITY-CASES APX-02, APX-03). httpd does not
# authenticate an internal redirect whose configuration is its parent's (an ErrorDocument
# inside the protected location): the protected handler must still never run for a
# refused request, whether it was refused for no credentials, a spent token or a
# capability. An ErrorDocument outside the location is the administrator's page, served
# with the refusal's status.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

plan tests => 17 + 4;

sub post_pair {
    my ($path, $t, $p) = @_;
    return send_req(method => 'POST', path => $path,
                    headers => [defined $t ? (['Authorization' => "EKey $t"]) : (),
                                defined $p ? (['DPoP' => $p]) : ()]);
}
sub pair { my ($path, $action, %o) = @_;
    return mint_pair(method => 'POST', path => $path,
                     token => { claims => { cap => { action => $action, limit => 1 } } }, %o) }

# ErrorDocument inside the protected location
my $h0 = hits();
my $r = post_pair('/edsame/pay');
ok t_cmp($r->code, 401, 'no credentials: 401');
ok t_cmp(hits() - $h0, 0, '... and the protected handler did not run as the error page');
my $k = client_key();
my ($t, $p, $c) = pair('/edsame/pay', 'POST:/edsame/pay', key => $k);
$h0 = hits();
ok t_cmp(post_pair('/edsame/pay', $t, $p)->code, 200, 'a valid E-Key: 200');
ok t_cmp(hits() - $h0, 1, '... the handler ran once');
my $p2 = proof($k, 'POST', EKeyTest::base_url() . '/edsame/pay', $t, $c->{trace});
$h0 = hits();
$r = post_pair('/edsame/pay', $t, $p2);
ok t_cmp($r->code, 401, 'the spent token again: 401');
ok t_cmp(hits() - $h0, 0, '... and the handler did not run (no REMOTE_USER for a replay)');
my ($t3, $p3) = pair('/edsame/other', 'POST:/edsame/other');
$h0 = hits();
$r = post_pair('/edsame/other', $t3, $p3);
ok t_cmp($r->code, 403, 'a capability the location does not list: 403');
ok t_cmp(hits() - $h0, 0, '... and the handler did not run');

# ErrorDocument outside the location: the administrator's page, the refusal's status
$h0 = hits();
$r = post_pair('/edout/pay');
ok t_cmp($r->code, 401, 'no credentials, ErrorDocument elsewhere: 401');
ok t_cmp($r->decoded_content // '', qr/administrator's page/, '... with that page');
ok t_cmp($r->header('WWW-Authenticate') // '', qr/^EKey /, '... and the challenge');
ok t_cmp(hits() - $h0, 0, '... the handler did not run');
my ($t4, $p4) = pair('/edout/pay', 'POST:/edout/pay');
ok t_cmp(post_pair('/edout/pay', $t4, $p4)->code, 200, 'a valid E-Key there: 200');
# insufficient_capability: mod_authz_core answers 401, the verifier's answer is 403, also
# when an ErrorDocument 401 (a local URL) serves the page
my ($t5, $p5) = pair('/edout/other', 'POST:/edout/other');
$h0 = hits();
$r = post_pair('/edout/other', $t5, $p5);
ok t_cmp($r->code, 403, 'a capability not listed, ErrorDocument elsewhere: 403, not 401');
ok t_cmp($r->decoded_content // '', qr/administrator's page/, '... with that page');
ok t_cmp(hits() - $h0, 0, '... the handler did not run');
# a DirectoryIndex target under <Files> E-Key, its directory open: the lookup is refused
# with our challenge (mod_dir passes a single index's 401 on), the file's URL serves
$r = send_req(method => 'GET', path => '/fdir/');
ok t_cmp($r->code, 401, 'the directory of a <Files>-protected index: 401');
ok t_cmp(www_auth($r), qr/^EKey realm=/, '... with the EKey challenge');
ok t_cmp(($r->header('Cache-Control') // '') . (index($r->decoded_content // '', 'fdir index') < 0 ? ' hidden' : ' shown'),
         qr/no-store.* hidden$/, '... not stored, and without the index');
my ($t6, $p6) = mint_pair(method => 'GET', path => '/fdir/index.html',
                          token => { claims => { cap => { action => 'GET:/fdir/index.html', limit => 1 } } });
$r = send_req(method => 'GET', path => '/fdir/index.html', headers => [['Authorization' => "EKey $t6"], ['DPoP' => $p6]]);
ok t_cmp($r->code . ' ' . ($r->decoded_content // ''), qr/^200 .*fdir index/s, 'the index by its own URL, with an E-Key: served');
no_crashes();
