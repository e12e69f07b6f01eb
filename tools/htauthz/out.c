/*
 * out.c - what htauthz prints: one-line messages on stderr, names quoted
 * so that no user-supplied byte can forge a line or move the terminal,
 * text listings and JSON on stdout.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "htauthz.h"

/* ---- messages ----------------------------------------------------------- */

static char last[512];          /* the last failure, for the audit row */
static int silent;              /* failures are remembered, not shown */

/* "htauthz: ", the message, then tail. */
static void say(const char *fmt, va_list ap, const char *tail)
{
    fputs("htauthz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(tail, stderr);
}

int fail(int code, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    vsnprintf(last, sizeof(last), fmt, ap);
    va_end(ap);
    last[strcspn(last, "\n")] = '\0';
    if (!silent) {
        va_start(ap, fmt);
        say(fmt, ap, "\n");
        va_end(ap);
    }
    return code;
}

const char *last_failure(void)
{
    return last;
}

void quiet(int on)
{
    silent = on;
}

int usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap, " (see htauthz --help)\n");
    va_end(ap);
    return EX_USAGE;
}

/* A quoted, terminal-safe form of user-supplied text for messages and
 * listings: control characters, C1 controls, bytes that are not UTF-8,
 * '"' and '\\' are escaped, and at most max bytes are shown. */
const char *show_n(apr_pool_t *p, const char *s, apr_size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = apr_palloc(p, (max ? max : strlen(s)) * 4 + 8);
    char *o = out;
    apr_size_t i = 0;

    *o++ = '"';
    while (u[i] && (!max || i < max)) {
        int n = azs_utf8_len(u + i);

        if (u[i] == '"' || u[i] == '\\') {
            *o++ = '\\';
            *o++ = (char)u[i++];
        }
        else if (n == 1 && u[i] >= 0x20 && u[i] != 0x7f) {
            *o++ = (char)u[i++];
        }
        else if (n > 1 && !azs_utf8_control(u + i, n)) {
            memcpy(o, u + i, n);
            o += n;
            i += n;
        }
        else {
            o += sprintf(o, "\\x%02x", u[i++]);
        }
    }
    *o++ = '"';
    if (u[i]) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

const char *show(apr_pool_t *p, const char *s)
{
    return show_n(p, s, CLI_SHOW_MAX);
}

/* s as it is when every byte of it is printable UTF-8, else show_n's
 * quoted form: for texts that were made printable when written (the audit
 * trail), so a quote or a backslash in them is not escaped twice. */
const char *printable(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*u) {
        int n = azs_utf8_len(u);

        if (n == 0 || azs_utf8_control(u, n)) {
            return show_n(p, s, 0);
        }
        u += n;
    }
    return s;
}

/* The same, unquoted and whole, for listings. */
const char *plain(apr_pool_t *p, const char *s)
{
    const char *q = show_n(p, s, 0);

    if (!strpbrk(s, "\"\\") && strlen(q) == strlen(s) + 2) {
        return s;
    }
    return q;
}

/* ---- the frame of a listing ---------------------------------------------- */

/* JSON: '[', then each item on a line of its own; text: the header line
 * (NULL: none). */
void list_open(int json, const char *header)
{
    if (json) {
        putchar('[');
    }
    else if (header) {
        fputs(header, stdout);
    }
}

/* JSON: the start of item i, up to its first key's value. */
void json_item(int i, const char *key)
{
    printf("%s {\"%s\": ", i ? ",\n" : "\n", key);
}

/* JSON: the ']' after n items. */
void list_close(int json, int n)
{
    if (json) {
        fputs(n ? "\n]\n" : "]\n", stdout);
    }
}

/* ---- JSON --------------------------------------------------------------- */

/* Invalid UTF-8 becomes U+FFFD, so the document is always valid. */
void json_str(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    putchar('"');
    while (*u) {
        int n = azs_utf8_len(u);

        if (*u == '"' || *u == '\\') {
            putchar('\\');
            putchar(*u++);
        }
        else if (*u < 0x20 || *u == 0x7f) {
            printf("\\u%04x", *u++);
        }
        else if (n == 0) {
            fputs("\\ufffd", stdout);
            u++;
        }
        else if (azs_utf8_control(u, n)) {
            /* C1 and bidirectional controls, escaped as the C0 ones. */
            printf("\\u%04x", n == 2 ? u[1]
                               : 0x2000 | ((u[1] & 0x3f) << 6) | (u[2] & 0x3f));
            u += n;
        }
        else {
            fwrite(u, 1, n, stdout);
            u += n;
        }
    }
    putchar('"');
}

/* ", \"key\": " and the string. */
void json_text(const char *key, const char *s)
{
    printf(", \"%s\": ", key);
    json_str(s);
}

/* ", \"key\": " and the time, null for 0. */
void json_time(apr_pool_t *p, const char *key, apr_int64_t t)
{
    printf(", \"%s\": ", key);
    if (t) {
        json_str(azs_time_format(p, t));
    }
    else {
        fputs("null", stdout);
    }
}

void json_names(const apr_array_header_t *a)
{
    int i;

    putchar('[');
    for (i = 0; a && i < a->nelts; i++) {
        if (i) {
            fputs(", ", stdout);
        }
        json_str(APR_ARRAY_IDX(a, i, const char *));
    }
    putchar(']');
}

/* ---- lists of names ----------------------------------------------------- */

const char *join(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *shown = apr_array_make(p, a->nelts,
                                               sizeof(const char *));
    int i;

    if (a->nelts == 0) {
        return "-";
    }
    for (i = 0; i < a->nelts; i++) {
        APR_ARRAY_PUSH(shown, const char *) =
            plain(p, APR_ARRAY_IDX(a, i, const char *));
    }
    return apr_array_pstrcat(p, shown, ',');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a name -> chain hash, sorted. */
apr_array_header_t *sorted_keys(apr_pool_t *p, apr_hash_t *h)
{
    apr_array_header_t *keys = apr_array_make(p, apr_hash_count(h),
                                              sizeof(const char *));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, h); hi; hi = apr_hash_next(hi)) {
        const void *k;

        apr_hash_this(hi, &k, NULL, NULL);
        APR_ARRAY_PUSH(keys, const char *) = k;
    }
    qsort(keys->elts, keys->nelts, sizeof(const char *), cmp_str);
    return keys;
}

/* JSON: [{"name": ..., "via": ...}] from a name -> chain hash. */
void json_chains(apr_pool_t *p, apr_hash_t *h, const char *key)
{
    apr_array_header_t *keys = sorted_keys(p, h);
    int i;

    putchar('[');
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);

        fputs(i ? ", {\"" : "{\"", stdout);
        fputs(key, stdout);
        fputs("\": ", stdout);
        json_str(k);
        fputs(", \"via\": ", stdout);
        json_str(apr_hash_get(h, k, APR_HASH_KEY_STRING));
        putchar('}');
    }
    putchar(']');
}

void text_chains(apr_pool_t *p, const char *title, apr_hash_t *h)
{
    apr_array_header_t *keys = sorted_keys(p, h);
    int i;

    printf("%s", title);
    if (keys->nelts == 0) {
        printf(" -\n");
        return;
    }
    putchar('\n');
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);
        const char *via = apr_hash_get(h, k, APR_HASH_KEY_STRING);

        if (!strcmp(k, via)) {
            printf("  %s  (direct)\n", plain(p, k));
        }
        else {
            printf("  %s  (via %s)\n", plain(p, k), plain(p, via));
        }
    }
}
