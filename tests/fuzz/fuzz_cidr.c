/*
 * fuzz_cidr.c - azs_cidr_parse, azs_addr_parse, azs_cidr_format and the
 * prefix arithmetic.
 *
 * Accepted text must format to a canonical text that parses back to the
 * same range; azs_cidr_contains and azs_cidr_mask must agree with a
 * bit-by-bit reference on raw bytes.
 */
#include "fuzz.h"

static int bit(const unsigned char *a, int i)
{
    return a[i / 8] >> (7 - i % 8) & 1;
}

static void check_range(const azs_cidr_t *c)
{
    unsigned char m[16];
    azs_cidr_t back;
    const char *text;

    if (c->bits < 0 || c->bits > 128) {
        abort();
    }
    azs_cidr_mask(m, c->net, c->bits);
    if (memcmp(m, c->net, 16) != 0 || !azs_cidr_contains(c, c->net)) {
        abort();
    }
    text = azs_cidr_format(pool, c);
    if (azs_cidr_parse(text, &back) != NULL || back.bits != c->bits
        || memcmp(back.net, c->net, 16) != 0) {
        abort();
    }
    /* Canonical: formatting again gives the same text. */
    if (strcmp(azs_cidr_format(pool, &back), text) != 0) {
        abort();
    }
}

/* 33 raw bytes: an address, a network, a prefix length. */
static void check_arithmetic(const uint8_t *data)
{
    unsigned char m[16];
    azs_cidr_t r;
    int bits = data[32] % 129, i, inside = 1;

    azs_cidr_mask(m, data, bits);
    for (i = 0; i < 128; i++) {
        if (bit(m, i) != (i < bits ? bit(data, i) : 0)) {
            abort();
        }
    }
    azs_cidr_mask(r.net, data + 16, bits);
    r.bits = bits;
    for (i = 0; i < bits; i++) {
        if (bit(data, i) != bit(r.net, i)) {
            inside = 0;
        }
    }
    if (azs_cidr_contains(&r, data) != inside) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    azs_cidr_t c, a;

    memcpy(s, data, size);
    s[size] = '\0';
    if (azs_cidr_parse(s, &c) == NULL) {
        check_range(&c);
    }
    if (azs_addr_parse(s, &a) == NULL) {
        if (a.bits != 128 || strchr(s, '/')) {
            abort();
        }
        check_range(&a);
    }
    if (size >= 33) {
        check_arithmetic(data);
    }
    apr_pool_clear(pool);
    free(s);
    return 0;
}
