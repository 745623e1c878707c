/*
 * keyset.c - the trusted verification keys, selected by kid (= RFC 7638 thumbprint).
 *
 * Keys come from configuration only (PEM or JWKS files); a token header never adds or
 * chooses a key source, it only names one of these by kid. Kids are public, so a plain
 * strcmp lookup leaks nothing.
 */
#include <string.h>

#include <apr_strings.h>

#include "ekey.h"

#define JWKS_MAX_LEN (256 * 1024)

struct ekey_keyset_t {
    apr_pool_t *pool;
    apr_array_header_t *keys;       /* const ekey_jwk_t * */
};

ekey_keyset_t *ekey_keyset_make(apr_pool_t *p)
{
    ekey_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->pool = p;
    ks->keys = apr_array_make(p, 4, sizeof(const ekey_jwk_t *));
    return ks;
}

const ekey_jwk_t *ekey_keyset_find(const ekey_keyset_t *ks, const char *kid)
{
    int i;

    if (ks == NULL || kid == NULL)
        return NULL;
    for (i = 0; i < ks->keys->nelts; i++) {
        const ekey_jwk_t *k = APR_ARRAY_IDX(ks->keys, i, const ekey_jwk_t *);
        if (strcmp(ekey_jwk_thumbprint(k), kid) == 0)
            return k;
    }
    return NULL;
}

ekey_status_t ekey_keyset_add(ekey_keyset_t *ks, const ekey_jwk_t *key, ekey_error_t *err)
{
    if (ks == NULL || key == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "keyset.add", "missing argument");
    if (ekey_keyset_find(ks, ekey_jwk_thumbprint(key)) != NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "keyset.add",
                              "duplicate key (kid %s)", ekey_jwk_thumbprint(key));
    APR_ARRAY_PUSH(ks->keys, const ekey_jwk_t *) = key;
    return EKEY_OK;
}

/* 1 if a JWKS entry is not ours to use: another purpose, or a key type we do not verify
 * with. Such entries are skipped; anything else must import cleanly. */
static int skip_entry(json_t *k)
{
    json_t *use = json_object_get(k, "use");
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *crv = json_string_value(json_object_get(k, "crv"));

    if (json_is_string(use) && strcmp(json_string_value(use), "sig") != 0)
        return 1;
    if (kty == NULL)
        return 0;                       /* malformed: let the parser say why */
    if (strcmp(kty, "EC") == 0)
        return crv != NULL && strcmp(crv, "P-256") != 0 && strcmp(crv, "P-384") != 0;
    if (strcmp(kty, "OKP") == 0)
        return crv != NULL && strcmp(crv, "Ed25519") != 0;
    return 1;                           /* RSA, oct, ...: not for us */
}

ekey_status_t ekey_keyset_add_jwks(ekey_keyset_t *ks, apr_pool_t *p, const char *buf,
                                   apr_size_t len, ekey_error_t *err)
{
    json_t *doc, *keys, *k;
    apr_array_header_t *found;
    ekey_jwk_t *jwk;
    ekey_status_t st;
    size_t i;
    int j;

    if (ks == NULL || p == NULL || buf == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "keyset.jwks", "missing argument");
    if ((st = ekey_json_parse(&doc, p, buf, len, JWKS_MAX_LEN, err)) != EKEY_OK)
        return st;
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys))
        return ekey_error_set(err, EKEY_E_JWK, "keyset.jwks", "\"keys\" is not an array");
    /* All or nothing: import every entry first, then add. */
    found = apr_array_make(p, (int)json_array_size(keys) + 1, sizeof(ekey_jwk_t *));
    json_array_foreach(keys, i, k) {
        if (!json_is_object(k))
            return ekey_error_set(err, EKEY_E_JWK, "keyset.jwks", "key %zu is not an object", i);
        if (skip_entry(k))
            continue;
        if ((st = ekey_jwk_parse(&jwk, ks->pool, k, err)) != EKEY_OK)
            return st;
        for (j = 0; j < found->nelts; j++)
            if (strcmp(ekey_jwk_thumbprint(APR_ARRAY_IDX(found, j, ekey_jwk_t *)),
                       ekey_jwk_thumbprint(jwk)) == 0)
                return ekey_error_set(err, EKEY_E_INVALID_ARG, "keyset.jwks",
                                      "duplicate key (kid %s)", ekey_jwk_thumbprint(jwk));
        if (ekey_keyset_find(ks, ekey_jwk_thumbprint(jwk)) != NULL)
            return ekey_error_set(err, EKEY_E_INVALID_ARG, "keyset.jwks",
                                  "duplicate key (kid %s)", ekey_jwk_thumbprint(jwk));
        APR_ARRAY_PUSH(found, ekey_jwk_t *) = jwk;
    }
    for (j = 0; j < found->nelts; j++)
        APR_ARRAY_PUSH(ks->keys, const ekey_jwk_t *) = APR_ARRAY_IDX(found, j, ekey_jwk_t *);
    return EKEY_OK;
}

int ekey_keyset_count(const ekey_keyset_t *ks)
{
    return ks != NULL ? ks->keys->nelts : 0;
}

const ekey_jwk_t *ekey_keyset_get(const ekey_keyset_t *ks, int i)
{
    if (ks == NULL || i < 0 || i >= ks->keys->nelts)
        return NULL;
    return APR_ARRAY_IDX(ks->keys, i, const ekey_jwk_t *);
}

char *ekey_keyset_to_jwks(const ekey_keyset_t *ks, apr_pool_t *p)
{
    json_t *doc, *arr, *k;
    int i;

    if (ks == NULL || p == NULL)
        return NULL;
    doc = ekey_json_own(p, json_object());
    arr = json_array();
    if (doc == NULL || arr == NULL || json_object_set_new(doc, "keys", arr) != 0)
        return NULL;
    for (i = 0; i < ks->keys->nelts; i++) {
        k = ekey_jwk_to_json(APR_ARRAY_IDX(ks->keys, i, const ekey_jwk_t *), p, 1);
        if (k == NULL || json_object_set_new(k, "use", json_string("sig")) != 0
            || json_array_append(arr, k) != 0)
            return NULL;
    }
    return ekey_json_dump(p, doc);
}

int ekey_keyset_precompute(ekey_keyset_t *ks)
{
    int i, n = 0;

    /* the keys were made non-const by our own parse and load; the set only stores them
     * as const for its readers */
    for (i = 0; ks != NULL && i < ks->keys->nelts; i++)
        n += ekey_jwk_precompute((ekey_jwk_t *)APR_ARRAY_IDX(ks->keys, i, const ekey_jwk_t *));
    return n;
}
