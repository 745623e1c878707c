/*
 * url.c - RFC 3986 §6.2.2 normalisation of http(s) URLs for the DPoP htu comparison, and of
 * the configured public origin.
 *
 * The normal form is: lowercase scheme and host, no default port (80/443), percent-encoding
 * with uppercase hex, unreserved characters decoded, "/" for an empty path, no query and no
 * fragment (RFC 9449 §4.3 check 9 compares without them). Anything that is not a plain
 * absolute http(s) URL is refused rather than repaired: userinfo, other schemes, relative and
 * scheme-relative forms, malformed escapes, control characters, spaces, non-ASCII bytes (IRIs,
 * homoglyph hosts), backslashes, and "." / ".." path segments (literal or encoded), because a
 * path that needs dot removal is never the path httpd routed, and removing them here would
 * turn "/%2e%2e/payments" into "/payments" (SECURITY-CASES HTU-08, HTU-09).
 */
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <apr_strings.h>

#include "ekey.h"

#define URL_MAX_LEN 8192            /* far above any proof limit; bounds the work */

typedef struct {
    int https;                      /* 1: https, 0: http */
    const char *host;               /* host (IPv6 literal with brackets), as given */
    apr_size_t host_len;
    unsigned port;                  /* 0 when absent or empty */
    const char *path;               /* "" or starting with "/" */
    apr_size_t path_len;
    int has_query;                  /* '?' or '#' followed the path */
} url_parts_t;

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }
static int upper(int c) { return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c; }
static int hexval(int c)
{
    return is_digit(c) ? c - '0' : lower(c) - 'a' + 10;
}
static int is_unreserved(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
/* pchar (RFC 3986 §3.3) minus pct-encoded, plus "/". */
static int is_path_char(int c)
{
    return is_unreserved(c) || (c != '\0' && strchr("/:@!$&'()*+,;=", c) != NULL);
}

static ekey_status_t bad(ekey_error_t *err, const char *where, const char *why)
{
    return ekey_error_set(err, EKEY_E_INVALID_ARG, where, "%s", why);
}

/* Scheme "http" or "https" (any case) followed by "://". */
static ekey_status_t parse_scheme(url_parts_t *u, const char **s, ekey_error_t *err)
{
    const char *c = *s;

    if (strncasecmp(c, "https://", 8) == 0) {
        u->https = 1;
        *s = c + 8;
    }
    else if (strncasecmp(c, "http://", 7) == 0) {
        u->https = 0;
        *s = c + 7;
    }
    else {
        return bad(err, "url.scheme", "not an absolute http or https URL");
    }
    return EKEY_OK;
}

static ekey_status_t parse_port(url_parts_t *u, const char *c, const char *end,
                                ekey_error_t *err)
{
    unsigned long v = 0;

    if (c == end)                   /* "host:" means the default port (RFC 3986 §6.2.3) */
        return EKEY_OK;
    /* the port is its number: "05100" and "005100" are 5100 alike (a bounded URL bounds
     * the zeros) */
    while (end - c > 1 && *c == '0')
        c++;
    if (end - c > 5)
        return bad(err, "url.port", "port out of range");
    for (; c < end; c++) {
        if (!is_digit(*c))
            return bad(err, "url.port", "port is not a number");
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v == 0 || v > 65535)
        return bad(err, "url.port", "port out of range");
    u->port = (unsigned)v;
    return EKEY_OK;
}

/* IPv6 literal "[...]" (no zone id); validated with inet_pton. */
static ekey_status_t parse_ipv6(const char *c, const char *close, ekey_error_t *err)
{
    char buf[64];
    unsigned char addr[16];
    apr_size_t n = (apr_size_t)(close - c - 1);

    if (n == 0 || n >= sizeof(buf))
        return bad(err, "url.host", "malformed IPv6 literal");
    memcpy(buf, c + 1, n);
    buf[n] = '\0';
    if (strspn(buf, "0123456789abcdefABCDEF:.") != n || inet_pton(AF_INET6, buf, addr) != 1)
        return bad(err, "url.host", "malformed IPv6 literal");
    return EKEY_OK;
}

/* authority = host [ ":" port ], no userinfo; ends at "/", "?", "#" or the end. */
static ekey_status_t parse_authority(url_parts_t *u, const char **s, ekey_error_t *err)
{
    const char *c = *s, *end = c + strcspn(c, "/?#"), *h;
    ekey_status_t st;

    if (memchr(c, '@', (apr_size_t)(end - c)) != NULL)
        return bad(err, "url.userinfo", "userinfo is not allowed");
    if (*c == '[') {
        const char *close = memchr(c, ']', (apr_size_t)(end - c));
        if (close == NULL || (st = parse_ipv6(c, close, err)) != EKEY_OK)
            return close == NULL ? bad(err, "url.host", "malformed IPv6 literal") : st;
        h = close + 1;
        if (h != end && *h != ':')
            return bad(err, "url.host", "malformed IPv6 literal");
    }
    else {
        for (h = c; h < end && *h != ':'; h++)
            if (!is_alpha(*h) && !is_digit(*h) && *h != '-' && *h != '.' && *h != '_')
                return bad(err, "url.host", "character not allowed in host");
        if (h == c)
            return bad(err, "url.host", "empty host");
    }
    u->host = c;
    u->host_len = (apr_size_t)(h - c);
    if (h != end && (st = parse_port(u, h + 1, end, err)) != EKEY_OK)
        return st;
    *s = end;
    return EKEY_OK;
}

/* Splits and checks url; every byte must be visible ASCII and no backslash. */
static ekey_status_t parse_url(url_parts_t *u, const char *url, ekey_error_t *err)
{
    const char *s = url;
    apr_size_t i, n;
    ekey_status_t st;

    memset(u, 0, sizeof(*u));
    if (url == NULL)
        return bad(err, "url", "no URL");
    n = strlen(url);
    if (n > URL_MAX_LEN)
        return bad(err, "url", "URL too long");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return bad(err, "url", "control character, space, backslash or non-ASCII byte");
    }
    if ((st = parse_scheme(u, &s, err)) != EKEY_OK
        || (st = parse_authority(u, &s, err)) != EKEY_OK)
        return st;
    u->path = s;
    u->path_len = strcspn(s, "?#");
    u->has_query = s[u->path_len] != '\0';
    return EKEY_OK;
}

/* 1 if the segment [b, e) of a normalised path is "." or "..". */
static int dot_segment(const char *b, const char *e)
{
    return (e - b == 1 && b[0] == '.') || (e - b == 2 && b[0] == '.' && b[1] == '.');
}

/* Writes the normalised path of u into out (room for path_len + 2 bytes: the normal form
 * is never longer than its input, and "" becomes "/"). */
static ekey_status_t norm_path(char *out, const url_parts_t *u, ekey_error_t *err)
{
    const char *c = u->path, *end = u->path + u->path_len;
    char *o = out, *seg = out;

    if (c == end) {                 /* empty path is "/" (RFC 3986 §6.2.3) */
        strcpy(out, "/");
        return EKEY_OK;
    }
    for (; c <= end; c++) {
        if (c == end || *c == '/') {
            if (o > out && dot_segment(seg + 1, o))
                return bad(err, "url.path", "dot segment in path");
            if (c == end)
                break;
            seg = o;
            *o++ = '/';
        }
        else if (*c == '%') {
            int v;
            if (end - c < 3)
                return bad(err, "url.path", "truncated percent-encoding");
            if (!is_hex(c[1]) || !is_hex(c[2]))
                return bad(err, "url.path", "malformed percent-encoding");
            v = hexval(c[1]) * 16 + hexval(c[2]);
            if (is_unreserved(v)) {
                *o++ = (char)v;
            }
            else {
                *o++ = '%';
                *o++ = (char)upper(c[1]);
                *o++ = (char)upper(c[2]);
            }
            c += 2;
        }
        else if (is_path_char(*c)) {
            *o++ = *c;
        }
        else {
            return bad(err, "url.path", "character not allowed in path");
        }
    }
    *o = '\0';
    return EKEY_OK;
}

/* "scheme://host[:port]" in normal form, from p. */
static char *origin_string(apr_pool_t *p, const url_parts_t *u)
{
    char *host = apr_pstrmemdup(p, u->host, u->host_len), *h;
    unsigned dflt = u->https ? 443 : 80;

    for (h = host; *h; h++)
        *h = (char)lower(*h);
    if (u->port == 0 || u->port == dflt)
        return apr_pstrcat(p, u->https ? "https://" : "http://", host, NULL);
    return apr_psprintf(p, "%s://%s:%u", u->https ? "https" : "http", host, u->port);
}

ekey_status_t ekey_url_normalize(char **out, apr_pool_t *p, const char *url,
                                 ekey_error_t *err)
{
    url_parts_t u;
    char *path;
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return bad(err, "url", "no output or pool");
    *out = NULL;
    if ((st = parse_url(&u, url, err)) != EKEY_OK)
        return st;
    path = apr_palloc(p, u.path_len + 2);
    if ((st = norm_path(path, &u, err)) != EKEY_OK)
        return st;
    *out = apr_pstrcat(p, origin_string(p, &u), path, NULL);
    return EKEY_OK;
}

ekey_status_t ekey_origin_normalize(char **out, apr_pool_t *p, const char *origin,
                                    ekey_error_t *err)
{
    url_parts_t u;
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return bad(err, "origin", "no output or pool");
    *out = NULL;
    if ((st = parse_url(&u, origin, err)) != EKEY_OK)
        return st;
    /* A lone trailing "/" is tolerated (admins write it); any other path is not. */
    if (u.has_query || !(u.path_len == 0 || (u.path_len == 1 && u.path[0] == '/')))
        return bad(err, "origin", "an origin has no path, query or fragment");
    *out = origin_string(p, &u);
    return EKEY_OK;
}
