/*
 * test_token.c - API token generation and hashing (azs_token.c).
 */
#include <apr_hash.h>

#include "unit.h"


#define PREFIX_LEN (sizeof(AZS_TOKEN_PREFIX) - 1)
#define MANY 2000

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *generate(unit_fx *fx)
{
    const char *tok = NULL;

    assert_int_equal(azs_token_generate(fx->pool, &tok), AZS_RC_OK);
    assert_non_null(tok);
    return tok;
}

static void shape(void **state)
{
    unit_fx *fx = *state;
    const char *tok = generate(fx);
    apr_size_t i;

    assert_int_equal(AZS_TOKEN_LEN, 36);
    assert_int_equal(strlen(tok), AZS_TOKEN_LEN);
    assert_memory_equal(tok, "azs_", 4);
    for (i = PREFIX_LEN; i < AZS_TOKEN_LEN; i++) {
        /* base64url, and no '=' padding. */
        assert_non_null(memchr(b64url, tok[i], 64));
    }
}

static void bearer_accepts_it(void **state)
{
    unit_fx *fx = *state;
    const char *tok = generate(fx), *got = NULL;

    assert_null(azs_bearer_parse(apr_pstrcat(fx->pool, "Bearer ", tok,
                                             NULL), &got));
    assert_string_equal(got, tok);
}

static void all_different(void **state)
{
    unit_fx *fx = *state;
    apr_hash_t *seen = apr_hash_make(fx->pool);
    int i;

    for (i = 0; i < MANY; i++) {
        const char *tok = generate(fx);

        assert_null(apr_hash_get(seen, tok, APR_HASH_KEY_STRING));
        apr_hash_set(seen, tok, APR_HASH_KEY_STRING, tok);
    }
    assert_int_equal(apr_hash_count(seen), MANY);
}

/* Every position takes many values and every bit is set about half the
 * time: a constant, a short or a badly encoded random part fails. */
static void looks_random(void **state)
{
    unit_fx *fx = *state;
    static int seen[32][64];
    long ones = 0, total = 0;
    int i, pos, v, distinct;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < MANY; i++) {
        const char *tok = generate(fx) + PREFIX_LEN;

        for (pos = 0; pos < 32; pos++) {
            v = (int)((const char *)memchr(b64url, tok[pos], 64) - b64url);
            seen[pos][v]++;
            ones += (v & 1) + (v >> 1 & 1) + (v >> 2 & 1) + (v >> 3 & 1)
                  + (v >> 4 & 1) + (v >> 5 & 1);
            total += 6;
        }
    }
    for (pos = 0; pos < 32; pos++) {
        distinct = 0;
        for (v = 0; v < 64; v++) {
            distinct += seen[pos][v] > 0;
        }
        /* 2000 draws from 64 values: missing even one is very unlikely. */
        assert_true(distinct >= 60);
    }
    /* 384000 bits: the standard deviation of the count is about 310. */
    assert_true(ones > total / 2 - 3000 && ones < total / 2 + 3000);
}

static void hash_is_sha256_of_whole_token(void **state)
{
    unit_fx *fx = *state;
    const char *tok = generate(fx);
    unsigned char a[AZS_SHA256_LEN], b[AZS_SHA256_LEN];

    azs_token_hash(a, tok);
    azs_sha256(b, tok, strlen(tok));
    assert_memory_equal(a, b, AZS_SHA256_LEN);
    /* The prefix is part of what is hashed. */
    azs_sha256(b, tok + PREFIX_LEN, strlen(tok) - PREFIX_LEN);
    assert_memory_not_equal(a, b, AZS_SHA256_LEN);
}

static void hash_known_value(void **state)
{
    static const unsigned char want[AZS_SHA256_LEN] = {
        0x65, 0x26, 0x15, 0xd2, 0x12, 0x76, 0xf3, 0xa4,
        0x13, 0x9a, 0xdb, 0x9d, 0xa7, 0x4b, 0x63, 0xb4,
        0x2a, 0x03, 0xfc, 0x25, 0x7a, 0xaa, 0x61, 0x22,
        0xd3, 0xcd, 0xb2, 0x26, 0x08, 0xeb, 0x0d, 0x35
    };
    unsigned char out[AZS_SHA256_LEN];

    (void)state;
    azs_token_hash(out, "azs_abcdefghijklmnopqrstuvwxyz012345");
    assert_memory_equal(out, want, AZS_SHA256_LEN);
}

static void hashes_differ(void **state)
{
    unit_fx *fx = *state;
    unsigned char a[AZS_SHA256_LEN], b[AZS_SHA256_LEN];
    char *tok = apr_pstrdup(fx->pool, generate(fx));

    azs_token_hash(a, tok);
    azs_token_hash(b, tok);
    assert_memory_equal(a, b, AZS_SHA256_LEN);
    /* One character changed, anywhere: another hash. */
    tok[AZS_TOKEN_LEN - 1] = tok[AZS_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
    azs_token_hash(b, tok);
    assert_memory_not_equal(a, b, AZS_SHA256_LEN);
    azs_token_hash(b, generate(fx));
    assert_memory_not_equal(a, b, AZS_SHA256_LEN);
}

static const struct CMUnitTest tests[] = {
    T(shape),
    T(bearer_accepts_it),
    T(all_different),
    T(looks_random),
    T(hash_is_sha256_of_whole_token),
    T(hash_known_value),
    T(hashes_differ),
};

UNIT_MAIN(tests)
