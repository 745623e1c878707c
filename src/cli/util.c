/*
 * util.c - messages, numbers, files: the small helpers every subcommand uses.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cli.h"

/* Control characters (C0, DEL, and C1 in UTF-8: C2 80..9F) become '?', except newline and
 * tab when keep_lines: what a server, an issuer or a token says never drives the terminal
 * (escape sequences) or forges a line that looks like ours. In place. */
static void make_printable(char *s, apr_size_t n, int keep_lines)
{
    apr_size_t i;
    unsigned char c;

    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        if (keep_lines && (c == '\n' || c == '\t'))
            continue;
        if (c < 0x20 || c == 0x7f)
            s[i] = '?';
        else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80
                 && (unsigned char)s[i + 1] <= 0x9f) {
            s[i] = '?';
            s[++i] = '?';
        }
    }
}

const char *cli_printable(apr_pool_t *p, const char *s, apr_size_t n, int keep_lines)
{
    char *out = apr_pstrmemdup(p, s, n);

    make_printable(out, n, keep_lines);
    return out;
}

/* One line: its text is printable whatever the arguments held (peer text included). */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
    char buf[2048];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n < 0)
        n = 0;
    else if ((apr_size_t)n >= sizeof(buf)) {
        n = (int)sizeof(buf) - 1;
        memcpy(buf + n - 3, "...", 3);
    }
    make_printable(buf, (apr_size_t)n, 0);
    fputs("ekey: ", stderr);
    fputs(prefix, stderr);
    fwrite(buf, 1, (size_t)n, stderr);
    fputc('\n', stderr);
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline("", fmt, ap);
    va_end(ap);
    return code;
}

void cli_note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline("", fmt, ap);
    va_end(ap);
}

int cli_fail_err(int code, const char *what, const ekey_error_t *err)
{
    if (err->text[0] != '\0')
        return cli_fail(code, "%s: %s", what, err->text);
    return cli_fail(code, "%s: %s", what, ekey_status_name(err->status));
}

int cli_parse_int(apr_int64_t *out, const char *s, apr_int64_t min, apr_int64_t max)
{
    char *end;
    long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (apr_int64_t)v;
    return 0;
}

apr_int64_t cli_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

int cli_read_file(char **out, apr_size_t *len, apr_pool_t *p, const char *path, apr_size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    apr_size_t cap = 4096, n = 0, got;
    char *buf, *bigger;
    struct stat sb;
    int bad;

    if (f == NULL)
        return -1;
    /* a directory opens and reads as nothing: say so instead of reading "" */
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (f != stdin)
            fclose(f);
        errno = EISDIR;
        return -1;
    }
    buf = apr_palloc(p, cap + 1);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap > max)
                break;
            bigger = apr_palloc(p, 2 * cap + 1);
            memcpy(bigger, buf, n);
            buf = bigger;
            cap *= 2;
        }
    }
    bad = ferror(f);
    if (f != stdin)
        fclose(f);
    else
        clearerr(stdin);
    if (n > max)
        return -2;
    if (bad) {
        errno = EIO;
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

const char *cli_abbrev(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);

    if (n <= 16)
        return "(short value hidden)";
    return apr_psprintf(p, "%.10s...(%" APR_SIZE_T_FMT " chars)", s, n);
}

int cli_print_json(const json_t *j)
{
    if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        return cli_fail(CLI_USAGE, "cannot write the output");
    fputc('\n', stdout);
    return CLI_OK;
}

int cli_bad_option(const char *cmd, int opt, char **argv, int ind)
{
    const char *arg = ind > 0 ? argv[ind - 1] : "?";
    static char shortopt[3];

    /* a short option may sit in a cluster (-vz): name it by optopt */
    if (optopt > 0 && optopt < 127 && isgraph(optopt) && strncmp(arg, "--", 2) != 0) {
        shortopt[0] = '-';
        shortopt[1] = (char)optopt;
        arg = shortopt;
    }

    if (opt == ':')
        return cli_fail(CLI_USAGE, "%s: option '%s' needs a value", cmd, arg);
    return cli_fail(CLI_USAGE, "%s: unknown option '%s' (try 'ekey %s --help')", cmd, arg, cmd);
}

/* A compact JWS (or "EKey " + one, or an issuer answer) rather than a file name: only the
 * base64url alphabet and exactly two dots. */
static int looks_like_jws(const char *s)
{
    int dots = 0;

    if (s[0] == '{' || strncasecmp(s, "EKey ", 5) == 0)
        return 1;
    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    }
    return dots == 2;
}

int cli_token_arg(const char **out, apr_pool_t *p, const char *arg)
{
    char *buf;
    apr_size_t len;
    json_t *o;
    const char *t;

    *out = NULL;
    /* white space around a pasted token is not part of it (nor of a file name) */
    len = strlen(arg);
    while (len > 0 && strchr(" \t\r\n", arg[len - 1]) != NULL)
        len--;
    while (len > 0 && strchr(" \t\r\n", *arg) != NULL) {
        arg++;
        len--;
    }
    arg = apr_pstrndup(p, arg, len);
    if (strcmp(arg, "-") == 0 || arg[0] == '@' || !looks_like_jws(arg)) {
        const char *path = arg[0] == '@' ? arg + 1 : arg;
        int rv = cli_read_file(&buf, &len, p, path, CLI_MAX_INPUT);

        if (rv != 0)
            return cli_fail(CLI_USAGE, "cannot read a token from %s: %s",
                            strcmp(path, "-") == 0 ? "stdin" : path,
                            rv == -2 ? "too large" : strerror(errno));
        arg = buf;
    }
    while (*arg == ' ' || *arg == '\t' || *arg == '\n' || *arg == '\r')
        arg++;
    len = strlen(arg);
    while (len > 0 && strchr(" \t\r\n", arg[len - 1]) != NULL)
        len--;
    /* the issuer's whole answer is welcome too: its "token" member is used */
    if (arg[0] == '{') {
        if (ekey_json_parse(&o, p, arg, len, CLI_MAX_INPUT, NULL) != EKEY_OK
            || ekey_json_get_string(&t, o, "token", 1, EKEY_E_JSON, NULL) != EKEY_OK)
            return cli_fail(CLI_USAGE, "the JSON given as token has no \"token\" member");
        *out = t;
        return CLI_OK;
    }
    if (len > 5 && strncasecmp(arg, "EKey ", 5) == 0) {
        arg += 5;
        len -= 5;
    }
    if (len == 0)
        return cli_fail(CLI_USAGE, "the token is empty");
    *out = apr_pstrndup(p, arg, len);
    return CLI_OK;
}

int cli_method_ok(const char *m)
{
    const char *s = m;

    while (*s >= 'A' && *s <= 'Z')
        s++;
    return s != m && *s == '\0' && s - m <= 32;
}
