/*
 * ekey_client.h - the client half of E-Key, part of libekey's public API (installed beside
 * ekey.h; `pkg-config --cflags --libs ekey`). What the prototype's EKeyClient and DPoPHelper
 * did, for C programs: build the token request, make the minting proof, read the issuer's
 * answer, make the DPoP proof of each resource request. No HTTP here: the caller sends the
 * body and headers with whatever HTTP library it has (the `ekey` CLI uses libcurl).
 *
 * A client's life:
 *   ekey_jwk_generate / ekey_jwk_load_pem        once: the key pair (ekey.h)
 *   ekey_client_request_body + ekey_client_mint_proof  -> POST token_url, Content-Type
 *                                                 application/json, DPoP: <mint proof>
 *   ekey_client_token_parse(answer)              -> token, trace, exp, limit, cnf
 *   per request: ekey_client_proof(method, url, token) -> Authorization: EKey <token>,
 *                                                 DPoP: <proof>
 *   on a refusal: ekey_client_error_parse(body)  -> the server's error code and message
 *
 * Conventions (those of ekey.h, stated once for this part):
 *   - Signature: status ekey_client_<verb>(out..., pool, inputs..., ekey_error_t *err).
 *     EKEY_OK (0) is the only success; on any failure every out-parameter is NULL.
 *   - Ownership: everything returned (strings, structs, json_t) is allocated from (or tied by
 *     a cleanup to) the pool p given to the call, and lives until p is cleared or destroyed.
 *     The caller never frees anything; inputs are copied when kept. Use one pool per token
 *     (or per request) and destroy it when done; keys live in a longer-lived pool.
 *   - err is optional (NULL: no detail); when given it receives the status, the step
 *     ("client.body", "client.answer", ...) and a text that never holds a token, proof or key.
 *   - Status codes used here: EKEY_E_INVALID_ARG (missing or unusable argument), EKEY_E_JSON /
 *     EKEY_E_TOO_LARGE (an answer that is not one JSON object of sane size), EKEY_E_FORMAT /
 *     EKEY_E_BASE64 (a token that is not a compact JWS), EKEY_E_CLAIMS / EKEY_E_CNF (a token
 *     without the members a client needs), EKEY_E_PROOF_JKT (the token is bound to another
 *     key), EKEY_E_JWK / EKEY_E_CRYPTO (signing failed), EKEY_E_INTERNAL (out of memory).
 *   - Nothing here verifies a token's signature: a client does not hold the issuer's keys and
 *     does not need to; the resource server verifies. What is read only steers the client.
 *   - Thread safety: no global state; concurrent calls on distinct pools are safe.
 */
#ifndef EKEY_CLIENT_H
#define EKEY_CLIENT_H

#include "ekey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a client asks the issuer for: the prototype's POST /token body. */
typedef struct {
    const char *sub;             /* required */
    const char *aud;             /* required */
    const char *action;          /* cap.action "METHOD:/path" (ekey_cap_parse rules) */
    apr_int64_t limit;           /* cap.limit; 0: omitted, the issuer's default (1) */
    apr_int64_t ttl;             /* 0: omitted, the issuer's default */
    ekey_bind_t bind;            /* EKEY_BIND_DPOP: the key's public jwk is sent;
                                  * EKEY_BIND_MTLS: no jwk, the TLS client certificate binds */
} ekey_client_request_t;

/* The JSON body for POST /token. key (public or private; only the public members are sent)
 * is required for EKEY_BIND_DPOP and ignored for mTLS. EKEY_E_INVALID_ARG for a missing
 * field, a bad action or a negative number. */
ekey_status_t ekey_client_request_body(char **out, apr_pool_t *p,
                                       const ekey_client_request_t *req,
                                       const ekey_jwk_t *key, ekey_error_t *err) EKEY_WUR;

/* The minting proof that goes with the body: DPoP for POST to token_url, no ath, no nonce. */
ekey_status_t ekey_client_mint_proof(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                                     const char *token_url, apr_int64_t now,
                                     ekey_error_t *err) EKEY_WUR;

/* An issued E-Key as the client sees it. The facts come from the token's own payload
 * (read, not verified: the client does not hold the issuer's keys), so they are the ones
 * the resource server will enforce. */
typedef struct {
    const char *token;           /* the compact JWS */
    const char *trace;
    const char *sub, *aud, *action;
    apr_int64_t iat, exp, limit;
    ekey_bind_t bind;
    const char *jkt, *x5t;       /* cnf members */
} ekey_client_token_t;

/* Reads the issuer's 200 answer ({"token": ..., ...}). When key is given and the token is
 * DPoP-bound, cnf.jkt must be its thumbprint (EKEY_E_PROOF_JKT otherwise: the issuer bound
 * another key and every proof would be refused). EKEY_E_JSON / EKEY_E_FORMAT / EKEY_E_CLAIMS
 * for an answer or token that is not usable. */
ekey_status_t ekey_client_token_parse(ekey_client_token_t **out, apr_pool_t *p,
                                      const char *body, apr_size_t len,
                                      const ekey_jwk_t *key, ekey_error_t *err) EKEY_WUR;

/* The token's facts from a bare compact token (same rules, no answer around it). */
ekey_status_t ekey_client_token_read(ekey_client_token_t **out, apr_pool_t *p,
                                     const char *token, ekey_error_t *err) EKEY_WUR;

/* Reads an error answer {"error": CODE, "message": TEXT} (issuer or resource server).
 * *code / *message are NULL when absent; EKEY_E_JSON when the body is not such an object. */
ekey_status_t ekey_client_error_parse(const char **code, const char **message, apr_pool_t *p,
                                      const char *body, apr_size_t len,
                                      ekey_error_t *err) EKEY_WUR;

/* The DPoP proof for one resource request with token: htm = method, htu = url (normalised,
 * query dropped), ath = b64url(SHA-256(token)), nonce = the token's trace (read from its
 * payload without verifying it). */
ekey_status_t ekey_client_proof(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                                const char *method, const char *url, const char *token,
                                apr_int64_t now, ekey_error_t *err) EKEY_WUR;

/* Decodes the header and payload of a compact JWS WITHOUT verifying anything but the
 * framing: three segments, strict base64url, JSON objects without duplicates, len <=
 * max_len (0: EKEY_MAX_TOKEN_LEN). For inspection and for reading one's own token. */
ekey_status_t ekey_jws_peek(json_t **header, json_t **payload, apr_pool_t *p,
                            const char *compact, apr_size_t len, apr_size_t max_len,
                            ekey_error_t *err) EKEY_WUR;

/* The capability a request needs: "METHOD:" + the path of url (normalised, query dropped),
 * checked with ekey_cap_parse. *origin (optional) receives "scheme://host[:port]". */
ekey_status_t ekey_client_action(const char **action, const char **origin, apr_pool_t *p,
                                 const char *method, const char *url,
                                 ekey_error_t *err) EKEY_WUR;

#ifdef __cplusplus
}
#endif
#endif /* EKEY_CLIENT_H */
