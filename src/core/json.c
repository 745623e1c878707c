/*
 * json.c - strict jansson parsing and typed getters.
 *
 * jansson is used with JSON_REJECT_DUPLICATES (the issuer and a verifier must never see
 * different values for one member) and without JSON_ALLOW_NUL, JSON_DECODE_ANY and
 * JSON_DISABLE_EOF_CHECK. Depth is bounded by a cheap scan before jansson ever recurses.
 */
#include <string.h>

#include <apr_strings.h>

#include "ekey.h"
#include "ekey_cache.h"

#define DUMP_GUESS 2048             /* bytes: an answer with its token fits */

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *ekey_json_own(apr_pool_t *p, json_t *j)
{
    if (j != NULL)
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    return j;
}

/* Rejects NUL bytes and nesting deeper than EKEY_MAX_JSON_DEPTH. Brackets inside strings do
 * not count; jansson delimits strings the same way or fails, so the scan never counts
 * fewer levels than jansson would enter. */
static const char *prescan(const char *buf, apr_size_t len)
{
    apr_size_t i;
    int depth = 0, in_str = 0;

    for (i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\0')
            return "NUL byte";
        if (in_str) {
            if (c == '\\')
                i++;                  /* skip the escaped character */
            else if (c == '"')
                in_str = 0;
        }
        else if (c == '"') {
            in_str = 1;
        }
        else if (c == '{' || c == '[') {
            if (++depth > EKEY_MAX_JSON_DEPTH)
                return "nested too deeply";
        }
        else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return NULL;
}

static const char *jerr_class(const json_error_t *je)
{
    /* Only the class and the offset: jansson's text quotes the input near the error. */
    switch (json_error_code(je)) {
    case json_error_duplicate_key:
        return "duplicate member";
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_end_of_input_expected:
        return "trailing data";
    case json_error_premature_end_of_input:
        return "truncated";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL character";
    case json_error_numeric_overflow:
        return "number out of range";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_out_of_memory:
        return "out of memory";
    default:
        return "invalid syntax";
    }
}

ekey_status_t ekey_json_parse(json_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                              apr_size_t max_len, ekey_error_t *err)
{
    json_error_t je;
    json_t *j;
    const char *why;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || (buf == NULL && len > 0))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "json.parse", "missing argument");
    if (max_len == 0)
        max_len = EKEY_MAX_TOKEN_LEN;
    if (len > max_len)
        return ekey_error_set(err, EKEY_E_TOO_LARGE, "json.parse",
                              "%" APR_SIZE_T_FMT " bytes, limit %" APR_SIZE_T_FMT,
                              len, max_len);
    /* The common documents without jansson's byte-by-byte lexer (json_fast.c): what it
     * accepts has no NUL and no nesting beyond the limit, so the prescan, which guards
     * jansson's recursion, runs only for the rest, and every refusal stays jansson's. */
    if ((j = ekey_json_fast(buf, len)) == NULL) {
        if ((why = prescan(buf, len)) != NULL)
            return ekey_error_set(err, EKEY_E_JSON, "json.parse", "%s", why);
        j = json_loadb(buf != NULL ? buf : "", len, JSON_REJECT_DUPLICATES, &je);
    }
    if (j == NULL)
        return ekey_error_set(err, EKEY_E_JSON, "json.parse", "%s at byte %d",
                              jerr_class(&je), je.position);
    if (!json_is_object(j)) {
        json_decref(j);
        return ekey_error_set(err, EKEY_E_JSON, "json.parse", "not a JSON object");
    }
    *out = ekey_json_own(p, j);
    return EKEY_OK;
}

/* Shared front half of the getters: the member, or NULL with the status to return. */
static json_t *member(ekey_status_t *st_out, json_t *obj, const char *key, int required,
                      ekey_status_t st, ekey_error_t *err)
{
    json_t *v;

    *st_out = EKEY_OK;
    if (key == NULL || !json_is_object(obj)) {
        *st_out = ekey_error_set(err, st, "json.get", "not an object");
        return NULL;
    }
    v = json_object_get(obj, key);
    if (v == NULL && required)
        *st_out = ekey_error_set(err, st, "json.get", "member \"%.64s\" missing", key);
    return v;
}

ekey_status_t ekey_json_get_string(const char **out, json_t *obj, const char *key,
                                   int required, ekey_status_t st, ekey_error_t *err)
{
    ekey_status_t rv;
    json_t *v;

    if (out == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "json.get", "missing argument");
    *out = NULL;
    if ((v = member(&rv, obj, key, required, st, err)) == NULL)
        return rv;
    /* A string built in code could hold a NUL; one from our parser cannot. */
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return ekey_error_set(err, st, "json.get", "member \"%.64s\" is not a string", key);
    *out = json_string_value(v);
    return EKEY_OK;
}

ekey_status_t ekey_json_get_int(apr_int64_t *out, int *present, json_t *obj, const char *key,
                                int required, ekey_status_t st, ekey_error_t *err)
{
    ekey_status_t rv;
    json_t *v;

    if (present != NULL)
        *present = 0;
    if (out == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "json.get", "missing argument");
    if ((v = member(&rv, obj, key, required, st, err)) == NULL) {
        if (rv != EKEY_OK)
            *out = 0;
        return rv;
    }
    /* json_is_integer only: 1.0 and 1.5 are reals, "1" a string, true a boolean. */
    if (!json_is_integer(v)) {
        *out = 0;
        return ekey_error_set(err, st, "json.get", "member \"%.64s\" is not an integer", key);
    }
    *out = (apr_int64_t)json_integer_value(v);
    if (present != NULL)
        *present = 1;
    return EKEY_OK;
}

ekey_status_t ekey_json_get_object(json_t **out, json_t *obj, const char *key,
                                   int required, ekey_status_t st, ekey_error_t *err)
{
    ekey_status_t rv;
    json_t *v;

    if (out == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "json.get", "missing argument");
    *out = NULL;
    if ((v = member(&rv, obj, key, required, st, err)) == NULL)
        return rv;
    if (!json_is_object(v))
        return ekey_error_set(err, st, "json.get", "member \"%.64s\" is not an object", key);
    *out = v;
    return EKEY_OK;
}

char *ekey_json_dump(apr_pool_t *p, const json_t *j)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
    size_t n, m, guess = DUMP_GUESS;
    char *buf;

    if (j == NULL)
        return NULL;
    /* Straight into pool memory (no malloc'd copy to free), in one pass when the text fits
     * the first guess: the issuer dumps a header, a payload and an answer per mint, and
     * json_dumpb's sizing pass would double the encoding work. */
    buf = apr_palloc(p, guess + 1);
    n = json_dumpb(j, buf, guess, flags);
    if (n == 0)
        return NULL;
    if (n > guess) {
        buf = apr_palloc(p, n + 1);
        m = json_dumpb(j, buf, n, flags);
        if (m != n)
            return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not one jansson accepts: no
 * overlong forms, no surrogates, nothing above U+10FFFF (jansson's utf8_check rules). */
static apr_size_t utf8_len(const unsigned char *s)
{
    apr_size_t n, i;
    apr_uint32_t v;

    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xC2)
        return 0;                       /* continuation byte or overlong 2-byte lead */
    n = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : s[0] < 0xF5 ? 4 : 0;
    if (n == 0)
        return 0;
    v = s[0] & (0x7F >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)      /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF
        || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return n;
}

char *ekey_json_quote(apr_pool_t *p, const char *in)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)in, *run;
    apr_size_t n, o = 0, len;
    char *out;

    if (in == NULL)
        return NULL;
    len = strlen(in);
    out = apr_palloc(p, len * 6 + 3);   /* worst case: every byte as \u00XX */
    out[o++] = '"';
    while (*s) {
        /* a run of plain ASCII goes in one copy: a whole token or thumbprint usually */
        for (run = s; *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\'; s++)
            ;
        memcpy(out + o, run, (apr_size_t)(s - run));
        o += (apr_size_t)(s - run);
        if (*s == '\0')
            break;
        if ((n = utf8_len(s)) == 0)
            return NULL;
        if (n > 1) {
            memcpy(out + o, s, n);
            o += n;
            s += n;
            continue;
        }
        out[o++] = '\\';
        switch (*s) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '\b': out[o++] = 'b'; break;
        case '\f': out[o++] = 'f'; break;
        case '\n': out[o++] = 'n'; break;
        case '\r': out[o++] = 'r'; break;
        case '\t': out[o++] = 't'; break;
        default:
            memcpy(out + o, "u00", 3);
            out[o + 3] = hex[*s >> 4];
            out[o + 4] = hex[*s & 0xF];
            o += 5;
        }
        s++;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
