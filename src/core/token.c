/*
 * token.c - E-Key verification and minting.
 *
 * Verification follows SECURITY-CASES §0.4: size, framing, header (alg allowlist, typ, kid
 * known) before any signature work, the signature, and only then the payload and its claims.
 * The key comes from the configured keyset by kid, never from the token.
 *
 * typ: exactly "ekey+jwt". "EKEY+JWT" and "application/ekey+jwt" are refused (EKEY_E_TYP)
 * although RFC 7515 §4.1.9 would let us fold case and the "application/" prefix: our issuer
 * only ever writes the short form, and one spelling leaves no prefix or case handling to get
 * wrong (RFC 8725 §3.11; SECURITY-CASES POS-15 allows exact match when it is documented).
 */
#include <string.h>
#include <apr_strings.h>

#include "ekey.h"
#include "ekey_cache.h"

#define SUB_MAX_LEN 256

/* 1 if s holds no control byte (CR/LF would turn into header injection downstream). */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* 43 base64url characters decoding to 32 bytes: cnf.jkt and cnf["x5t#S256"]. */
static int thumb_ok(const char *s)
{
    unsigned char buf[32];

    return s != NULL && strlen(s) == EKEY_JKT_LEN
           && ekey_b64url_decode_exact(buf, sizeof(buf), s, EKEY_JKT_LEN, NULL) == EKEY_OK;
}

/* 22 base64url characters decoding to 16 bytes (canonical). */
static int trace_ok(const char *s)
{
    unsigned char buf[EKEY_TRACE_BYTES];

    return s != NULL && strlen(s) == 22
           && ekey_b64url_decode_exact(buf, sizeof(buf), s, 22, NULL) == EKEY_OK;
}

static ekey_status_t check_iss_sub(ekey_token_t *t, apr_pool_t *p, json_t *c,
                                   const ekey_token_policy_t *pol, ekey_error_t *err)
{
    const char *iss, *sub;
    ekey_status_t st;

    if ((st = ekey_json_get_string(&iss, c, "iss", 1, EKEY_E_CLAIMS, err)) != EKEY_OK)
        return st;
    if (strcmp(iss, pol->issuer) != 0)
        return ekey_error_set(err, EKEY_E_ISSUER, "token.iss", "issuer is not the trusted one");
    if ((st = ekey_json_get_string(&sub, c, "sub", 1, EKEY_E_CLAIMS, err)) != EKEY_OK)
        return st;
    if (sub[0] == '\0' || strlen(sub) > SUB_MAX_LEN || !printable(sub))
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.sub",
                              "sub empty, longer than %d bytes or with control bytes",
                              SUB_MAX_LEN);
    t->iss = apr_pstrdup(p, iss);
    t->sub = apr_pstrdup(p, sub);
    return EKEY_OK;
}

/* aud: a string equal to the audience, or a non-empty array of strings holding it. */
static ekey_status_t check_aud(ekey_token_t *t, apr_pool_t *p, json_t *c,
                               const ekey_token_policy_t *pol, ekey_error_t *err)
{
    json_t *aud = json_object_get(c, "aud"), *v;
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        found = strcmp(json_string_value(aud), pol->audience) == 0;
    }
    else if (json_is_array(aud) && json_array_size(aud) > 0) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v))
                return ekey_error_set(err, EKEY_E_CLAIMS, "token.aud",
                                      "aud array holds a non-string");
            found |= strcmp(json_string_value(v), pol->audience) == 0;
        }
    }
    else {
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.aud",
                              "aud missing, empty array or not a string");
    }
    if (!found)
        return ekey_error_set(err, EKEY_E_AUDIENCE, "token.aud", "audience not accepted here");
    t->aud = apr_pstrdup(p, pol->audience);
    return EKEY_OK;
}

/* iat, exp (required) and nbf (optional): non-negative integers, so no difference below
 * can overflow; the policy's now and skew were checked non-negative by the caller. */
static ekey_status_t check_times(ekey_token_t *t, json_t *c, const ekey_token_policy_t *pol,
                                 ekey_error_t *err)
{
    int has_nbf = 0;
    ekey_status_t st;

    if ((st = ekey_json_get_int(&t->iat, NULL, c, "iat", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_int(&t->exp, NULL, c, "exp", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_int(&t->nbf, &has_nbf, c, "nbf", 0, EKEY_E_CLAIMS, err))
               != EKEY_OK)
        return st;
    if (t->iat < 0 || t->exp < 0 || t->nbf < 0)
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.time", "negative time");
    if (t->exp <= t->iat)
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.exp", "exp not after iat");
    if (t->exp <= pol->now - pol->skew)            /* exp + skew <= now */
        return ekey_error_set(err, EKEY_E_EXPIRED, "token.exp", "token expired");
    if (t->iat - pol->now > pol->skew)             /* iat > now + skew */
        return ekey_error_set(err, EKEY_E_NOT_YET_VALID, "token.iat", "iat in the future");
    if (has_nbf && t->nbf - pol->now > pol->skew)
        return ekey_error_set(err, EKEY_E_NOT_YET_VALID, "token.nbf", "nbf in the future");
    if (pol->max_ttl > 0 && t->exp - t->iat > pol->max_ttl)
        return ekey_error_set(err, EKEY_E_LIFETIME, "token.exp",
                              "lifetime above %" APR_INT64_T_FMT " s", pol->max_ttl);
    return EKEY_OK;
}

static ekey_status_t check_trace_cap(ekey_token_t *t, apr_pool_t *p, json_t *c,
                                     const ekey_token_policy_t *pol, ekey_error_t *err)
{
    const char *trace, *action;
    json_t *cap;
    int has_limit = 0;
    ekey_status_t st;

    if ((st = ekey_json_get_string(&trace, c, "trace", 1, EKEY_E_CLAIMS, err)) != EKEY_OK)
        return st;
    if (!trace_ok(trace))
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.trace",
                              "trace is not 22 base64url characters of 16 bytes");
    if ((st = ekey_json_get_object(&cap, c, "cap", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_string(&action, cap, "action", 1, EKEY_E_CLAIMS, err))
               != EKEY_OK
        || (st = ekey_cap_parse(&t->cap_method, &t->cap_path, p, action, err)) != EKEY_OK
        || (st = ekey_json_get_int(&t->limit, &has_limit, cap, "limit", 0, EKEY_E_CLAIMS,
                                   err)) != EKEY_OK)
        return st;
    if (!has_limit)
        t->limit = 1;
    if (t->limit < 1 || (pol->max_limit > 0 && t->limit > pol->max_limit))
        return ekey_error_set(err, EKEY_E_CLAIMS, "token.cap.limit", "limit out of range");
    t->trace = apr_pstrdup(p, trace);
    t->action = apr_pstrdup(p, action);
    return EKEY_OK;
}

/* cnf: an object with exactly one member, "jkt" (DPoP) or "x5t#S256" (mTLS). */
static ekey_status_t check_cnf(ekey_token_t *t, apr_pool_t *p, json_t *c, ekey_error_t *err)
{
    json_t *cnf = json_object_get(c, "cnf"), *v;
    const char *key;

    if (!json_is_object(cnf) || json_object_size(cnf) != 1)
        return ekey_error_set(err, EKEY_E_CNF, "token.cnf",
                              "cnf missing, not an object or not exactly one member");
    json_object_foreach(cnf, key, v) {
        const char *s = json_string_value(v);
        if (!json_is_string(v) || !thumb_ok(s))
            return ekey_error_set(err, EKEY_E_CNF, "token.cnf",
                                  "thumbprint is not 43 base64url characters of 32 bytes");
        if (strcmp(key, "jkt") == 0) {
            t->bind = EKEY_BIND_DPOP;
            t->jkt = apr_pstrdup(p, s);
        }
        else if (strcmp(key, "x5t#S256") == 0) {
            t->bind = EKEY_BIND_MTLS;
            t->x5t = apr_pstrdup(p, s);
        }
        else {
            return ekey_error_set(err, EKEY_E_CNF, "token.cnf", "unsupported cnf member");
        }
    }
    return EKEY_OK;
}

/* Header and signature: typ, kid from the keyset, then the signature - unless this very
 * token (digest = SHA-256 of all its bytes) was verified by this very key before in this
 * process (a `limit > 1` E-Key presented again, see sigcache.c); then *cached is the claims
 * object its payload parsed to then (a new reference), else NULL. */
static ekey_status_t check_jws(const ekey_jws_t *jws, const ekey_token_policy_t *pol,
                               unsigned char *digest, const char *compact, apr_size_t len,
                               json_t **cached, ekey_error_t *err)
{
    const ekey_jwk_t *key;

    *cached = NULL;

    if (jws->typ == NULL || strcmp(jws->typ, EKEY_TYP_TOKEN) != 0)
        return ekey_error_set(err, EKEY_E_TYP, "token.typ", "typ is not " EKEY_TYP_TOKEN);
    if (jws->kid == NULL)
        return ekey_error_set(err, EKEY_E_KID, "token.kid", "no kid");
    if ((key = ekey_keyset_find(pol->keys, jws->kid)) == NULL)
        return ekey_error_set(err, EKEY_E_KID, "token.kid", "unknown kid");
    if (!ekey_sha256_raw(digest, compact, len))
        return ekey_error_set(err, EKEY_E_CRYPTO, "token", "hashing failed");
    if (ekey_jwk_alg(key) == jws->alg
        && ekey_sigcache_hit(digest, ekey_jwk_thumbprint(key), pol->now, cached))
        return EKEY_OK;
    return ekey_jws_verify(jws, key, err);
}

ekey_status_t ekey_token_verify(ekey_token_t **out, apr_pool_t *p, const char *compact,
                                apr_size_t len, const ekey_token_policy_t *pol,
                                ekey_error_t *err)
{
    unsigned char digest[32];
    apr_size_t max_len;
    ekey_jws_t *jws;
    ekey_token_t *t;
    json_t *claims, *cached = NULL;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (pol != NULL && pol->expired != NULL)
        *pol->expired = NULL;
    if (out == NULL || p == NULL || compact == NULL || pol == NULL || pol->keys == NULL
        || pol->issuer == NULL || !*pol->issuer || pol->audience == NULL || !*pol->audience
        || pol->now < 0 || pol->skew < 0 || pol->max_ttl < 0 || pol->max_limit < 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "token", "unusable policy or input");
    max_len = pol->max_len != 0 ? pol->max_len : EKEY_MAX_TOKEN_LEN;
    if (len > max_len)
        return ekey_error_set(err, EKEY_E_TOO_LARGE, "token", "token longer than %"
                              APR_SIZE_T_FMT " bytes", max_len);
    if ((st = ekey_jws_parse(&jws, p, compact, len, max_len,
                             pol->algs != 0 ? pol->algs : EKEY_ALGS_DEFAULT, 0, err)) != EKEY_OK
        || (st = check_jws(jws, pol, digest, compact, len, &cached, err)) != EKEY_OK)
        return st;
    /* a token seen before: the claims its payload parsed to then (checked again below) */
    if ((claims = ekey_json_own(p, cached)) == NULL
        && (st = ekey_jws_payload(&claims, p, jws, max_len, err)) != EKEY_OK)
        return st;
    t = apr_pcalloc(p, sizeof(*t));
    t->kid = apr_pstrdup(p, jws->kid);
    t->ath = ekey_b64url_encode(p, digest, sizeof(digest));
    /* EKEY_SPEC 9.1 step 6, in its order: an expired token answers token_expired whatever
     * its trace, cap or cnf; those are read after all, for the logs, when they are valid */
    if ((st = check_iss_sub(t, p, claims, pol, err)) != EKEY_OK
        || (st = check_aud(t, p, claims, pol, err)) != EKEY_OK)
        return st;
    if ((st = check_times(t, claims, pol, err)) != EKEY_OK) {
        if (st == EKEY_E_EXPIRED && pol->expired != NULL
            && check_trace_cap(t, p, claims, pol, NULL) == EKEY_OK
            && check_cnf(t, p, claims, NULL) == EKEY_OK)
            *pol->expired = t;
        return st;
    }
    if ((st = check_trace_cap(t, p, claims, pol, err)) != EKEY_OK
        || (st = check_cnf(t, p, claims, err)) != EKEY_OK)
        return st;
    /* Only a token that can be presented again is worth a slot; it is stored after every
     * check passed, and stops being a hit at its exp. */
    if (t->limit > 1)
        ekey_sigcache_put(digest, t->kid, t->exp, claims);
    *out = t;
    return EKEY_OK;
}

/* ------------------------------------------------------------------ minting */

static ekey_status_t check_mint(const char **m, const char **path, const ekey_mint_t *r,
                                const ekey_jwk_t *key, apr_pool_t *p, ekey_error_t *err)
{
#define MINT_BAD(why) ekey_error_set(err, EKEY_E_INVALID_ARG, "token.mint", "%s", why)
    if (r == NULL || key == NULL || !ekey_jwk_has_private(key))
        return MINT_BAD("no request or no private signing key");
    if (r->iss == NULL || !*r->iss || r->aud == NULL || !*r->aud)
        return MINT_BAD("iss and aud are required");
    if (r->sub == NULL || !*r->sub || strlen(r->sub) > SUB_MAX_LEN || !printable(r->sub))
        return MINT_BAD("sub empty, too long or with control bytes");
    if (ekey_cap_parse(m, path, p, r->action, NULL) != EKEY_OK)
        return MINT_BAD("action is not METHOD:/path in normal form");
    if (r->limit < 1 || r->now < 0 || r->ttl < 1 || r->ttl > APR_INT64_MAX - r->now)
        return MINT_BAD("limit, now or ttl out of range");
    if (r->trace != NULL && !trace_ok(r->trace))
        return MINT_BAD("trace is not 22 base64url characters of 16 bytes");
    if (r->bind == EKEY_BIND_DPOP ? !thumb_ok(r->jkt)
        : r->bind == EKEY_BIND_MTLS ? !thumb_ok(r->x5t) : 1)
        return MINT_BAD("an E-Key is bound by a 43-character jkt or x5t#S256");
#undef MINT_BAD
    return EKEY_OK;
}

/* The claims in their documented order, as compact JSON written directly (an issuer mints
 * on every POST /token: no jansson objects to build and dump). Byte for byte what jansson
 * wrote before (tests/unit/test_cache.c compares); NULL if a string is not valid UTF-8 -
 * never a token with a member silently missing. */
static const char *mint_claims(apr_pool_t *p, const ekey_mint_t *r, const char *trace)
{
    const char *iss = ekey_json_quote(p, r->iss), *sub = ekey_json_quote(p, r->sub);
    const char *aud = ekey_json_quote(p, r->aud), *tr = ekey_json_quote(p, trace);
    const char *act = ekey_json_quote(p, r->action);
    const char *thumb = ekey_json_quote(p, r->bind == EKEY_BIND_DPOP ? r->jkt : r->x5t);

    if (iss == NULL || sub == NULL || aud == NULL || tr == NULL || act == NULL || thumb == NULL)
        return NULL;
    return apr_psprintf(p, "{\"iss\":%s,\"sub\":%s,\"aud\":%s,\"iat\":%" APR_INT64_T_FMT
                        ",\"exp\":%" APR_INT64_T_FMT ",\"trace\":%s,\"cap\":{\"action\":%s,"
                        "\"limit\":%" APR_INT64_T_FMT "},\"cnf\":{\"%s\":%s}}", iss, sub, aud,
                        r->now, r->now + r->ttl, tr, act, r->limit,
                        r->bind == EKEY_BIND_DPOP ? "jkt" : "x5t#S256", thumb);
}

ekey_status_t ekey_token_mint(char **out, ekey_token_t **claims, apr_pool_t *p,
                              const ekey_mint_t *req, const ekey_jwk_t *signing_key,
                              ekey_error_t *err)
{
    const char *trace, *method, *path, *hdr, *payload;
    ekey_token_t *t;
    char *tok;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (claims != NULL)
        *claims = NULL;
    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "token.mint", "no output or pool");
    if ((st = check_mint(&method, &path, req, signing_key, p, err)) != EKEY_OK)
        return st;
    trace = req->trace;
    if (trace == NULL && (st = ekey_random_id(&trace, p, err)) != EKEY_OK)
        return st;
    /* alg (the key's), typ, kid: fixed names and a base64url thumbprint, nothing to escape */
    hdr = apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"" EKEY_TYP_TOKEN "\",\"kid\":\"%s\"}",
                       ekey_alg_name(ekey_jwk_alg(signing_key)),
                       ekey_jwk_thumbprint(signing_key));
    if ((payload = mint_claims(p, req, trace)) == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "token.mint",
                              "a claim is not valid UTF-8");
    if ((st = ekey_jws_sign_json(&tok, p, hdr, payload, signing_key, err)) != EKEY_OK)
        return st;
    if (claims != NULL) {
        t = apr_pcalloc(p, sizeof(*t));
        t->kid = apr_pstrdup(p, ekey_jwk_thumbprint(signing_key));
        t->iss = apr_pstrdup(p, req->iss);
        t->sub = apr_pstrdup(p, req->sub);
        t->aud = apr_pstrdup(p, req->aud);
        t->trace = apr_pstrdup(p, trace);
        t->iat = req->now;
        t->exp = req->now + req->ttl;
        t->action = apr_pstrdup(p, req->action);
        t->cap_method = method;
        t->cap_path = path;
        t->limit = req->limit;
        t->bind = req->bind;
        t->jkt = req->bind == EKEY_BIND_DPOP ? apr_pstrdup(p, req->jkt) : NULL;
        t->x5t = req->bind == EKEY_BIND_MTLS ? apr_pstrdup(p, req->x5t) : NULL;
        t->ath = ekey_sha256_b64url(p, tok, strlen(tok));
        *claims = t;
    }
    *out = tok;
    return EKEY_OK;
}
