# HTTP/2 (mod_http2): the DPoP baseline, replay and the framing cases of SECURITY-CASES 1.A
# (HDR-15: repeated fields in one HEADERS block, lowercase names, comma-joined values, huge
# fields) give the same status and code over h2 as over HTTP/1.1, and the htu a proof must
# carry is the server's own origin (scheme, ServerName, port), never the request's :authority.
# Every case goes over h2 (TLS, ALPN; vhost ekey_h2tls) and h2c (cleartext, prior knowledge;
# vhost ekey_h2c), then over HTTP/1.1 to the same host, with curl (nghttp2); certificate-bound
# tokens go over h2 on the mTLS host. Requests are GETs: a refusal comes before httpd reads
# a request body, and mod_http2 then resets the stream that is still uploading one (curl
# reports error 92 and drops the answer), a race of the client, not of the verifier.
# Under prefork mod_http2 warns that the MPM is unsupported and proposes no h2 in ALPN (the TLS
# host must then answer the same over http/1.1), but still serves h2c with prior knowledge:
# h2c cases are HTTP/2 under both MPMs.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;
use EKeyCurl;

my $H2 = ($ENV{EKEY_MPM} // 'event') ne 'prefork';
my $T = 'invalid_token';
my $D = 'invalid_dpop_proof';
my $replay = qr/^EKey\b(?=.*\berror="invalid_token")(?=.*\bekey_error="replay_detected")/;
my $PATH = '/h2pay';

# [proto, vhost, origin the server derives for htu]
my @transports = (['h2', 'ekey_h2tls', tls_url('ekey_h2tls')],
                  ['h2c', 'ekey_h2c', base_url('ekey_h2c')]);

# A token for GET /h2pay and its proof for $origin (hooks as mint_pair's).
sub pair {
    my ($origin, %o) = @_;
    my %tok = %{ $o{token} || {} };
    $tok{claims} = { cap => { action => "GET:$PATH", limit => 1 }, %{ $tok{claims} || {} } };
    return mint_pair(origin => $origin, method => 'GET', path => $PATH, token => \%tok,
                     key => $o{key}, proof => $o{proof});
}
sub creds { my ($t, $p) = @_; return (['Authorization' => "EKey $t"], ['DPoP' => $p]) }
sub port_of { ($_[0] =~ /:(\d+)$/)[0] }

# [name, sub(origin) -> header list, status, error code, challenge]; no status = accepted
my @cases = (
 ['baseline', sub { creds(pair($_[0])) }],
 ['lowercase field names', sub { my ($t, $p) = pair($_[0]); (['authorization' => "EKey $t"], ['dpop' => $p]) }],
 ['uppercase field names', sub { my ($t, $p) = pair($_[0]); (['AUTHORIZATION' => "EKey $t"], ['DPOP' => $p]) }],
 ['HDR-02 two Authorization fields', sub { my ($t, $p) = pair($_[0]); my ($t2) = pair($_[0]); (['Authorization' => "EKey $t"], ['Authorization' => "EKey $t2"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['HDR-03 the same token in two fields', sub { my ($t, $p) = pair($_[0]); (['Authorization' => "EKey $t"], ['Authorization' => "EKey $t"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['HDR-04 EKey and Bearer fields', sub { my ($t, $p) = pair($_[0]); (['Authorization' => "EKey $t"], ['Authorization' => "Bearer $t"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['Authorization values comma-joined in one field', sub { my ($t, $p) = pair($_[0]); my ($t2) = pair($_[0]); (['Authorization' => "EKey $t, EKey $t2"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['HDR-12 two DPoP fields', sub { my $k = client_key(); my ($t, $p, $c) = pair($_[0], key => $k); my $p2 = proof($k, 'GET', "$_[0]$PATH", $t, $c->{trace}); (['Authorization' => "EKey $t"], ['DPoP' => $p], ['DPoP' => $p2]) }, 400, 'invalid_request', 'invalid_request'],
 ['DPoP values comma-joined in one field', sub { my ($t, $p) = pair($_[0]); (['Authorization' => "EKey $t"], ['DPoP' => "$p, $p"]) }, 400, 'invalid_request', 'invalid_request'],
 ['HDR-14 empty DPoP field', sub { my ($t) = pair($_[0]); (['Authorization' => "EKey $t"], ['DPoP' => '']) }, 401, 'invalid_proof', $D],
 ['no DPoP field', sub { my ($t) = pair($_[0]); (['Authorization' => "EKey $t"]) }, 401, 'invalid_proof', $D],
 ['token over EKeyMaxTokenLength (6000 bytes)', sub { my ($t, $p) = pair($_[0]); (['Authorization' => 'EKey ' . $t . ('A' x (6000 - length $t))], ['DPoP' => $p]) }, 401, 'invalid_token', $T],
 ['htu with the other scheme', sub { my $o = $_[0]; (my $w = $o) =~ s{^(https?)}{$1 eq 'https' ? 'http' : 'https'}e; creds(pair($o, proof => { claims => { htu => "$w$PATH" } })) }, 401, 'invalid_proof', $D],
 ['htu of the :authority sent (evil.example)', sub { my ($s) = $_[0] =~ /^(https?)/; my $a = 'evil.example:' . port_of($_[0]); (creds(pair($_[0], proof => { claims => { htu => "$s://$a$PATH" } })), ['Host' => $a]) }, 401, 'invalid_proof', $D],
 ['server origin in htu, :authority evil.example', sub { (creds(pair($_[0])), ['Host' => 'evil.example:' . port_of($_[0])]) }],
);

# Fields too large for httpd itself (LimitRequestFieldSize 8190) are refused before any
# module runs: HTTP/1.1 answers 400, mod_http2 431 (RFC 6585). Never 2xx, backend untouched.
my $huge = 'EKey ' . ('A' x 9000);

my $tests = 1;                                                 # no_crashes
for my $proto (map { ($_->[0], 'http1.1') } @transports) {
    $tests += 1 + (defined $_->[2] ? ASSERTS_REFUSED : ASSERTS_ALLOWED) for @cases;
    $tests += 1 + ASSERTS_ALLOWED + ASSERTS_REFUSED;           # replay
    $tests += 3;                                               # huge field
}
$tests += 2 * (ASSERTS_ALLOWED + ASSERTS_REFUSED + 1);         # mTLS over h2 / http/1.1
$tests += ASSERTS_ALLOWED + 1 + ASSERTS_REFUSED + 1;           # h2c upgrade
plan tests => $tests;

# Not served: no 2xx, backend not reached.
sub unserved {
    my ($name, $send) = @_;
    my $before = hits();
    my $res = $send->();
    ok t_cmp($res->code =~ /^2/ ? 'served' : 'refused', 'refused', "$name: not served");
    ok t_cmp(hits(), $before, "$name: backend not reached");
    return $res;
}

# The protocol a request for $proto must have used: HTTP/2 where mod_http2 serves it.
sub check_proto {
    my ($name, $proto, $res) = @_;
    my $want = $proto eq 'http1.1' || (!$H2 && $proto eq 'h2') ? 'HTTP/1.1' : 'HTTP/2';
    my $got = $res->code == 0 ? 'none' : $res->protocol // '';
    ok t_cmp($got, $want, "$name: protocol");
}

for my $tr (@transports) {
    my ($h2proto, $vhost, $origin) = @$tr;
    for my $proto ($h2proto, 'http1.1') {
        my $tag = "$h2proto vhost, $proto";
        my $send = sub { curl_request(proto => $proto, tls => $h2proto eq 'h2', vhost => $vhost,
                                      method => 'GET', path => $PATH, headers => [@_]) };
        for my $c (@cases) {
            my ($name, $mk, $status, $code, $chal) = @$c;
            my @h = $mk->($origin);
            my $res = defined $status ? refused("$tag $name", sub { $send->(@h) }, $status, $code, $chal)
                    : allowed("$tag $name", sub { $send->(@h) });
            check_proto("$tag $name", $proto, $res);
        }
        # replay: the same token and proof again
        my @h = creds(pair($origin));
        allowed("$tag replay: first use", sub { $send->(@h) });
        my $again = refused("$tag replay: second use", sub { $send->(@h) }, 401, 'replay_detected', $replay);
        check_proto("$tag replay", $proto, $again);
        # a field above LimitRequestFieldSize
        my $res = unserved("$tag huge field", sub { $send->(['Authorization' => $huge], ['DPoP' => 'x']) });
        ok t_cmp($res->code =~ /^(400|431)$/ ? 'ok' : $res->code, 'ok', "$tag huge field: 400 or 431");
    }
}

# An HTTP/1.1 request asking for an h2c upgrade (curl --http2 on http://): it stays HTTP/1.1,
# served once with its one use (it was verified, its use taken, then handed to mod_http2
# as stream 1 without its credentials: 401, the use spent)
{
    my $origin = base_url('ekey_h2c');
    my $send = sub { curl_request(proto => 'h2c-upgrade', vhost => 'ekey_h2c', method => 'GET',
                                  path => $PATH, headers => [@_]) };
    my @h = creds(pair($origin));
    my $res = allowed('h2c upgrade asked: served', sub { $send->(@h) });
    ok t_cmp($res->protocol // '', 'HTTP/1.1', 'h2c upgrade asked: answered in HTTP/1.1');
    my $again = refused('h2c upgrade asked: the same token again', sub { $send->(@h) }, 401,
                        'replay_detected', $replay);
    ok t_cmp(body_json($res)->{EKEY_USES_LEFT} // '', '0', 'h2c upgrade asked: one use taken');
}

# Certificate-bound tokens over h2 (mTLS vhost ekey_tls, Protocols h2 http/1.1): the client
# certificate of the TLS connection that carries the h2 streams.
for my $proto ('h2', 'http1.1') {
    my $mk = sub { (token(cert => x5t('client'), claims => { cap => { action => 'GET:/payments', limit => 1 } }))[0] };
    my $send = sub { my ($t, %o) = @_; curl_request(proto => $proto, tls => 1, vhost => 'ekey_tls',
        method => 'GET', path => '/payments', headers => [['Authorization' => "EKey $t"]], %o) };
    my $t = $mk->();
    my $res = allowed("mTLS $proto: client certificate", sub { $send->($t, cert => 'client') });
    check_proto("mTLS $proto", $proto, $res);
    $t = $mk->();
    refused("mTLS $proto: no client certificate", sub { $send->($t) }, 401, 'invalid_proof', $T);
}

no_crashes();
