/*
 * fuzz_escape.c - azs_escape: printable output, no bare quote, and it
 * decodes back to the shown prefix of the input.
 */
#include "fuzz.h"

static int hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_size_t max, len, shown, n = 0;
    const char *out, *o;
    unsigned char *back;
    char *s;

    if (size < 2) {
        return 0;
    }
    max = data[0] | (apr_size_t)(data[1] & 0x0f) << 8;
    s = malloc(size - 1);
    memcpy(s, data + 2, size - 2);
    s[size - 2] = '\0';
    len = strlen(s);
    shown = len < max ? len : max;
    out = azs_escape(pool, s, max);
    back = malloc(shown + 1);
    for (o = out; *o && n <= shown; o++) {
        if (*o < 0x20 || *o >= 0x7f || *o == '"') {
            abort();
        }
        if (*o != '\\') {
            if (*o == '.' && n == shown && shown < len) {
                break;
            }
            back[n++] = (unsigned char)*o;
        }
        else if (o[1] == '\\' || o[1] == '"') {
            back[n++] = (unsigned char)*++o;
        }
        else if (o[1] == 'x' && o[2] && o[3]) {
            back[n++] = (unsigned char)(hex(o[2]) << 4 | hex(o[3]));
            o += 3;
        }
        else {
            abort();
        }
    }
    if (n != shown || memcmp(back, s, shown) != 0) {
        abort();
    }
    if (shown < len ? strcmp(o, "...") != 0 : *o != '\0') {
        abort();
    }
    apr_pool_clear(pool);
    free(back);
    free(s);
    return 0;
}
