/*
 * cap.c - the capability grammar (cap.action = METHOD ":" PATH), matching an action against
 * the request httpd routed, and the issuer's policy patterns.
 *
 * A capability path must already be in the normal form httpd routes on, so that a byte
 * comparison with r->uri is the whole truth (SECURITY-CASES CAP-03..CAP-11, CLM-16):
 *   - starts with "/", at most 2048 bytes for the whole action;
 *   - no "." or ".." segment, no "//", no backslash, no query or fragment, no control bytes;
 *   - characters: unreserved, "/", ":", "@", "!", "$", "&", "'", "(", ")", "+", "=" and
 *     percent-escapes. "*" (patterns), "," (lists: "POST:/a,GET:/b") and ";" (path
 *     parameters, "..;/" tricks) are refused although RFC 3986 allows them;
 *   - an escape is "%" and two UPPERCASE hex digits, never one that decodes to an unreserved
 *     character, "/", "\", NUL or another control byte (those have a single spelling), nor
 *     to ";": httpd decodes "%3B" into r->uri and mod_proxy forwards it as a literal ";",
 *     so the escape would name the "..;/" path the literal ban keeps out.
 * METHOD is an uppercase letter followed by uppercase letters or "-" (GET, POST,
 * VERSION-CONTROL ...), at most 32 bytes: methods are case-sensitive (RFC 9110 §9.1).
 *
 * httpd decodes the path into r->uri, so ekey_cap_match decodes the capability's escapes
 * before comparing: "/a%20b" covers the r->uri "/a b". Without escapes the comparison is a
 * plain byte comparison.
 */
#include <string.h>
#include <apr_strings.h>

#include "ekey.h"

#define CAP_MAX_LEN    2048
#define CAP_METHOD_MAX 32

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_uhex(int c) { return is_digit(c) || (c >= 'A' && c <= 'F'); }
static int hexval(int c) { return is_digit(c) ? c - '0' : c - 'A' + 10; }
static int is_unreserved(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
static int is_cap_char(int c)
{
    return is_unreserved(c) || (c != '\0' && strchr("/:@!$&'()+=", c) != NULL);
}

/* Length of a valid METHOD at the start of s (stops at ':'), or 0. */
static apr_size_t method_len(const char *s)
{
    apr_size_t n = 0;

    if (!(s[0] >= 'A' && s[0] <= 'Z'))
        return 0;
    while ((s[n] >= 'A' && s[n] <= 'Z') || (n > 0 && s[n] == '-'))
        n++;
    return (n <= CAP_METHOD_MAX && s[n] == ':') ? n : 0;
}

/* Checks a capability path of n bytes (see the file comment). */
static int path_ok(const char *s, apr_size_t n)
{
    apr_size_t i, seg = 0;

    if (n == 0 || s[0] != '/')
        return 0;
    for (i = 1; i <= n; i++) {
        if (i == n || s[i] == '/') {
            apr_size_t len = i - seg - 1;          /* segment after the '/' at seg */
            if ((len == 0 && i < n) || (len == 1 && s[seg + 1] == '.')
                || (len == 2 && s[seg + 1] == '.' && s[seg + 2] == '.'))
                return 0;                          /* "//", "/./", "/../" */
            seg = i;
        }
        else if (s[i] == '%') {
            int v;
            if (n - i < 3)
                return 0;
            if (!is_uhex(s[i + 1]) || !is_uhex(s[i + 2]))
                return 0;
            v = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            if (is_unreserved(v) || v == '/' || v == '\\' || v == ';' || v < 0x20
                || v == 0x7f)
                return 0;
            i += 2;
        }
        else if (!is_cap_char((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* A request path as httpd routes it (r->uri, already decoded): "/"-rooted, no dot segment,
 * no "//", no backslash, no ";" (however it was sent: no capability names one), no control
 * byte. Other bytes are compared as they are. */
static int request_path_ok(const char *s)
{
    apr_size_t i, seg = 0, n = strlen(s);

    if (n == 0 || s[0] != '/')
        return 0;
    for (i = 1; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == n || c == '/') {
            apr_size_t len = i - seg - 1;
            if ((len == 0 && i < n) || (len == 1 && s[seg + 1] == '.')
                || (len == 2 && s[seg + 1] == '.' && s[seg + 2] == '.'))
                return 0;
            seg = i;
        }
        else if (c < 0x20 || c == 0x7f || c == '\\' || c == ';') {
            return 0;
        }
    }
    return 1;
}

/* Validates action without allocating: *mlen = method length, *path after the colon. */
static int action_ok(const char *action, apr_size_t *mlen, const char **path)
{
    apr_size_t n, m;

    if (action == NULL)
        return 0;
    n = strlen(action);
    if (n > CAP_MAX_LEN || (m = method_len(action)) == 0)
        return 0;
    if (!path_ok(action + m + 1, n - m - 1))
        return 0;
    *mlen = m;
    *path = action + m + 1;
    return 1;
}

ekey_status_t ekey_cap_parse(const char **method, const char **path, apr_pool_t *p,
                             const char *action, ekey_error_t *err)
{
    apr_size_t m;
    const char *rest;

    if (method != NULL)
        *method = NULL;
    if (path != NULL)
        *path = NULL;
    if (method == NULL || path == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "cap", "no output or pool");
    if (action != NULL && strlen(action) > CAP_MAX_LEN)
        return ekey_error_set(err, EKEY_E_CLAIMS, "cap.action", "action longer than %d bytes",
                              CAP_MAX_LEN);
    if (!action_ok(action, &m, &rest))
        return ekey_error_set(err, EKEY_E_CLAIMS, "cap.action",
                              "action is not METHOD:/path in normal form");
    *method = apr_pstrmemdup(p, action, m);
    *path = apr_pstrdup(p, rest);
    return EKEY_OK;
}

/* Compares the capability path cp (valid, escapes decoded on the fly) with the routed path. */
static int path_equal(const char *cp, const char *uri)
{
    while (*cp != '\0') {
        int c = (unsigned char)*cp;
        if (c == '%') {
            c = hexval(cp[1]) * 16 + hexval(cp[2]);
            cp += 2;
        }
        if ((unsigned char)*uri != c)
            return 0;
        cp++;
        uri++;
    }
    return *uri == '\0';
}

ekey_status_t ekey_cap_match(const char *action, const char *method, const char *path,
                             ekey_error_t *err)
{
    apr_size_t m;
    const char *cp;

    if (!action_ok(action, &m, &cp))
        return ekey_error_set(err, EKEY_E_CAPABILITY, "cap.match", "capability is malformed");
    if (method == NULL || path == NULL || !request_path_ok(path))
        return ekey_error_set(err, EKEY_E_CAPABILITY, "cap.match",
                              "request path is not in normal form");
    if (strlen(method) != m || memcmp(method, action, m) != 0)
        return ekey_error_set(err, EKEY_E_CAPABILITY, "cap.method",
                              "request method is not the capability's");
    if (!path_equal(cp, path))
        return ekey_error_set(err, EKEY_E_CAPABILITY, "cap.path",
                              "request path is not the capability's");
    return EKEY_OK;
}

/* Pattern grammar: ("*" | METHOD) ":" PATH [ "/" "*" ]; PATH follows the action rules. A
 * trailing slash-star covers every path strictly below that segment boundary: "/a/" + star
 * covers "/a/b" and "/a/b/c", never "/a" nor "/a/". */
int ekey_cap_pattern_match(const char *pattern, const char *action)
{
    apr_size_t am, pm, plen;
    const char *ap, *pp;
    int any_method, subtree;

    if (pattern == NULL || !action_ok(action, &am, &ap) || strlen(pattern) > CAP_MAX_LEN)
        return 0;
    any_method = pattern[0] == '*' && pattern[1] == ':';
    pm = any_method ? 1 : method_len(pattern);
    if (pm == 0)
        return 0;
    pp = pattern + pm + 1;
    plen = strlen(pp);
    subtree = plen >= 2 && strcmp(pp + plen - 2, "/*") == 0;
    if (subtree)
        plen -= 1;                                  /* keep the "/" of the boundary */
    /* the pattern path must itself be valid (a lone "/" is the root of slash-star) */
    if (!(subtree && plen == 1) && !path_ok(pp, subtree ? plen - 1 : plen))
        return 0;
    if (!any_method && (am != pm || memcmp(action, pattern, pm) != 0))
        return 0;
    if (subtree)
        return strlen(ap) > plen && memcmp(ap, pp, plen) == 0;
    return strcmp(ap, pp) == 0;
}
