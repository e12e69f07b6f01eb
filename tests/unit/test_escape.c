/*
 * test_escape.c - log escaping (azs_escape.c).
 */
#include "unit.h"


static const char *esc(void **state, const char *s, apr_size_t max)
{
    return azs_escape(((unit_fx *)*state)->pool, s, max);
}

static void plain_text_unchanged(void **state)
{
    assert_string_equal(esc(state, "alice", 100), "alice");
    assert_string_equal(esc(state, "Bob Smith <bob@example.org>", 100),
                        "Bob Smith <bob@example.org>");
    assert_string_equal(esc(state, "/admin/?a=1&b='2'", 100),
                        "/admin/?a=1&b='2'");
    assert_string_equal(esc(state, "", 100), "");
    assert_string_equal(esc(state, "~ !#$%()*+,-./:;<=>?@[]^_`{|}", 100),
                        "~ !#$%()*+,-./:;<=>?@[]^_`{|}");
}

static void null_input(void **state)
{
    assert_string_equal(esc(state, NULL, 100), "(null)");
    assert_string_equal(esc(state, NULL, 0), "(null)");
}

static void quote_and_backslash(void **state)
{
    assert_string_equal(esc(state, "a\"b", 100), "a\\\"b");
    assert_string_equal(esc(state, "a\\b", 100), "a\\\\b");
    assert_string_equal(esc(state, "\"", 100), "\\\"");
    assert_string_equal(esc(state, "\\\"", 100), "\\\\\\\"");
    /* Closing the quoted field and starting a new one fails. */
    assert_string_equal(esc(state, "x\" for \"/", 100),
                        "x\\\" for \\\"/");
}

static void control_bytes(void **state)
{
    assert_string_equal(esc(state, "\n", 100), "\\x0a");
    assert_string_equal(esc(state, "a\r\nb", 100), "a\\x0d\\x0ab");
    assert_string_equal(esc(state, "\t", 100), "\\x09");
    assert_string_equal(esc(state, "\x01", 100), "\\x01");
    assert_string_equal(esc(state, "\x1b[31m", 100), "\\x1b[31m");
    assert_string_equal(esc(state, "\x1f", 100), "\\x1f");
    assert_string_equal(esc(state, "\x7f", 100), "\\x7f");
}

static void high_bytes(void **state)
{
    assert_string_equal(esc(state, "j\xc3\xb6rg", 100), "j\\xc3\\xb6rg");
    assert_string_equal(esc(state, "\x80", 100), "\\x80");
    assert_string_equal(esc(state, "\xff", 100), "\\xff");
}

/* A forged second log line is not possible. */
static void forged_line(void **state)
{
    const char *out = esc(state, "bob\n[authz_status:error] AZS0104: 200 "
                          "granted: user \"admin\"", 200);

    assert_null(strchr(out, '\n'));
    assert_non_null(strstr(out, "bob\\x0a[authz_status"));
}

static void truncation(void **state)
{
    assert_string_equal(esc(state, "abcdef", 3), "abc...");
    assert_string_equal(esc(state, "abcdef", 5), "abcde...");
    assert_string_equal(esc(state, "abcdef", 6), "abcdef");
    assert_string_equal(esc(state, "abcdef", 7), "abcdef");
    assert_string_equal(esc(state, "abcdef", 0), "...");
    assert_string_equal(esc(state, "", 0), "");
    assert_string_equal(esc(state, "a", 1), "a");
    /* max counts input bytes, not output characters. */
    assert_string_equal(esc(state, "\n\n\n\n", 2), "\\x0a\\x0a...");
    assert_string_equal(esc(state, "\"\"\"", 3), "\\\"\\\"\\\"");
    assert_string_equal(esc(state, "\"\"\"", 2), "\\\"\\\"...");
}

static void long_input_bounded(void **state)
{
    unit_fx *fx = *state;
    apr_size_t n = 1 << 20;
    char *big = apr_palloc(fx->pool, n + 1);
    const char *out;

    memset(big, '\n', n);
    big[n] = '\0';
    out = esc(state, big, 64);
    assert_int_equal(strlen(out), 64 * 4 + 3);
    assert_string_equal(out + 64 * 4, "...");
}

/* Lower-case hex digit, as azs_escape writes them. */
static int hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    assert_true(c >= 'a' && c <= 'f');
    return c - 'a' + 10;
}

/* Undoes azs_escape; fails the test on anything it would not produce. */
static apr_size_t unescape(const char *in, unsigned char *out)
{
    apr_size_t n = 0;

    while (*in) {
        if (*in != '\\') {
            out[n++] = (unsigned char)*in++;
            continue;
        }
        in++;
        if (*in == '"' || *in == '\\') {
            out[n++] = (unsigned char)*in++;
            continue;
        }
        assert_int_equal(*in, 'x');
        out[n++] = (unsigned char)(hex(in[1]) << 4 | hex(in[2]));
        in += 3;
    }
    return n;
}

/* Every byte value: the output is printable ASCII with no bare quote,
 * and it decodes back to the input. */
static void every_byte(void **state)
{
    unsigned char in[256], back[256];
    const char *out, *o;
    int i;

    for (i = 1; i < 256; i++) {
        in[i - 1] = (unsigned char)i;
    }
    in[255] = '\0';
    out = esc(state, (const char *)in, 1000);
    for (o = out; *o; o++) {
        assert_true(*o >= 0x20 && *o < 0x7f);
        if (*o == '"') {
            assert_true(o > out && o[-1] == '\\');
        }
        if (*o == '\\') {
            assert_true(o[1] == '\\' || o[1] == '"' || o[1] == 'x');
            o++;
        }
    }
    assert_int_equal(unescape(out, back), 255);
    assert_memory_equal(back, in, 255);
}

static const struct CMUnitTest tests[] = {
    T(plain_text_unchanged),
    T(null_input),
    T(quote_and_backslash),
    T(control_bytes),
    T(high_bytes),
    T(forged_line),
    T(truncation),
    T(long_input_bounded),
    T(every_byte),
};

UNIT_MAIN(tests)
