# DPoP-bound E-Keys: the accepted baseline, replay limits, and one case per check of the
# verifier (DESIGN.md error table, RFC 9449 §4.3) - each refused with its status and code.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;
use Digest::SHA qw(sha256);
use Crypt::PRNG qw(random_bytes);

my @cases;
sub send_pair {
    my ($t, $p, $method, $path) = @_;
    return sub { ekey_request($method || 'POST', $path || '/payments',
                              ['Authorization' => "EKey $t"], defined $p ? (['DPoP' => $p]) : ()) };
}
sub mut { my %o = @_; return sub { my ($t, $p) = mint_pair(%o); send_pair($t, $p)->() } }

my $other_issuer = Crypt::PK::ECC->new; $other_issuer->generate_key('secp256r1');
my $other_client = client_key();
my $now = time;
sub ekey_err { qr/^EKey\b(?=.*\berror="invalid_token")(?=.*\bekey_error="$_[0]")/ }
my ($replay, $expired) = (ekey_err('replay_detected'), ekey_err('token_expired'));

# [name, sender, status, code, challenge error]
push @cases,
 ['no credentials', sub { ekey_request('POST', '/payments') }, 401, 'missing_token', undef],
 # EKEY_SPEC 6.1: a single credential of a foreign scheme is invalid_token (never interpreted)
 ['Bearer scheme', sub { my ($t, $p) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "Bearer $t"], ['DPoP' => $p]) }, 401, 'invalid_token', 'invalid_token'],
 ['DPoP scheme', sub { my ($t, $p) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "DPoP $t"], ['DPoP' => $p]) }, 401, 'invalid_token', 'invalid_token'],
 ['EKey and Bearer', sub { my ($t, $p) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['Authorization' => "Bearer $t"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['two Authorization fields', sub { my ($t, $p) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['Authorization' => "EKey $t"], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['no DPoP proof', sub { my ($t) = mint_pair(); send_pair($t, undef)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
 # DESIGN.md / EKEY_SPEC 6.2: a repeated DPoP field is invalid_request
 ['two DPoP fields', sub { my ($t, $p) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['DPoP' => $p], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['empty DPoP field', sub { my ($t) = mint_pair(); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['DPoP' => '']) }, 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['garbage token', sub { send_pair('abc.def.ghi', 'x.y.z')->() }, 401, 'invalid_token', 'invalid_token'],
 ['alg none', mut(token => { hdr => { alg => 'none' } }), 401, 'invalid_token', 'invalid_token'],
 ['typ JWT', mut(token => { hdr => { typ => 'JWT' } }), 401, 'invalid_token', 'invalid_token'],
 ['unknown kid', mut(token => { hdr => { kid => 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 401, 'invalid_token', 'invalid_token'],
 ['jku in header', mut(token => { hdr => { jku => 'https://evil.example/jwks' } }), 401, 'invalid_token', 'invalid_token'],
 ['signed by another key', mut(token => { signer => $other_issuer }), 401, 'invalid_token', 'invalid_token'],
 ['zero signature', mut(token => { sig_mutate => sub { "\0" x 64 } }), 401, 'invalid_token', 'invalid_token'],
 ['flipped signature bit', mut(token => { sig_mutate => sub { my $s = shift; substr($s, 10, 1) ^= "\x01"; $s } }), 401, 'invalid_token', 'invalid_token'],
 ['wrong issuer', mut(token => { claims => { iss => 'https://evil.example' } }), 401, 'invalid_token', 'invalid_token'],
 ['wrong audience', mut(token => { claims => { aud => 'https://other.example' } }), 401, 'invalid_token', 'invalid_token'],
 ['expired', mut(token => { claims => { iat => $now - 400, exp => $now - 200 } }), 401, 'token_expired', $expired],
 # EKEY_SPEC 9.1: framing (step 1) before the token; times before trace, cap, cnf (step 6)
 ['two DPoP fields, expired token', sub { my ($t, $p) = mint_pair(token => { claims => { iat => $now - 400, exp => $now - 200 } }); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['DPoP' => $p], ['DPoP' => $p]) }, 400, 'invalid_request', 'invalid_request'],
 ['expired token with a bad trace', mut(token => { claims => { iat => $now - 400, exp => $now - 200, trace => 'abc' } }), 401, 'token_expired', $expired],
 ['expired token with an empty cnf', mut(token => { claims => { iat => $now - 400, exp => $now - 200, cnf => {} } }), 401, 'token_expired', $expired],
 ['not yet valid', mut(token => { claims => { nbf => $now + 600 } }), 401, 'token_expired', $expired],
 ['issued in the future', mut(token => { claims => { iat => $now + 600, exp => $now + 660 } }), 401, 'token_expired', $expired],
 ['lifetime too long', mut(token => { claims => { exp => $now + 86400 } }), 401, 'invalid_token', 'invalid_token'],
 ['limit zero', mut(token => { claims => { cap => { action => 'POST:/payments', limit => 0 } } }), 401, 'invalid_token', 'invalid_token'],
 ['short trace', mut(token => { claims => { trace => 'abc' } }), 401, 'invalid_token', 'invalid_token'],
 ['cnf with both members', mut(token => { claims => { cnf => { jkt => 'A' x 43, 'x5t#S256' => 'A' x 43 } } }), 401, 'invalid_token', 'invalid_token'],
 ['cnf empty', mut(token => { claims => { cnf => {} } }), 401, 'invalid_token', 'invalid_token'],
 ['proof typ jwt', mut(proof => { hdr => { typ => 'jwt' } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof by another key', sub { my ($t, undef, $c) = mint_pair(); my $p = proof($other_client, 'POST', EKeyTest::base_url() . '/payments', $t, $c->{trace}); send_pair($t, $p)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof jwk with d', sub { my $k = client_key(); my ($t, undef, $c) = mint_pair(key => $k); my $j = pub_jwk($k); $j->{d} = $k->export_key_jwk('private', 1)->{d}; my $p = proof($k, 'POST', EKeyTest::base_url() . '/payments', $t, $c->{trace}, hdr => { jwk => $j }); send_pair($t, $p)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof htm GET', mut(proof => { claims => { htm => 'GET' } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof htu other host', mut(proof => { claims => { htu => 'http://evil.example/payments' } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof htu other path', mut(proof => { claims => { htu => EKeyTest::base_url() . '/other' } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof too old', mut(proof => { claims => { iat => $now - 600 } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof from the future', mut(proof => { claims => { iat => $now + 600 } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof without ath', mut(proof => { claims => { ath => undef } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof ath of another token', mut(proof => { claims => { ath => b64u(sha256('x')) } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof wrong nonce', mut(proof => { claims => { nonce => b64u(random_bytes(16)) } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof without jti', mut(proof => { claims => { jti => undef } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 # the identity point as an Ed25519 key: R = identity and S = 0 "verify" every message, so a
 # token bound to it would be a bearer token; the key is refused (issuer and verifier)
 ['Ed25519 proof key of small order', sub {
     my $j = { kty => 'OKP', crv => 'Ed25519', x => 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
     my ($t, $c) = token(key => client_key(), claims => { cnf => { jkt => EKeyTest::jkt($j) } });
     my $p = proof(client_key(), 'POST', EKeyTest::base_url() . '/payments', $t, $c->{trace},
                   hdr => { alg => 'EdDSA', jwk => $j }, sig_b64 => EKeyTest::b64u("\x01" . ("\0" x 63)));
     send_pair($t, $p)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['proof signature flipped', mut(proof => { sig_mutate => sub { my $s = shift; substr($s, 40, 1) ^= "\x80"; $s } }), 401, 'invalid_proof', 'invalid_dpop_proof'],
 ['capability for another path', mut(token => { claims => { cap => { action => 'POST:/refunds', limit => 1 } } }), 403, 'capability_mismatch', 'insufficient_scope'],
 # ";" escaped in a capability, for the request that has it literally: a backend behind
 # mod_proxy would read "..;/" there; no capability may name such a path
 ['capability with an escaped ";"', sub {
     my ($t, $p) = mint_pair(path => '/payments/a;b', token => { claims => { cap => { action => 'POST:/payments/a%3Bb', limit => 1 } } });
     send_pair($t, $p, 'POST', '/payments/a;b')->() }, 401, 'invalid_token', 'invalid_token'],
 ['capability for another method', mut(token => { claims => { cap => { action => 'GET:/payments', limit => 1 } } }), 403, 'capability_mismatch', 'insufficient_scope'],
 ['Require ekey-cap: capability not listed', sub {
     my ($t, $p) = mint_pair(path => '/capdeny', token => { claims => { cap => { action => 'POST:/capdeny', limit => 1 } } });
     send_pair($t, $p, 'POST', '/capdeny')->() }, 403, 'insufficient_capability', 'insufficient_scope'],
 ['mTLS token over plain http', sub { my ($t) = token(cert => 'A' x 43); ekey_request('POST', '/payments', ['Authorization' => "EKey $t"]) }, 401, 'invalid_proof', 'invalid_token'];

plan tests => 5 * ASSERTS_ALLOWED + 7 + ASSERTS_REFUSED * (@cases + 3) + 2 + 6 + 1;

# The baseline is accepted and the backend sees the identity.
my ($t, $p, $c) = mint_pair();
my $res = allowed('baseline DPoP', sub {
    ekey_request('POST', '/payments', ['Authorization' => "EKey $t"], ['DPoP' => $p],
                 ['EKey-Sub' => 'admin'], ['X-EKey-Trace' => 'forged']) });
my $env = body_json($res);
ok t_cmp(join(',', grep { /^HTTP_(DPOP|AUTHORIZATION|EKEY|X_EKEY)/ } sort keys %$env), '',
         'the backend sees no DPoP, Authorization or EKey* request header');
ok t_cmp($env->{EKEY_SUB}, 'agent-123', 'EKEY_SUB');
ok t_cmp($env->{REMOTE_USER}, 'agent-123', 'REMOTE_USER');
ok t_cmp($env->{EKEY_TRACE}, $c->{trace}, 'EKEY_TRACE');
ok t_cmp($env->{EKEY_CAP}, 'POST:/payments', 'EKEY_CAP');

# Replaying the used limit-1 token with a fresh proof.
{
    my ($t1, $p1, $c1, $k1) = mint_pair();
    allowed('first use of a limit-1 token', send_pair($t1, $p1));
refused('replay of a limit-1 token', sub {
    my $again = proof($k1, 'POST', EKeyTest::base_url() . '/payments', $t1, $c1->{trace});
    send_pair($t1, $again)->();
}, 401, 'replay_detected', $replay);
}

# The same proof twice (jti replay) on a limit-3 token.
{
    my ($t3, $p3) = mint_pair(token => { claims => { cap => { action => 'POST:/payments', limit => 3 } } });
    allowed('first use of a proof', send_pair($t3, $p3));
    refused('jti replay', send_pair($t3, $p3), 401, 'replay_detected', $replay);
}

# A limit-3 token: three uses, then refused; uses left counts down.
{
    my $k = client_key();
    my ($t3, undef, $c3) = mint_pair(key => $k, token => { claims => { cap => { action => 'POST:/payments', limit => 3 } } });
    my @left;
    for (1 .. 3) {
        my $pp = proof($k, 'POST', EKeyTest::base_url() . '/payments', $t3, $c3->{trace});
        my $r = send_pair($t3, $pp)->();
        push @left, body_json($r)->{EKEY_USES_LEFT} // 'x';
    }
    ok t_cmp(join(',', @left), '2,1,0', 'limit 3: uses left 2,1,0');
    refused('limit 3: fourth use', sub {
        my $pp = proof($k, 'POST', EKeyTest::base_url() . '/payments', $t3, $c3->{trace});
        send_pair($t3, $pp)->();
    }, 401, 'replay_detected', $replay);
}

# A refused request consumes nothing: after a bad proof the owner's request succeeds.
{
    my $k = client_key();
    my ($t1, undef, $c1) = mint_pair(key => $k);
    my $bad = proof($k, 'POST', EKeyTest::base_url() . '/payments', $t1, $c1->{trace}, claims => { htm => 'PUT' });
    my $r1 = send_pair($t1, $bad)->();
    ok t_cmp($r1->code, 401, 'bad proof refused');
    my $good = proof($k, 'POST', EKeyTest::base_url() . '/payments', $t1, $c1->{trace});
    allowed('owner after a refused attempt', send_pair($t1, $good));
}

refused($_->[0], $_->[1], $_->[2], $_->[3], $_->[4]) for @cases;

# Require ekey-cap grants a token whose capability the line lists.
allowed('Require ekey-cap: capability listed', sub {
    my ($t, $p) = mint_pair(path => '/capcheck', token => { claims => { cap => { action => 'POST:/capcheck', limit => 1 } } });
    send_pair($t, $p, 'POST', '/capcheck')->() });

# The bare challenge names the realm and the proof algorithms (EKEY_SPEC 9.2).
{
    my $r = ekey_request('POST', '/payments');
    ok t_cmp(www_auth($r), qr/^EKey\b.*\brealm="[^"]+"/, 'challenge has a realm');
    ok t_cmp(www_auth($r), qr/\balgs="[^"]*ES256[^"]*"/, 'challenge lists ES256 in algs');
}

# Nothing secret in the logs: neither the token nor the proof of the baseline.
for my $log (qw(error_log access_log audit.log)) {
    my $f = t_root() . "/logs/$log";
    my $text = -e $f ? do { local (@ARGV, $/) = ($f); <> } : '';
    # Our modules' lines only: httpd's own trace4 dumps every request header by design.
    $text = join '', grep { /\[ekey/ } split /^/, $text if $log eq 'error_log';
    ok t_cmp(index($text, $t) < 0 && index($text, $p) < 0 ? 'clean' : 'leaked', 'clean', "$log has no token or proof");
}
# The audit log has one JSON line per decision.
{
    my $f = t_root() . '/logs/audit.log';
    my @lines = -e $f ? do { open(my $fh, '<', $f); <$fh> } : ();
    my $bad = grep { !eval { JSON::PP->new->decode($_); 1 } } @lines;
    ok t_cmp(scalar(@lines) > 10 && !$bad ? 'ok' : "lines=" . @lines . " bad=$bad", 'ok', 'audit lines parse as JSON');
    my ($allowed) = grep { /"decision":"allowed"/ } @lines;
    ok t_cmp($allowed // '', qr/"sub":"agent-123".*"trace":/, 'audit line of an allowed request');
    ok t_cmp(scalar(grep { /"decision":"replay_blocked"/ } @lines) >= 1 ? 1 : 0, 1, 'replay_blocked audited');
}
no_crashes();
