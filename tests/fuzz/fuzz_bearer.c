/*
 * fuzz_bearer.c - azs_bearer_parse on arbitrary header values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azs.h"

static int b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || (c && strchr("-._~+/", c));
}

static void check_accepted(const char *h, const char *tok)
{
    const char *s;

    if (!tok || !azs_auth_scheme_is(h, "Bearer")) {
        abort();
    }
    /* "Bearer", then only spaces, then the token up to the end. */
    if (tok < h + 7 || tok > h + strlen(h)) {
        abort();
    }
    for (s = h + 6; s < tok; s++) {
        if (*s != ' ') {
            abort();
        }
    }
    for (s = tok; b64token_char((unsigned char)*s); s++) {
        ;
    }
    if (s == tok) {
        abort();
    }
    while (*s == '=') {
        s++;
    }
    if (*s) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    const char *tok = "x", *err;

    memcpy(h, data, size);
    h[size] = '\0';
    err = azs_bearer_parse(h, &tok);
    if (err) {
        if (!*err || tok) {
            abort();
        }
    }
    else {
        check_accepted(h, tok);
    }
    free(h);
    return 0;
}
