/*
 * fuzz_jwk.c - JSON -> ekey_jwk_parse -> thumbprint, ekey_jwk_thumbprint_json, and the same
 * bytes as a JWKS document for ekey_keyset_add_jwks.
 *
 * Invariants for an accepted key: public only, one of our three algorithms, its thumbprint
 * is 43 strict base64url characters and equals the thumbprint computed from the JSON alone
 * (one key, one thumbprint: RFC 7638 §7); its public JWK repeats the input's kty, crv, x, y
 * byte for byte, carries no private member, and imports again to the same thumbprint; as the
 * only entry of a JWKS it is added. A JWKS is all or nothing: on failure the keyset stays
 * empty; on success every key is found by its kid and the exported JWKS imports to the same
 * keys in the same order.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz.h"

static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k", "oth" };

static int thumb_ok(const char *t)
{
    return t != NULL && strlen(t) == EKEY_JKT_LEN && ekey_b64url_valid(t, EKEY_JKT_LEN);
}

static void same_member(json_t *a, json_t *b, const char *name)
{
    const char *x = json_string_value(json_object_get(a, name));
    const char *y = json_string_value(json_object_get(b, name));

    FUZZ_ASSERT(x != NULL && y != NULL && strcmp(x, y) == 0);
}

static void check_key(apr_pool_t *p, json_t *j, const ekey_jwk_t *k)
{
    ekey_alg_t alg = ekey_jwk_alg(k);
    const char *t = ekey_jwk_thumbprint(k), *tj = NULL;
    json_t *pub = ekey_jwk_to_json(k, p, 1), *bare = ekey_jwk_to_json(k, p, 0);
    ekey_jwk_t *again = NULL;
    ekey_keyset_t *ks = ekey_keyset_make(p);
    json_t *wrapped;
    char *doc;
    size_t i;

    FUZZ_ASSERT(alg == EKEY_ALG_ES256 || alg == EKEY_ALG_ES384 || alg == EKEY_ALG_EDDSA);
    FUZZ_ASSERT(!ekey_jwk_has_private(k) && ekey_jwk_pkey(k) != NULL);
    FUZZ_ASSERT(thumb_ok(t));
    FUZZ_ASSERT(ekey_jwk_thumbprint_json(&tj, p, j, NULL) == EKEY_OK && strcmp(tj, t) == 0);
    FUZZ_ASSERT(pub != NULL && bare != NULL);
    same_member(j, pub, "kty");
    same_member(j, pub, "crv");
    same_member(j, pub, "x");
    if (alg != EKEY_ALG_EDDSA)
        same_member(j, pub, "y");
    FUZZ_ASSERT(strcmp(json_string_value(json_object_get(pub, "kid")), t) == 0);
    FUZZ_ASSERT(strcmp(json_string_value(json_object_get(pub, "alg")), ekey_alg_name(alg)) == 0);
    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        FUZZ_ASSERT(json_object_get(pub, private_members[i]) == NULL);
    FUZZ_ASSERT(ekey_jwk_parse(&again, p, bare, NULL) == EKEY_OK);
    FUZZ_ASSERT(strcmp(ekey_jwk_thumbprint(again), t) == 0);
    doc = apr_pstrcat(p, "{\"keys\":[", ekey_json_dump(p, j), "]}", NULL);
    /* two more levels of nesting may cross EKEY_MAX_JSON_DEPTH: then there is no claim */
    if (ekey_json_parse(&wrapped, p, doc, strlen(doc), strlen(doc), NULL) != EKEY_OK)
        return;
    FUZZ_ASSERT(ekey_keyset_add_jwks(ks, p, doc, strlen(doc), NULL) == EKEY_OK);
    FUZZ_ASSERT(ekey_keyset_count(ks) == 1 && ekey_keyset_find(ks, t) != NULL);
}

static void check_jwks(apr_pool_t *p, const uint8_t *data, size_t size)
{
    ekey_keyset_t *ks = ekey_keyset_make(p), *ks2 = ekey_keyset_make(p);
    const char *out;
    ekey_error_t err;
    ekey_status_t st;
    int i, n;

    fuzz_err_reset(&err);
    st = ekey_keyset_add_jwks(ks, p, (const char *)data, size, &err);
    fuzz_check_status(st, &err);
    n = ekey_keyset_count(ks);
    if (st != EKEY_OK) {
        FUZZ_ASSERT(n == 0);
        return;
    }
    for (i = 0; i < n; i++) {
        const ekey_jwk_t *k = ekey_keyset_get(ks, i);
        FUZZ_ASSERT(k != NULL && thumb_ok(ekey_jwk_thumbprint(k)));
        FUZZ_ASSERT(ekey_keyset_find(ks, ekey_jwk_thumbprint(k)) == k);
        FUZZ_ASSERT(!ekey_jwk_has_private(k));
    }
    out = ekey_keyset_to_jwks(ks, p);
    FUZZ_ASSERT(out != NULL);
    FUZZ_ASSERT(ekey_keyset_add_jwks(ks2, p, out, strlen(out), NULL) == EKEY_OK);
    FUZZ_ASSERT(ekey_keyset_count(ks2) == n);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(strcmp(ekey_jwk_thumbprint(ekey_keyset_get(ks, i)),
                           ekey_jwk_thumbprint(ekey_keyset_get(ks2, i))) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *j = NULL;
    ekey_jwk_t *k = (ekey_jwk_t *)"x";
    const char *t = (const char *)"x";
    ekey_error_t err;
    ekey_status_t st;

    fuzz_init();
    p = fuzz_pool();
    if (ekey_json_parse(&j, p, (const char *)data, size, size + 1, NULL) == EKEY_OK) {
        fuzz_err_reset(&err);
        st = ekey_jwk_parse(&k, p, j, &err);
        fuzz_check_status(st, &err);
        if (st == EKEY_OK)
            check_key(p, j, k);
        else
            FUZZ_ASSERT(st == EKEY_E_JWK && k == NULL);
        fuzz_err_reset(&err);
        st = ekey_jwk_thumbprint_json(&t, p, j, &err);
        fuzz_check_status(st, &err);
        FUZZ_ASSERT(st == EKEY_OK ? thumb_ok(t) : t == NULL);
    }
    check_jwks(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
