# E-Key set up by .htaccess files (AllowOverride AuthConfig, the tree t/hta/): the same
# checks as in the server configuration, a smaller EKeyMaxUses there holds, and the
# directives that must be known at startup (keys, the proof window, the skew, the audit
# switch) are refused there: httpd answers 500 and never serves the backend.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

my @bad = (['badage', 'EKeyProofMaxAge'], ['badskew', 'EKeyClockSkew'], ['badaudit', 'EKeyAudit'], ['badkey', 'EKeyTrustedKey']);
plan tests => 3 * ASSERTS_REFUSED + 2 * ASSERTS_ALLOWED + 2 + 3 * @bad + 1;

sub post_pair {
    my ($path, $t, $p) = @_;
    return send_req(method => 'POST', path => $path,
                    headers => [defined $t ? (['Authorization' => "EKey $t"]) : (),
                                defined $p ? (['DPoP' => $p]) : ()]);
}
sub pair {
    my ($path, $action, $limit, %o) = @_;
    return mint_pair(method => 'POST', path => $path,
                     token => { claims => { cap => { action => $action, limit => $limit // 1 } } }, %o);
}

my $r = post_pair('/hta/pay.cgi');
ok t_cmp($r->code, 401, 'no credentials under .htaccess: 401');
ok t_cmp(www_auth($r), qr/^EKey\b/, '... with the EKey challenge of the .htaccess AuthType');

my $k = client_key();
my ($t, $p, $c) = pair('/hta/pay.cgi', 'POST:/hta/pay.cgi', 1, key => $k);
allowed('a valid E-Key under .htaccess', sub { post_pair('/hta/pay.cgi', $t, $p) });
my $p2 = proof($k, 'POST', EKeyTest::base_url() . '/hta/pay.cgi', $t, $c->{trace});
refused('the spent token again', sub { post_pair('/hta/pay.cgi', $t, $p2) }, 401, 'replay_detected',
        qr/ekey_error="replay_detected"/);

my ($t2, $p2b) = pair('/hta/pay2.cgi', 'POST:/hta/pay2.cgi');
refused('a capability the .htaccess Require does not list', sub { post_pair('/hta/pay2.cgi', $t2, $p2b) },
        403, 'insufficient_capability', 'insufficient_scope');

# EKeyMaxUses 1 in maxuses/.htaccess: a limit of 2 is out of range there, 1 is served
my ($t3, $p3) = pair('/hta/maxuses/pay.cgi', 'POST:/hta/maxuses/pay.cgi', 2);
refused('limit 2 over EKeyMaxUses 1 from .htaccess', sub { post_pair('/hta/maxuses/pay.cgi', $t3, $p3) },
        401, 'invalid_token', 'invalid_token');
my ($t4, $p4) = pair('/hta/maxuses/pay.cgi', 'POST:/hta/maxuses/pay.cgi', 1);
allowed('limit 1 there', sub { post_pair('/hta/maxuses/pay.cgi', $t4, $p4) });

# directives refused in .htaccess: httpd's 500 and its "not allowed here", backend untouched
my $start = -s (t_root() . '/logs/error_log') || 0;
for my $b (@bad) {
    my ($dir, $directive) = @$b;
    my ($tb, $pb) = pair("/hta/$dir/pay.cgi", "POST:/hta/$dir/pay.cgi");
    my $h0 = hits();
    my $res = post_pair("/hta/$dir/pay.cgi", $tb, $pb);
    ok t_cmp($res->code, 500, "$directive in .htaccess: 500");
    ok t_cmp(hits() - $h0, 0, "... the backend was not reached");
    ok t_cmp(log_text('error_log', $start), qr{\Q$dir\E/\.htaccess: \Q$directive\E not allowed here},
             "... and the error log names the directive");
}
no_crashes();
