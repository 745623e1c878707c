/*
 * fuzz_jws.c - ekey_jws_parse, then ekey_jws_verify against the fixed keys.
 *
 * Input: a compact JWS, or (signing mode, fuzz.h) "<header>\n<payload>" that the harness
 * signs, so verification and payload parsing are reached too.
 *
 * Invariants: stricter settings accept a subset (ES256 only, no embedded jwk => all algs,
 * no jwk => all algs, jwk allowed). A parsed JWS has an allowed alg, the signature length of
 * that alg, a signing input that is the input's first two segments byte for byte, a header
 * object without forbidden members, typ and kid taken from the header, and signature bytes
 * that are the decoded third segment. Verification: a key of another alg is EKEY_E_ALG; an
 * input the harness signed verifies with the signing key; no input verifies under both fixed
 * P-256 keys. The header cache changes nothing: a parsed header equals a fresh parse of its
 * text, and parsing the same input again gives the same answers.
 */
#include <string.h>

#include "fuzz.h"

static const char *const forbidden[] = { "crit", "b64", "zip", "jku", "x5u", "x5c" };

static apr_size_t sig_len_of(ekey_alg_t alg)
{
    return alg == EKEY_ALG_ES384 ? 96 : 64;
}

static void check_parsed(apr_pool_t *p, const ekey_jws_t *jws, const char *c, size_t n,
                         unsigned algs, int allow_jwk)
{
    const char *dot = memchr(c, '.', n);
    apr_size_t hlen = (apr_size_t)(dot - c), si = jws->signing_input_len;
    unsigned char *sig = NULL;
    apr_size_t slen = 0;
    size_t i;

    FUZZ_ASSERT(n <= EKEY_MAX_TOKEN_LEN && dot != NULL);
    FUZZ_ASSERT((jws->alg & algs) != 0 && ekey_alg_name(jws->alg) != NULL);
    FUZZ_ASSERT(jws->sig_len == sig_len_of(jws->alg));
    FUZZ_ASSERT(si < n && c[si] == '.' && memcmp(jws->signing_input, c, si) == 0);
    FUZZ_ASSERT(jws->signing_input[si] == '\0');
    FUZZ_ASSERT(jws->payload_b64 == jws->signing_input + hlen + 1);
    FUZZ_ASSERT(jws->payload_b64_len == si - hlen - 1 && jws->payload_b64_len > 0);
    FUZZ_ASSERT(json_is_object(jws->header));
    for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        FUZZ_ASSERT(json_object_get(jws->header, forbidden[i]) == NULL);
    FUZZ_ASSERT(allow_jwk || json_object_get(jws->header, "jwk") == NULL);
    FUZZ_ASSERT(jws->typ == json_string_value(json_object_get(jws->header, "typ")));
    FUZZ_ASSERT(jws->kid == json_string_value(json_object_get(jws->header, "kid")));
    FUZZ_ASSERT(ekey_b64url_decode(&sig, &slen, p, c + si + 1, n - si - 1, NULL) == EKEY_OK);
    FUZZ_ASSERT(slen == jws->sig_len && memcmp(sig, jws->sig, slen) == 0);
    /* the header, from the header cache or not, is what parsing its text gives */
    {
        unsigned char *h = NULL;
        apr_size_t hl = 0;
        json_t *fresh = NULL;

        FUZZ_ASSERT(ekey_b64url_decode(&h, &hl, p, c, hlen, NULL) == EKEY_OK);
        FUZZ_ASSERT(ekey_json_parse(&fresh, p, (const char *)h, hl, hlen, NULL) == EKEY_OK);
        FUZZ_ASSERT(json_equal(fresh, jws->header));
    }
}

static ekey_jws_t *parse(apr_pool_t *p, const char *c, size_t n, unsigned algs, int allow_jwk,
                         ekey_status_t *st)
{
    ekey_jws_t *jws = (ekey_jws_t *)"x";
    ekey_error_t err;

    fuzz_err_reset(&err);
    *st = ekey_jws_parse(&jws, p, c, n, 0, algs, allow_jwk, &err);
    fuzz_check_status(*st, &err);
    if (*st != EKEY_OK) {
        FUZZ_ASSERT(jws == NULL);
        return NULL;
    }
    check_parsed(p, jws, c, n, algs, allow_jwk);
    return jws;
}

static fuzz_key_t key_of_alg(ekey_alg_t alg)
{
    return alg == EKEY_ALG_ES384 ? FUZZ_KEY_P384
           : alg == EKEY_ALG_EDDSA ? FUZZ_KEY_ED25519 : FUZZ_KEY_ISSUER;
}

static void check_verify(apr_pool_t *p, const ekey_jws_t *jws, const ekey_jwk_t *signer)
{
    const ekey_jwk_t *key = fuzz_key(key_of_alg(jws->alg));
    const ekey_jwk_t *other = fuzz_key(jws->alg == EKEY_ALG_EDDSA ? FUZZ_KEY_P384
                                                                 : FUZZ_KEY_ED25519);
    json_t *claims = (json_t *)"x";
    ekey_error_t err;
    ekey_status_t st, st2;

    fuzz_err_reset(&err);
    st = ekey_jws_verify(jws, key, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(st == EKEY_OK || st == EKEY_E_SIGNATURE);
    if (signer == key)
        FUZZ_ASSERT(st == EKEY_OK);
    if (jws->alg == EKEY_ALG_ES256) {
        st2 = ekey_jws_verify(jws, fuzz_key(FUZZ_KEY_CLIENT), NULL);
        FUZZ_ASSERT(st2 == EKEY_OK || st2 == EKEY_E_SIGNATURE);
        FUZZ_ASSERT(!(st == EKEY_OK && st2 == EKEY_OK));
    }
    fuzz_err_reset(&err);
    st2 = ekey_jws_verify(jws, other, &err);
    fuzz_check_status(st2, &err);
    FUZZ_ASSERT(st2 == EKEY_E_ALG);
    if (st == EKEY_OK) {
        fuzz_err_reset(&err);
        st = ekey_jws_payload(&claims, p, jws, 0, &err);
        fuzz_check_status(st, &err);
        FUZZ_ASSERT(st == EKEY_OK ? json_is_object(claims) : claims == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const ekey_jwk_t *signer = NULL;
    const char *c;
    size_t n;
    ekey_jws_t *all_jwk, *all, *dflt;
    ekey_status_t s1, s2, s3, s4;
    char *signed_input;

    fuzz_init();
    p = fuzz_pool();
    signed_input = fuzz_sign_input(p, data, size, FUZZ_KEY_ISSUER, &signer);
    c = signed_input != NULL ? signed_input : fuzz_cstr(p, data, size);
    n = signed_input != NULL ? strlen(signed_input) : size;
    all_jwk = parse(p, c, n, EKEY_ALGS_ALL, 1, &s1);
    all = parse(p, c, n, EKEY_ALGS_ALL, 0, &s2);
    dflt = parse(p, c, n, EKEY_ALGS_DEFAULT, 0, &s3);
    FUZZ_ASSERT(s3 != EKEY_OK || s2 == EKEY_OK);
    FUZZ_ASSERT(s2 != EKEY_OK || s1 == EKEY_OK);
    /* the same input again (its header now cached if it passed): the same answers */
    FUZZ_ASSERT((parse(p, c, n, EKEY_ALGS_ALL, 1, &s4) != NULL) == (s1 == EKEY_OK) && s4 == s1);
    FUZZ_ASSERT((parse(p, c, n, EKEY_ALGS_DEFAULT, 0, &s4) != NULL) == (s3 == EKEY_OK)
                && s4 == s3);
    (void)all;
    (void)dflt;
    if (all_jwk != NULL)
        check_verify(p, all_jwk, signer);
    apr_pool_destroy(p);
    return 0;
}
