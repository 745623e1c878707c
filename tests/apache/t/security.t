# SECURITY-CASES rows by ID, beyond the error-table cases of dpop.t: each one mutation of the
# baseline DPoP request, refused with its status and code, backend never reached.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256 sha1);
use Crypt::PRNG qw(random_bytes);
use EKeyTest;
use EKeyCheck;

sub send_pair {
    my ($t, $p, $method, $path) = @_;
    return sub { ekey_request($method || 'POST', $path || '/payments',
                              ['Authorization' => "EKey $t"], defined $p ? (['DPoP' => $p]) : ()) };
}
sub mut { my %o = @_; return sub { my ($t, $p) = mint_pair(%o); send_pair($t, $p)->() } }
my $now = time;
my $T = 'invalid_token';
my $P = 'invalid_proof';
my $D = 'invalid_dpop_proof';
my $p384 = EKeyTest::new_key('P-384');
my $base = EKeyTest::base_url();

my @cases = (
 ['ALG-03 alg es256', mut(token => { hdr => { alg => 'es256' } }), 401, $T, $T],
 ['ALG-04 alg HS256 with the public key as secret', mut(token => { hdr => { alg => 'HS256' }, signer => 'secret' }), 401, $T, $T],
 ['ALG-05 alg ES384 re-signed', mut(token => { hdr => { alg => 'ES384' }, signer => $p384, hash => 'SHA384' }), 401, $T, $T],
 ['ALG-06 alg missing', mut(token => { hdr => { alg => undef } }), 401, $T, $T],
 ['ALG-08 typ dpop+jwt on a token', mut(token => { hdr => { typ => 'dpop+jwt' } }), 401, $T, $T],
 ['ALG-09 proof presented as the token', sub { my ($t, $p) = mint_pair(); send_pair($p, $p)->() }, 401, $T, $T],
 ['ALG-11 kid path injection', mut(token => { hdr => { kid => '../../../../dev/null' } }), 401, $T, $T],
 ['ALG-13 embedded jwk header', mut(token => { hdr => { jwk => pub_jwk(client_key()) } }), 401, $T, $T],
 ['ALG-15 crit', mut(token => { hdr => { crit => ['x-ext'], 'x-ext' => 1 } }), 401, $T, $T],
 ['ALG-18 zip', mut(token => { hdr => { zip => 'DEF' } }), 401, $T, $T],
 ['SIG-02 r = 0', mut(token => { sig_mutate => sub { ("\0" x 32) . substr($_[0], 32) } }), 401, $T, $T],
 ['SIG-05 65-byte signature', mut(token => { sig_mutate => sub { $_[0] . "\0" } }), 401, $T, $T],
 ['SIG-07 re-encoded payload, old signature', mut(token => { compact => sub { my @s = split /\./, $_[0]; my $c = EKeyTest::b64u_dec($s[1]); $c =~ s/,/, /; join '.', $s[0], b64u($c), $s[2] } }), 401, $T, $T],
 ['SIG-09 token signed by the client key', sub { my $k = client_key(); my ($t, $p) = mint_pair(key => $k, token => { signer => $k }); send_pair($t, $p)->() }, 401, $T, $T],
 ['CLM-01 iss with trailing slash', mut(token => { claims => { iss => 'https://issuer.example/' } }), 401, $T, $T],
 ['CLM-02 iss missing', mut(token => { claims => { iss => undef } }), 401, $T, $T],
 ['CLM-03 aud suffix attack', mut(token => { claims => { aud => 'https://api.example.com.evil.example' } }), 401, $T, $T],
 ['CLM-04 aud empty array', mut(token => { claims => { aud => [] } }), 401, $T, $T],
 ['CLM-06 exp missing', mut(token => { claims => { exp => undef } }), 401, $T, $T],
 ['CLM-08 iat missing', mut(token => { claims => { iat => undef } }), 401, $T, $T],
 ['CLM-09 exp before iat', mut(token => { claims => { iat => $now, exp => $now - 1 } }), 401, undef, $T],
 ['CLM-13 sub missing', mut(token => { claims => { sub => undef } }), 401, $T, $T],
 ['CLM-14 cap as string', mut(token => { claims => { cap => 'POST:/payments' } }), 401, $T, $T],
 ['CLM-16 action lowercase method', mut(token => { claims => { cap => { action => 'post:/payments', limit => 1 } } }), 401, $T, $T],
 ['CLM-16 action with space', mut(token => { claims => { cap => { action => 'POST /payments', limit => 1 } } }), 401, $T, $T],
 ['DPOP-02 proof typ missing', mut(proof => { hdr => { typ => undef } }), 401, $P, $D],
 ['DPOP-03 proof alg none', mut(proof => { hdr => { alg => 'none' } }), 401, $P, $D],
 ['DPOP-05 proof jwk missing', mut(proof => { hdr => { jwk => undef } }), 401, $P, $D],
 ['DPOP-07 proof jwk symmetric', mut(proof => { hdr => { alg => 'HS256', jwk => { kty => 'oct', k => 'c2VjcmV0' } }, signer => 'secret' }), 401, $P, $D],
 ['DPOP-12 ath in hex', mut(proof => { claims => { ath => unpack('H*', sha256('x')) } }), 401, $P, $D],
 ['DPOP-13 htm lowercase', mut(proof => { claims => { htm => 'post' } }), 401, $P, $D],
 ['DPOP-15 jti too long', mut(proof => { claims => { jti => 'j' x 300 } }), 401, $P, $D],
 ['DPOP-21 iat as string', mut(proof => { claims => { iat => "$now" } }), 401, $P, $D],
 ['DPOP-23 nonce missing', mut(proof => { claims => { nonce => undef } }), 401, $P, $D],
 ['DPOP-26 proof crit', mut(proof => { hdr => { crit => ['x-ext'], 'x-ext' => 1 } }), 401, $P, $D],
 ['JWK-01 proof jwk off the curve', sub { my $k = client_key(); my ($t, undef, $c) = mint_pair(key => $k); my $j = { kty => 'EC', crv => 'P-256', x => b64u(("\0" x 31) . "\1"), y => b64u(("\0" x 31) . "\1") }; send_pair($t, proof($k, 'POST', "$base/payments", $t, $c->{trace}, hdr => { jwk => $j }))->() }, 401, $P, $D],
 ['JWK-03 proof jwk crv p-256', sub { my $k = client_key(); my ($t, undef, $c) = mint_pair(key => $k); my $j = { %{ pub_jwk($k) }, crv => 'p-256' }; send_pair($t, proof($k, 'POST', "$base/payments", $t, $c->{trace}, hdr => { jwk => $j }))->() }, 401, $P, $D],
 ['JWK-07 cnf.jkt with padding', sub { my $k = client_key(); my ($t, $p) = mint_pair(key => $k, token => { claims => { cnf => { jkt => jkt(pub_jwk($k)) . '=' } } }); send_pair($t, $p)->() }, 401, $T, $T],
 ['JWK-08 cnf.jkt as SHA-1 thumbprint', sub { my $k = client_key(); my $j = pub_jwk($k); my $s1 = b64u(sha1(sprintf('{"crv":"%s","kty":"%s","x":"%s","y":"%s"}', @$j{qw(crv kty x y)}))); my ($t, $p) = mint_pair(key => $k, token => { claims => { cnf => { jkt => $s1 } } }); send_pair($t, $p)->() }, 401, $T, $T],
 ['HTU-03 htu with another port', mut(proof => { claims => { htu => 'http://localhost:1/payments' } }), 401, $P, $D],
 ['HTU-06 htu trailing slash', mut(proof => { claims => { htu => "$base/payments/" } }), 401, $P, $D],
 ['HTU-07 htu path case', mut(proof => { claims => { htu => "$base/Payments" } }), 401, $P, $D],
 ['HTU-09 htu encoded dot segment', mut(proof => { claims => { htu => "$base/%2e%2e/payments" } }), 401, $P, $D],
 ['HDR-11 token with trailing =', sub { my ($t, $p) = mint_pair(); send_pair("$t=", $p)->() }, 401, $T, $T],
 ['HDR-16 non-ASCII byte in the token', sub { my ($t, $p) = mint_pair(); substr($t, 5, 1) = "\xc3\xa9"; send_pair($t, $p)->() }, 401, $T, $T],
);

plan tests => ASSERTS_REFUSED * @cases;
for my $c (@cases) {
    my ($name, $send, $status, $code, $chal) = @$c;
    # CLM-09: exp before iat is also expired; either class refuses it.
    if (!defined $code) {
        my $before = hits();
        my $r = $send->();
        my $e = body_json($r)->{error} // '';
        ok t_cmp($r->code, $status, "$name: status");
        ok t_cmp($e =~ /^(invalid_token|token_expired)$/ ? 'refused' : $e, 'refused', "$name: error code");
        ok t_cmp(www_auth($r), qr/error="invalid_token"/, "$name: challenge");
        ok t_cmp($r->header('Cache-Control') // '', qr/no-store/, "$name: no-store");
        ok t_cmp(hits(), $before, "$name: backend not reached");
        next;
    }
    refused($name, $send, $status, $code, $chal);
}
