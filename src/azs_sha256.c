/*
 * azs_sha256.c - SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104) and a
 * constant-time comparison.  Self-contained, so the core needs no crypto
 * library beyond what APR already brings.
 */
#include <string.h>

#include "azs.h"

typedef struct {
    apr_uint32_t h[8];
    apr_uint64_t len;           /* bytes hashed so far */
    unsigned char buf[64];
    apr_size_t used;
} sha256_ctx;

static const apr_uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const unsigned char *b)
{
    apr_uint32_t w[64], s0, s1, t1, t2;
    apr_uint32_t a, bb, cc, d, e, f, g, h;
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = (apr_uint32_t)b[4 * i] << 24 | (apr_uint32_t)b[4 * i + 1] << 16
             | (apr_uint32_t)b[4 * i + 2] << 8 | (apr_uint32_t)b[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0]; bb = c->h[1]; cc = c->h[2]; d = c->h[3];
    e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
    for (i = 0; i < 64; i++) {
        s1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
        t1 = h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i];
        s0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
        t2 = s0 + ((a & bb) ^ (a & cc) ^ (bb & cc));
        h = g; g = f; f = e; e = d + t1;
        d = cc; cc = bb; bb = a; a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += bb; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void sha256_init(sha256_ctx *c)
{
    static const apr_uint32_t iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };

    memcpy(c->h, iv, sizeof(iv));
    c->len = 0;
    c->used = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, apr_size_t len)
{
    const unsigned char *d = data;

    c->len += len;
    while (len > 0) {
        apr_size_t n = 64 - c->used;

        if (n > len) {
            n = len;
        }
        memcpy(c->buf + c->used, d, n);
        c->used += n;
        d += n;
        len -= n;
        if (c->used == 64) {
            sha256_block(c, c->buf);
            c->used = 0;
        }
    }
}

static void sha256_final(sha256_ctx *c, unsigned char out[AZS_SHA256_LEN])
{
    apr_uint64_t bits = c->len * 8;
    int i;

    c->buf[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->buf + c->used, 0, 64 - c->used);
        sha256_block(c, c->buf);
        c->used = 0;
    }
    memset(c->buf + c->used, 0, 56 - c->used);
    for (i = 0; i < 8; i++) {
        c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    sha256_block(c, c->buf);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

void azs_sha256(unsigned char out[AZS_SHA256_LEN], const void *data,
                apr_size_t len)
{
    sha256_ctx c;

    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, out);
}

void azs_hmac_sha256(unsigned char out[AZS_SHA256_LEN],
                     const void *key, apr_size_t keylen,
                     const void *data, apr_size_t len)
{
    unsigned char k[64], pad[64], inner[AZS_SHA256_LEN];
    sha256_ctx c;
    int i;

    memset(k, 0, sizeof(k));
    if (keylen > sizeof(k)) {
        azs_sha256(k, key, keylen);
    }
    else if (keylen > 0) {
        memcpy(k, key, keylen);
    }
    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x36;
    }
    sha256_init(&c);
    sha256_update(&c, pad, sizeof(pad));
    sha256_update(&c, data, len);
    sha256_final(&c, inner);
    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x5c;
    }
    sha256_init(&c);
    sha256_update(&c, pad, sizeof(pad));
    sha256_update(&c, inner, sizeof(inner));
    sha256_final(&c, out);
}

/* Every byte is read whatever the earlier ones were, and the result is
 * folded without a branch on the data. */
int azs_equal(const void *a, const void *b, apr_size_t len)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        diff |= x[i] ^ y[i];
    }
    return (int)((((unsigned int)diff - 1U) >> 8) & 1U);
}
