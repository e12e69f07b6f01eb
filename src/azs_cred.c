/*
 * azs_cred.c - Basic (RFC 7617) and Bearer (RFC 6750) credentials as they
 * arrive in one Authorization header.
 *
 * Both parsers are strict on purpose: anything a lenient parser would
 * "repair" (stray padding, whitespace, a second header merged in by httpd
 * with ", ") is answered with 400, never guessed at.  The messages end up
 * in the error log, so they never quote the header.
 */
#include <string.h>

#include "azs.h"

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII only: strncasecmp would follow the locale. */
int azs_auth_scheme_is(const char *header, const char *scheme)
{
    apr_size_t i;

    if (!header || !scheme || !*scheme) {
        return 0;
    }
    for (i = 0; scheme[i]; i++) {
        if (ascii_lower((unsigned char)header[i])
            != ascii_lower((unsigned char)scheme[i])) {
            return 0;
        }
    }
    return header[i] == ' ' || header[i] == '\0';
}

/* The credentials after the scheme and its 1*SP, or NULL with *err set. */
static const char *after_scheme(const char *header, const char *scheme,
                                const char **err)
{
    const char *s;

    if (!header || !*header) {
        *err = "no credentials";
        return NULL;
    }
    if (!azs_auth_scheme_is(header, scheme)) {
        *err = "wrong authentication scheme";
        return NULL;
    }
    s = header + strlen(scheme);
    while (*s == ' ') {
        s++;
    }
    if (!*s) {
        *err = "no credentials after the scheme";
        return NULL;
    }
    /* ',' is in neither alphabet; httpd joins repeated headers with it. */
    if (strchr(s, ',')) {
        *err = "several credentials (repeated Authorization header?)";
        return NULL;
    }
    return s;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Canonical base64 (RFC 4648 section 4) only: length a multiple of 4,
 * '=' only as the one or two last characters, unused bits zero, so each
 * byte string has exactly one accepted encoding.  The result is
 * NUL-terminated; *outlen excludes the NUL. */
static const char *b64_decode(apr_pool_t *p, const char *s, apr_size_t len,
                              unsigned char **out, apr_size_t *outlen)
{
    apr_size_t i, pad = 0, n = 0;
    unsigned char *buf;
    int v[4];

    if (len == 0 || len % 4 != 0) {
        return "base64 length is not a multiple of 4";
    }
    if (s[len - 1] == '=') {
        pad = s[len - 2] == '=' ? 2 : 1;
    }
    buf = apr_palloc(p, len / 4 * 3 + 1);
    for (i = 0; i < len; i += 4) {
        int j, last = i + 4 == len;

        for (j = 0; j < 4; j++) {
            if (last && j >= 4 - (int)pad) {
                v[j] = 0;
            }
            else if ((v[j] = b64_value((unsigned char)s[i + j])) < 0) {
                return "invalid base64";
            }
        }
        buf[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (last && pad == 2) {
            if (v[1] & 0x0f) {
                return "invalid base64 (non-zero padding bits)";
            }
            break;
        }
        buf[n++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
        if (last && pad == 1) {
            if (v[2] & 0x03) {
                return "invalid base64 (non-zero padding bits)";
            }
            break;
        }
        buf[n++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return NULL;
}

static int has_control(const unsigned char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }
    return 0;
}

const char *azs_basic_decode(apr_pool_t *p, const char *header,
                             const char **user, const char **password)
{
    const char *s, *err = NULL;
    unsigned char *buf, *colon;
    apr_size_t len, n, ulen;

    *user = NULL;
    *password = NULL;
    if (!(s = after_scheme(header, "Basic", &err))) {
        return err;
    }
    len = strcspn(s, " ");
    if (s[len]) {
        return "unexpected text after the credentials";
    }
    if ((err = b64_decode(p, s, len, &buf, &n)) != NULL) {
        return err;
    }
    /* RFC 7617: the user-id cannot contain ':', the password may. */
    if (!(colon = memchr(buf, ':', n))) {
        return "no ':' between user and password";
    }
    ulen = colon - buf;
    if (ulen == 0) {
        return "empty user name";
    }
    if (ulen > AZS_NAME_MAX) {
        return "user name longer than 255 bytes";
    }
    if (has_control(buf, ulen)) {
        return "control character in the user name";
    }
    if (has_control(colon + 1, n - ulen - 1)) {
        return "control character in the password";
    }
    *colon = '\0';
    *user = (const char *)buf;
    *password = (const char *)colon + 1;
    return NULL;
}

static int b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~' || c == '+' || c == '/';
}

/* The token is the tail of the header, so it needs no copy. */
const char *azs_bearer_parse(const char *header, const char **token)
{
    const char *s, *t, *err = NULL;

    *token = NULL;
    if (!(t = after_scheme(header, "Bearer", &err))) {
        return err;
    }
    for (s = t; b64token_char((unsigned char)*s); s++) {
        ;
    }
    if (s == t) {
        return "invalid character in the token";
    }
    while (*s == '=') {
        s++;
    }
    if (*s == ' ') {
        while (*s == ' ') {
            s++;
        }
        return *s ? "several tokens" : "space after the token";
    }
    if (*s) {
        return "invalid character in the token";
    }
    *token = t;
    return NULL;
}

/* RFC 6750 section 3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
static int nqschar(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

const char *azs_bearer_scope(apr_pool_t *p, const char *names)
{
    char *out, *o;
    const char *s, *end;

    if (!names) {
        return NULL;
    }
    out = o = apr_palloc(p, strlen(names) + 1);
    for (s = names; *s; s = end) {
        const char *t;

        while (*s == ' ') {
            s++;
        }
        for (end = s; *end && *end != ' '; end++) {
            ;
        }
        for (t = s; t < end && nqschar((unsigned char)*t); t++) {
            ;
        }
        /* A name with anything else in it (it may come from the request:
         * Require permission "%{QUERY_STRING}") is left out whole: a
         * quote or a backslash would end the quoted string and let the
         * request write parameters of its own into the challenge. */
        if (t == end && end > s) {
            if (o > out) {
                *o++ = ' ';
            }
            memcpy(o, s, end - s);
            o += end - s;
        }
    }
    *o = '\0';
    return o > out ? out : NULL;
}
