/*
 * fuzz_basic.c - azs_basic_decode on arbitrary header values.
 *
 * Beyond "no crash": whatever is accepted must obey the rules, and must
 * be the one canonical encoding of what it decodes to.
 */
#include "fuzz.h"

#include <apr_base64.h>
#include <apr_strings.h>

static void check_accepted(const char *h, const char *user, const char *pw)
{
    apr_size_t ulen, plen, i;
    const char *b64;
    char *joined, *enc;

    if (!user || !pw) {
        abort();
    }
    ulen = strlen(user);
    plen = strlen(pw);
    if (ulen < 1 || ulen > AZS_NAME_MAX || strchr(user, ':')) {
        abort();
    }
    for (i = 0; i < ulen; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c < 0x20 || c == 0x7f) {
            abort();
        }
    }
    for (i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f) {
            abort();
        }
    }
    if (!azs_auth_scheme_is(h, "Basic")) {
        abort();
    }
    for (b64 = h + 5; *b64 == ' '; b64++) {
        ;
    }
    joined = apr_pstrcat(pool, user, ":", pw, NULL);
    enc = apr_palloc(pool, apr_base64_encode_len((int)(ulen + 1 + plen)));
    apr_base64_encode_binary(enc, (const unsigned char *)joined,
                             (int)(ulen + 1 + plen));
    if (strcmp(enc, b64) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    const char *user = "x", *pw = "x", *err;

    memcpy(h, data, size);
    h[size] = '\0';
    err = azs_basic_decode(pool, h, &user, &pw);
    if (err) {
        if (!*err || user || pw) {
            abort();
        }
    }
    else {
        check_accepted(h, user, pw);
    }
    apr_pool_clear(pool);
    free(h);
    return 0;
}
