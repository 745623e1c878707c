# mod_ekey_issuer: the prototype's request mints a token the verifier accepts; every field
# is validated; policy and authentication decide who mints what; the JWKS is public only.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64url);
use EKeyTest;
use EKeyCheck;

my $J = JSON::PP->new->canonical(1);
my $base = EKeyTest::base_url();

sub post {
    my ($path, $body, %h) = @_;
    my $ua = Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
    my $req = HTTP::Request->new(POST => "$base$path");
    $req->header('Content-Type' => exists $h{ctype} ? $h{ctype} : 'application/json');
    $req->header('DPoP' => $h{dpop}) if $h{dpop};
    $req->header('Authorization' => 'Basic ' . encode_base64($h{basic}, '')) if $h{basic};
    $req->content(ref $body ? $J->encode($body) : $body);
    return $ua->request($req);
}

my $key = client_key();
my %proto = (sub => 'agent-123', aud => 'https://api.example.com', ttl => 30, bind => 'DPoP',
             cap => { action => 'POST:/payments', limit => 1 }, jwk => pub_jwk($key));
sub body { my %o = (%proto, @_); delete $o{$_} for grep { !defined $o{$_} } keys %o; \%o }

my @bad = (
  ['not JSON', '{"sub":', 400],
  ['duplicate member', '{"sub":"a","sub":"b","aud":"https://api.example.com","cap":{"action":"POST:/payments"},"jwk":{}}', 400],
  ['unknown bind', body(bind => 'Bearer'), 400],
  ['ttl 0', body(ttl => 0), 400],
  ['ttl above max', body(ttl => 301), 400],
  ['ttl as string', body(ttl => '30'), 400],
  ['limit 0', body(cap => { action => 'POST:/payments', limit => 0 }), 400],
  ['limit above max', body(cap => { action => 'POST:/payments', limit => 101 }), 400],
  ['limit 1.5', '{"sub":"agent-123","aud":"https://api.example.com","cap":{"action":"POST:/payments","limit":1.5},"jwk":' . $J->encode(pub_jwk($key)) . '}', 400],
  ['malformed action', body(cap => { action => 'POST /payments', limit => 1 }), 400],
  ['action with dot segment', body(cap => { action => 'POST:/a/../payments', limit => 1 }), 400],
  # under an allowed subtree (GET:/reports/*): ";" escaped would reach a backend as "..;/"
  ['action with an escaped ";"', body(cap => { action => 'GET:/reports/..%3B/admin', limit => 1 }), 400],
  ['jwk with private d', body(jwk => { %{ pub_jwk($key) }, d => $key->export_key_jwk('private', 1)->{d} }), 400],
  # an Ed25519 key of small order (the identity): signatures verify without a private key
  ['Ed25519 jwk of small order', body(jwk => { kty => 'OKP', crv => 'Ed25519', x => 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 400],
  ['jwk wrong curve', body(jwk => { %{ pub_jwk($key) }, crv => 'P-384' }), 400],
  ['jwk missing', body(jwk => undef), 400],
  ['client sets trace', body(trace => 'AAAAAAAAAAAAAAAAAAAAAA'), 400],
  ['client sets exp', body(exp => time + 9999), 400],
  ['client sets cnf', body(cnf => { jkt => 'x' }), 400],
  ['unknown member', body(admin => JSON::PP::true), 400],
  ['sub empty', body(sub => ''), 400],
  ['capability not allowed', body(cap => { action => 'DELETE:/payments', limit => 1 }), 403],
  ['audience not allowed', body(aud => 'https://other.example'), 403],
  ['mTLS without a certificate', body(bind => 'mTLS', jwk => undef), 400],
  # EKEY_SPEC 7.1: the required members and their types
  ['bind missing', body(bind => undef), 400],
  ['bind lowercase', body(bind => 'dpop'), 400],
  ['sub missing', body(sub => undef), 400],
  ['aud missing', body(aud => undef), 400],
  ['aud as an array', body(aud => ['https://api.example.com']), 400],
  ['cap missing', body(cap => undef), 400],
  ['cap with an unknown member', body(cap => { action => 'POST:/payments', limit => 1, extra => 1 }), 400],
  ['client sets iss', body(iss => 'https://evil.example'), 400],
  ['client sets iat', body(iat => time), 400],
  ['jwk with bind mTLS', body(bind => 'mTLS'), 400],
  ['body is an array', '[1,2]', 400],
);

plan tests => 10 + 7 + 2 * @bad + 3 + 3 + 3 + 3 + 6 + 3 + 1 + 4 + 3 * 3 + 2 + 4 + 1;

# The prototype's body mints; the token works at the verifier with a proof of the same key.
my $res = post('/token', body());
ok t_cmp($res->code, 200, 'prototype body mints');
my $ans = body_json($res);
ok t_cmp($ans->{token_type} // '', 'EKey', 'token_type');
ok t_cmp($ans->{cnf}{jkt} // '', jkt(pub_jwk($key)), 'cnf.jkt is the thumbprint of the jwk');
ok t_cmp($ans->{expires_in} // 0, 30, 'expires_in');
# every other member of the answer is the token's own claim
my $claims = JSON::PP->new->decode(decode_base64url((split /\./, $ans->{token} // '')[1] // ''));
ok t_cmp($ans->{$_} // '', $claims->{$_} // 'missing', "answer $_ is the token's") for qw(trace sub aud iat exp);
ok t_cmp(($ans->{exp} // 0) - ($ans->{iat} // 0), $ans->{expires_in} // -1, 'expires_in = exp - iat');
ok t_cmp(JSON::PP->new->canonical->encode([$ans->{cap}, $ans->{cnf}]),
         JSON::PP->new->canonical->encode([$claims->{cap}, $claims->{cnf}]), "answer cap and cnf are the token's");
ok t_cmp($res->header('Cache-Control') // '', qr/no-store/, 'no-store');
ok t_cmp($res->header('Pragma') // '', qr/no-cache/, 'Pragma: no-cache');
ok t_cmp(($ans->{trace} // '') =~ /^[A-Za-z0-9_-]{22}$/ ? 1 : 0, 1, 'trace is 22 base64url chars');
my $p = proof($key, 'POST', "$base/payments", $ans->{token}, $ans->{trace});
my $use = ekey_request('POST', '/payments', ['Authorization' => "EKey $ans->{token}"], ['DPoP' => $p]);
ok t_cmp($use->code, 200, 'minted token accepted by mod_ekey');
my $p2 = proof($key, 'POST', "$base/payments", $ans->{token}, $ans->{trace});
my $again = ekey_request('POST', '/payments', ['Authorization' => "EKey $ans->{token}"], ['DPoP' => $p2]);
ok t_cmp(body_json($again)->{error} // '', 'replay_detected', 'second use refused');
ok t_cmp(post('/token', body(), ctype => 'text/plain')->code, 415, 'wrong media type: 415');

for my $b (@bad) {
    my $r = post('/token', $b->[1]);
    ok t_cmp($r->code, $b->[2], "$b->[0]: status");
    ok t_cmp(body_json($r)->{error} // '', $b->[2] == 403 ? 'access_denied' : 'invalid_request', "$b->[0]: error");
}

# Size limit and method.
ok t_cmp(post('/token', '{"sub":"' . ('a' x 10000) . '"}')->code, 413, 'body over the limit: 413');
{
    my $r = post('/token-small', '{"sub":"' . ('a' x 200) . '"}');
    ok t_cmp($r->code . ' ' . (body_json($r)->{error} // ''), '413 invalid_request',
             'body over LimitRequestBody: 413 invalid_request');
    ok t_cmp(body_json($r)->{message} // '', qr/larger than 100 bytes/, 'and the limit that applied');
    # chunked, no size ahead: the body is read only up to LimitRequestBody, so the answer is
    # ours (JSON), not httpd's HTML page for a body past its limit
    my $chunked = sub {
        my ($body) = @_;
        my $half = int(length($body) / 2);
        my $chunks = join '', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                     substr($body, 0, $half), substr($body, $half);
        return EKeyTest::raw_request("POST /token-small HTTP/1.1\r\nHost: localhost\r\n"
            . "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            . "Connection: close\r\n\r\n${chunks}0\r\n\r\n");
    };
    for my $n (100, 300, 20000) {
        my $c = $chunked->('{"sub":"' . ('a' x ($n - 10)) . '"}');
        ok t_cmp($c->code . ' ' . (body_json($c)->{error} // ''), '413 invalid_request',
                 "chunked body of $n bytes over LimitRequestBody 100: 413 invalid_request");
        ok t_cmp($c->header('Content-Type') // '', qr{^application/json}, '... as JSON');
        ok t_cmp(body_json($c)->{message} // '', qr/larger than 99 bytes/, '... naming the limit');
    }
    my $c = $chunked->('{"sub":"' . ('a' x 89) . '"}');
    ok t_cmp($c->code . ' ' . (body_json($c)->{error} // ''), '400 invalid_request',
             'chunked body of 99 bytes: read whole, judged on its content');
    ok t_cmp(body_json($c)->{message} // '', qr/'aud'|aud/, '... (it lacks aud)');
    # why the JSON was refused: the parser's class and offset, never the input
    ok t_cmp(body_json(post('/token', '{"sub":'))->{message} // '', qr/\(truncated at byte 7\)/,
             'truncated JSON: the reason');
    ok t_cmp(body_json(post('/token', '[1]'))->{message} // '', qr/\(not a JSON object\)/,
             'an array: the reason');
}
{
    my $ua = Apache::TestRequest::user_agent(reset => 1);
    my $r = $ua->get("$base/token");
    ok t_cmp($r->code, 405, 'GET /token: 405');
    ok t_cmp($r->header('Allow') // '', 'POST', 'Allow: POST');
}
# Proof of possession at minting.
{
    my $r = post('/token-pop', body());
    ok t_cmp(body_json($r)->{error} // '', 'invalid_dpop_proof', 'minting without a proof refused');
}
{
    my $mp = proof($key, 'POST', "$base/token-pop", 'x', undef, claims => { ath => undef, nonce => undef });
    ok t_cmp(post('/token-pop', body(), dpop => $mp)->code, 200, 'minting with a proof by the jwk');
    my $other = client_key();
    my $bad = proof($other, 'POST', "$base/token-pop", 'x', undef, claims => { ath => undef, nonce => undef });
    ok t_cmp(post('/token-pop', body(), dpop => $bad)->code, 400, 'proof by another key refused');
}
# Behind Basic authentication: own sub only.
{
    ok t_cmp(post('/token-basic', body())->code, 401, 'no credentials: 401');
    # httpd's own refusal in front of the issuer is an issuer answer too (EKEY_SPEC 7.5)
    for my $case (['no credentials', undef], ['a wrong password', 'agent-123:wrong']) {
        my $r = post('/token-basic', body(), $case->[1] ? (basic => $case->[1]) : ());
        ok t_cmp(join(' ', $r->code, $r->header('Content-Type') // '', body_json($r)->{error} // ''),
                 '401 application/json invalid_client', "$case->[0] (AuthType Basic): JSON invalid_client");
        ok t_cmp($r->header('WWW-Authenticate') // '', qr/^Basic realm="E-Key issuer"/,
                 "$case->[0]: with the Basic challenge");
    }
    my $rg = post('/token-ipgate', body());
    ok t_cmp(join(' ', $rg->code, $rg->header('Content-Type') // '', body_json($rg)->{error} // ''),
             '403 application/json access_denied', 'Require ip refusing the caller: JSON access_denied');
    ok t_cmp(post('/token-basic', body(), basic => 'agent-123:s3cret-pass')->code, 200, 'caller mints for itself');
    my $r = post('/token-basic', body(sub => 'someone-else'), basic => 'agent-123:s3cret-pass');
    ok t_cmp($r->code, 403, 'caller may not mint for another sub');
}
# JWKS: the issuer key, public members only.
{
    my $ua = Apache::TestRequest::user_agent(reset => 1);
    my $r = $ua->get("$base/.well-known/jwks.json");
    my $doc = body_json($r);
    ok t_cmp($r->code, 200, 'JWKS served');
    ok t_cmp(scalar(@{ $doc->{keys} || [] }), 1, 'one key');
    ok t_cmp(($r->decoded_content // '') =~ /"d"/ ? 'private' : 'public', 'public', 'no private member');
}

# JWKS: each key names kid, alg ES256 and use sig; caching headers; GET and HEAD only.
{
    my $ua = Apache::TestRequest::user_agent(reset => 1);
    my $r = $ua->get("$base/.well-known/jwks.json");
    my ($k) = @{ body_json($r)->{keys} || [{}] };
    ok t_cmp($k->{kid} // '', issuer_kid(), 'JWKS kid is the RFC 7638 thumbprint');
    ok t_cmp(join(' ', $k->{alg} // '', $k->{use} // '', $k->{kty} // '', $k->{crv} // ''), 'ES256 sig EC P-256', 'JWKS alg, use, kty, crv');
    ok t_cmp($r->header('Cache-Control') // '', qr/max-age=\d+/, 'JWKS is cacheable');
    ok t_cmp($r->header('Content-Type') // '', qr{^application/json}, 'JWKS content type');
    my $p = $ua->post("$base/.well-known/jwks.json", Content => '{}');
    ok t_cmp($p->code, 405, 'POST to the JWKS: 405');
    ok t_cmp($p->header('Allow') // '', qr/GET/, 'JWKS Allow names GET');
}
# Minting needs an authenticated caller unless EKeyIssuerAnonymous is on.
{
    my $r = post('/token-closed', body());
    ok t_cmp($r->code, 401, 'no caller, no anonymous minting: 401');
    ok t_cmp(body_json($r)->{error} // '', 'invalid_client', 'error invalid_client');
    ok t_cmp($r->header('WWW-Authenticate') // '', qr/^Basic realm="E-Key issuer"/,
             'the 401 names the section\'s AuthType (RFC 9110)');
}

no_crashes();
