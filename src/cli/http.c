/*
 * http.c - one HTTP exchange through libcurl's easy interface, with the TLS options of every
 * subcommand and a -v trace that never shows a whole token or proof.
 *
 * No redirects: a DPoP proof names one URL, and following a Location would hand the token
 * to wherever the server points. Only http and https.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "cli.h"

#define CONNECT_TIMEOUT 10L

#if CURL_ERROR_SIZE > CLI_ERRBUF_SIZE
#error "CLI_ERRBUF_SIZE is smaller than libcurl's CURL_ERROR_SIZE"
#endif

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int too_big;
    apr_table_t *headers;
    int verbose;
} sink_t;

int cli_http_option(cli_http_opts_t *o, int opt, const char *arg, int *rc)
{
    apr_int64_t n;

    switch (opt) {
    case CLI_OPT_CACERT: o->cacert = arg; return 1;
    case CLI_OPT_CERT: o->cert = arg; return 1;
    case CLI_OPT_CERTKEY: o->cert_key = arg; return 1;
    case CLI_OPT_INSECURE: o->insecure = 1; return 1;
    case CLI_OPT_TIMEOUT:
        if (cli_parse_int(&n, arg, 1, 3600) != 0)
            *rc = cli_fail(CLI_USAGE, "--timeout: seconds in 1..3600 expected, not '%s'", arg);
        o->timeout = (long)n;
        return 1;
    default:
        return 0;
    }
}

/* A named file that cannot be read is a local problem, found before any exchange. */
static int readable(const char *opt, const char *path)
{
    struct stat sb;

    if (path == NULL)
        return CLI_OK;
    if (stat(path, &sb) != 0 || access(path, R_OK) != 0)
        return cli_fail(CLI_USAGE, "%s: cannot read %s: %s", opt, path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return cli_fail(CLI_USAGE, "%s: %s is not a file", opt, path);
    return CLI_OK;
}

int cli_http_opts_done(cli_http_opts_t *o)
{
    int rc;

    if (o->cert_key != NULL && o->cert == NULL)
        return cli_fail(CLI_USAGE, "--cert-key needs --cert");
    if ((rc = readable("--cacert", o->cacert)) != CLI_OK
        || (rc = readable("--cert", o->cert)) != CLI_OK
        || (rc = readable("--cert-key", o->cert_key)) != CLI_OK)
        return rc;
    if (o->timeout == 0)
        o->timeout = 30;
    if (o->insecure)
        cli_note("warning: --insecure: the server's TLS certificate is not checked");
    return CLI_OK;
}

void cli_http_global(int init)
{
    if (init)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    else
        curl_global_cleanup();
}

static apr_status_t free_body(void *ctx)
{
    sink_t *s = ctx;

    free(s->buf);
    s->buf = NULL;
    return APR_SUCCESS;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    sink_t *s = ctx;
    apr_size_t add = size * n;
    char *bigger;

    if (s->len + add > s->max) {
        s->too_big = 1;
        return 0;                      /* aborts the transfer */
    }
    if (s->len + add + 1 > s->cap) {
        apr_size_t cap = s->cap;

        while (s->len + add + 1 > cap)
            cap = cap ? 2 * cap : 8192;
        /* one heap block that grows in place (a pool keeps every smaller copy: twice the
         * answer); freed with the pool */
        if ((bigger = realloc(s->buf, cap)) == NULL)
            return 0;                  /* aborts the transfer */
        if (s->buf == NULL)
            apr_pool_cleanup_register(s->p, s, free_body, apr_pool_cleanup_null);
        s->buf = bigger;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* Header lines of the final response only: a new status line starts over. */
static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    sink_t *s = ctx;
    apr_size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    char *name, *value, *end;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
        apr_table_clear(s->headers);
    else if (colon != NULL) {
        name = apr_pstrndup(s->p, data, (apr_size_t)(colon - data));
        value = apr_pstrndup(s->p, colon + 1, len - (apr_size_t)(colon + 1 - data));
        while (*value == ' ' || *value == '\t')
            value++;
        for (end = value + strlen(value); end > value && (end[-1] == '\r' || end[-1] == '\n'
                                                          || end[-1] == ' '); end--)
            end[-1] = '\0';
        apr_table_add(s->headers, name, value);
    }
    return len;
}

/* Fields whose values are credentials: abbreviated under -v. */
static int secret_field(const char *name, apr_size_t n)
{
    static const char *const names[] = { "Authorization", "Proxy-Authorization", "DPoP",
                                         "Cookie", "Set-Cookie", NULL };
    int i;

    for (i = 0; names[i] != NULL; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
            return 1;
    return 0;
}

/* -v: header blocks line by line, printable, with credential values abbreviated. */
static void trace_headers(apr_pool_t *p, const char *mark, const char *data, size_t len)
{
    const char *line = data, *end = data + len, *nl, *colon, *v;
    apr_size_t n, name_len;
    int scheme;

    for (; line < end; line = nl + 1) {
        if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
            nl = end;
        n = (apr_size_t)(nl - line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        colon = memchr(line, ':', n);
        name_len = colon != NULL ? (apr_size_t)(colon - line) : 0;
        if (colon != NULL && secret_field(line, name_len)) {
            for (v = colon + 1; v < line + n && *v == ' '; v++)
                ;
            /* the scheme name stays readable: "EKey ", "Basic " */
            for (scheme = 0; v + scheme < line + n && scheme < 16
                             && v[scheme] != ' ' && v[scheme] != '='; scheme++)
                ;
            scheme = v + scheme < line + n && v[scheme] == ' ' ? scheme + 1 : 0;
            fprintf(stderr, "%s %s: %s%s\n", mark, cli_printable(p, line, name_len, 0),
                    cli_printable(p, v, (apr_size_t)scheme, 0),
                    cli_abbrev(p, apr_pstrndup(p, v + scheme,
                                               (apr_size_t)(line + n - v) - scheme)));
        }
        else
            fprintf(stderr, "%s %s\n", mark, cli_printable(p, line, n, 0));
    }
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t len, void *ctx)
{
    sink_t *s = ctx;

    (void)h;
    if (type == CURLINFO_HEADER_OUT)
        trace_headers(s->p, ">", data, len);
    else if (type == CURLINFO_HEADER_IN)
        trace_headers(s->p, "<", data, len);
    else if (type == CURLINFO_TEXT)
        fprintf(stderr, "* %s", cli_printable(s->p, data, len, 1));
    return 0;
}

static apr_status_t cleanup_easy(void *h)
{
    curl_easy_cleanup(h);
    return APR_SUCCESS;
}

static apr_status_t cleanup_slist(void *l)
{
    curl_slist_free_all(l);
    return APR_SUCCESS;
}

static int set_tls(CURL *h, const cli_http_opts_t *o)
{
    int bad = 0;

    if (o->cacert != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert) != CURLE_OK;
    if (o->cert != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert) != CURLE_OK;
    if (o->cert_key != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, o->cert_key) != CURLE_OK;
    /* an encrypted client key fails to load instead of prompting on the terminal */
    if (o->cert != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_KEYPASSWD, "") != CURLE_OK;
    if (o->insecure) {
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    return bad;
}

static int set_method(CURL *h, const cli_request_t *rq)
{
    int bad = 0;

    if (rq->body != NULL || strcmp(rq->method, "POST") == 0) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)(rq->body ? rq->body_len : 0)) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "") != CURLE_OK;
    }
    if (strcmp(rq->method, "HEAD") == 0)
        bad |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L) != CURLE_OK;
    else if (strcmp(rq->method, "GET") != 0 || rq->body != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method) != CURLE_OK;
    return bad;
}

static struct curl_slist *header_list(apr_pool_t *p, const cli_request_t *rq)
{
    struct curl_slist *l = NULL, *n;
    int i;

    /* no "Expect: 100-continue" round trip */
    l = curl_slist_append(l, "Expect:");
    for (i = 0; l != NULL && rq->headers != NULL && i < rq->headers->nelts; i++) {
        n = curl_slist_append(l, APR_ARRAY_IDX(rq->headers, i, const char *));
        if (n == NULL) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    if (l != NULL)
        apr_pool_cleanup_register(p, l, cleanup_slist, apr_pool_cleanup_null);
    return l;
}

static int set_common(CURL *h, sink_t *s, const cli_request_t *rq, const cli_http_opts_t *o,
                      struct curl_slist *hdrs, char *errbuf)
{
    int bad = 0;

    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_URL, rq->url) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
           != CURLE_OK;
#endif
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 30L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "ekey/" PACKAGE_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, s) != CURLE_OK;
    if (rq->for_issuer && o->issuer_user != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_USERPWD, o->issuer_user) != CURLE_OK;
    if (o->verbose) {
        bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_DEBUGDATA, s) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK;
    }
    return bad | set_tls(h, o) | set_method(h, rq);
}

int cli_http_do(cli_response_t **out, apr_pool_t *p, const cli_request_t *rq,
                const cli_http_opts_t *o, char *errbuf)
{
    CURL *h = curl_easy_init();
    sink_t *s = apr_pcalloc(p, sizeof(*s));    /* in the pool: the body's cleanup uses it */
    struct curl_slist *hdrs;
    CURLcode rc;
    cli_response_t *res;
    long sent;

    *out = NULL;
    errbuf[0] = '\0';
    if (h == NULL || (hdrs = header_list(p, rq)) == NULL) {
        if (h != NULL)
            curl_easy_cleanup(h);
        apr_cpystrn(errbuf, "cannot set up libcurl", CLI_ERRBUF_SIZE);
        return CLI_HTTP_NOT_SENT;
    }
    apr_pool_cleanup_register(p, h, cleanup_easy, apr_pool_cleanup_null);
    s->p = p;
    s->max = rq->max_body > 0 ? rq->max_body : 64u << 20;
    s->headers = apr_table_make(p, 16);
    s->verbose = o->verbose;
    if (set_common(h, s, rq, o, hdrs, errbuf) != 0) {
        apr_cpystrn(errbuf, "libcurl refused an option (too old?)", CLI_ERRBUF_SIZE);
        return CLI_HTTP_NOT_SENT;
    }
    if ((rc = curl_easy_perform(h)) != CURLE_OK) {
        if (s->too_big) {
            apr_snprintf(errbuf, CLI_ERRBUF_SIZE, "the answer is larger than %" APR_SIZE_T_FMT
                         " bytes", s->max);
            return CLI_HTTP_TOO_BIG;
        }
        if (errbuf[0] == '\0')
            apr_cpystrn(errbuf, curl_easy_strerror(rc), CLI_ERRBUF_SIZE);
        /* nothing of the request left this machine (name, connection, TLS): no use spent */
        return curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0
               ? CLI_HTTP_NOT_SENT : CLI_HTTP_FAILED;
    }
    res = apr_pcalloc(p, sizeof(*res));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    res->body = s->buf != NULL ? s->buf : "";
    res->body_len = s->len;
    res->headers = s->headers;
    *out = res;
    return CLI_OK;
}

/* The value of auth-param `name` in a challenge (quoted or token form), or NULL. */
static const char *auth_param(apr_pool_t *p, const char *h, const char *name)
{
    apr_size_t n = strlen(name);
    const char *s, *e;
    char *out, *o;

    for (s = h; (s = strstr(s, name)) != NULL; s += n) {
        if ((s == h || s[-1] == ' ' || s[-1] == ',') && s[n] == '=')
            break;
    }
    if (s == NULL)
        return NULL;
    s += n + 1;
    if (*s != '"') {
        for (e = s; *e && *e != ',' && *e != ' '; e++)
            ;
        return apr_pstrndup(p, s, (apr_size_t)(e - s));
    }
    out = o = apr_palloc(p, strlen(s));
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1] != '\0')
            s++;
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

const char *cli_http_refusal(apr_pool_t *p, const cli_response_t *res)
{
    const char *code = NULL, *msg = NULL, *ch;

    if (ekey_client_error_parse(&code, &msg, p, res->body, res->body_len, NULL) != EKEY_OK
        && (ch = apr_table_get(res->headers, "WWW-Authenticate")) != NULL) {
        if ((code = auth_param(p, ch, "ekey_error")) == NULL)
            code = auth_param(p, ch, "error");
        msg = auth_param(p, ch, "error_description");
    }
    if (code == NULL && msg == NULL)
        return apr_psprintf(p, "%ld (no error code in the answer)", res->status);
    return apr_psprintf(p, "%ld %s%s%s", res->status, code ? code : "", code && msg ? ": " : "",
                        msg ? msg : "");
}
