/*
 * ekey_respond.c - status -> HTTP answer, as mod_auth_basic maps its provider results.
 *
 * How the JSON body reaches the client: httpd writes every error page itself
 * (ap_send_error_response), as text/html, after our hook returned the status. We give it
 * our body as the request's custom response (ap_custom_response with a literal string, the
 * same mechanism as `ErrorDocument 401 "text"`), and an error filter, inserted by the
 * insert_error_filter hook only when the answer is ours, relabels it application/json.
 * This works where returning DONE cannot: the authz provider only returns
 * AUTHZ_DENIED and mod_authz_core picks the status (401, or 403 with
 * AuthzSendForbiddenOnFailure On). For insufficient_capability the filter turns that 401 into
 * our 403. A configured ErrorDocument for the status still wins (our headers stay).
 *
 * Messages are fixed texts: no token, claim or other input is ever echoed (SECURITY-CASES
 * APX-09), so the escaping below is belt and braces.
 */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_log.h"
#include "mod_core.h"          /* ap_response_code_string */

#include "ekey_respond.h"

APLOG_USE_MODULE(ekey);

typedef struct {
    int http;                       /* HTTP status */
    int challenge;                  /* send WWW-Authenticate */
    const char *error;              /* its error attribute, NULL: none */
    const char *ekey_error;         /* extension attribute carrying our class */
    const char *message;            /* fixed text for the body and error_description */
} answer_t;

/* THE switch: every status has exactly one answer. */
static answer_t answer_of(ekey_status_t st)
{
    static const char *const tok = "invalid_token", *const dpop = "invalid_dpop_proof",
                             *const scope = "insufficient_scope";
    answer_t a = { 401, 1, tok, NULL, NULL };

    switch (st) {
    case EKEY_E_NO_CREDENTIALS:
        a.error = NULL; a.message = "an E-Key is required (Authorization: EKey)"; break;
    case EKEY_E_REQUEST:
        a.http = 400; a.error = "invalid_request";
        a.message = "the request is ambiguous or malformed"; break;
    case EKEY_E_TOO_LARGE: a.message = "the token is too large"; break;
    case EKEY_E_FORMAT: a.message = "the token is not a compact JWS"; break;
    case EKEY_E_SCHEME: a.message = "only the EKey authorization scheme is accepted here"; break;
    case EKEY_E_BASE64: a.message = "the token is not strict base64url"; break;
    case EKEY_E_JSON: a.message = "the token is not valid JSON"; break;
    case EKEY_E_ALG: a.message = "the token algorithm is not accepted"; break;
    case EKEY_E_TYP: a.message = "the token type is not ekey+jwt"; break;
    case EKEY_E_KID: a.message = "the token key is not trusted"; break;
    case EKEY_E_HEADER: a.message = "the token header has a forbidden member"; break;
    case EKEY_E_SIGNATURE: a.message = "the token signature does not verify"; break;
    case EKEY_E_CLAIMS: a.message = "the token claims are invalid"; break;
    case EKEY_E_ISSUER: a.message = "the token issuer is not accepted"; break;
    case EKEY_E_AUDIENCE: a.message = "the token is not for this audience"; break;
    case EKEY_E_LIFETIME: a.message = "the token lifetime is too long"; break;
    case EKEY_E_CNF: a.message = "the token confirmation (cnf) is invalid"; break;
    case EKEY_E_EXPIRED:
        a.ekey_error = "token_expired"; a.message = "the token has expired"; break;
    case EKEY_E_NOT_YET_VALID:
        a.ekey_error = "token_expired"; a.message = "the token is not yet valid"; break;
    case EKEY_E_PROOF_MISSING: a.error = dpop; a.message = "a DPoP proof is required"; break;
    case EKEY_E_PROOF: a.error = dpop; a.message = "the DPoP proof is invalid"; break;
    case EKEY_E_PROOF_HTM: a.error = dpop; a.message = "the DPoP htm does not match"; break;
    case EKEY_E_PROOF_HTU: a.error = dpop; a.message = "the DPoP htu does not match"; break;
    case EKEY_E_PROOF_IAT: a.error = dpop; a.message = "the DPoP proof is too old"; break;
    case EKEY_E_PROOF_ATH: a.error = dpop; a.message = "the DPoP ath does not match"; break;
    case EKEY_E_PROOF_NONCE: a.error = dpop; a.message = "the DPoP nonce does not match"; break;
    case EKEY_E_PROOF_JKT: a.error = dpop; a.message = "the DPoP key is not bound"; break;
    /* RFC 8705 §3: a certificate mismatch is invalid_token in the challenge */
    case EKEY_E_CERT_MISSING: a.message = "a bound client certificate is required"; break;
    case EKEY_E_CERT_MISMATCH: a.message = "the client certificate is not bound"; break;
    case EKEY_E_CAPABILITY:
        a.http = 403; a.error = scope;
        a.message = "the capability does not cover this request"; break;
    case EKEY_E_INSUFFICIENT_CAP:
        a.http = 403; a.error = scope;
        a.message = "the capability is not allowed here"; break;
    case EKEY_E_REPLAY:
        a.ekey_error = "replay_detected"; a.message = "the token uses are exhausted"; break;
    case EKEY_E_JTI_REPLAY:
        a.ekey_error = "replay_detected"; a.message = "the DPoP proof was used before"; break;
    case EKEY_E_STORE_FULL:
    case EKEY_E_STORE_UNAVAILABLE:
        a.http = 503; a.challenge = 0; a.error = NULL;
        a.message = "the replay store is unavailable, retry later"; break;
    case EKEY_OK:
    case EKEY_E_JWK:
    case EKEY_E_KEY_FILE:
    case EKEY_E_INVALID_ARG:
    case EKEY_E_CRYPTO:
    case EKEY_E_INTERNAL:
    case EKEY_STATUS_COUNT:
    default:
        a.http = 500; a.challenge = 0; a.error = NULL;
        a.message = "internal error"; break;
    }
    return a;
}

int ekey_respond_http_status(ekey_status_t st)
{
    return answer_of(st).http;
}

/* s with '"' and '\' escaped and control bytes dropped: valid in a quoted-string and, as
 * our texts are ASCII, in a JSON string. */
static const char *quote(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            continue;
        if (*s == '"' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static const char *algs_list(apr_pool_t *p, unsigned algs)
{
    const char *out = NULL;
    unsigned bit;

    for (bit = 1; bit <= (unsigned)EKEY_ALG_EDDSA; bit <<= 1)
        if (algs & bit)
            out = out == NULL ? ekey_alg_name((ekey_alg_t)bit)
                  : apr_pstrcat(p, out, " ", ekey_alg_name((ekey_alg_t)bit), NULL);
    return out != NULL ? out : "ES256";
}

static void set_headers(request_rec *r, const ekey_dir_conf_t *dc, const answer_t *a)
{
    const char *ch;

    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (a->http == 503)
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
    if (!a->challenge)
        return;
    /* algs: the DPoP proof algorithms accepted here, as in RFC 9449 §7.1 */
    ch = apr_psprintf(r->pool, "%s realm=\"%s\", algs=\"%s\"", EKEY_AUTH_TYPE,
                      quote(r->pool, dc ? dc->realm : EKEY_DEFAULT_REALM),
                      algs_list(r->pool, dc ? dc->proof_algs : EKEY_ALGS_ALL));
    if (a->error != NULL)
        ch = apr_psprintf(r->pool, "%s, error=\"%s\"%s%s%s, error_description=\"%s\"", ch,
                          a->error, a->ekey_error ? ", ekey_error=\"" : "",
                          a->ekey_error ? a->ekey_error : "", a->ekey_error ? "\"" : "",
                          quote(r->pool, a->message));
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", ch);
}

/* Headers now; the body as the custom response for `status` unless the admin configured an
 * ErrorDocument for it. */
static void arrange(request_rec *r, ekey_req_t *rq, ekey_status_t st, int status)
{
    answer_t a = answer_of(st);
    const char *code = ekey_status_code(st);

    rq->status = st;
    rq->http_status = a.http;
    rq->responded = 1;
    set_headers(r, rq->dc, &a);
    if (ap_response_code_string(r, ap_index_of_response(status)) == NULL) {
        ap_custom_response(r, status, apr_psprintf(r->pool,
                           "{\"error\":\"%s\",\"message\":\"%s\"}\n",
                           quote(r->pool, code ? code : "server_error"),
                           quote(r->pool, a.message)));
        rq->custom_body = 1;
    }
}

int ekey_respond(request_rec *r, ekey_req_t *rq, ekey_status_t st)
{
    int status = answer_of(st).http;

    arrange(r, rq, st, status);
    return status;
}

/* mod_authz_core answers 401 (AuthzSendForbiddenOnFailure Off) when an authenticated user
 * is refused and asks the auth type for its challenge here. */
int ekey_note_auth_failure(request_rec *r, const char *auth_type)
{
    ekey_req_t *rq;

    if (strcasecmp(auth_type, EKEY_AUTH_TYPE) != 0)
        return DECLINED;
    rq = ekey_req_make(r);
    if (!rq->responded) {
        /* an authenticated E-Key refused by authorization: the capability is not enough */
        if (rq->token != NULL)
            rq->pending = EKEY_E_INSUFFICIENT_CAP;
        arrange(r, rq, rq->pending != EKEY_OK ? rq->pending : EKEY_E_NO_CREDENTIALS,
                HTTP_UNAUTHORIZED);
    }
    return OK;
}

/* An answer under an E-Key is for its holder only: no shared cache downstream (a proxy or
 * CDN in front of httpd) may store it and serve it to others, who would then need no key
 * at all, whatever the backend's Cache-Control says (`public` included). */
void ekey_insert_private_filter(request_rec *r)
{
    ekey_req_t *rq = r->main == NULL ? ekey_req_get(r) : NULL;

    if (rq != NULL && rq->status == EKEY_OK && rq->consumed)
        ap_add_output_filter(EKEY_PRIVATE_FILTER, NULL, r, r->connection);
}

/* Before the handler: the private filter, and for an ErrorDocument given as a local URL
 * (an internal redirect that keeps the refusal's status) the status of our answer:
 * mod_authz_core's 401 becomes our 403 for insufficient_capability there too. */
void ekey_insert_filter(request_rec *r)
{
    ekey_req_t *rq;

    ekey_insert_private_filter(r);
    if (r->prev != NULL && r->main == NULL && r->status == HTTP_UNAUTHORIZED
        && (rq = ekey_req_get(r)) != NULL && rq->responded
        && rq->http_status == HTTP_FORBIDDEN)
        ap_add_output_filter(EKEY_ERROR_FILTER, rq, r, r->connection);
}

apr_status_t ekey_private_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const char *out = apr_table_getm(r->pool, r->headers_out, "Cache-Control");
    const char *err = apr_table_getm(r->pool, r->err_headers_out, "Cache-Control");
    const char *v;

    /* the backend's fields, from either table (err_headers_out goes out with every status) */
    v = ekey_http_private_cache_control(r->pool, out == NULL ? err : err == NULL ? out
                                        : apr_pstrcat(r->pool, out, ", ", err, NULL));
    if (v != NULL) {
        apr_table_unset(r->headers_out, "Cache-Control");
        apr_table_setn(r->err_headers_out, "Cache-Control", v);
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* Our answer is being sent: label the body JSON, and turn mod_authz_core's 401 into our
 * 403 for insufficient_capability. */
void ekey_insert_error_filter(request_rec *r)
{
    ekey_req_t *rq = ekey_req_get(r);

    ekey_insert_private_filter(r);

    /* httpd's own 401 or 403 under an E-Key location (Require ip refused before we were
     * asked): not stored by any cache either (SECURITY-CASES 0.3.5) */
    if (rq == NULL && (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN)
        && ekey_is_ekey_location(r))
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (rq == NULL)
        return;
    /* AuthzSendForbiddenOnFailure On: httpd answers 403 without asking note_auth_failure */
    if (!rq->responded && rq->pending != EKEY_OK && r->status == HTTP_FORBIDDEN)
        arrange(r, rq, rq->pending, HTTP_FORBIDDEN);
    /* an internal request's refusal that another module made the answer (mod_dir returns
     * its DirectoryIndex lookup's status): ours, with our body and challenge */
    if (!rq->responded && rq->chain != EKEY_OK && r->status == answer_of(rq->chain).http)
        arrange(r, rq, rq->chain, r->status);
    if (!rq->responded || rq->filtered)
        return;
    if (r->status == rq->http_status
        || (r->status == HTTP_UNAUTHORIZED && rq->http_status == HTTP_FORBIDDEN)) {
        rq->filtered = 1;
        ap_add_output_filter(EKEY_ERROR_FILTER, rq, r, r->connection);
    }
}

apr_status_t ekey_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    ekey_req_t *rq = f->ctx;

    if (rq->http_status != r->status) {
        r->status = rq->http_status;
        r->status_line = NULL;      /* the header filter derives it from r->status */
    }
    if (rq->custom_body)
        ap_set_content_type(r, "application/json");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}
