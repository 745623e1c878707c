/*
 * json_fast.c - a quick reader for the plain JSON objects that tokens, proofs and minting
 * requests are: ASCII strings, small integers, true, false, null, nested objects and arrays.
 *
 * jansson's json_loadb reads a byte at a time through a stream with UTF-8 checks and a
 * growing buffer per token: about 9 us for a 250-byte claims object, several times what
 * building the same values costs. This reader builds the same jansson values straight from
 * the buffer. It never refuses anything itself: whatever lies outside the subset below, or
 * is not valid JSON, answers NULL and json.c asks jansson, whose verdict and error message
 * then stand. So the reader can only differ from jansson by accepting a document jansson
 * would refuse, or by a different value; tests/fuzz/fuzz_json.c checks on every input that
 * what it accepts, jansson accepts with an equal value.
 *
 * The subset: the top level is an object; whitespace is space, tab, CR, LF; a string holds
 * bytes 0x20-0x7f and the escapes \" \\ \/ \b \f \n \r \t (not \u, nor any byte >= 0x80:
 * jansson decides on UTF-8); an integer is -?(0|[1-9][0-9]*) with at most 18 digits and no
 * fraction or exponent (those are jansson's reals); no duplicate member (jansson refuses
 * them with JSON_REJECT_DUPLICATES); nesting at most EKEY_MAX_JSON_DEPTH.
 */
#include <stdlib.h>
#include <string.h>

#include "ekey.h"
#include "ekey_cache.h"

#define FAST_MAX_DIGITS 18              /* < 2^63: no overflow check needed */

typedef struct {
    const char *s, *end;
    char *out;                          /* next free byte of the scratch */
} fast_t;

static json_t *value(fast_t *f, int depth);

static void skip_ws(fast_t *f)
{
    while (f->s < f->end && (*f->s == ' ' || *f->s == '\n' || *f->s == '\r' || *f->s == '\t'))
        f->s++;
}

static int next_is(fast_t *f, char c)
{
    skip_ws(f);
    if (f->s < f->end && *f->s == c) {
        f->s++;
        return 1;
    }
    return 0;
}

/* The string after an opening quote, decoded and NUL-terminated in the scratch; its length
 * in *n. A string of k decoded bytes spans at least k + 2 bytes of the document and takes
 * k + 1 of the scratch, so a scratch as long as the document never runs out, and every
 * string keeps its own bytes (a member's name stays valid while its value is read). */
static const char *string(fast_t *f, size_t *n)
{
    char *start = f->out, *o = f->out;
    unsigned char c;

    while (f->s < f->end) {
        c = (unsigned char)*f->s++;
        if (c == '"') {
            *o++ = '\0';
            *n = (size_t)(o - start - 1);
            f->out = o;
            return start;
        }
        if (c < 0x20 || c >= 0x80)
            return NULL;                /* control character (refused) or UTF-8: jansson */
        if (c == '\\') {
            if (f->s >= f->end)
                return NULL;
            switch (*f->s++) {
            case '"':  c = '"';  break;
            case '\\': c = '\\'; break;
            case '/':  c = '/';  break;
            case 'b':  c = '\b'; break;
            case 'f':  c = '\f'; break;
            case 'n':  c = '\n'; break;
            case 'r':  c = '\r'; break;
            case 't':  c = '\t'; break;
            default:   return NULL;     /* \u and invalid escapes: jansson */
            }
        }
        *o++ = (char)c;
    }
    return NULL;                        /* unterminated */
}

static json_t *integer(fast_t *f)
{
    const char *digit0;
    json_int_t v = 0;
    int neg = 0, digits = 0;

    if (*f->s == '-') {
        neg = 1;
        f->s++;
    }
    digit0 = f->s;
    while (f->s < f->end && *f->s >= '0' && *f->s <= '9') {
        if (++digits > FAST_MAX_DIGITS)
            return NULL;
        v = v * 10 + (*f->s++ - '0');
    }
    /* no digit, a leading zero, or a real number's fraction or exponent: jansson */
    if (digits == 0 || (digits > 1 && *digit0 == '0')
        || (f->s < f->end && (*f->s == '.' || *f->s == 'e' || *f->s == 'E')))
        return NULL;
    return json_integer(neg ? -v : v);
}

/* true, false or null */
static json_t *literal(fast_t *f, const char *word, size_t n, json_t *(*make)(void))
{
    if ((size_t)(f->end - f->s) < n || memcmp(f->s, word, n) != 0)
        return NULL;
    f->s += n;
    return make();
}

static json_t *make_true(void)  { return json_true(); }
static json_t *make_false(void) { return json_false(); }
static json_t *make_null(void)  { return json_null(); }

static json_t *object(fast_t *f, int depth)
{
    json_t *o = json_object(), *v;
    const char *key;
    size_t n;

    if (o == NULL)
        return NULL;
    if (next_is(f, '}'))
        return o;
    do {
        /* a name with \u0000 cannot occur (no \u here); a repeated name is jansson's to refuse */
        if (!next_is(f, '"') || (key = string(f, &n)) == NULL || json_object_get(o, key) != NULL
            || !next_is(f, ':') || (v = value(f, depth)) == NULL)
            goto fail;
        if (json_object_set_new_nocheck(o, key, v) != 0)
            goto fail;
    } while (next_is(f, ','));
    if (next_is(f, '}'))
        return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *array(fast_t *f, int depth)
{
    json_t *a = json_array(), *v;

    if (a == NULL)
        return NULL;
    if (next_is(f, ']'))
        return a;
    do {
        if ((v = value(f, depth)) == NULL || json_array_append_new(a, v) != 0)
            goto fail;
    } while (next_is(f, ','));
    if (next_is(f, ']'))
        return a;
fail:
    json_decref(a);
    return NULL;
}

/* One value and the whitespace before it; depth counts the objects and arrays around it.
 * What follows a value must be ',', '}' or ']', which the caller checks: "truex" and "1a"
 * decline there, as jansson refuses them. */
static json_t *value(fast_t *f, int depth)
{
    const char *str;
    size_t n;

    skip_ws(f);
    if (f->s >= f->end)
        return NULL;
    switch (*f->s) {
    case '{':
    case '[':
        if (depth >= EKEY_MAX_JSON_DEPTH)
            return NULL;
        f->s++;
        return f->s[-1] == '{' ? object(f, depth + 1) : array(f, depth + 1);
    case '"':
        f->s++;
        return (str = string(f, &n)) != NULL ? json_stringn_nocheck(str, n) : NULL;
    case 't':
        return literal(f, "true", 4, make_true);
    case 'f':
        return literal(f, "false", 5, make_false);
    case 'n':
        return literal(f, "null", 4, make_null);
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
    case '8': case '9':
        return integer(f);
    default:
        return NULL;
    }
}

json_t *ekey_json_fast(const char *buf, apr_size_t len)
{
    fast_t f;
    char *scratch;
    json_t *j = NULL;

    if (buf == NULL || len == 0 || (scratch = malloc(len)) == NULL)
        return NULL;
    f.s = buf;
    f.end = buf + len;
    f.out = scratch;
    if (next_is(&f, '{')) {
        j = object(&f, 1);
        skip_ws(&f);
        if (j != NULL && f.s != f.end) {    /* trailing data: jansson */
            json_decref(j);
            j = NULL;
        }
    }
    free(scratch);
    return j;
}
