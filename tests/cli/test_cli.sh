#!/usr/bin/env bash
# The ekey CLI, black box: keygen (file mode, no overwrite), proof/inspect round trips with a
# token minted by the core (proofs also checked by Crypt::JWT, an independent JOSE library),
# token and call against a scripted HTTP server (request body, minting proof, resource
# proof, token cache, refusals, exit codes), and - when the modules are built and apache2 is
# installed - the real flow against httpd on 127.0.0.1: mint, call, call, replay refused.
# Run by `make check` from the build directory. Prints "N passed, N failed"; exit 1 on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_src=$(cd "$here/../.." && pwd)
build=$(pwd)
E="$build/src/cli/ekey"
MINT="$build/tests/cli/mint_token"
port=${EKEY_CLI_TEST_PORT:-18095}
work=$(mktemp -d /tmp/ekey-cli-test.XXXXXX)
stub_pid='' httpd_pidfile=''
pass=0 fail=0

cleanup() {
    [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null
    if [ -n "$httpd_pidfile" ] && [ -f "$httpd_pidfile" ]; then
        local pid; pid=$(cat "$httpd_pidfile")
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    [ -n "${EKEY_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

export HOME="$work/home"
unset XDG_CONFIG_HOME XDG_CACHE_HOME EKEY_KEY EKEY_ISSUER EKEY_AUD EKEY_SUB EKEY_ISSUER_PASSWORD
mkdir -p "$HOME"

ok()  { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; [ -s "$work/err" ] && sed 's/^/#   /' "$work/err"; }
# check NAME 'CONDITION': the condition is one shell string, evaluated
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
# run WANT_EXIT NAME CMD...: stdout in $work/out, stderr in $work/err
run() {
    local want=$1 name=$2; shift 2
    "$@" >"$work/out" 2>"$work/err" </dev/null
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name (exit $rc)"; else bad "$name: exit $rc, wanted $want"; fi
}
err_is()   { [ "$(cat "$work/err")" = "$1" ]; }
err_has()  { grep -qF -- "$1" "$work/err"; }
one_line() { [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q '^ekey: ' "$work/err"; }
# jget FILE PATH: a member of a JSON document ("a.b.c"); empty when absent
jget() {
    perl -MJSON::PP -e 'my $j = decode_json(do { local $/; open my $f, "<", $ARGV[0] or die; <$f> });
        for my $k (split /\./, $ARGV[1]) { $j = ref $j eq "HASH" ? $j->{$k} : undef }
        print ref $j ? JSON::PP->new->canonical->encode($j) : defined $j ? $j : ""' "$1" "$2"
}
mode() { stat -c %a "$1"; }
b64sha() { printf %s "$1" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# header NAME REQFILE: a request header's value from the stub's log
header() { perl -ne 'BEGIN { $n = lc shift } s/\r?\n$//; last if $_ eq ""; print "$1" if /^\Q$n\E: *(.*)$/i' "$1" "$2"; }
body() { perl -0ne 'print $1 if /\r\n\r\n(.*)\z/s' "$1"; }
# jwt_claims JWS PEM: header and claims JSON (two lines) when Crypt::JWT verifies it with PEM
have_cryptjwt=0; perl -MCrypt::JWT -e1 2>/dev/null && have_cryptjwt=1
jwt_claims() {
    perl -MCrypt::JWT=decode_jwt -MJSON::PP -e 'open my $f, "<", $ARGV[1] or die; my $pem = do { local $/; <$f> };
        my ($h, $c) = decode_jwt(token => $ARGV[0], key => \$pem, decode_header => 1);
        print JSON::PP->new->canonical->encode($_), "\n" for $h, $c' "$1" "$2"
}

[ -x "$E" ] || { echo "not ok - $E not built"; echo "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------------ help, usage
run 0 "ekey --help" "$E" --help
check "ekey --help lists the commands" 'grep -q inspect "$work/out"'
run 0 "ekey --version" "$E" --version
run 1 "ekey without a command" "$E"
run 1 "unknown command" "$E" frobnicate
check "unknown command: one line" 'one_line'
for c in keygen token proof call inspect; do
    run 0 "ekey $c --help" "$E" "$c" --help
    check "ekey $c --help is its usage" 'grep -q "^Usage: ekey $c" "$work/out"'
done
run 1 "unknown option" "$E" call --bogus http://127.0.0.1/
check "unknown option: one line naming it" 'one_line && err_has "--bogus"'

# ------------------------------------------------------------------ keygen
key="$HOME/.config/ekey/key.pem"
run 0 "keygen (default path)" "$E" keygen
check "key file written" 'test -f "$key"'
check "key file mode 0600" '[ "$(mode "$key")" = 600 ]'
check "key directory mode 0700" '[ "$(mode "$HOME/.config/ekey")" = 700 ]'
jkt=$(jget "$work/out" jkt)
check "keygen prints a 43-char jkt" '[ ${#jkt} -eq 43 ]'
check "keygen prints the public JWK only" '[ "$(jget "$work/out" jwk.kty)" = EC ] && ! grep -q "\"d\"" "$work/out"'
sum=$(sha256sum <"$key")
run 1 "keygen refuses to overwrite" "$E" keygen
check "refusal is one line naming --force" 'one_line && err_has "--force"'
check "key unchanged after refusal" '[ "$(sha256sum <"$key")" = "$sum" ]'
run 0 "keygen --force" "$E" keygen --force
check "--force made a new key" '[ "$(jget "$work/out" jkt)" != "$jkt" ] && [ "$(sha256sum <"$key")" != "$sum" ]'
check "--force keeps mode 0600" '[ "$(mode "$key")" = 600 ]'
check "--force leaves no temporary file" '[ "$(ls "$HOME/.config/ekey" | wc -l)" -eq 1 ]'
jkt=$(jget "$work/out" jkt)
run 0 "keygen --show" "$E" keygen --show
check "--show prints the same jkt" '[ "$(jget "$work/out" jkt)" = "$jkt" ]'
cp "$work/out" "$work/pub.json"
run 0 "keygen --key in a new directory" "$E" keygen --key "$work/k/a/other.pem"
check "--key file mode 0600" '[ "$(mode "$work/k/a/other.pem")" = 600 ]'
run 0 "keygen honours EKEY_KEY" env EKEY_KEY="$work/env.pem" "$E" keygen
check "EKEY_KEY file written" 'test -f "$work/env.pem"'
run 1 "keygen with an argument" "$E" keygen extra

# ------------------------------------------------------------------ proof + inspect
run 0 "minting proof" "$E" proof -X POST --url 'HTTP://LocalHost:80/token?x=1#f'
proof=$(cat "$work/out")
run 0 "inspect a proof" "$E" inspect "$proof"
check "inspect: kind DPoP proof" '[ "$(jget "$work/out" kind)" = "DPoP proof" ]'
check "inspect: htu normalised, query dropped" '[ "$(jget "$work/out" claims.htu)" = "http://localhost/token" ]'
check "minting proof has no nonce and no ath" '[ -z "$(jget "$work/out" claims.nonce)$(jget "$work/out" claims.ath)" ]'
check "inspect says signature NOT verified" 'err_has "signature NOT verified"'
run 0 "inspect --key verifies the proof" "$E" inspect --key "$key" "$proof"
check "verified with kid = our jkt" 'err_has "signature verified with kid $jkt"'
run 5 "inspect with the wrong key" "$E" inspect --key "$work/env.pem" "$proof"
check "wrong key: one line with the status" 'one_line && err_has "EKEY_E_KID"'

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/issuer.pem" 2>/dev/null
if [ -x "$MINT" ] && token=$("$MINT" "$work/issuer.pem" "$jkt" 2 60) && [ -n "$token" ]; then
    ok "core minted a token"
else
    bad "core minted a token ($MINT)"; token=x.y.z
fi
run 0 "inspect a token" "$E" inspect "$token"
check "inspect: kind E-Key" '[ "$(jget "$work/out" kind)" = "E-Key" ]'
check "inspect: cap.action" '[ "$(jget "$work/out" claims.cap.action)" = "POST:/payments" ]'
trace=$(jget "$work/out" claims.trace)
check "inspect: token signature NOT verified" 'err_has "signature NOT verified"'
run 0 "inspect --key issuer.pem verifies the token" "$E" inspect --key "$work/issuer.pem" "$token"
ijkt=$(cd "$work" && "$E" keygen --show --key issuer.pem | tee "$work/issuer.json" | perl -MJSON::PP -0ne 'print decode_json($_)->{jkt}')
check "token verified with the issuer's kid" 'err_has "signature verified with kid $ijkt"'
perl -MJSON::PP -0ne 'print encode_json({keys => [decode_json($_)->{jwk}]})' "$work/issuer.json" >"$work/jwks.json"
run 0 "inspect --jwks verifies the token" "$E" inspect --jwks "$work/jwks.json" "$token"
bad_token="${token%?}$( [ "${token: -1}" = A ] && echo Q || echo A)"
run 5 "inspect: a forged signature fails" "$E" inspect --key "$work/issuer.pem" "$bad_token"
check "forgery: one line with EKEY_E_SIGNATURE or EKEY_E_BASE64" 'one_line && grep -qE "EKEY_E_(SIGNATURE|BASE64)" "$work/err"'
printf '{"token":"%s","token_type":"EKey"}\n' "$token" >"$work/answer.json"
"$E" inspect - <"$work/answer.json" >"$work/out" 2>"$work/err"
check "inspect - reads an issuer answer on stdin" '[ "$(jget "$work/out" claims.trace)" = "$trace" ]'
run 1 "inspect garbage" "$E" inspect not-a-token
check "inspect garbage: one line" 'one_line'

url="http://127.0.0.1:9/payments"
run 0 "proof with a token" "$E" proof -X POST --url "$url" --token "$token"
rproof=$(cat "$work/out")
"$E" inspect --key "$key" "$rproof" >"$work/out" 2>"$work/err"
check "proof nonce = the token's trace" '[ "$(jget "$work/out" claims.nonce)" = "$trace" ]'
check "proof ath = SHA-256 of the token" '[ "$(jget "$work/out" claims.ath)" = "$(b64sha "$token")" ]'
check "proof htm and htu" '[ "$(jget "$work/out" claims.htm) $(jget "$work/out" claims.htu)" = "POST $url" ]'
"$E" proof -X GET --url "$url" --token - <"$work/answer.json" >"$work/out" 2>"$work/err"
check "proof --token - reads the issuer answer" '[ "$(cut -d. -f1 "$work/out" | wc -c)" -gt 10 ]'
if [ "$have_cryptjwt" = 1 ]; then
    jwt_claims "$rproof" "$key" >"$work/cj" 2>"$work/err"
    sed -n 2p "$work/cj" >"$work/cj2"
    check "Crypt::JWT verifies the proof" '[ "$(jget "$work/cj2" ath)" = "$(b64sha "$token")" ]'
    check "Crypt::JWT: typ dpop+jwt" 'grep -q "\"typ\":\"dpop+jwt\"" "$work/cj"'
else
    fail=$((fail + 1)); echo "not ok: Crypt::JWT is missing (scripts/deps.sh installs libcrypt-jwt-perl)"
fi
run 1 "proof without --url" "$E" proof -X POST
run 1 "proof with --token and --trace" "$E" proof -X POST --url "$url" --token "$token" --trace abc
run 1 "proof with a bad URL" "$E" proof -X POST --url "ftp://x/"

# ------------------------------------------------------------------ against a scripted server
mkdir -p "$work/log"
printf '%s\n' "$token" >"$work/token.txt"
perl "$here/stub_server.pl" "$work/port" "$work/log" "$work/token.txt" "$MINT" "$work/issuer.pem" "$jkt" 2 60 &
stub_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
sp=$(cat "$work/port" 2>/dev/null)
S="http://127.0.0.1:$sp"
last_req() { ls "$work/log" | sort -t q -k2 -n | tail -1 | sed "s|^|$work/log/|"; }
nreq() { ls "$work/log" | wc -l; }

run 0 "token from the stub issuer" "$E" token --issuer "$S/token" --action POST:/payments --sub agent-123 --ttl 30 --limit 2
check "token prints the issuer's answer" '[ "$(jget "$work/out" token)" = "$token" ]'
req=$(last_req)
body "$req" >"$work/body.json"
check "token request: POST /token, JSON" 'head -1 "$req" | grep -q "^POST /token " && [ "$(header Content-Type "$req")" = application/json ]'
check "body: sub, aud, ttl, bind" '[ "$(jget "$work/body.json" sub) $(jget "$work/body.json" aud) $(jget "$work/body.json" ttl) $(jget "$work/body.json" bind)" = "agent-123 https://api.example.com 30 DPoP" ]'
cap_want='{"action":"POST:/payments","limit":2}'
check "body: cap" '[ "$(jget "$work/body.json" cap)" = "$cap_want" ]'
check "body: our public jwk, no private member" '[ "$(jget "$work/body.json" jwk.x)" = "$(jget "$work/pub.json" jwk.x)" ] && [ -z "$(jget "$work/body.json" jwk.d)" ]'
mproof=$(header DPoP "$req")
"$E" inspect --key "$key" "$mproof" >"$work/out" 2>"$work/err"
check "minting proof verifies with our key" 'err_has "signature verified with kid $jkt"'
check "minting proof: htm POST, htu = issuer URL" '[ "$(jget "$work/out" claims.htm) $(jget "$work/out" claims.htu)" = "POST $S/token" ]'
check "minting proof: no nonce, no ath" '[ -z "$(jget "$work/out" claims.nonce)$(jget "$work/out" claims.ath)" ]'
[ "$have_cryptjwt" = 1 ] && check "Crypt::JWT verifies the minting proof" 'jwt_claims "$mproof" "$key" >/dev/null'

run 0 "token -u: Basic credentials for the issuer" env EKEY_ISSUER_PASSWORD=s3cret "$E" token -u agent-7 --issuer "$S/token" --action POST:/payments
req=$(last_req)
body "$req" >"$work/body.json"
check "-u: Basic user:password from EKEY_ISSUER_PASSWORD" '[ "$(header Authorization "$req")" = "Basic $(printf agent-7:s3cret | base64)" ]'
check "-u: sub defaults to the issuer user" '[ "$(jget "$work/body.json" sub)" = agent-7 ]'
run 0 "call -u: Basic only to the issuer" "$E" call --no-cache -u agent-7:pw -X POST "$S/payments"
check "call -u: the resource gets EKey, not Basic" '[ "$(header Authorization "$(last_req)")" = "EKey $token" ]'

run 2 "issuer refusal" "$E" token --issuer "$S/refuse/token" --action POST:/payments
want="ekey: issuer refused: 400 invalid_request: 'ttl' must be in 1..300"
check "issuer refusal line" 'err_is "$want"'
run 2 "issuer answers HTML 500" "$E" token --issuer "$S/html/token" --action POST:/payments
check "HTML 500: one line" 'one_line && err_has "500"'
run 2 "issuer unreachable" "$E" token --issuer http://127.0.0.1:1/token --action POST:/payments
check "issuer unreachable: one line" 'one_line && err_has "issuer unreachable"'
run 1 "token without --action" "$E" token --issuer "$S/token"
run 1 "token --bind mTLS without --cert" "$E" token --issuer "$S/token" --action POST:/x --bind mTLS
run 1 "token --bind other" "$E" token --action POST:/x --bind bearer
run 1 "token --ttl 0" "$E" token --action POST:/x --ttl 0
run 1 "token --limit x" "$E" token --action POST:/x --limit x
run 1 "token: bad issuer URL" "$E" token --issuer "file:///etc/passwd" --action POST:/x

run 0 "call (no cache)" "$E" call --no-cache -X POST "$S/payments" -d '{"amount":1000}'
check "call prints the body" '[ "$(cat "$work/out")" = paid ]'
req=$(last_req)
treq="$work/log/req$(( $(nreq) - 1 )).txt"
check "call asked the URL's origin + /token" 'head -1 "$treq" | grep -q "^POST /token "'
body "$treq" >"$work/tbody.json"
check "call asked for POST:/payments" '[ "$(jget "$work/tbody.json" cap.action)" = POST:/payments ]'
check "call sent Authorization: EKey <token>" '[ "$(header Authorization "$req")" = "EKey $token" ]'
amount_want='{"amount":1000}'
check "call sent JSON" '[ "$(header Content-Type "$req")" = application/json ] && [ "$(body "$req")" = "$amount_want" ]'
"$E" inspect --key "$key" "$(header DPoP "$req")" >"$work/out" 2>"$work/err"
check "resource proof: verified, htm, htu" 'err_has "verified with kid $jkt" && [ "$(jget "$work/out" claims.htm) $(jget "$work/out" claims.htu)" = "POST $S/payments" ]'
check "resource proof: nonce = trace, ath = hash" '[ "$(jget "$work/out" claims.nonce) $(jget "$work/out" claims.ath)" = "$trace $(b64sha "$token")" ]'
[ "$have_cryptjwt" = 1 ] && check "Crypt::JWT verifies the resource proof" 'jwt_claims "$(header DPoP "$req")" "$key" >/dev/null'

run 3 "server refusal (JSON)" "$E" call --no-cache -X POST "$S/replayed"
check "server refusal line" 'err_is "ekey: server refused: 401 replay_detected: the token uses are exhausted"'
run 3 "server refusal (challenge only)" "$E" call --no-cache "$S/challenge"
check "challenge refusal line" 'err_is "ekey: server refused: 401 token_expired: the token has expired"'
run 4 "server unreachable" "$E" call --no-cache --issuer "$S/token" http://127.0.0.1:1/payments
check "server unreachable: one line" 'one_line && err_has "cannot reach"'
run 4 "server host unknown" "$E" call --no-cache --issuer "$S/token" http://no-such-host.invalid/payments
run 2 "issuer of the URL unreachable" "$E" call http://127.0.0.1:1/payments
check "issuer unreachable: one line" 'one_line'
run 1 "call: bad URL" "$E" call ftp://example.com/x
check "bad URL: one line" 'one_line'
run 1 "call: dot segments refused" "$E" call "$S/a/../payments"
run 1 "call: lowercase method" "$E" call -X post "$S/payments"
run 1 "call: no URL" "$E" call -X POST
run 1 "call: own DPoP header refused" "$E" call -H 'DPoP: x' "$S/payments"
run 1 "call: --replay with --no-cache" "$E" call --replay --no-cache "$S/payments"
run 0 "call -v" "$E" call --no-cache -v -X POST "$S/payments" -d a=1
check "-v never shows the whole token" '! grep -qF "$token" "$work/err"'
check "-v shows the abbreviated token" 'grep -q "^> Authorization: EKey eyJ.*chars)" "$work/err"'
check "form data gets the form type" '[ "$(header Content-Type "$(last_req)")" = application/x-www-form-urlencoded ]'

# a token of one's own (--token): a file with the issuer's answer, @FILE, the bare token
n0=$(nreq)
run 0 "mint (= token) to a file" "$E" mint --issuer "$S/token" --cap POST:/payments
cp "$work/out" "$work/tok.json"
run 0 "call --token FILE" "$E" call --token "$work/tok.json" -X POST "$S/payments"
check "--token FILE: sent, no token request" '[ "$(header Authorization "$(last_req)")" = "EKey $token" ] && [ $(( $(nreq) - n0 )) -eq 2 ]'
run 0 "call --token @FILE" "$E" call --token "@$work/tok.json" -X POST "$S/payments"
run 0 "call --token TOKEN" "$E" call --token "$token" -X POST "$S/payments"
run 1 "call --token with a missing file" "$E" call --token "$work/none.json" "$S/payments"
check "missing token file: one line" one_line
run 1 "call --token bound to another key" "$E" call --key "$work/env.pem" --token "$work/tok.json" "$S/payments"
check "another key: one line" 'one_line && err_has "bound to another key"'

# the cache: the stub's token has limit 2, so two calls share one token, the third mints
rm -f "$HOME/.cache/ekey/tokens.json"
n0=$(nreq)
run 0 "cached call 1" "$E" call --limit 2 -X POST "$S/payments"
run 0 "cached call 2" "$E" call --limit 2 -X POST "$S/payments"
check "two calls, one token request" '[ $(( $(nreq) - n0 )) -eq 3 ]'
check "token cache mode 0600" '[ "$(mode "$HOME/.cache/ekey/tokens.json")" = 600 ]'
run 0 "cached call 3 (uses exhausted)" "$E" call --limit 2 -X POST "$S/payments"
check "exhausted token: a new one is minted" '[ $(( $(nreq) - n0 )) -eq 5 ]'
run 0 "--replay re-sends the last token" "$E" call --replay --limit 2 -X POST "$S/payments"
check "--replay: no token request" '[ $(( $(nreq) - n0 )) -eq 6 ]'
run 1 "--replay without an earlier token" "$E" call --replay -X POST "$S/other"
# the stub's token is bound to the first key: a new key must be noticed before any request
run 2 "call creates a missing key" "$E" call --no-cache --key "$work/fresh/key.pem" "$S/payments"
check "created key: mode 0600, noted" '[ "$(mode "$work/fresh/key.pem")" = 600 ] && err_has "created a new key pair"'
check "a token bound to another key is refused" 'err_has "bound to another key"'

# a cached token goes only to the origin it was fetched for
rm -f "$HOME/.cache/ekey/tokens.json"
n0=$(nreq)
run 0 "cached call, one origin" "$E" call --limit 2 --issuer "$S/token" -X POST "$S/payments"
run 0 "same capability, another origin" "$E" call --limit 2 --issuer "$S/token" -X POST "http://localhost:$sp/payments"
check "another origin: a token of its own" '[ $(( $(nreq) - n0 )) -eq 4 ]'
# a request that never left (nothing listens) spends no cached use
rm -f "$HOME/.cache/ekey/tokens.json"
run 4 "resource unreachable, token minted" "$E" call --limit 2 --issuer "$S/token" -X POST http://127.0.0.1:1/payments
check "the use is given back: 2 of 2 left" '[ "$(perl -MJSON::PP -0ne "print join q( ), map { \$_->{uses_left} } values %{decode_json(\$_)->{entries}}" "$HOME/.cache/ekey/tokens.json")" = 2 ]'
# the issuer's answer must be the token asked for
run 2 "issuer answers a token for another action" "$E" call --no-cache --issuer "$S/wrong/token" -X GET "$S/other"
check "another action: refused, one line" 'one_line && err_has "it is for POST:/payments, not GET:/other"'
run 2 "issuer answers a token for another audience" "$E" token --issuer "$S/token" --action POST:/payments --aud https://other.example
check "another audience: refused" 'one_line && err_has "its audience is https://api.example.com, not https://other.example"'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/mtls.key" \
  -out "$work/mtls.crt" -subj /CN=agent -days 1 2>/dev/null
run 2 "issuer answers a DPoP-bound token to an mTLS request" "$E" token --issuer "$S/token" --action POST:/payments --bind mTLS --cert "$work/mtls.crt" --cert-key "$work/mtls.key"
check "another binding: refused" 'one_line && err_has "it is bound by DPoP key, not certificate"'
run 2 "issuer answer over its size limit" "$E" token --issuer "$S/big/token" --action POST:/payments
check "oversized answer: said so" 'one_line && err_has "issuer answer not usable" && err_has "larger than"'
# what a server says reaches the terminal printable, on one line
run 3 "refusal with terminal escapes" "$E" call --no-cache --issuer "$S/token" -X POST "$S/ansi"
check "escapes and line breaks made printable" 'one_line && ! grep -q "$(printf "\033")" "$work/err" && ! grep -q "$(printf "\r")" "$work/err" && err_has "??ekey: forged line"'
# issuer credentials never cross the network in clear text
run 1 "-u over plain http to another host" "$E" call --no-cache -u agent-7:pw --issuer http://192.0.2.1/token -X POST "$S/payments"
check "clear-text credentials refused before any request" 'one_line && err_has "refusing to send the issuer credentials"'
run 1 "-u to a name that only starts like a loopback address" "$E" token -u a:b --issuer http://127.0.0.1.example/token --action POST:/x
# -H names are tokens: padding cannot smuggle a second credential field
run 1 "-H ' Authorization: x' refused" "$E" call --no-cache -H ' Authorization: x' "$S/payments"
run 1 "-H 'DPoP : x' refused" "$E" call --no-cache -H 'DPoP : x' "$S/payments"
run 0 "call -v with a cookie" "$E" call --no-cache -v -H 'Cookie: session=0123456789abcdefSECRET' -X POST "$S/payments"
check "-v abbreviates Cookie" '! err_has "0123456789abcdefSECRET" && err_has "> Cookie: "'
# local problems are exit 1, with the reason
run 1 "--cacert missing" "$E" call --no-cache --cacert "$work/none.pem" "$S/payments"
check "--cacert missing: named" 'one_line && err_has "--cacert: cannot read"'
run 1 "inspect a directory" "$E" inspect "$work"
check "a directory: said so" 'one_line && err_has "Is a directory"'
run 1 "-d @directory" "$E" call --no-cache -X POST -d "@$work" "$S/payments"
run 1 "proof --trace ''" "$E" proof -X POST --url "$S/payments" --trace ''
run 0 "--token with white space around it" "$E" call --token "  $token  " -X POST "$S/payments"
cp "$key" "$work/shared.pem" && chmod 644 "$work/shared.pem"
run 1 "a key others can read is refused" "$E" proof -X GET --url "$S/x" --key "$work/shared.pem"
check "refused key: said so" 'one_line && err_has "accessible by other users"'
run 1 "keygen to a path that is not UTF-8" "$E" keygen --key "$work/$(printf '\377').pem"
check "no key left behind" '! ls "$work" | grep -q "$(printf "\377")"'

# ------------------------------------------------------------------ real httpd (optional)
e2e() {
    local t="$work/httpd" u="http://127.0.0.1:$port" cgi="$top_src/httpd-conf/demo-backend.cgi"
    mkdir -p "$t/htdocs" && chmod 755 "$work" "$t"
    cp "$cgi" "$t/backend.cgi" && chmod 755 "$t/backend.cgi"
    cp "$work/issuer.pem" "$t/issuer.pem"
    cat >"$t/httpd.conf" <<CONF
ServerRoot $t
ServerName 127.0.0.1
PidFile $t/httpd.pid
ErrorLog $t/error.log
DefaultRuntimeDir $t
LogLevel warn
Listen 127.0.0.1:$port
<IfDefine !NOUSER>
    User www-data
    Group www-data
</IfDefine>
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
LoadModule slotmem_shm_module /usr/lib/apache2/modules/mod_slotmem_shm.so
LoadModule ekey_module $build/.libs/mod_ekey.so
LoadModule ekey_issuer_module $build/.libs/mod_ekey_issuer.so
StartServers 2
DocumentRoot $t/htdocs
EKeyReplayCapacity 1000
<Directory />
    Require all denied
</Directory>
<Location /token>
    SetHandler ekey-issuer
    EKeyIssuerName $u
    EKeyIssuerSigningKey $t/issuer.pem
    EKeyIssuerAudience https://api.example.com
    EKeyIssuerCapability POST:/payments
    EKeyIssuerMaxLimit 10
    EKeyIssuerTokenURL $u/token
    EKeyIssuerAnonymous On
    Require local
</Location>
<Location /.well-known/jwks.json>
    SetHandler ekey-jwks
    EKeyIssuerSigningKey $t/issuer.pem
    Require all granted
</Location>
Alias /payments $t/backend.cgi
<Location /payments>
    SetHandler cgi-script
    Options +ExecCGI
    AuthType EKey
    EKeyIssuer $u
    EKeyAudience https://api.example.com
    EKeyTrustedKey $t/issuer.pem
    EKeyPublicOrigin $u
    Require ekey-cap POST:/payments
</Location>
<Directory $t>
    Require all granted
</Directory>
CONF
    local def=()
    [ "$(id -u)" -eq 0 ] || def=(-DNOUSER)
    if ! /usr/sbin/apache2 -f "$t/httpd.conf" "${def[@]}" -k start 2>"$work/err"; then
        bad "httpd starts on 127.0.0.1:$port"; return
    fi
    httpd_pidfile="$t/httpd.pid"
    for _ in $(seq 50); do curl -s -o /dev/null "$u/.well-known/jwks.json" && break; sleep 0.1; done
    ok "httpd starts on 127.0.0.1:$port"
    local cache="$work/e2e-tokens.json"
    run 0 "e2e: call gets 200" "$E" call --token-cache "$cache" -X POST "$u/payments" -d '{"amount":1000}'
    check "e2e: the backend answered" 'grep -q "\"status\":\"paid\"" "$work/out"'
    local t1; t1=$(jget "$work/out" ekey_trace)
    run 0 "e2e: second identical call gets 200" "$E" call --token-cache "$cache" -X POST "$u/payments" -d '{"amount":1000}'
    check "e2e: with a new token" '[ -n "$t1" ] && [ "$(jget "$work/out" ekey_trace)" != "$t1" ]'
    run 3 "e2e: replayed token refused" "$E" call --token-cache "$cache" --replay -X POST "$u/payments" -d '{"amount":1000}'
    check "e2e: replay_detected shown" 'err_is "ekey: server refused: 401 replay_detected: the token uses are exhausted"'
    run 0 "e2e: limit 3 token, use 1" "$E" call --token-cache "$cache" --limit 3 -X POST "$u/payments"
    local t3; t3=$(jget "$work/out" ekey_trace)
    run 0 "e2e: limit 3 token, use 2" "$E" call --token-cache "$cache" --limit 3 -X POST "$u/payments"
    run 0 "e2e: limit 3 token, use 3" "$E" call --token-cache "$cache" --limit 3 -X POST "$u/payments"
    check "e2e: the cached token was reused, uses_left 0" '[ "$(jget "$work/out" ekey_trace)" = "$t3" ] && [ "$(jget "$work/out" ekey_uses_left)" = 0 ]'
    run 0 "e2e: exhausted token replaced" "$E" call --token-cache "$cache" --limit 3 -X POST "$u/payments"
    check "e2e: new trace after exhaustion" '[ "$(jget "$work/out" ekey_trace)" != "$t3" ]'
    run 2 "e2e: issuer refuses a capability it does not grant" "$E" call --token-cache "$cache" -X GET "$u/payments"
    run 2 "e2e: issuer refuses a foreign audience" "$E" call --aud https://other.example -X POST "$u/payments"
    want="ekey: issuer refused: 403 access_denied: this 'aud' is not allowed here"
    check "e2e: issuer refusal line" 'err_is "$want"'
    # the README's flow: a key file, a token file, the same token twice
    run 0 "e2e README: keygen -o" "$E" keygen -o "$work/client.pem"
    run 0 "e2e README: mint to a file" "$E" mint --issuer "$u/token" --key "$work/client.pem" \
        --aud https://api.example.com --cap POST:/payments --ttl 30
    cp "$work/out" "$work/token.json"
    run 0 "e2e README: call --token" "$E" call --key "$work/client.pem" --token "$work/token.json" -X POST "$u/payments"
    run 3 "e2e README: the same token again" "$E" call --key "$work/client.pem" --token "$work/token.json" -X POST "$u/payments"
    check "e2e README: replay_detected" 'err_has "401 replay_detected"'
    curl -s "$u/.well-known/jwks.json" >"$work/e2e-jwks.json"
    "$E" token --issuer "$u/token" --action POST:/payments >"$work/e2e-answer.json" 2>"$work/err"
    run 0 "e2e: issued token verifies against the JWKS" "$E" inspect --jwks "$work/e2e-jwks.json" "$(jget "$work/e2e-answer.json" token)"
}
if ldd "$build/.libs/mod_ekey.so" 2>/dev/null | grep -q 'libasan\|libubsan' || grep -q '^EKEY_CFLAGS.*-fsanitize' "$build/Makefile" 2>/dev/null; then
    # httpd cannot load ASan-instrumented modules; the gcc build of the same test runs this part.
    echo "# real httpd run: done by the gcc build (sanitizer build: httpd cannot load these modules)"
elif [ ! -x /usr/sbin/apache2 ] || [ ! -f "$build/.libs/mod_ekey.so" ] \
     || [ ! -f "$build/.libs/mod_ekey_issuer.so" ] \
     || { [ "$(id -u)" -eq 0 ] && ! id www-data >/dev/null 2>&1; }; then
    fail=$((fail + 1)); echo "not ok: real httpd run impossible (apache2, the built modules or www-data missing)"
else
    e2e
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
