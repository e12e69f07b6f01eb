/*
 * azs_escape.c - user-controlled text made safe for one quoted field of
 * an error log line.
 */
#include "azs.h"

const char *azs_escape(apr_pool_t *p, const char *s, apr_size_t max)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i;
    char *out, *o;

    if (!s) {
        return "(null)";
    }
    /* Only the shown bytes are read: s may be long and untrusted. */
    for (i = 0; i < max && s[i]; i++) {
        ;
    }
    o = out = apr_palloc(p, i * 4 + sizeof("..."));
    for (i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20 || c >= 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0x0f];
        }
        else {
            *o++ = (char)c;
        }
    }
    if (s[i]) {
        *o++ = '.';
        *o++ = '.';
        *o++ = '.';
    }
    *o = '\0';
    return out;
}
