/*
 * spiffe.c - the SPIFFE ID grammar (spiffe/standards, SPIFFE-ID.md §2), for the URI SAN of an
 * X.509-SVID that the verifier hands to backends and compares with `sub`.
 *
 *   spiffe-id    = "spiffe://" trust-domain *( "/" segment )
 *   trust-domain = 1*255( %x61-7A / DIGIT / "." / "-" / "_" )    ; lowercase only
 *   segment      = 1*( ALPHA / DIGIT / "." / "-" / "_" ), but not "." or ".."
 *
 * No port, userinfo, query, fragment, percent-encoding, empty segment or trailing "/", at
 * most 2048 bytes. A URI outside this is no SPIFFE ID at all: "SPIFFE://", "spiffe://a@b",
 * "spiffe://td/x?y" would each read as another identity to some backend.
 */
#include <string.h>

#include "ekey.h"

#define SPIFFE_MAX      2048
#define TRUST_DOMAIN_MAX 255

static int td_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int seg_char(int c)
{
    return td_char(c) || (c >= 'A' && c <= 'Z');
}

int ekey_spiffe_id_valid(const char *s, apr_size_t n)
{
    apr_size_t i = 9, start;

    if (s == NULL || n <= 9 || n > SPIFFE_MAX || memcmp(s, "spiffe://", 9) != 0)
        return 0;
    for (start = i; i < n && s[i] != '/'; i++)
        if (!td_char((unsigned char)s[i]))
            return 0;
    if (i == start || i - start > TRUST_DOMAIN_MAX)
        return 0;
    while (i < n) {                             /* at a "/" */
        for (start = ++i; i < n && s[i] != '/'; i++)
            if (!seg_char((unsigned char)s[i]))
                return 0;
        if (i == start || (i - start == 1 && s[start] == '.')
            || (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
            return 0;                           /* "//", trailing "/", "/./", "/../" */
    }
    return 1;
}
