/*
 * jwk_thumb.c - RFC 7638 thumbprints of JWKs given as JSON, without importing the key: for
 * known-answer tests and keys we never verify with (an RSA key in a JWKS, say). Imported
 * keys get theirs from jwk.c, computed once at import.
 */
#include <string.h>

#include "ekey.h"

/* RFC 7638 §3.2 required members per kty, already in lexicographic order. */
static const char *const *thumb_members(const char *kty)
{
    static const char *const ec[] = { "crv", "kty", "x", "y", NULL };
    static const char *const okp[] = { "crv", "kty", "x", NULL };
    static const char *const rsa[] = { "e", "kty", "n", NULL };

    if (strcmp(kty, "EC") == 0)
        return ec;
    if (strcmp(kty, "OKP") == 0)
        return okp;
    if (strcmp(kty, "RSA") == 0)
        return rsa;
    return NULL;
}

ekey_status_t ekey_jwk_thumbprint_json(const char **out, apr_pool_t *p, json_t *jwk,
                                       ekey_error_t *err)
{
    const char *const *names;
    const char *kty, *v, *dump;
    json_t *o;
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.thumbprint", "missing argument");
    *out = NULL;
    if ((st = ekey_json_get_string(&kty, jwk, "kty", 1, EKEY_E_JWK, err)) != EKEY_OK)
        return st;
    if ((names = thumb_members(kty)) == NULL)
        return ekey_error_set(err, EKEY_E_JWK, "jwk.thumbprint", "unsupported kty");
    o = ekey_json_own(p, json_object());
    for (; *names != NULL; names++) {
        if ((st = ekey_json_get_string(&v, jwk, *names, 1, EKEY_E_JWK, err)) != EKEY_OK)
            return st;
        if (json_object_set_new(o, *names, json_string(v)) != 0)
            return ekey_error_set(err, EKEY_E_INTERNAL, "jwk.thumbprint", "out of memory");
    }
    if ((dump = ekey_json_dump(p, o)) == NULL
        || (*out = ekey_sha256_b64url(p, dump, strlen(dump))) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jwk.thumbprint", "hashing failed");
    return EKEY_OK;
}
