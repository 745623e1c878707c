# What httpd's other modules do with an E-Key request. SECURITY-CASES APX-04: mod_cache
# (quick handler On) never stores an answer under an E-Key, even one the backend calls
# public, so no request without credentials, and no other key holder, gets it from the
# cache. APX-06 and 0.3 item 4: no log format sees the token or the proof, also when httpd
# refuses the request before mod_ekey is asked (Require ip, an encoded slash); another
# scheme's credentials are left alone. TRACE (answered by httpd before any authentication)
# never echoes an E-Key or a proof.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

sub get_with {
    my ($path, $t, $p, $vhost) = @_;
    return sub { send_req(method => 'GET', path => $path, vhost => $vhost,
                          headers => [['Authorization' => "EKey $t"], defined $p ? (['DPoP' => $p]) : ()]) };
}
sub pair_for {
    my ($path, $vhost, %o) = @_;
    return mint_pair(method => 'GET', path => $path, vhost => $vhost,
                     token => { claims => { cap => { action => "GET:$path", limit => 1 }, %o } });
}

plan tests => 5 * ASSERTS_ALLOWED + 1 + 2 + ASSERTS_REFUSED * 2 + 2 + 1 + 4 + 2 + 1 + 3;

# APX-04, on the virtual host with CacheQuickHandler Off; and for caches downstream
my $vh = 'ekey_cache';
my ($t1, $p1) = pair_for('/cached', $vh, sub => 'agent-123');
my $r1 = allowed('cacheable answer under an E-Key', get_with('/cached', $t1, $p1, $vh));
# the backend calls it public (max-age=600): a shared cache downstream of httpd (a proxy
# or CDN) must not store it either, or it would serve it to requests without any key
ok t_cmp($r1->header('Cache-Control') // '', 'max-age=600, private',
         'the backend\'s "public, max-age=600" leaves as private, max-age kept');
refused('the same URL without credentials', sub { send_req(method => 'GET', path => '/cached', vhost => $vh) },
        401, 'missing_token', undef);
my ($t2, $p2) = pair_for('/cached', $vh, sub => 'agent-999');
my $r2 = allowed('another key holder reaches the backend', get_with('/cached', $t2, $p2, $vh));
ok t_cmp(body_json($r2)->{EKEY_SUB} // '', 'agent-999', 'and gets its own answer');
my ($t3, $p3) = pair_for('/cached', $vh);
allowed('a third request is not served from a cache either', get_with('/cached', $t3, $p3, $vh));
my @stored = glob(t_root() . '/cache/*');
ok t_cmp(scalar(@stored), 0, 'nothing stored in CacheRoot');

# APX-06: refused by Require ip before authentication
my $from = -s (t_root() . '/logs/credentials_log') || 0;
my ($tg, $pg) = pair_for('/ipgate');
my $rg = get_with('/ipgate', $tg, $pg)->();
ok t_cmp($rg->code, 403, 'Require ip refuses before authentication');
ok t_cmp($rg->header('Cache-Control') // '', qr/no-store/, 'that 403 is not stored');
# APX-05: <RequireAny> with Require ip grants without an E-Key; credentials sent there
# anyway are dropped before the backend and the logs
allowed('Require ip grants in a <RequireAny> without an E-Key',
        sub { send_req(method => 'GET', path => '/ipgrant') });
my ($ta, $pa) = pair_for('/ipgrant');
my $ra = allowed('... and with one, unread', get_with('/ipgrant', $ta, $pa));
ok t_cmp(join(',', grep { /^HTTP_(AUTHORIZATION|DPOP)$/ } keys %{ body_json($ra) }), '',
         'the backend got neither Authorization nor DPoP');
refused('a refusal of mod_ekey still is ours', get_with('/payments', 'x.y.z', 'a.b.c'),
        401, 'invalid_token', 'invalid_token');
# a 404 from the core (an encoded slash) and a 404 for a path no module serves
my ($te, $pe) = pair_for('/payments%2Fx');
my $re = get_with('/payments%2Fx', $te, $pe)->();
ok t_cmp($re->code, 404, 'encoded slash: 404 from the core');
my ($tn, $pn) = pair_for('/nowhere');
ok t_cmp(get_with('/nowhere', $tn, $pn)->()->code, 404, 'unknown path: 404');
# another scheme is not ours to drop
ok t_cmp(ekey_request('GET', '/nowhere', ['Authorization' => 'Basic YWdlbnQ6cGFzcw=='])->code,
         404, 'Basic credentials to an unknown path: 404');
sleep 1;    # the log line is written after the answer
my $log = log_text('credentials_log', $from);
my @leaks = grep { index($log, $_) >= 0 } ($tg, $pg, $ta, $pa, $te, $pe, $tn, $pn);
ok t_cmp(scalar(@leaks), 0, 'no token or proof in the access log');
ok t_cmp($log, qr/\|Basic YWdlbnQ6cGFzcw==\|/, 'another scheme is logged as it came');
ok t_cmp(scalar(() = $log =~ /^GET /mg) >= 5 ? 'logged' : $log, 'logged', 'the requests were logged');
# TRACE: httpd echoes the request's header fields (TraceEnable On, its default) before any
# location's authentication runs; the E-Key and the proof are not among them
{
    my ($t, $p) = mint_pair();
    my $r = send_req(method => 'TRACE', path => '/payments',
                     headers => [['Authorization' => "EKey $t"], ['DPoP' => $p], ['X-Other' => 'kept']]);
    my $echo = $r->decoded_content // '';
    ok t_cmp($r->code, 200, 'TRACE is answered by httpd (TraceEnable On)');
    ok t_cmp($echo, qr/X-Other: kept/, '... with the header fields echoed');
    ok t_cmp(index($echo, $t) < 0 && index($echo, $p) < 0 && $echo !~ /^(Authorization|DPoP):/mi
             ? 'absent' : 'echoed', 'absent', '... but never the E-Key or the proof');
}
no_crashes();
