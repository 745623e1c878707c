/*
 * error.c - status names, wire codes and the optional error detail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>

#include "ekey.h"

ekey_status_t ekey_error_set(ekey_error_t *err, ekey_status_t st, const char *where,
                             const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return st;
    err->status = st;
    apr_cpystrn(err->where, where != NULL ? where : "", sizeof(err->where));
    if (fmt == NULL) {
        err->text[0] = '\0';
        return st;
    }
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return st;
}

void ekey_error_drain_openssl(ekey_error_t *err)
{
    unsigned long e;
    char buf[128];
    apr_size_t used;

    /* The queue is per thread: always empty it, so a stale error never leaks into the
     * next request's diagnostics even when nobody wants the text. */
    if (err == NULL) {
        ERR_clear_error();
        return;
    }
    used = strnlen(err->text, sizeof(err->text));
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        if (used + 3 < sizeof(err->text)) {
            int n = snprintf(err->text + used, sizeof(err->text) - used, "%s%s",
                             used > 0 ? "; " : "", buf);
            if (n > 0)
                used += (apr_size_t)n;
            if (used >= sizeof(err->text))
                used = sizeof(err->text) - 1;
        }
    }
}

const char *ekey_status_code(ekey_status_t st)
{
    switch (st) {
    case EKEY_OK:
        return NULL;
    case EKEY_E_NO_CREDENTIALS:
        return "missing_token";
    case EKEY_E_REQUEST:
        return "invalid_request";
    case EKEY_E_TOO_LARGE:
    case EKEY_E_FORMAT:
    case EKEY_E_SCHEME:
    case EKEY_E_BASE64:
    case EKEY_E_JSON:
    case EKEY_E_ALG:
    case EKEY_E_TYP:
    case EKEY_E_KID:
    case EKEY_E_HEADER:
    case EKEY_E_SIGNATURE:
    case EKEY_E_CLAIMS:
    case EKEY_E_ISSUER:
    case EKEY_E_AUDIENCE:
    case EKEY_E_LIFETIME:
    case EKEY_E_CNF:
        return "invalid_token";
    case EKEY_E_EXPIRED:
    case EKEY_E_NOT_YET_VALID:
        return "token_expired";
    case EKEY_E_PROOF_MISSING:
    case EKEY_E_PROOF:
    case EKEY_E_PROOF_HTM:
    case EKEY_E_PROOF_HTU:
    case EKEY_E_PROOF_IAT:
    case EKEY_E_PROOF_ATH:
    case EKEY_E_PROOF_NONCE:
    case EKEY_E_PROOF_JKT:
    case EKEY_E_CERT_MISSING:
    case EKEY_E_CERT_MISMATCH:
        return "invalid_proof";
    case EKEY_E_CAPABILITY:
        return "capability_mismatch";
    case EKEY_E_INSUFFICIENT_CAP:
        return "insufficient_capability";
    case EKEY_E_REPLAY:
    case EKEY_E_JTI_REPLAY:
        return "replay_detected";
    case EKEY_E_STORE_FULL:
    case EKEY_E_STORE_UNAVAILABLE:
        return "replay_store_unavailable";
    case EKEY_E_JWK:
    case EKEY_E_KEY_FILE:
    case EKEY_E_INVALID_ARG:
    case EKEY_E_CRYPTO:
    case EKEY_E_INTERNAL:
    case EKEY_STATUS_COUNT:
        break;
    }
    /* Unknown values fail closed as a server error, never as success. */
    return "server_error";
}

#define NAME(s) [s] = #s
static const char *const status_names[] = {
    NAME(EKEY_OK),
    NAME(EKEY_E_NO_CREDENTIALS),
    NAME(EKEY_E_REQUEST),
    NAME(EKEY_E_TOO_LARGE),
    NAME(EKEY_E_FORMAT),
    NAME(EKEY_E_SCHEME),
    NAME(EKEY_E_BASE64),
    NAME(EKEY_E_JSON),
    NAME(EKEY_E_ALG),
    NAME(EKEY_E_TYP),
    NAME(EKEY_E_KID),
    NAME(EKEY_E_HEADER),
    NAME(EKEY_E_SIGNATURE),
    NAME(EKEY_E_CLAIMS),
    NAME(EKEY_E_ISSUER),
    NAME(EKEY_E_AUDIENCE),
    NAME(EKEY_E_LIFETIME),
    NAME(EKEY_E_CNF),
    NAME(EKEY_E_EXPIRED),
    NAME(EKEY_E_NOT_YET_VALID),
    NAME(EKEY_E_PROOF_MISSING),
    NAME(EKEY_E_PROOF),
    NAME(EKEY_E_PROOF_HTM),
    NAME(EKEY_E_PROOF_HTU),
    NAME(EKEY_E_PROOF_IAT),
    NAME(EKEY_E_PROOF_ATH),
    NAME(EKEY_E_PROOF_NONCE),
    NAME(EKEY_E_PROOF_JKT),
    NAME(EKEY_E_CERT_MISSING),
    NAME(EKEY_E_CERT_MISMATCH),
    NAME(EKEY_E_CAPABILITY),
    NAME(EKEY_E_INSUFFICIENT_CAP),
    NAME(EKEY_E_REPLAY),
    NAME(EKEY_E_JTI_REPLAY),
    NAME(EKEY_E_STORE_FULL),
    NAME(EKEY_E_STORE_UNAVAILABLE),
    NAME(EKEY_E_JWK),
    NAME(EKEY_E_KEY_FILE),
    NAME(EKEY_E_INVALID_ARG),
    NAME(EKEY_E_CRYPTO),
    NAME(EKEY_E_INTERNAL),
};
#undef NAME

/* A status added to the enum without a name here breaks the build, not the logs. */
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == EKEY_STATUS_COUNT,
               "status_names must name every ekey_status_t");

const char *ekey_status_name(ekey_status_t st)
{
    if ((unsigned)st >= (unsigned)EKEY_STATUS_COUNT || status_names[st] == NULL)
        return "EKEY_E_UNKNOWN";
    return status_names[st];
}
