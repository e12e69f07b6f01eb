/*
 * test_sha256.c - SHA-256, HMAC-SHA-256 and azs_equal (azs_sha256.c).
 */
#include "unit.h"


static const char *hex(unit_fx *fx, const unsigned char *d, apr_size_t n)
{
    char *s = apr_palloc(fx->pool, 2 * n + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        apr_snprintf(s + 2 * i, 3, "%02x", d[i]);
    }
    s[2 * n] = '\0';
    return s;
}

static const char *sha(unit_fx *fx, const void *data, apr_size_t len)
{
    unsigned char out[AZS_SHA256_LEN];

    azs_sha256(out, data, len);
    return hex(fx, out, sizeof(out));
}

static const char *hmac(unit_fx *fx, const void *key, apr_size_t keylen,
                        const void *data, apr_size_t len)
{
    unsigned char out[AZS_SHA256_LEN];

    azs_hmac_sha256(out, key, keylen, data, len);
    return hex(fx, out, sizeof(out));
}

/* FIPS 180-2 appendix B. */
static void fips_vectors(void **state)
{
    unit_fx *fx = *state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    assert_string_equal(sha(fx, "abc", 3),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(sha(fx, m, strlen(m)),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_string_equal(sha(fx, unit_repeat(fx, 'a', 1000000), 1000000),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void empty_input(void **state)
{
    unit_fx *fx = *state;

    assert_string_equal(sha(fx, "", 0),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(sha(fx, NULL, 0),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Lengths around the 55/56/64-byte padding boundaries. */
static void block_boundaries(void **state)
{
    static const struct {
        apr_size_t n;
        const char *want;
    } v[] = {
        {55,
         "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56,
         "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {57,
         "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
        {63,
         "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64,
         "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65,
         "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {111,
         "6374f73208854473827f6f6a3f43b1f53eaa3b82c21c1a6d69a2110b2a79baad"},
        {119,
         "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120,
         "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {127,
         "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"},
        {128,
         "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
        {129,
         "c12cb024a2e5551cca0e08fce8f1c5e314555cc3fef6329ee994a3db752166ae"},
    };
    unit_fx *fx = *state;
    const char *a = unit_repeat(fx, 'a', 200);
    apr_size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_string_equal(sha(fx, a, v[i].n), v[i].want);
    }
}

static void every_byte_value(void **state)
{
    unit_fx *fx = *state;
    unsigned char buf[1024];
    int i;

    for (i = 0; i < 1024; i++) {
        buf[i] = (unsigned char)i;
    }
    assert_string_equal(sha(fx, buf, sizeof(buf)),
        "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
}

/* RFC 4231 section 4. */
static void rfc4231(void **state)
{
    unit_fx *fx = *state;
    unsigned char key4[25];
    unsigned char out[AZS_SHA256_LEN];
    const char *big = unit_repeat(fx, 0xaa, 131);
    int i;

    assert_string_equal(hmac(fx, unit_repeat(fx, 0x0b, 20), 20, "Hi There", 8),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_string_equal(hmac(fx, "Jefe", 4,
                             "what do ya want for nothing?", 28),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_string_equal(hmac(fx, unit_repeat(fx, 0xaa, 20), 20,
                             unit_repeat(fx, 0xdd, 50), 50),
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (i = 0; i < 25; i++) {
        key4[i] = (unsigned char)(i + 1);
    }
    assert_string_equal(hmac(fx, key4, 25, unit_repeat(fx, 0xcd, 50), 50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    azs_hmac_sha256(out, unit_repeat(fx, 0x0c, 20), 20, "Test With Truncation",
                    20);
    assert_string_equal(hex(fx, out, 16), "a3b6167473100ee06e0c796c2955552b");
    assert_string_equal(hmac(fx, big, 131, "Test Using Larger Than "
                             "Block-Size Key - Hash Key First", 54),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    {
        const char *d = "This is a test using a larger than block-size key "
                        "and a larger than block-size data. The key needs "
                        "to be hashed before being used by the HMAC "
                        "algorithm.";

        assert_string_equal(hmac(fx, big, 131, d, strlen(d)),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    }
}

/* Keys of exactly one block and one byte more (hashed first). */
static void hmac_key_lengths(void **state)
{
    unit_fx *fx = *state;

    assert_string_equal(hmac(fx, unit_repeat(fx, 'k', 64), 64, "data", 4),
        "93244b031118b8060c6619e5900fcf916faefb2d8d020fecb22ae0f62275db08");
    assert_string_equal(hmac(fx, unit_repeat(fx, 'k', 65), 65, "data", 4),
        "a79b53d0bf1cb4bb00c301979e6e60ef792a435cafabd76ab9e8989bbdef2dff");
    assert_string_equal(hmac(fx, "", 0, "", 0),
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void equal(void **state)
{
    unsigned char a[64], b[64];
    int i, bit;

    (void)state;
    for (i = 0; i < 64; i++) {
        a[i] = b[i] = (unsigned char)(i * 7 + 3);
    }
    assert_int_equal(azs_equal(a, b, 64), 1);
    assert_int_equal(azs_equal(a, a, 64), 1);
    assert_int_equal(azs_equal(a, b, 0), 1);
    /* Any single bit anywhere, the first and last bytes included. */
    for (i = 0; i < 64; i++) {
        for (bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1 << bit);
            assert_int_equal(azs_equal(a, b, 64), 0);
            b[i] ^= (unsigned char)(1 << bit);
        }
    }
    assert_int_equal(azs_equal(a, b, 64), 1);
    /* Only the first len bytes count. */
    b[63] ^= 0xff;
    assert_int_equal(azs_equal(a, b, 63), 1);
    assert_int_equal(azs_equal(a, b, 64), 0);
    memset(a, 0, sizeof(a));
    memset(b, 0xff, sizeof(b));
    assert_int_equal(azs_equal(a, b, 64), 0);
}

static const struct CMUnitTest tests[] = {
    T(fips_vectors),
    T(empty_input),
    T(block_boundaries),
    T(every_byte_value),
    T(rfc4231),
    T(hmac_key_lengths),
    T(equal),
};

UNIT_MAIN(tests)
