#!/bin/bash
# mkcorpus.sh - writes the hand-made seed inputs of tests/fuzz/corpus/ (docs/fuzzing.md).
#
#   tests/fuzz/mkcorpus.sh            (from anywhere; rewrites only the files it names)
#
# Seeds are the spec vectors (tests/unit/vectors/spec), the known answers of
# ../shared/SECURITY-CASES.md §3 and one input per negative case of that file that a parser
# can see. Files named raw-* (tokens and proofs signed by the harness, FUZZ_EMIT_DIR) and
# regress-* (inputs that once crashed) are not written here and never removed.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus
cd corpus

seed() {                      # seed TARGET NAME CONTENT   (printf %b: \n, \t, \x.. escapes)
    mkdir -p "$1"
    printf '%b' "$3" > "$1/$2"
}
sseed() {                     # sseed TARGET NAME HEADER PAYLOAD   (signing mode, fuzz.h)
    mkdir -p "$1"
    printf '%b\n%b' "$3" "$4" > "$1/$2"
}

# ------------------------------------------------------------------ shared values
ISS_KID=duYRK4MxgG3ztTAWdMMODVoVgC1oU08hIP3AXSTnNQs
P384_KID=kyIL6wPdFlGu_tSFRIWlMq4Uz0daVuOEOYhzak68cNA
ED_KID=kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
JKT=3rYOnwbdnuMhvJeFjG-wyFNQtu1kY_a4czT0LrLpCkE
TRACE=0amOVEezZyWBvmz12PdzMQ
ATH=FQYkyq05k43kUI2rjCjRHGudhkaF49U7Hk1iuYbi-do
TOKEN=$(cat ../../unit/vectors/spec/token.jwt)
PROOF=$(cat ../../unit/vectors/spec/proof.jwt)
SIG_ZERO=$(printf 'A%.0s' $(seq 86))                                     # SIG-01
SIG_N=_____wAAAAD__________7zm-q2nF56E87nKwvxjJVH_____AAAAAP__________vOb6racXnoTzucrC_GMlUQ
NONE_HDR=eyJhbGciOiJub25lIiwidHlwIjoiZWtleStqd3QifQ                     # {"alg":"none",...}
CLIENT_JWK='{"kty":"EC","crv":"P-256","x":"gfcNYfR_PiW7h-Cd4mO8QLXFwU6J_GHNxPq1Zyxv7OY","y":"huAwv-U7NAQoSbP8DqUS8cdr9eU4GuaK62jDxVOYztY"}'
ISSUER_JWK='{"kty":"EC","crv":"P-256","x":"O4JsTVM6xvq3vudZISNqASe5G2H7TVgrtyaHJu1-Av0","y":"BSkmWAnybTicbnsCOUyD4WrcNdhx6l8ufhnsEJ1I6yg"}'
RFC9449_JWK='{"crv":"P-256","kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
P384_JWK='{"kty":"EC","crv":"P-384","x":"o93Pzh_iEhG0Tznmzq95RZOk4m1Ui1M_OuxvCI9UyMGgpljucwcYVYQj7Dg2Ir63","y":"jc8eqj1zFsW5Udi5IaXkiWLy9-_qdBefbK4oLigHAuRlXp_VSowX1WXs-rVL6Rlu"}'
ED_JWK='{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'
RSA_JWK='{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}'

# ------------------------------------------------------------------ fuzz_b64url
T=fuzz_b64url
seed $T empty ''
seed $T rfc4648-f Zg
seed $T rfc4648-fo Zm8
seed $T rfc4648-foo Zm9v
seed $T rfc4648-foob Zm9vYg
seed $T rfc4648-fooba Zm9vYmE
seed $T rfc4648-foobar Zm9vYmFy
seed $T b64-04-padding 'Zg=='
seed $T b64-04-padding1 'Zm8='
seed $T b64-05-std-alphabet 'ab+c/9=='
seed $T b64-06-newline 'Zm9v\nYmFy'
seed $T b64-06-space 'Zm 9v'
seed $T b64-07-noncanonical2 Zh
seed $T b64-07-noncanonical3 Zm9
seed $T b64-08-len-mod4-1 Zm9vY
seed $T nul-inside 'Zm\x00v'
seed $T non-ascii 'Zm9v\xc3\xa9'
seed $T sig-01-zero "$SIG_ZERO"
seed $T sig-03-r-s-n "$SIG_N"
seed $T kat-jkt-rfc9449 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I
seed $T kat-ath-rfc9449 fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo
seed $T alg-none-header "$NONE_HDR"
seed $T trace "$TRACE"
seed $T trace-noncanonical 0amOVEezZyWBvmz12PdzMR

# ------------------------------------------------------------------ fuzz_json
T=fuzz_json
seed $T token-claims "$(cat ../../unit/vectors/spec/token.claims.json)"
seed $T proof-claims "$(cat ../../unit/vectors/spec/proof.claims.json)"
seed $T proof-header "$(cat ../../unit/vectors/spec/proof.header.json)"
seed $T json-01-dup-alg '{"alg":"ES256","typ":"ekey+jwt","alg":"none"}'
seed $T json-03-dup-nested '{"cap":{"action":"POST:/payments","action":"GET:/admin"}}'
seed $T json-04-dup-jwk "{\"jwk\":$CLIENT_JWK,\"jwk\":$ISSUER_JWK}"
seed $T depth-8 '{"a":[[[[[[[1]]]]]]]}'
seed $T depth-9 '{"a":[[[[[[[[1]]]]]]]]}'
seed $T json-10-deep "{\"a\":$(printf '[%.0s' $(seq 4000))}"
seed $T b64-12-trailing '{"alg":"ES256"}xyz'
seed $T b64-12-two-objects '{}{}'
seed $T b64-13-array '[1,2]'
seed $T b64-13-string '"x"'
seed $T b64-13-number '1'
seed $T b64-11-bom '\xef\xbb\xbf{"a":1}'
seed $T b64-10-overlong '{"a":"\xc0\xaf"}'
seed $T b64-10-surrogate-utf8 '{"a":"\xed\xa0\x80"}'
seed $T json-07-lone-surrogate '{"a":"\\ud800"}'
seed $T json-07-bad-escape '{"a":"\\x41"}'
seed $T json-07-raw-control '{"a":"\x01"}'
seed $T nul-escaped '{"a":"\\u0000"}'
seed $T nul-raw '{"a":"x\x00y"}'
seed $T json-08-comment '{/*c*/"a":1}'
seed $T json-08-single-quote "{'a':1}"
seed $T json-08-trailing-comma '{"a":1,}'
seed $T json-08-nan '{"a":NaN}'
seed $T json-08-infinity '{"a":Infinity}'
seed $T json-08-leading-zero '{"a":01}'
seed $T json-08-hex '{"a":0x10}'
seed $T json-08-plus '{"a":+1}'
seed $T json-11-types '{"aud":123,"iss":["x"],"cap":"POST:/payments","limit":"1","cnf":[],"iat":"1700000000","n":1.0,"m":1.5,"t":true,"z":null,"e":1e300,"neg":-1,"o":{"k":{"x":1}}}'
seed $T big-int '{"a":99999999999999999999}'
seed $T brackets-in-string '{"a":"[[[[[[[[[[[[[[{{{{{{{{{{"}'
seed $T escaped-quote '{"a":"\\"[[[[[[[[[[[[","b":"\\\\"}'
seed $T dos-04-members "{$(for i in $(seq 500); do printf '"m%d":%d,' "$i" "$i"; done)\"end\":0}"
seed $T empty ''
seed $T empty-object '{}'

# ------------------------------------------------------------------ fuzz_jwk
T=fuzz_jwk
seed $T rfc9449-fig4 "$RFC9449_JWK"
seed $T client "$CLIENT_JWK"
seed $T issuer "$ISSUER_JWK"
seed $T p384 "$P384_JWK"
seed $T ed25519-rfc8037 "$ED_JWK"
seed $T rfc7638-rsa "$RSA_JWK"
seed $T pos-09-extras '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","kid":"k1","alg":"ES256","use":"sig","key_ops":["verify"],"ext":true}'
seed $T dpop-06-private-d '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","d":"AAAA"}'
seed $T dpop-07-oct '{"kty":"oct","k":"c2VjcmV0"}'
seed $T dpop-08-rsa-private '{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQ","p":"AQ","q":"AQ","dp":"AQ","dq":"AQ","qi":"AQ"}'
seed $T jwk-01-off-curve '{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}'
seed $T iss-10-x-is-p '{"kty":"EC","crv":"P-256","x":"_____wAAAAEAAAAAAAAAAAAAAAD_______________8","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-03-crv-p384 '{"kty":"EC","crv":"P-384","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-03-crv-k1 '{"kty":"EC","crv":"secp256k1","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-03-crv-lower '{"kty":"EC","crv":"p-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-04-kty-lower '{"kty":"ec","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-04-kty-space '{"kty":"EC ","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-06-padded '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs=","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-06-std-alphabet '{"kty":"EC","crv":"P-256","x":"l8tFrhx+34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf/Ok/o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T jwk-06-noncanonical '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFt","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T iss-10-31-bytes '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBA","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T iss-10-33-bytes '{"kty":"EC","crv":"P-256","x":"AJfLRa4cft-LVd4USAkQ2PcwpA5aQWBeNlEFH1VAFgRb","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T dpop-25-alg-mismatch '{"kty":"EC","crv":"P-256","alg":"ES384","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T use-enc '{"kty":"EC","crv":"P-256","use":"enc","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}'
seed $T missing-y '{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"}'
seed $T types '{"kty":"EC","crv":"P-256","x":5,"y":null}'
seed $T jwks-two "{\"keys\":[$ISSUER_JWK,$CLIENT_JWK]}"
seed $T jwks-all "{\"keys\":[$ISSUER_JWK,$P384_JWK,$ED_JWK,$RSA_JWK]}"
seed $T jwks-duplicate "{\"keys\":[$ISSUER_JWK,$ISSUER_JWK]}"
seed $T jwks-enc-skipped '{"keys":[{"kty":"EC","crv":"P-256","use":"enc","x":"AA","y":"AA"}]}'
seed $T jwks-not-array '{"keys":"x"}'
seed $T jwks-not-object '{"keys":[1]}'
seed $T jwks-empty '{"keys":[]}'

# ------------------------------------------------------------------ fuzz_jws
T=fuzz_jws
H="${TOKEN%%.*}"; REST="${TOKEN#*.}"; P="${REST%%.*}"; S="${REST#*.}"
seed $T spec-token "$TOKEN"
seed $T spec-proof "$PROOF"
seed $T b64-01-two-segments "$H.$P"
seed $T b64-02-four-segments "$TOKEN.$S"
seed $T b64-02-five-segments "$TOKEN.$P.$S"
seed $T b64-03-empty-sig "$H.$P."
seed $T b64-04-padded "$H.$P.$S=="
seed $T b64-05-std-alphabet "$(printf '%s' "$TOKEN" | tr -- '-_' '+/')"
seed $T b64-06-space "$H.$P. $S"
seed $T b64-07-noncanonical "$H.$P.${S%?}B"
seed $T b64-08-len-mod4-1 "$H.$P.${S}A"
seed $T b64-09-json-serialization "{\"payload\":\"$P\",\"protected\":\"$H\",\"signature\":\"$S\"}"
seed $T alg-01-none-empty-sig "$NONE_HDR.$P."
seed $T alg-02-none-sig "$NONE_HDR.$P.$S"
seed $T sig-01-zero "$H.$P.$SIG_ZERO"
seed $T sig-03-r-s-n "$H.$P.$SIG_N"
seed $T sig-05-63-bytes "$H.$P.${S:0:84}"
seed $T sig-05-72-bytes "$H.$P.${S}AAAAAAAAAAAA"
seed $T hdr-16-non-ascii "$H.$P.${S:0:85}\xc3\xa9"
HDR="{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"$ISS_KID\"}"
PAY='{"x":1}'
sseed $T sign-es256 "$HDR" "$PAY"
sseed $T sign-es384 "{\"alg\":\"ES384\",\"typ\":\"ekey+jwt\",\"kid\":\"$P384_KID\"}" "$PAY"
sseed $T sign-eddsa "{\"alg\":\"EdDSA\",\"typ\":\"ekey+jwt\",\"kid\":\"$ED_KID\"}" "$PAY"
sseed $T sign-dpop-jwk "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$ISSUER_JWK}" "$PAY"
sseed $T alg-03-lower '{"alg":"es256","typ":"ekey+jwt"}' "$PAY"
sseed $T alg-03-none-case '{"alg":"nOnE","typ":"ekey+jwt"}' "$PAY"
sseed $T alg-04-hs256 '{"alg":"HS256","typ":"ekey+jwt"}' "$PAY"
sseed $T alg-05-rs256 '{"alg":"RS256","typ":"ekey+jwt"}' "$PAY"
sseed $T alg-06-missing '{"typ":"ekey+jwt"}' "$PAY"
sseed $T alg-06-null '{"alg":null}' "$PAY"
sseed $T alg-06-array '{"alg":["ES256"]}' "$PAY"
sseed $T alg-06-number '{"alg":256}' "$PAY"
sseed $T alg-12-jku '{"alg":"ES256","jku":"http://169.254.169.254/"}' "$PAY"
sseed $T alg-12-x5u '{"alg":"ES256","x5u":"https://attacker.example/c"}' "$PAY"
sseed $T alg-13-jwk "{\"alg\":\"ES256\",\"jwk\":$ISSUER_JWK}" "$PAY"
sseed $T alg-14-x5c '{"alg":"ES256","x5c":["MIIB"]}' "$PAY"
sseed $T alg-15-crit '{"alg":"ES256","crit":["x-ext"],"x-ext":1}' "$PAY"
sseed $T alg-17-b64 '{"alg":"ES256","b64":false,"crit":["b64"]}' "$PAY"
sseed $T alg-18-zip '{"alg":"ES256","zip":"DEF"}' "$PAY"
sseed $T json-01-dup-alg '{"alg":"ES256","alg":"none"}' "$PAY"
sseed $T typ-kid-types '{"alg":"ES256","typ":5,"kid":["a"]}' "$PAY"
sseed $T b64-11-bom '\xef\xbb\xbf{"alg":"ES256"}' "$PAY"
sseed $T payload-array "$HDR" '[1]'

# ------------------------------------------------------------------ fuzz_token
T=fuzz_token
C_ISS='"iss":"https://issuer.example"'
C_SUB='"sub":"agent-123"'
C_AUD='"aud":"https://api.example.com"'
C_TIME='"iat":1767225600,"exp":1767225720'
C_TRACE="\"trace\":\"$TRACE\""
C_CAP='"cap":{"action":"POST:/payments","limit":1}'
C_CNF="\"cnf\":{\"jkt\":\"$JKT\"}"
claims() { printf '{%s}' "$(IFS=,; echo "$*")"; }
BASE=$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")
tok() { sseed $T "$1" "$HDR" "$2"; }
seed $T spec-token "$TOKEN"
seed $T sig-01-zero "$H.$P.$SIG_ZERO"
seed $T sig-03-r-s-n "$H.$P.$SIG_N"
seed $T alg-01-none "$NONE_HDR.$P."
seed $T alg-09-proof-as-token "$PROOF"
tok valid-base "$BASE"
sseed $T valid-es384 "{\"alg\":\"ES384\",\"typ\":\"ekey+jwt\",\"kid\":\"$P384_KID\"}" "$BASE"
sseed $T valid-eddsa "{\"alg\":\"EdDSA\",\"typ\":\"ekey+jwt\",\"kid\":\"$ED_KID\"}" "$BASE"
tok valid-limit3-aud-array-nbf "$(claims "$C_ISS" "$C_SUB" '"aud":["https://other.example","https://api.example.com"]' "$C_TIME" '"nbf":1767225600' "$C_TRACE" '"cap":{"action":"POST:/payments","limit":3}' "$C_CNF")"
tok valid-mtls "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "\"cnf\":{\"x5t#S256\":\"$JKT\"}")"
tok valid-no-limit-escape "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":{"action":"DELETE:/a%20b/c%C3%A9"}' "$C_CNF")"
tok clm-17-extra-claims "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF" '"scope":"admin"' '"admin":true')"
tok clm-01-iss-slash "$(claims '"iss":"https://issuer.example/"' "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-01-iss-case "$(claims '"iss":"HTTPS://issuer.example"' "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-02-iss-missing "$(claims "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-02-iss-empty "$(claims '"iss":""' "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-03-aud-missing "$(claims "$C_ISS" "$C_SUB" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-03-aud-evil "$(claims "$C_ISS" "$C_SUB" '"aud":"https://api.example.com.evil.example"' "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-03-aud-path "$(claims "$C_ISS" "$C_SUB" '"aud":"https://api.example.com/payments"' "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-04-aud-other-array "$(claims "$C_ISS" "$C_SUB" '"aud":["https://other.example"]' "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-04-aud-empty-array "$(claims "$C_ISS" "$C_SUB" '"aud":[]' "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok json-11-aud-number "$(claims "$C_ISS" "$C_SUB" '"aud":123' "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-05-expired "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225300,"exp":1767225570' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-05-exp-boundary "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225300,"exp":1767225580' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-06-exp-missing "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225600' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-06-exp-null "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225600,"exp":null' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-07-iat-future "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225641,"exp":1767225720' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-08-iat-missing "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"exp":1767225720' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-09-exp-le-iat "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225600,"exp":1767225600' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-10-ttl-day "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225600,"exp":1767312000' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-11-nbf-future "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" '"nbf":1767225641' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok json-11-iat-string "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":"1767225600","exp":1767225720' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok time-real "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":1767225600.0,"exp":1767225720' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok time-negative "$(claims "$C_ISS" "$C_SUB" "$C_AUD" '"iat":-9223372036854775808,"exp":9223372036854775807' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-13-sub-missing "$(claims "$C_ISS" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-13-sub-empty "$(claims "$C_ISS" '"sub":""' "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-13-sub-crlf "$(claims "$C_ISS" '"sub":"a\\r\\nX-Admin: 1"' "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-13-sub-nul "$(claims "$C_ISS" '"sub":"a\\u0000b"' "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF")"
tok clm-14-cap-missing "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CNF")"
tok clm-14-cap-null "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":null' "$C_CNF")"
tok clm-14-cap-string "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":"POST:/payments"' "$C_CNF")"
tok clm-14-cap-array "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":["POST:/payments"]' "$C_CNF")"
i=0
for a in 'POST /payments' 'post:/payments' ':/payments' 'POST:' 'POST:payments' '*:/payments' \
         'POST:/payments*' 'POST:/payments,GET:/admin' 'POST:/payments/../admin' 'POST:/a%2fb'; do
    i=$((i + 1))
    tok "clm-16-action-$i" "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "\"cap\":{\"action\":\"$a\",\"limit\":1}" "$C_CNF")"
done
tok clm-16-action-array "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":{"action":["POST:/payments"],"limit":1}' "$C_CNF")"
for l in 0 -1 1.5 '"1"' 11 1000000; do
    tok "iss-05-limit-${l//\"/q}" "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "\"cap\":{\"action\":\"POST:/payments\",\"limit\":$l}" "$C_CNF")"
done
tok trace-short "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" '"trace":"0amOVEezZyWBvmz12PdzM"' "$C_CAP" "$C_CNF")"
tok trace-noncanonical "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" '"trace":"0amOVEezZyWBvmz12PdzMR"' "$C_CAP" "$C_CNF")"
tok rpl-17-trace-injection "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" '"trace":"a b\\r\\n%s%n*{"' "$C_CAP" "$C_CNF")"
tok bind-01-cnf-missing "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP")"
tok bind-01-cnf-empty "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" '"cnf":{}')"
tok bind-02-cnf-both "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "\"cnf\":{\"jkt\":\"$JKT\",\"x5t#S256\":\"$JKT\"}")"
tok bind-05-cnf-jwk "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "\"cnf\":{\"jwk\":$CLIENT_JWK}")"
tok json-11-cnf-array "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" '"cnf":[]')"
tok json-11-jkt-number "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" '"cnf":{"jkt":5}')"
tok jwk-07-jkt-padded "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "\"cnf\":{\"jkt\":\"$JKT=\"}")"
tok jwk-07-jkt-hex "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" '"cnf":{"jkt":"deb60e9f06dd9ee321bc97858c6fb0c85350b6ed6463f6b87334f42eb2e90a41"}')"
tok jwk-08-jkt-sha1 "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" '"cnf":{"jkt":"3rYOnwbdnuMhvJeFjG-wyFNQtu1"}')"
tok json-02-dup-exp "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" '"exp":1799999999' "$C_TRACE" "$C_CAP" "$C_CNF")"
tok json-03-dup-action "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" '"cap":{"action":"POST:/payments","action":"GET:/admin"}' "$C_CNF")"
tok json-03-dup-jkt "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "\"cnf\":{\"jkt\":\"$JKT\",\"jkt\":\"$JKT\"}")"
tok json-10-deep "$(claims "$C_ISS" "$C_SUB" "$C_AUD" "$C_TIME" "$C_TRACE" "$C_CAP" "$C_CNF" "\"x\":$(printf '[%.0s' $(seq 2000))")"
for t in '' ',"typ":"JWT"' ',"typ":"at+jwt"' ',"typ":"dpop+jwt"' ',"typ":"EKEY+JWT"' ',"typ":"application/ekey+jwt"'; do
    i=$((i + 1))
    sseed $T "alg-08-typ-$i" "{\"alg\":\"ES256\"$t,\"kid\":\"$ISS_KID\"}" "$BASE"
done
sseed $T alg-10-kid-unknown '{"alg":"ES256","typ":"ekey+jwt","kid":"k1"}' "$BASE"
sseed $T alg-10-kid-missing '{"alg":"ES256","typ":"ekey+jwt"}' "$BASE"
sseed $T alg-11-kid-path '{"alg":"ES256","typ":"ekey+jwt","kid":"../../../../dev/null"}' "$BASE"
sseed $T alg-11-kid-nul '{"alg":"ES256","typ":"ekey+jwt","kid":"k1\\u0000x"}' "$BASE"
sseed $T alg-05-es384-with-p256-kid "{\"alg\":\"ES384\",\"typ\":\"ekey+jwt\",\"kid\":\"$ISS_KID\"}" "$BASE"
sseed $T alg-13-jwk "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"$ISS_KID\",\"jwk\":$ISSUER_JWK}" "$BASE"
sseed $T alg-15-crit "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"$ISS_KID\",\"crit\":[\"exp\"]}" "$BASE"

# ------------------------------------------------------------------ fuzz_dpop
T=fuzz_dpop
PHDR="{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$CLIENT_JWK}"
C_JTI='"jti":"geCcwVirD4o8FZIR0ygiVQ"'
C_HTM='"htm":"POST"'
C_HTU='"htu":"https://api.example.com/payments"'
C_IAT='"iat":1767225605'
C_ATH="\"ath\":\"$ATH\""
C_NONCE="\"nonce\":\"$TRACE\""
PBASE=$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")
prf() { sseed $T "$1" "$PHDR" "$2"; }
seed $T spec-proof "$PROOF"
seed $T hdr-12-merged "$PROOF, $PROOF"
seed $T hdr-14-empty ''
seed $T space-inside "${PROOF:0:40} ${PROOF:40}"
seed $T alg-09-token-as-proof "$TOKEN"
PH="${PROOF%%.*}"; PREST="${PROOF#*.}"; PP="${PREST%%.*}"; PS="${PREST#*.}"
seed $T sig-01-zero "$PH.$PP.$SIG_ZERO"
seed $T sig-03-r-s-n "$PH.$PP.$SIG_N"
seed $T dpop-04-bit-flip "$PH.$PP.${PS:0:10}A${PS:11}"
prf valid-base "$PBASE"
prf issuer-mode "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT")"
prf pos-04-default-port "$(claims "$C_JTI" "$C_HTM" '"htu":"https://api.example.com:443/payments"' "$C_IAT" "$C_ATH" "$C_NONCE")"
prf pos-05-upper "$(claims "$C_JTI" "$C_HTM" '"htu":"HTTPS://API.EXAMPLE.COM/payments"' "$C_IAT" "$C_ATH" "$C_NONCE")"
prf pos-08-query "$(claims "$C_JTI" "$C_HTM" '"htu":"https://api.example.com/payments?x=1#f"' "$C_IAT" "$C_ATH" "$C_NONCE")"
prf pos-18-extra "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE" '"exp":1767225999' '"x":{"y":[1]}')"
prf iat-oldest "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":1767225550' "$C_ATH" "$C_NONCE")"
prf iat-newest "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":1767225640' "$C_ATH" "$C_NONCE")"
sseed $T pos-09-jwk-extras "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"gfcNYfR_PiW7h-Cd4mO8QLXFwU6J_GHNxPq1Zyxv7OY\",\"y\":\"huAwv-U7NAQoSbP8DqUS8cdr9eU4GuaK62jDxVOYztY\",\"kid\":\"c\",\"alg\":\"ES256\",\"use\":\"sig\",\"key_ops\":[\"verify\"],\"ext\":true}}" "$PBASE"
sseed $T es384 "{\"typ\":\"dpop+jwt\",\"alg\":\"ES384\",\"jwk\":$P384_JWK}" "$PBASE"
sseed $T eddsa "{\"typ\":\"dpop+jwt\",\"alg\":\"EdDSA\",\"jwk\":$ED_JWK}" "$PBASE"
sseed $T dpop-09-other-key "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$ISSUER_JWK}" "$PBASE"
for t in '' ',"typ":"JWT"' ',"typ":"ekey+jwt"' ',"typ":"application/dpop+jwt"'; do
    i=$((i + 1))
    sseed $T "dpop-02-typ-$i" "{\"alg\":\"ES256\"$t,\"jwk\":$CLIENT_JWK}" "$PBASE"
done
sseed $T dpop-03-none "{\"typ\":\"dpop+jwt\",\"alg\":\"none\",\"jwk\":$CLIENT_JWK}" "$PBASE"
sseed $T dpop-03-hs256 "{\"typ\":\"dpop+jwt\",\"alg\":\"HS256\",\"jwk\":$CLIENT_JWK}" "$PBASE"
sseed $T dpop-03-rs256-ec "{\"typ\":\"dpop+jwt\",\"alg\":\"RS256\",\"jwk\":$CLIENT_JWK}" "$PBASE"
sseed $T dpop-03-es256-rsa "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$RSA_JWK}" "$PBASE"
sseed $T dpop-05-jwk-missing '{"typ":"dpop+jwt","alg":"ES256"}' "$PBASE"
sseed $T dpop-05-jwk-string '{"typ":"dpop+jwt","alg":"ES256","jwk":"x"}' "$PBASE"
sseed $T dpop-05-jwk-array '{"typ":"dpop+jwt","alg":"ES256","jwk":[]}' "$PBASE"
sseed $T dpop-05-kid '{"typ":"dpop+jwt","alg":"ES256","kid":"c"}' "$PBASE"
sseed $T dpop-05-jku '{"typ":"dpop+jwt","alg":"ES256","jku":"https://attacker.example/"}' "$PBASE"
sseed $T dpop-05-x5c '{"typ":"dpop+jwt","alg":"ES256","x5c":["MIIB"]}' "$PBASE"
sseed $T dpop-06-jwk-d "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"gfcNYfR_PiW7h-Cd4mO8QLXFwU6J_GHNxPq1Zyxv7OY\",\"y\":\"huAwv-U7NAQoSbP8DqUS8cdr9eU4GuaK62jDxVOYztY\",\"d\":\"ASQ6oH3LwVFX3IdTsMGiyrZD2m5z3csmkwaJhwzXlCA\"}}" "$PBASE"
sseed $T dpop-07-oct '{"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"c2VjcmV0"}}' "$PBASE"
sseed $T dpop-25-jwk-alg "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES384\",\"x\":\"gfcNYfR_PiW7h-Cd4mO8QLXFwU6J_GHNxPq1Zyxv7OY\",\"y\":\"huAwv-U7NAQoSbP8DqUS8cdr9eU4GuaK62jDxVOYztY\"}}" "$PBASE"
sseed $T dpop-26-crit "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"crit\":[\"x-ext\"],\"jwk\":$CLIENT_JWK}" "$PBASE"
sseed $T json-04-dup-jwk "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$CLIENT_JWK,\"jwk\":$ISSUER_JWK}" "$PBASE"
sseed $T jwk-01-off-curve '{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}}' "$PBASE"
prf dpop-10-ath-missing "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "$C_NONCE")"
for a in 150624caad39938de4508dab8c28d11c6b9d864685e3d53b1e4d62b986e2f9da "$ATH=" 'FQYkyq05k43kUI2rjCjRHGudhkaF49U7Hk1iuYbi+do' 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo'; do
    i=$((i + 1))
    prf "dpop-12-ath-$i" "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "\"ath\":\"$a\"" "$C_NONCE")"
done
prf dpop-13-htm-get "$(claims "$C_JTI" '"htm":"GET"' "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-13-htm-lower "$(claims "$C_JTI" '"htm":"post"' "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-15-jti-missing "$(claims "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-15-jti-empty "$(claims '"jti":""' "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-15-jti-number "$(claims '"jti":7' "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-15-jti-257 "$(claims "\"jti\":\"$(printf 'j%.0s' $(seq 257))\"" "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-15-jti-space "$(claims '"jti":"a b"' "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" "$C_NONCE")"
prf dpop-19-iat-old "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":1767225549' "$C_ATH" "$C_NONCE")"
prf dpop-20-iat-future "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":1767225641' "$C_ATH" "$C_NONCE")"
prf dpop-21-iat-missing "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_ATH" "$C_NONCE")"
prf dpop-21-iat-string "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":"1767225605"' "$C_ATH" "$C_NONCE")"
prf dpop-21-iat-huge "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":1e300' "$C_ATH" "$C_NONCE")"
prf dpop-21-iat-min "$(claims "$C_JTI" "$C_HTM" "$C_HTU" '"iat":-9223372036854775808' "$C_ATH" "$C_NONCE")"
prf dpop-23-nonce-missing "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH")"
prf dpop-23-nonce-wrong "$(claims "$C_JTI" "$C_HTM" "$C_HTU" "$C_IAT" "$C_ATH" '"nonce":"AAAAAAAAAAAAAAAAAAAAAA"')"
for u in https://api.other.example/payments http://api.example.com/payments \
         https://api.example.com:8443/payments https://evil.example/payments \
         https://api.example.com/payments/ https://api.example.com/Payments \
         https://api.example.com/payments/../admin https://api.example.com/payments%2F \
         https://api.example.com/%2e%2e/payments https://api.example.com/payments%00 \
         https://user@api.example.com/payments 'https://api.ex\\u0430mple.com/payments' \
         /payments //api.example.com/payments api.example.com/payments \
         'https://api.example.com\\\\payments' 'https://api.example.com/pay ments'; do
    i=$((i + 1))
    prf "htu-$i" "$(claims "$C_JTI" "$C_HTM" "\"htu\":\"$u\"" "$C_IAT" "$C_ATH" "$C_NONCE")"
done
prf json-11-htu-array "$(claims "$C_JTI" "$C_HTM" '"htu":["https://api.example.com/payments"]' "$C_IAT" "$C_ATH" "$C_NONCE")"

# ------------------------------------------------------------------ fuzz_cap
T=fuzz_cap
cap() { seed $T "$1" "$2\n$3\n$4\n$5"; }
cap exact 'POST:/payments' POST /payments 'POST:/payments'
cap cap-01-method 'POST:/payments' GET /payments 'POST:/*'
cap cap-02-path 'POST:/payments' POST /admin '*:/payments'
cap cap-03-dots 'POST:/payments' POST '/payments/../admin' 'POST:/payments/*'
cap cap-05-slashes 'POST://payments' POST '//payments' '*:/*'
cap cap-05-dot 'POST:/./payments' POST '/./payments' 'POST:/payments'
cap cap-05-trailing-slashes 'POST:/payments//' POST '/payments//' 'POST:/payments/*'
cap cap-06-prefix 'POST:/payments' POST '/payments-admin' 'POST:/payments*'
cap cap-06-subtree 'POST:/payments/refunds' POST '/payments/refunds' 'POST:/payments/*'
cap cap-07-trailing-slash 'POST:/payments/' POST '/payments/' 'POST:/payments/*'
cap cap-08-case 'POST:/PAYMENTS' POST '/Payments' 'post:/PAYMENTS'
cap cap-03-dots-action 'POST:/payments/../admin' POST '/admin' 'POST:/payments/*'
cap cap-05-dot-end 'GET:/a/.' GET '/a/.' 'GET:/a/*'
cap cap-05-dotdot-end 'GET:/a/..' GET '/a/..' 'GET:/*'
cap cap-04-encoded-dots 'POST:/payments/%2e%2e/admin' POST '/payments/../admin' '*:/payments/*'
cap cap-10-encoded-slash 'POST:/payments%2Fadmin' POST '/payments/admin' '*:/*'
cap cap-11-backslash 'POST:/payments\\..\\admin' POST '/payments\\..\\admin' '*:/*'
cap cap-13-nul 'POST:/payments%00/admin' POST '/payments' '*:/*'
cap cap-14-query 'POST:/admin?/payments' POST '/admin' 'POST:/admin'
cap escape-space 'GET:/a%20b' GET '/a b' 'GET:/a%20b'
cap escape-unreserved 'GET:/a%7E' GET '/a~' 'GET:/*'
cap escape-lower 'GET:/a%2f' GET '/a/' 'GET:/*'
cap escape-utf8 'GET:/caf%C3%A9' GET '/caf\xc3\xa9' '*:/caf%C3%A9'
cap escape-percent 'GET:/100%25' GET '/100%' 'GET:/100%25'
cap escape-truncated 'GET:/a%2' GET '/a' 'GET:/*'
cap method-dash 'VERSION-CONTROL:/x' VERSION-CONTROL /x '*:/x'
cap method-leading-dash '-GET:/x' '-GET' /x '*:/x'
cap method-33 'ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG:/x' ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG /x '*:/x'
cap root 'GET:/' GET / 'GET:/*'
cap pattern-root-subtree 'GET:/a' GET /a '*:/*'
cap clm-16-list 'POST:/payments,GET:/admin' POST /payments 'POST:/payments'
cap clm-16-space 'POST /payments' POST /payments 'POST /payments'
seed $T only-action 'POST:/payments'
seed $T long-path "GET:/$(printf 'a/%.0s' $(seq 1100))"

# ------------------------------------------------------------------ fuzz_url
T=fuzz_url
i=0
for u in https://api.example.com/payments https://api.example.com https://api.example.com/ \
         https://api.example.com:443/payments HTTPS://API.EXAMPLE.COM/payments \
         'https://api.example.com/payments?x=1#frag' http://api.example.com:80/ \
         http://api.example.com:8080/a https://api.example.com:/x 'https://[::1]:8443/a' \
         'https://[::FFFF:127.0.0.1]/' 'https://[fe80::1%25eth0]/' 'https://[]/x' \
         'https://a/%7e%7E%41%2f%2F%zz' 'https://a/%2e%2e/payments' 'https://a/%2E/x' \
         'https://a/./x' 'https://a/x/..' 'https://a/x/.' 'https://a/payments%00' \
         'https://user@api.example.com/payments' 'https://user:pw@a/' 'ftp://a/' \
         'https://a:0/' 'https://a:65536/' 'https://a:99999999/' 'https://a:00443/' \
         '/payments' '//api.example.com/payments' 'api.example.com/payments' \
         'https://api.example.com\\payments' 'https://a/pay ments' 'https://a/\x7f' \
         'https://api.ex\xd0\xb0mple.com/' 'https://xn--api-9cd.example/' 'https://a_b-c.d/x' \
         'https://a/%' 'https://a/%4' "https://a/$(printf 'x%.0s' $(seq 9000))" \
         'https://' 'https:///x' 'http://a?b' 'http://a#b' 'https://a/:@!$&()*+,;=' \
         'https://api.example.com/'; do
    i=$((i + 1))
    seed $T "url-$i" "$u"
done

# ------------------------------------------------------------------ fuzz_http
T=fuzz_http
i=0
for v in "EKey $TOKEN" "ekey $TOKEN" "EKEY   $TOKEN" "  EKey $TOKEN \t" "EKey $TOKEN, EKey $TOKEN" \
         "EKey $TOKEN, Bearer $TOKEN" "Bearer $TOKEN" "DPoP $TOKEN" "EKey$TOKEN" "EKey:$TOKEN" \
         "EKey\t$TOKEN" "E-Key $TOKEN" "EKeys $TOKEN" 'EKey a+b/c~=' 'EKey \xc3\xa9' '' '   ' \
         'EKey ' 'EKey' 'EKey a b' 'Digest a=b, c=d' 'EKey x\tx' "EKey $(printf 'a%.0s' $(seq 5000))" \
         'Basic dXNlcjpwYXNz' 'EKey a.b.c'; do
    i=$((i + 1))
    seed $T "auth-$i" "$v"
done

# ------------------------------------------------------------------ fuzz_audit
T=fuzz_audit
LE_NOW='\x00\x40\x20\x46\x48\x47\x06\x00'       # 1767225600000000 us, little-endian
LE_3='\x03\x00\x00\x00\x00\x00\x00\x00'
LE_M1='\xff\xff\xff\xff\xff\xff\xff\xff'
seed $T allowed "$LE_NOW${LE_3}allowed\x00\x00agent-123\x00$TRACE\x00https://api.example.com\x00POST:/payments\x00dpop\x00127.0.0.1\x00rid\x00POST\x00/payments\x00$JKT"
seed $T denied-hostile "$LE_NOW${LE_M1}denied\x00invalid_token\x00a\"b\\\\c\r\nX: y\x00\x01\x7f\x00\xc3\x28\x00</script>\x00\xe2\x80\xa8\x00bind\x00::1\x00\x00GET\x00/a?b=\"c\"\n\x00\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
seed $T no-decision "$LE_NOW${LE_3}"
seed $T negative-time "$LE_M1${LE_3}expired\x00token_expired"
seed $T max-time "\xff\xff\xff\xff\xff\xff\xff\x7f${LE_3}allowed"
# ------------------------------------------------------------------ fuzz_issuer_body
T=fuzz_issuer_body
B_SUB='"sub":"agent-123"'
B_AUD='"aud":"https://api.example.com"'
B_TTL='"ttl":120'
B_CAP='"cap":{"action":"POST:/payments","limit":3}'
B_KEY="\"jwk\":$CLIENT_JWK"
B_JWK="\"bind\":\"DPoP\",$B_KEY"
body() { seed $T "$1" "$(claims "${@:2}")"; }
body valid-dpop "$B_SUB" "$B_AUD" "$B_TTL" "$B_CAP" "$B_JWK"
body valid-defaults "$B_SUB" "$B_AUD" '"cap":{"action":"POST:/payments"}' "$B_JWK"
body iss-07-bind-missing "$B_SUB" "$B_AUD" "$B_CAP" "$B_KEY"
body valid-mtls "$B_SUB" '"aud":"https://reports.example.com"' '"bind":"mTLS"' '"cap":{"action":"GET:/reports/2024/q1","limit":10}'
body valid-p384 "$B_SUB" "$B_AUD" '"bind":"DPoP"' '"cap":{"action":"DELETE:/public"}' "\"jwk\":$P384_JWK"
body valid-ed25519 "$B_SUB" "$B_AUD" '"bind":"DPoP"' "$B_CAP" "\"jwk\":$ED_JWK"
for t in 0 -1 1.5 '"30"' 1e9 9007199254740993 null 301; do
    body "iss-03-ttl-${t//\"/q}" "$B_SUB" "$B_AUD" "\"ttl\":$t" "$B_CAP" "$B_JWK"
done
i=0
for a in 'POST:/admin' '*' 'POST:/payments*' 'POST:/payments/../admin' 'post:/payments' 'GET:/reports' 'GET:/reports/'; do
    i=$((i + 1))
    body "iss-04-cap-$i" "$B_SUB" "$B_AUD" "\"cap\":{\"action\":\"$a\"}" "$B_JWK"
done
for l in 0 -1 1.5 '"1"' 1000000 11; do
    body "iss-05-limit-${l//\"/q}" "$B_SUB" "$B_AUD" "\"cap\":{\"action\":\"POST:/payments\",\"limit\":$l}" "$B_JWK"
done
body iss-05-cap-extra "$B_SUB" "$B_AUD" '"cap":{"action":"POST:/payments","scope":"admin"}' "$B_JWK"
body iss-06-aud-other "$B_SUB" '"aud":"https://evil.example"' "$B_CAP" "$B_JWK"
body iss-06-aud-array "$B_SUB" '"aud":["https://api.example.com"]' "$B_CAP" "$B_JWK"
body iss-06-aud-star "$B_SUB" '"aud":"*"' "$B_CAP" "$B_JWK"
for b in '"bearer"' '"none"' '"dpop"' '"DPoP "' 'null' '1'; do
    i=$((i + 1))
    body "iss-07-bind-$i" "$B_SUB" "$B_AUD" "\"bind\":$b" "$B_CAP" "$B_KEY"
done
body iss-08-jwk-missing "$B_SUB" "$B_AUD" "$B_CAP" '"bind":"DPoP"'
body iss-08-jwk-oct "$B_SUB" "$B_AUD" "$B_CAP" '"bind":"DPoP"' '"jwk":{"kty":"oct","k":"c2VjcmV0"}'
body iss-08-jwk-rsa "$B_SUB" "$B_AUD" "$B_CAP" '"bind":"DPoP"' "\"jwk\":$RSA_JWK"
body iss-09-jwk-d "$B_SUB" "$B_AUD" "$B_CAP" '"bind":"DPoP"' '"jwk":{"kty":"EC","crv":"P-256","x":"gfcNYfR_PiW7h-Cd4mO8QLXFwU6J_GHNxPq1Zyxv7OY","y":"huAwv-U7NAQoSbP8DqUS8cdr9eU4GuaK62jDxVOYztY","d":"ASQ6oH3LwVFX3IdTsMGiyrZD2m5z3csmkwaJhwzXlCA"}'
body iss-10-off-curve "$B_SUB" "$B_AUD" "$B_CAP" '"bind":"DPoP"' '"jwk":{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}'
body iss-12-mtls-x5t "$B_SUB" "$B_AUD" '"bind":"mTLS"' "$B_CAP" "\"x5t#S256\":\"$JKT\""
body iss-12-mtls-jwk "$B_SUB" "$B_AUD" '"bind":"mTLS"' "$B_CAP" "$B_KEY"
body iss-15-proto "$B_SUB" "$B_AUD" "$B_CAP" "$B_JWK" '"__proto__":{"admin":true}'
body iss-16-deep "$B_SUB" "$B_AUD" "$B_CAP" "$B_JWK" "\"x\":$(printf '[%.0s' $(seq 20))1$(printf ']%.0s' $(seq 20))"
body owned-trace "$B_SUB" "$B_AUD" "$B_CAP" "$B_JWK" "\"trace\":\"$TRACE\""
body owned-iat "$B_SUB" "$B_AUD" "$B_CAP" "$B_JWK" '"iat":1'
body sub-missing "$B_AUD" "$B_CAP" "$B_JWK"
body sub-empty '"sub":""' "$B_AUD" "$B_CAP" "$B_JWK"
body sub-257 "\"sub\":\"$(printf 's%.0s' $(seq 257))\"" "$B_AUD" "$B_CAP" "$B_JWK"
body sub-crlf '"sub":"a\\r\\nb"' "$B_AUD" "$B_CAP" "$B_JWK"
body dup-sub "$B_SUB" '"sub":"admin"' "$B_AUD" "$B_CAP" "$B_JWK"
seed $T not-object '[]'
seed $T empty ''
# ------------------------------------------------------------------ fuzz_p256
# mode byte (bit 0: key, bit 1: harness signs), 32-byte digest, 64 bytes r || s / XOR mask
T=fuzz_p256
Z32=$(printf '\\x00%.0s' $(seq 32))
N32='\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xbc\xe6\xfa\xad\xa7\x17\x9e\x84\xf3\xb9\xca\xc2\xfc\x63\x25\x51'
seed $T signed-issuer '\x02hello-digest-0123456789abcdefghi'
seed $T signed-client '\x03hello-digest-0123456789abcdefghi'
seed $T signed-zero-digest "\\x02$Z32"
seed $T signed-order-digest "\\x03$N32"
seed $T signed-flip-s "\\x02hello-digest-0123456789abcdefghi$Z32\\x01"
seed $T raw-zero "\\x00$Z32$Z32$Z32"
seed $T raw-order "\\x01$Z32$N32$N32"
echo "mkcorpus.sh: seeds written under $(pwd)"
