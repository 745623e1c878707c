/*
 * ekey.h - the public interface of libekey, the server-agnostic E-Key core.
 *
 * Conventions (one shape for every function):
 *   ekey_status_t ekey_<object>_<verb>(OUT *out, apr_pool_t *p, inputs..., ekey_error_t *err);
 *   - `out` first; on failure *out is set to NULL (or zeroed) - never a half-built object.
 *   - every allocation comes from `p`; foreign objects (json_t, EVP_PKEY) get a pool cleanup
 *     at birth, so callers never free anything.
 *   - `err` is optional (may be NULL); when given it receives the status, the step that failed
 *     and a human text that never contains a token, proof or key.
 *   - the return value is the status; EKEY_OK (0) is the only success.
 *
 * Depends on APR, OpenSSL 3 and jansson only - never on httpd headers.
 */
#ifndef EKEY_H
#define EKEY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EKEY_WUR __attribute__((warn_unused_result))
#else
#define EKEY_WUR
#endif

/* ------------------------------------------------------------------ status */

typedef enum {
    EKEY_OK = 0,
    /* framing of the HTTP request (invalid_request / missing_token) */
    EKEY_E_NO_CREDENTIALS,     /* no Authorization: EKey field at all */
    EKEY_E_REQUEST,            /* repeated fields, several schemes, unparseable framing */
    /* token structure (invalid_token) */
    EKEY_E_TOO_LARGE,          /* input over its size limit (checked before parsing) */
    EKEY_E_FORMAT,             /* not three non-empty segments, bad characters */
    EKEY_E_SCHEME,             /* Authorization with another scheme (Bearer, DPoP) on an
                                * E-Key location: a bound token is never a bearer token */
    EKEY_E_BASE64,             /* not strict base64url (padding, alphabet, non-canonical) */
    EKEY_E_JSON,               /* not a JSON object, duplicate member, too deep */
    EKEY_E_ALG,                /* alg missing or not in the allowlist, or not the key's */
    EKEY_E_TYP,                /* typ not the expected media type */
    EKEY_E_KID,                /* kid missing or unknown */
    EKEY_E_HEADER,             /* forbidden header member (jku, x5u, jwk, x5c, crit, b64, zip) */
    EKEY_E_SIGNATURE,          /* signature does not verify, wrong length, r/s out of range */
    EKEY_E_CLAIMS,             /* a claim missing, of the wrong type or out of bounds */
    EKEY_E_ISSUER,             /* iss mismatch */
    EKEY_E_AUDIENCE,           /* aud mismatch */
    EKEY_E_LIFETIME,           /* exp - iat above the maximum lifetime */
    EKEY_E_CNF,                /* cnf missing, both members, neither, or another member */
    /* time (token_expired) */
    EKEY_E_EXPIRED,            /* exp (+ skew) passed */
    EKEY_E_NOT_YET_VALID,      /* nbf or iat in the future beyond the skew */
    /* proof of possession (invalid_proof) */
    EKEY_E_PROOF_MISSING,      /* cnf.jkt token without a DPoP header */
    EKEY_E_PROOF,              /* DPoP proof malformed, bad signature, bad typ/alg/jwk */
    EKEY_E_PROOF_HTM,          /* htm != request method */
    EKEY_E_PROOF_HTU,          /* htu != public origin + routed path */
    EKEY_E_PROOF_IAT,          /* iat outside the proof window */
    EKEY_E_PROOF_ATH,          /* ath != b64url(SHA-256(token)) */
    EKEY_E_PROOF_NONCE,        /* nonce != trace */
    EKEY_E_PROOF_JKT,          /* thumbprint of the proof jwk != cnf.jkt */
    EKEY_E_CERT_MISSING,       /* x5t#S256 token without a client certificate */
    EKEY_E_CERT_MISMATCH,      /* client certificate thumbprint != cnf.x5t#S256 */
    /* authorization (capability_mismatch / insufficient_capability) */
    EKEY_E_CAPABILITY,         /* cap.action does not cover method and path */
    EKEY_E_INSUFFICIENT_CAP,   /* Require ekey-cap not satisfied */
    /* replay store */
    EKEY_E_REPLAY,             /* cap.limit uses consumed */
    EKEY_E_JTI_REPLAY,         /* DPoP jti seen before */
    EKEY_E_STORE_FULL,         /* table full: fail closed */
    EKEY_E_STORE_UNAVAILABLE,  /* store unreachable or erroring: fail closed */
    /* keys, arguments, internal */
    EKEY_E_JWK,                /* JWK malformed, private members, off curve, unsupported */
    EKEY_E_KEY_FILE,           /* PEM / JWKS file unreadable or unusable */
    EKEY_E_INVALID_ARG,        /* caller passed something unusable (a bug or a bad directive) */
    EKEY_E_CRYPTO,             /* OpenSSL failed for a reason that is not the input's */
    EKEY_E_INTERNAL,           /* anything else: always fail closed */
    EKEY_STATUS_COUNT
} ekey_status_t;

/* Where and why, like jansson's json_error_t. OpenSSL's error queue is drained into `text`. */
typedef struct {
    ekey_status_t status;
    char where[32];            /* the step: "jws.header", "dpop.htu", ... */
    char text[192];            /* human text: never a token, proof or key */
} ekey_error_t;

/* Records a failure in err (if non-NULL) and returns st. printf-style text. */
ekey_status_t ekey_error_set(ekey_error_t *err, ekey_status_t st, const char *where,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Appends the OpenSSL error queue (and clears it) to err->text. */
void ekey_error_drain_openssl(ekey_error_t *err);

/* The wire error code of a status: "invalid_token", "invalid_proof", ... (EKEY_SPEC.md §errors).
 * EKEY_OK gives NULL. */
const char *ekey_status_code(ekey_status_t st);
/* A stable identifier for logs and tests: "EKEY_E_SIGNATURE", ... */
const char *ekey_status_name(ekey_status_t st);

/* --------------------------------------------------------------- limits */

#define EKEY_MAX_TOKEN_LEN      4096   /* default EKeyMaxTokenLength: token and proof alike */
#define EKEY_MAX_JSON_DEPTH     8      /* objects/arrays nested deeper are EKEY_E_JSON */
#define EKEY_TRACE_BYTES        16     /* trace: 128 bits, 22 base64url characters */
#define EKEY_JKT_LEN            43     /* base64url SHA-256: 43 characters */
#define EKEY_DEFAULT_SKEW       30
#define EKEY_DEFAULT_PROOF_AGE  60
#define EKEY_DEFAULT_MAX_TTL    300
#define EKEY_TYP_TOKEN          "ekey+jwt"
#define EKEY_TYP_DPOP           "dpop+jwt"

/* -------------------------------------------------------------- base64url */

/* Strict RFC 4648 §5 decoding: alphabet A-Z a-z 0-9 - _ only, no padding, no whitespace,
 * unused trailing bits must be zero (canonical), length mod 4 != 1. *out is NUL-terminated
 * for convenience (not counted in *outlen). */
ekey_status_t ekey_b64url_decode(unsigned char **out, apr_size_t *outlen, apr_pool_t *p,
                                 const char *in, apr_size_t inlen, ekey_error_t *err) EKEY_WUR;
/* As above, but the decoded length must be exactly `want` bytes (coordinates, signatures,
 * trace). Writes into caller memory `out` of `want` bytes. */
ekey_status_t ekey_b64url_decode_exact(unsigned char *out, apr_size_t want,
                                       const char *in, apr_size_t inlen,
                                       ekey_error_t *err) EKEY_WUR;
/* Unpadded base64url of len bytes. Never fails (allocation failure aborts, as APR does). */
char *ekey_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len);
/* 1 if s (len bytes) is a syntactically valid strict base64url string, else 0. */
int ekey_b64url_valid(const char *s, apr_size_t len);

/* ------------------------------------------------------------------- json */

/* Parses exactly one JSON object from buf[0..len) (no NUL required). Rejects: len > max_len
 * (before parsing), duplicate members (JSON_REJECT_DUPLICATES), embedded NUL, trailing data,
 * non-object top level, nesting deeper than EKEY_MAX_JSON_DEPTH. *out lives until p dies. */
ekey_status_t ekey_json_parse(json_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                              apr_size_t max_len, ekey_error_t *err) EKEY_WUR;
/* Ties a json_t reference to the pool (json_decref on cleanup). Returns j. */
json_t *ekey_json_own(apr_pool_t *p, json_t *j);
/* Typed getters. `required`: absent -> EKEY_E_CLAIMS (or `st` given below); present with the
 * wrong JSON type is always an error. Absent and optional: EKEY_OK with *out NULL / untouched
 * and *present (if non-NULL) = 0. The status used for errors is `st` (EKEY_E_CLAIMS,
 * EKEY_E_PROOF, EKEY_E_JWK ...), so callers keep their error class. */
ekey_status_t ekey_json_get_string(const char **out, json_t *obj, const char *key,
                                   int required, ekey_status_t st, ekey_error_t *err) EKEY_WUR;
/* Integers only: 1.0, 1.5, "1", true are rejected. */
ekey_status_t ekey_json_get_int(apr_int64_t *out, int *present, json_t *obj, const char *key,
                                int required, ekey_status_t st, ekey_error_t *err) EKEY_WUR;
ekey_status_t ekey_json_get_object(json_t **out, json_t *obj, const char *key,
                                   int required, ekey_status_t st, ekey_error_t *err) EKEY_WUR;
/* Compact serialisation, keys in insertion order, allocated from p. */
char *ekey_json_dump(apr_pool_t *p, const json_t *j);
/* A C string as a JSON string literal with its quotes, byte for byte what jansson's compact
 * dump writes for json_string(in); NULL when jansson would refuse it (not valid UTF-8). For
 * JSON written directly on hot paths (the mint's claims and answer). */
char *ekey_json_quote(apr_pool_t *p, const char *in);

/* -------------------------------------------------------------------- jwk */

typedef enum {
    EKEY_ALG_NONE  = 0,
    EKEY_ALG_ES256 = 1u << 0,
    EKEY_ALG_ES384 = 1u << 1,
    EKEY_ALG_EDDSA = 1u << 2
} ekey_alg_t;
#define EKEY_ALGS_DEFAULT  ((unsigned)EKEY_ALG_ES256)
#define EKEY_ALGS_ALL      ((unsigned)(EKEY_ALG_ES256 | EKEY_ALG_ES384 | EKEY_ALG_EDDSA))

/* "ES256" -> EKEY_ALG_ES256; anything else (case matters, "none" too) -> EKEY_ALG_NONE. */
ekey_alg_t ekey_alg_from_name(const char *name);
const char *ekey_alg_name(ekey_alg_t alg);

/* A public (or, when loaded from a private PEM, private) key with its JWK facts. Opaque. */
typedef struct ekey_jwk_t ekey_jwk_t;

/* Imports a public JWK object: EC P-256 (ES256), EC P-384 (ES384), OKP Ed25519 (EdDSA).
 * Rejects private members (d, p, q, dp, dq, qi, k), wrong coordinate lengths, coordinates
 * not below the field prime, points not on the curve (complete for P-256/P-384, whose
 * cofactor is 1), unknown kty/crv. Status EKEY_E_JWK. A key imported before in this process
 * comes from a bounded cache keyed by its exact public bytes (the members are still checked
 * each time). A P-256 key is checked and verified by p256.c and gets its EVP_PKEY only when
 * ekey_jwk_pkey asks for it. */
ekey_status_t ekey_jwk_parse(ekey_jwk_t **out, apr_pool_t *p, json_t *jwk,
                             ekey_error_t *err) EKEY_WUR;
/* Wraps an EVP_PKEY (the jwk takes its own reference). */
ekey_status_t ekey_jwk_from_pkey(ekey_jwk_t **out, apr_pool_t *p, EVP_PKEY *pkey,
                                 ekey_error_t *err) EKEY_WUR;
/* Loads a PEM file: a private key (want_private = 1) or a public key / private key whose
 * public half is used (want_private = 0). EKEY_E_KEY_FILE on failure. */
ekey_status_t ekey_jwk_load_pem(ekey_jwk_t **out, apr_pool_t *p, const char *path,
                                int want_private, ekey_error_t *err) EKEY_WUR;
/* Generates a fresh key pair (EKEY_ALG_ES256 at least). */
ekey_status_t ekey_jwk_generate(ekey_jwk_t **out, apr_pool_t *p, ekey_alg_t alg,
                                ekey_error_t *err) EKEY_WUR;
/* Writes the private key as PKCS#8 PEM to path with mode 0600. */
ekey_status_t ekey_jwk_save_pem(const ekey_jwk_t *key, apr_pool_t *p, const char *path,
                                ekey_error_t *err) EKEY_WUR;
/* RFC 7638 thumbprint (SHA-256, base64url, 43 chars), computed once at import. */
const char *ekey_jwk_thumbprint(const ekey_jwk_t *key);
/* RFC 7638 thumbprint of a JWK given as JSON (EC, OKP and RSA required members, in
 * lexicographic order, no whitespace), without importing the key: for known-answer tests and
 * for keys we do not use for signatures. EKEY_E_JWK when a required member is missing. */
ekey_status_t ekey_jwk_thumbprint_json(const char **out, apr_pool_t *p, json_t *jwk,
                                       ekey_error_t *err) EKEY_WUR;
/* The public JWK as a new JSON object owned by p: kty, crv, x, y (EC) / kty, crv, x (OKP),
 * plus "kid" = thumbprint and "alg" when with_meta is non-zero. Never private members. */
json_t *ekey_jwk_to_json(const ekey_jwk_t *key, apr_pool_t *p, int with_meta);
ekey_alg_t ekey_jwk_alg(const ekey_jwk_t *key);
int ekey_jwk_has_private(const ekey_jwk_t *key);
/* The key's EVP_PKEY (owned by the key's pool). For a P-256 key from ekey_jwk_parse it is
 * built on the first call (thread-safe: every caller gets the same one); NULL if that fails. */
EVP_PKEY *ekey_jwk_pkey(const ekey_jwk_t *key);
/* Prepares a trusted key that verifies many signatures (an issuer's): an ES256 key gets a
 * table of its multiples (about 150 KB, shared by every copy of the key in the process,
 * tens of milliseconds to build, at most 16 keys per process), which makes each
 * verification about 2.5 x faster. Call while the configuration is read, before any
 * verification with the key. 1 when the key now has its table; 0 otherwise (not ES256,
 * FIPS mode, 16 tables made): it then verifies as before. */
int ekey_jwk_precompute(ekey_jwk_t *key);

/* A set of trusted verification keys, selected by kid (= thumbprint). The key source is
 * always configuration, never a header. */
typedef struct ekey_keyset_t ekey_keyset_t;
ekey_keyset_t *ekey_keyset_make(apr_pool_t *p);
/* Adds a key; a duplicate kid is EKEY_E_INVALID_ARG. */
ekey_status_t ekey_keyset_add(ekey_keyset_t *ks, const ekey_jwk_t *key,
                              ekey_error_t *err) EKEY_WUR;
/* Adds every key of a JWKS document ({"keys":[...]}); keys with "use" other than "sig" or an
 * unsupported kty are skipped, a malformed key is an error. */
ekey_status_t ekey_keyset_add_jwks(ekey_keyset_t *ks, apr_pool_t *p, const char *buf,
                                   apr_size_t len, ekey_error_t *err) EKEY_WUR;
const ekey_jwk_t *ekey_keyset_find(const ekey_keyset_t *ks, const char *kid);
int ekey_keyset_count(const ekey_keyset_t *ks);
const ekey_jwk_t *ekey_keyset_get(const ekey_keyset_t *ks, int i);
/* ekey_jwk_precompute for every key of the set (a verifier's trusted keys); returns how
 * many have a table. */
int ekey_keyset_precompute(ekey_keyset_t *ks);
/* {"keys":[ public JWKs with kid, alg, use:"sig" ]} */
char *ekey_keyset_to_jwks(const ekey_keyset_t *ks, apr_pool_t *p);

/* -------------------------------------------------------------------- jws */

/* A parsed (not yet verified) JWS compact serialisation. */
typedef struct {
    const char *signing_input;     /* "header.payload", NUL-terminated copy */
    apr_size_t signing_input_len;
    json_t *header;                /* parsed protected header (duplicates rejected) */
    ekey_alg_t alg;                /* from header.alg, already checked against the allowlist */
    const char *typ;               /* header.typ or NULL */
    const char *kid;               /* header.kid or NULL */
    const char *payload_b64;       /* points into signing_input */
    apr_size_t payload_b64_len;
    unsigned char *sig;            /* decoded signature bytes */
    apr_size_t sig_len;
} ekey_jws_t;

/* Framing, strict base64url of all three parts, header JSON, alg in `algs` (a bitmask of
 * ekey_alg_t; "none" and HS* never). Rejects header members crit, b64, zip always (crit
 * lists nothing we understand), and jku, x5u, jwk, x5c when `allow_embedded_jwk` is 0. Checks
 * the signature length for the alg (64 for ES256, 96 for ES384, 64 for EdDSA). Does not
 * verify. Callers that need their own error class (DPoP: EKEY_E_PROOF) remap the status. */
ekey_status_t ekey_jws_parse(ekey_jws_t **out, apr_pool_t *p, const char *compact,
                             apr_size_t len, apr_size_t max_len, unsigned algs,
                             int allow_embedded_jwk, ekey_error_t *err) EKEY_WUR;
/* Verifies the signature with key: the key's alg must equal jws->alg; ECDSA r and s must be
 * in [1, n-1]; only OpenSSL's exact 1 is success. EKEY_E_SIGNATURE otherwise. */
ekey_status_t ekey_jws_verify(const ekey_jws_t *jws, const ekey_jwk_t *key,
                              ekey_error_t *err) EKEY_WUR;
/* Decodes and parses the payload JSON object (call only after ekey_jws_verify). */
ekey_status_t ekey_jws_payload(json_t **out, apr_pool_t *p, const ekey_jws_t *jws,
                               apr_size_t max_len, ekey_error_t *err) EKEY_WUR;
/* Signs header + payload with a private key; header.alg is set from the key. */
ekey_status_t ekey_jws_sign(char **out, apr_pool_t *p, json_t *header, json_t *payload,
                            const ekey_jwk_t *priv, ekey_error_t *err) EKEY_WUR;

/* ---------------------------------------------------------------- hashing */

/* base64url(SHA-256(data)) - the `ath` of a token, the x5t#S256 of a DER certificate. */
char *ekey_sha256_b64url(apr_pool_t *p, const void *data, apr_size_t len);
/* Constant-time equality of two NUL-terminated strings (length leaks, content does not). */
int ekey_ct_streq(const char *a, const char *b);
/* Fills buf with n bytes from OpenSSL's CSPRNG; EKEY_E_CRYPTO if it fails. */
ekey_status_t ekey_random(unsigned char *buf, apr_size_t n, ekey_error_t *err) EKEY_WUR;

/* Frees what libekey keeps per process (the fetched digest, the DPoP key cache, the verified
 * signature cache). Call at most once, at shutdown, when no other libekey call is running
 * (httpd: a configuration pool cleanup, before the module is unloaded). Later calls still
 * work, without the caches. */
void ekey_release(void);
/* A new 128-bit trace (or jti): 22 base64url characters. */
ekey_status_t ekey_random_id(const char **out, apr_pool_t *p, ekey_error_t *err) EKEY_WUR;

/* ------------------------------------------------------------ capability */

/* cap.action grammar: METHOD ":" PATH where METHOD is 1*tchar uppercase letters (GET, POST,
 * PUT, PATCH, DELETE, ...), PATH starts with "/", has no query, fragment, "..", "." segments,
 * "//", backslash, control characters or percent-encoded characters that decode to an
 * unreserved character or "/" (it must already be in the normal form httpd routes).
 * Length <= 2048. *method and *path are copies from p. */
ekey_status_t ekey_cap_parse(const char **method, const char **path, apr_pool_t *p,
                             const char *action, ekey_error_t *err) EKEY_WUR;
/* EKEY_OK iff action names exactly (method, path) - case-sensitive, byte-exact, after the
 * request path was checked by ekey_cap_parse's path rules. EKEY_E_CAPABILITY otherwise. */
ekey_status_t ekey_cap_match(const char *action, const char *method, const char *path,
                             ekey_error_t *err) EKEY_WUR;
/* Issuer policy patterns: "POST:/payments" exact, "POST:/payments/..." (a trailing star) any path below,
 * "*:/x" any method. 1 if action is allowed by pattern. */
int ekey_cap_pattern_match(const char *pattern, const char *action);

/* ----------------------------------------------------------------- spiffe */

/* 1 when s (n bytes) is a SPIFFE ID: "spiffe://" + a lowercase trust domain + "/"-segments of
 * letters, digits, ".", "-", "_" (no ".", "..", empty or trailing segment; no port, userinfo,
 * query, fragment or escapes), at most 2048 bytes. */
int ekey_spiffe_id_valid(const char *s, apr_size_t n);

/* -------------------------------------------------------------------- url */

/* RFC 3986 §6.2.2 normalisation of an absolute http(s) URL for htu comparison: scheme and
 * host lowercased, default port removed (80/443), percent-encoding hex uppercased and
 * unreserved characters decoded, empty path -> "/", query and fragment dropped. Rejects
 * userinfo, non-http(s) schemes, malformed escapes, control characters: EKEY_E_INVALID_ARG. */
ekey_status_t ekey_url_normalize(char **out, apr_pool_t *p, const char *url,
                                 ekey_error_t *err) EKEY_WUR;
/* Checks and normalises a configured public origin "https://host[:port]" (no path, query,
 * userinfo); the result has no trailing slash. */
ekey_status_t ekey_origin_normalize(char **out, apr_pool_t *p, const char *origin,
                                    ekey_error_t *err) EKEY_WUR;

/* ------------------------------------------------------------------ token */

typedef enum { EKEY_BIND_NONE = 0, EKEY_BIND_DPOP, EKEY_BIND_MTLS } ekey_bind_t;

/* Verified E-Key claims. Strings are pool copies. */
typedef struct {
    const char *kid;
    const char *iss;
    const char *sub;
    const char *aud;             /* the audience that matched */
    const char *trace;           /* 22 base64url chars */
    apr_int64_t iat, exp, nbf;   /* nbf = 0 when absent */
    const char *action;          /* cap.action */
    const char *cap_method;
    const char *cap_path;
    apr_int64_t limit;           /* cap.limit, >= 1 */
    ekey_bind_t bind;
    const char *jkt;             /* cnf.jkt (DPoP) or NULL */
    const char *x5t;             /* cnf["x5t#S256"] (mTLS) or NULL */
    const char *ath;             /* base64url(SHA-256(token)), for the DPoP check */
} ekey_token_t;

/* What a verifier trusts and how strict it is. */
typedef struct {
    const ekey_keyset_t *keys;   /* trusted issuer keys (kid = thumbprint) */
    const char *issuer;          /* required iss */
    const char *audience;        /* required aud: a string equal to it, or an array holding it */
    apr_int64_t now;             /* seconds since the epoch */
    apr_int64_t skew;            /* clock skew, seconds (default EKEY_DEFAULT_SKEW) */
    apr_int64_t max_ttl;         /* exp - iat must be <= max_ttl (0: no check) */
    apr_int64_t max_limit;       /* cap.limit must be <= max_limit (0: no check) */
    apr_size_t max_len;          /* token length limit (0: EKEY_MAX_TOKEN_LEN) */
    unsigned algs;               /* allowlist (0: EKEY_ALGS_DEFAULT) */
    ekey_token_t **expired;      /* optional: when verify returns EKEY_E_EXPIRED, the claims
                                  * of the signature-verified, otherwise valid token, so the
                                  * caller can log who presented it (else set to NULL) */
} ekey_token_policy_t;

/* Full verification of an E-Key: size, framing, header (typ ekey+jwt, kid known, alg allowed,
 * forbidden members), signature, then claims: iss, aud, iat/exp/nbf with skew, lifetime,
 * trace format, cap grammar and limit, cnf with exactly one of jkt / x5t#S256 (43 chars each).
 * A token with cap.limit > 1 that passed once is remembered (SHA-256 of its bytes and the
 * verifying key, until its exp, bounded, per process): its next uses skip the signature
 * computation only; every other check runs on every use. */
ekey_status_t ekey_token_verify(ekey_token_t **out, apr_pool_t *p, const char *compact,
                                apr_size_t len, const ekey_token_policy_t *pol,
                                ekey_error_t *err) EKEY_WUR;

/* What an issuer mints. */
typedef struct {
    const char *iss, *sub, *aud;
    const char *action;          /* validated with ekey_cap_parse */
    apr_int64_t limit;           /* >= 1 */
    apr_int64_t now, ttl;        /* iat = now, exp = now + ttl, ttl >= 1 */
    ekey_bind_t bind;
    const char *jkt;             /* for EKEY_BIND_DPOP */
    const char *x5t;             /* for EKEY_BIND_MTLS */
    const char *trace;           /* NULL: a fresh random one */
} ekey_mint_t;

/* Signs an E-Key with header {alg, typ: ekey+jwt, kid: thumbprint}. *claims (optional)
 * receives the minted claims. */
ekey_status_t ekey_token_mint(char **out, ekey_token_t **claims, apr_pool_t *p,
                              const ekey_mint_t *req, const ekey_jwk_t *signing_key,
                              ekey_error_t *err) EKEY_WUR;

/* ------------------------------------------------------------------- dpop */

typedef struct {
    const char *method;          /* the request method, compared exactly with htm */
    const char *htu;             /* the expected URL: public origin + routed path; normalised
                                  * with ekey_url_normalize before comparison */
    const char *ath;             /* expected ath, or NULL when no token is presented (minting) */
    const char *nonce;           /* expected nonce (the trace), or NULL: nonce must be absent */
    const char *jkt;             /* expected thumbprint (cnf.jkt), or NULL to accept any key */
    apr_int64_t now;
    apr_int64_t max_age;         /* iat >= now - max_age (default EKEY_DEFAULT_PROOF_AGE) */
    apr_int64_t skew;            /* iat <= now + skew */
    apr_size_t max_len;          /* 0: EKEY_MAX_TOKEN_LEN */
    unsigned algs;               /* 0: EKEY_ALGS_ALL */
} ekey_dpop_check_t;

typedef struct {
    const char *jti;
    const char *jkt;             /* thumbprint of the proof's jwk */
    apr_int64_t iat;
    const ekey_jwk_t *jwk;
} ekey_dpop_t;

/* RFC 9449 §4.3 checks 1-12 plus nonce = trace. The proof is a single JWS (a value with a
 * comma, i.e. merged repeated fields, is EKEY_E_PROOF). jti: 1..256 chars. Errors: the
 * EKEY_E_PROOF* statuses. */
ekey_status_t ekey_dpop_verify(ekey_dpop_t **out, apr_pool_t *p, const char *proof,
                               apr_size_t len, const ekey_dpop_check_t *chk,
                               ekey_error_t *err) EKEY_WUR;
/* Creates a proof for (method, url) with a fresh jti; url is normalised first (query and
 * fragment dropped). token may be NULL (no ath), nonce may be NULL. */
ekey_status_t ekey_dpop_create(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                               const char *method, const char *url, const char *nonce,
                               const char *token, apr_int64_t now,
                               ekey_error_t *err) EKEY_WUR;

/* ----------------------------------------------------------- http framing */

/* From the (possibly merged) Authorization field value: EKEY_OK with *token set when it is
 * exactly "EKey" (any case) 1*SP token68; EKEY_E_NO_CREDENTIALS when value is NULL or the
 * scheme is another single scheme; EKEY_E_REQUEST when it holds several credentials (a comma
 * from merged fields) or is malformed after "EKey"; EKEY_E_FORMAT for characters outside the
 * JWS compact alphabet. *token points into value. */
ekey_status_t ekey_http_parse_authorization(const char **token, apr_size_t *len,
                                            const char *value, apr_size_t max_len,
                                            ekey_error_t *err) EKEY_WUR;

/* A Cache-Control value (NULL: none) rewritten so that no shared cache may store the answer
 * (RFC 9111 §5.2.2.7): `public` and `s-maxage` are dropped and `private` is added unless
 * `private` or `no-store` is there; every other directive is kept as it was. NULL when the
 * value needs no change. Allocated from p. */
const char *ekey_http_private_cache_control(apr_pool_t *p, const char *value);

/* ----------------------------------------------------------------- replay */

/* One atomic consume request. */
typedef struct {
    const char *trace;           /* the token's trace */
    apr_int64_t limit;           /* cap.limit */
    apr_int64_t trace_expires;   /* exp + skew */
    const char *jti;             /* DPoP jti, or NULL for mTLS */
    const char *jkt;             /* proof key thumbprint: jti is namespaced by it */
    apr_int64_t jti_expires;     /* iat + max_age + skew + 1 (the last second counts) */
    apr_int64_t now;
} ekey_consume_t;

/* A replay store: the shm table behind a lock, or Redis. consume is one atomic step:
 * if the jti was seen -> EKEY_E_JTI_REPLAY (nothing changes); else if uses >= limit ->
 * EKEY_E_REPLAY (the jti is still remembered); else uses++ and jti remembered -> EKEY_OK with
 * *uses_left = limit - uses. Full -> EKEY_E_STORE_FULL, unreachable -> EKEY_E_STORE_UNAVAILABLE. */
typedef struct ekey_store_t ekey_store_t;
struct ekey_store_t {
    const char *name;
    ekey_status_t (*consume)(ekey_store_t *st, const ekey_consume_t *req,
                             apr_int64_t *uses_left, ekey_error_t *err);
    void *ctx;
};

/* The table logic over a flat memory region (shm or heap), without locking: the caller
 * holds the lock around every call. Live entries are never evicted; expired ones are reused. */
typedef struct ekey_rtable_t ekey_rtable_t;
/* Bytes needed for `capacity` entries; 0 if the size would overflow. */
apr_size_t ekey_rtable_size(apr_size_t capacity);
/* Formats mem (of ekey_rtable_size(capacity) bytes) as an empty table with a fresh hash key,
 * or attaches to an already formatted one (same capacity; magic and version checked). */
ekey_status_t ekey_rtable_attach(ekey_rtable_t **out, apr_pool_t *p, void *mem,
                                 apr_size_t capacity, int format, ekey_error_t *err) EKEY_WUR;
ekey_status_t ekey_rtable_consume(ekey_rtable_t *t, const ekey_consume_t *req,
                                  apr_int64_t *uses_left, ekey_error_t *err) EKEY_WUR;
/* The same consume in two steps, so that the lock is held only for the table work:
 * ekey_rtable_prepare (no lock) checks the request, computes its keyed ids and loads their
 * buckets into the cache; ekey_rtable_consume_prepared (under the lock) is the lookup and
 * update. The prep refers to req, which must stay unchanged until the consume. A prepare
 * alone changes nothing. Fields private. */
typedef struct {
    const ekey_consume_t *req;
    apr_uint64_t kt[2], kj[2];
    int has_jti;
} ekey_rtable_prep_t;
ekey_status_t ekey_rtable_prepare(const ekey_rtable_t *t, const ekey_consume_t *req,
                                  ekey_rtable_prep_t *out, ekey_error_t *err) EKEY_WUR;
ekey_status_t ekey_rtable_consume_prepared(ekey_rtable_t *t, const ekey_rtable_prep_t *prep,
                                           apr_int64_t *uses_left,
                                           ekey_error_t *err) EKEY_WUR;
/* Another capacity without losing a count: ekey_rtable_save copies t's hash key, counters
 * and live entries into one malloc'd block (free() it; NULL without memory);
 * ekey_rtable_adopt makes a freshly formatted table of any capacity their continuation.
 * *dropped: live entries that found no room (the new table is too small for them). After a
 * refusal (not a saved table) t holds part of it: format it again before use. */
void *ekey_rtable_save(const ekey_rtable_t *t, apr_int64_t now, apr_size_t *nbytes);
ekey_status_t ekey_rtable_adopt(ekey_rtable_t *t, const void *saved, apr_size_t nbytes,
                                apr_int64_t now, apr_size_t *dropped,
                                ekey_error_t *err) EKEY_WUR;
typedef struct {
    apr_size_t capacity, live, full_events;
    apr_uint64_t allowed, replays;
} ekey_rtable_stats_t;
void ekey_rtable_stats(const ekey_rtable_t *t, apr_int64_t now, ekey_rtable_stats_t *out);

/* ------------------------------------------------------------------ audit */

typedef struct {
    apr_int64_t time_usec;
    const char *decision;        /* "allowed", "replay_blocked", "expired", "denied" */
    const char *code;            /* error code, NULL when allowed */
    const char *sub, *trace, *aud, *cap, *bind;
    apr_int64_t uses_left;       /* -1 when unknown */
    const char *client;          /* client address */
    const char *request_id;      /* mod_unique_id or NULL */
    const char *method, *uri;
    const char *jkt;             /* a short prefix is logged, never a full key */
} ekey_audit_t;

/* One JSON line (with the trailing "\n") for the audit log. Absent fields are omitted. */
char *ekey_audit_format(apr_pool_t *p, const ekey_audit_t *ev);
/* The decision word for a status: EKEY_OK "allowed", replays "replay_blocked",
 * EKEY_E_EXPIRED/NOT_YET_VALID "expired", anything else "denied". */
const char *ekey_audit_decision(ekey_status_t st);

#ifdef __cplusplus
}
#endif
#endif /* EKEY_H */
