/*
 * http.c - the Authorization field framing: `EKey` 1*SP token68 (RFC 9110 §11.4), nothing
 * else, and never "first one wins".
 *
 * Outcomes, in the order they are decided:
 *   - no value, or an empty one                        -> EKEY_E_NO_CREDENTIALS
 *   - a comma anywhere: httpd merged repeated fields   -> EKEY_E_REQUEST (HDR-02/03/04)
 *     (a lone Digest credential also has commas; it is refused as ambiguous too)
 *   - a scheme other than EKey (Bearer, DPoP, Basic)  -> EKEY_E_NO_CREDENTIALS
 *   - "EKey" not followed by SP (TAB, ":"), only
 *     spaces after it, or a second word after the token -> EKEY_E_REQUEST (malformed framing)
 *   - token68 longer than max_len                      -> EKEY_E_TOO_LARGE (before its bytes
 *     are looked at)
 *   - token bytes outside the JWS compact alphabet
 *     A-Z a-z 0-9 "-" "_" "." (token68's "+", "/",
 *     "~", "=" and non-ASCII included)                 -> EKEY_E_FORMAT (HDR-11, HDR-16)
 * "EKey<T>" without a space is one unknown scheme word, so it is "another scheme".
 *
 * Downgrade (SECURITY-CASES HDR-05, HDR-06): an E-Key sent as `Bearer <T>` or `DPoP <T>` gives
 * EKEY_E_NO_CREDENTIALS here - this module never interprets a foreign scheme. The glue must
 * then tell the two cases apart: no Authorization field at all -> 401 with the bare challenge
 * (RFC 6750 §3.1); an Authorization field with a foreign scheme at an EKey location -> 401
 * with error="invalid_token" (a bound token presented as a bearer token is an invalid token,
 * RFC 9449 §7.2), and the foreign credential is never verified or forwarded as accepted.
 */
#include <string.h>

#include <apr_strings.h>

#include "ekey.h"

static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_jws_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_' || c == '.';
}

static int is_ekey_scheme(const char *s, apr_size_t n)
{
    static const char want[] = "ekey";
    apr_size_t i;

    if (n != 4)
        return 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != want[i])
            return 0;
    }
    return 1;
}

ekey_status_t ekey_http_parse_authorization(const char **token, apr_size_t *len,
                                            const char *value, apr_size_t max_len,
                                            ekey_error_t *err)
{
    const char *s, *end, *tok;
    apr_size_t n, i;

    if (token == NULL || len == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "http.authorization", "no output");
    *token = NULL;
    *len = 0;
    if (max_len == 0)
        max_len = EKEY_MAX_TOKEN_LEN;
    if (value == NULL)
        return ekey_error_set(err, EKEY_E_NO_CREDENTIALS, "http.authorization",
                              "no Authorization field");
    /* field values carry no surrounding OWS (RFC 9110 §5.5); httpd strips it, we do too */
    for (s = value; *s == ' ' || *s == '\t'; s++)
        ;
    for (end = s + strlen(s); end > s && (end[-1] == ' ' || end[-1] == '\t'); end--)
        ;
    if (s == end)
        return ekey_error_set(err, EKEY_E_NO_CREDENTIALS, "http.authorization",
                              "empty Authorization field");
    if (memchr(s, ',', (apr_size_t)(end - s)) != NULL)
        return ekey_error_set(err, EKEY_E_REQUEST, "http.authorization",
                              "several credentials (repeated Authorization fields)");
    for (n = 0; s + n < end && is_tchar((unsigned char)s[n]); n++)
        ;
    if (n == 0)
        return ekey_error_set(err, EKEY_E_REQUEST, "http.authorization", "no auth-scheme");
    if (!is_ekey_scheme(s, n))
        return ekey_error_set(err, EKEY_E_NO_CREDENTIALS, "http.authorization",
                              "not the EKey scheme");
    tok = s + n;
    if (tok == end || *tok != ' ')
        return ekey_error_set(err, EKEY_E_REQUEST, "http.authorization",
                              tok == end ? "EKey without a token" : "EKey not followed by SP");
    while (tok < end && *tok == ' ')
        tok++;
    n = (apr_size_t)(end - tok);
    if (memchr(tok, ' ', n) != NULL || memchr(tok, '\t', n) != NULL)
        return ekey_error_set(err, EKEY_E_REQUEST, "http.authorization",
                              "more than one token after EKey");
    if (n > max_len)
        return ekey_error_set(err, EKEY_E_TOO_LARGE, "http.authorization",
                              "token longer than %lu bytes", (unsigned long)max_len);
    for (i = 0; i < n; i++)
        if (!is_jws_char((unsigned char)tok[i]))
            return ekey_error_set(err, EKEY_E_FORMAT, "http.authorization",
                                  "character outside the JWS compact alphabet");
    *token = tok;
    *len = n;
    return EKEY_OK;
}

/* One directive of a Cache-Control list: [start, end) trimmed, with its name's length. A
 * quoted-string argument may hold commas (private="a, b"); *open is set when a quote is not
 * closed by the end of the value. */
static const char *next_directive(const char *s, const char **start, const char **end,
                                  apr_size_t *name_len, int *open)
{
    int quoted = 0;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    *start = s;
    for (; *s != '\0' && (quoted || *s != ','); s++) {
        if (quoted && *s == '\\' && s[1] != '\0')
            s++;
        else if (*s == '"')
            quoted = !quoted;
    }
    *end = s;
    *open |= quoted;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
    for (*name_len = 0; *start + *name_len < *end && (*start)[*name_len] != '='
                        && (*start)[*name_len] != ' ' && (*start)[*name_len] != '\t';
         (*name_len)++)
        ;
    return s;
}

static int named(const char *d, apr_size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(d, name, n) == 0;
}

const char *ekey_http_private_cache_control(apr_pool_t *p, const char *value)
{
    const char *s = value, *d, *e;
    char *out, *o;
    apr_size_t n;
    int changed = 0, closed = 0, open = 0;

    if (value == NULL)
        return "private";
    /* each directive is written with ", " before it: at most twice the value, "a,b" */
    o = out = apr_palloc(p, 2 * strlen(value) + sizeof(", private"));
    while (*s != '\0') {
        s = next_directive(s, &d, &e, &n, &open);
        if (open)                       /* a quote never closed: no telling what it says */
            return "private";
        if (d == e)
            continue;
        if (named(d, n, "public") || named(d, n, "s-maxage")) {
            changed = 1;
            continue;
        }
        /* private="Set-Cookie" hides those fields only: the rest may still be stored */
        closed |= (named(d, n, "private") && d + n == e) || named(d, n, "no-store");
        if (o != out) {
            memcpy(o, ", ", 2);
            o += 2;
        }
        memcpy(o, d, (apr_size_t)(e - d));
        o += e - d;
    }
    if (!closed) {
        memcpy(o, o != out ? ", private" : "private", o != out ? 9 : 7);
        o += o != out ? 9 : 7;
        changed = 1;
    }
    *o = '\0';
    return changed ? out : NULL;
}
