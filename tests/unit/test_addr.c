/*
 * test_addr.c - addresses and CIDR ranges (azs_addr.c).
 */
#include "unit.h"


static azs_cidr_t cidr_ok(const char *text)
{
    azs_cidr_t c;
    const char *err = azs_cidr_parse(text, &c);

    if (err) {
        fail_msg("\"%s\" refused: %s", text, err);
    }
    return c;
}

static void cidr_bad(const char *text)
{
    azs_cidr_t c;
    const char *err;

    memset(&c, 0x5a, sizeof(c));
    err = azs_cidr_parse(text, &c);
    if (!err) {
        fail_msg("\"%s\" accepted", text ? text : "(null)");
    }
    assert_true(strlen(err) > 0);
    assert_int_equal(c.bits, 0x5a5a5a5a);       /* output left alone */
}

static azs_cidr_t addr_ok(const char *text)
{
    azs_cidr_t c;
    const char *err = azs_addr_parse(text, &c);

    if (err) {
        fail_msg("\"%s\" refused: %s", text, err);
    }
    assert_int_equal(c.bits, 128);
    return c;
}

static void addr_bad(const char *text)
{
    azs_cidr_t c;

    if (!azs_addr_parse(text, &c)) {
        fail_msg("\"%s\" accepted", text ? text : "(null)");
    }
}

/* The canonical text of a range. */
static const char *canon(unit_fx *fx, const char *text)
{
    azs_cidr_t c = cidr_ok(text);

    return azs_cidr_format(fx->pool, &c);
}

static void ipv4_is_mapped(void **state)
{
    static const unsigned char want[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7
    };
    static const unsigned char net24[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 0
    };
    azs_cidr_t c;

    (void)state;
    c = cidr_ok("192.0.2.7");
    assert_int_equal(c.bits, 128);
    assert_memory_equal(c.net, want, 16);
    c = cidr_ok("192.0.2.7/32");
    assert_int_equal(c.bits, 128);
    assert_memory_equal(c.net, want, 16);
    c = cidr_ok("192.0.2.0/24");
    assert_int_equal(c.bits, 96 + 24);
    assert_memory_equal(c.net, net24, 16);
    c = cidr_ok("0.0.0.0/0");
    assert_int_equal(c.bits, 96);
    /* The same range written in IPv6 notation is the same range. */
    c = cidr_ok("::ffff:192.0.2.0/120");
    assert_int_equal(c.bits, 120);
    assert_memory_equal(c.net, net24, 16);
    c = addr_ok("::ffff:192.0.2.7");
    assert_memory_equal(c.net, want, 16);
    c = addr_ok("192.0.2.7");
    assert_memory_equal(c.net, want, 16);
}

static void ipv6(void **state)
{
    static const unsigned char db8[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    };
    static const unsigned char one[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    };
    azs_cidr_t c;

    (void)state;
    c = cidr_ok("2001:db8::/32");
    assert_int_equal(c.bits, 32);
    assert_memory_equal(c.net, db8, 16);
    c = cidr_ok("::1");
    assert_int_equal(c.bits, 128);
    assert_memory_equal(c.net, one, 16);
    c = cidr_ok("::/0");
    assert_int_equal(c.bits, 0);
    c = cidr_ok("2001:db8::/127");
    assert_int_equal(c.bits, 127);
    c = cidr_ok("2001:db8::1/128");
    assert_int_equal(c.bits, 128);
    c = cidr_ok("2001:DB8:0:0:0:0:0:0/32");
    assert_memory_equal(c.net, db8, 16);
}

static void host_bits_refused(void **state)
{
    (void)state;
    cidr_bad("192.0.2.7/24");
    cidr_bad("192.0.2.1/31");
    cidr_bad("10.128.0.0/8");
    cidr_bad("0.0.0.1/0");
    cidr_bad("2001:db8::1/32");
    cidr_bad("2001:db8::1/127");
    cidr_bad("::1/0");
    cidr_bad("::ffff:192.0.2.7/120");
    /* ::ffff:0:0/96 is fine, but /95 cuts into the ffff marker. */
    cidr_bad("::ffff:0.0.0.0/95");
    cidr_ok("192.0.2.0/31");
    cidr_ok("10.0.0.0/8");
    cidr_ok("::ffff:0.0.0.0/96");
}

/* Leading zeros in the prefix are refused: "/08" is octal to some tools,
 * and a canonical form has none. */
static void bad_prefix(void **state)
{
    (void)state;
    cidr_bad("192.0.2.0/33");
    cidr_bad("192.0.2.0/120");
    cidr_bad("::/129");
    cidr_bad("::/1000");
    cidr_bad("192.0.2.0/");
    cidr_bad("/24");
    cidr_bad("/");
    cidr_bad("192.0.2.0/-1");
    cidr_bad("192.0.2.0/+24");
    cidr_bad("10.0.0.0/08");
    cidr_bad("10.0.0.0/008");
    cidr_bad("0.0.0.0/00");
    cidr_bad("2001:db8::/032");
    cidr_bad("192.0.2.0/0x18");
    cidr_bad("192.0.2.0/24/24");
    cidr_bad("192.0.2.0/2 4");
    cidr_bad("192.0.2.0/99999999999999999999");
    cidr_bad("192.0.2.0/24a");
    cidr_ok("0.0.0.0/0");
    cidr_ok("::/0");
}

static void whitespace_refused(void **state)
{
    (void)state;
    cidr_bad(" 192.0.2.0/24");
    cidr_bad("192.0.2.0/24 ");
    cidr_bad("192.0.2.0 /24");
    cidr_bad("192.0.2.0/ 24");
    cidr_bad("192.0.2.0/24\n");
    cidr_bad("192.0.2.7\t");
    cidr_bad(" ::1");
    cidr_bad("::1 ");
    addr_bad(" 192.0.2.7");
    addr_bad("192.0.2.7 ");
    addr_bad("192.0.2.7\r\n");
}

static void bad_addresses(void **state)
{
    unit_fx *fx = *state;
    char *big = apr_palloc(fx->pool, 1001);

    memset(big, '1', 1000);
    big[1000] = '\0';
    cidr_bad(NULL);
    cidr_bad("");
    cidr_bad("256.0.0.1");
    cidr_bad("1.2.3");
    cidr_bad("1.2.3.4.5");
    cidr_bad("127.1");
    cidr_bad("01.2.3.4");
    cidr_bad("1.2.3.04");
    cidr_bad("0x7f.0.0.1");
    cidr_bad("1.2.3.-4");
    cidr_bad("localhost");
    cidr_bad(":::");
    cidr_bad("2001:db8::g");
    cidr_bad("1:2:3:4:5:6:7:8:9");
    cidr_bad("2001:db8:::1");
    cidr_bad("[::1]");
    cidr_bad("fe80::1%eth0");
    cidr_bad("fe80::1%eth0/64");
    cidr_bad(big);
    addr_bad(NULL);
    addr_bad("");
    addr_bad("999.1.1.1");
    addr_bad("1.2.3");
    addr_bad(big);
    addr_bad("localhost");
}

static void client_addresses(void **state)
{
    azs_cidr_t a, b;

    (void)state;
    addr_ok("203.0.113.7");
    addr_ok("2001:db8::7");
    /* httpd gives link-local client addresses with their zone. */
    a = addr_ok("fe80::1%eth0");
    b = addr_ok("fe80::1");
    assert_memory_equal(a.net, b.net, 16);
    addr_ok("fe80::1%2");
    addr_ok("fe80::1%br-1a2b.10_x");
    addr_bad("fe80::1%");
    addr_bad("fe80::1%eth 0");
    addr_bad("fe80::1%eth0%eth1");
    addr_bad("fe80::1%eth0/64");
    addr_bad("192.0.2.7%eth0");
    /* An address, not a range. */
    addr_bad("192.0.2.7/32");
    addr_bad("192.0.2.0/24");
    addr_bad("::1/128");
}

static void format(void **state)
{
    unit_fx *fx = *state;

    assert_string_equal(canon(fx, "192.0.2.7"), "192.0.2.7");
    assert_string_equal(canon(fx, "192.0.2.7/32"), "192.0.2.7");
    assert_string_equal(canon(fx, "192.0.2.0/24"), "192.0.2.0/24");
    assert_string_equal(canon(fx, "0.0.0.0/0"), "0.0.0.0/0");
    assert_string_equal(canon(fx, "10.0.0.0/8"), "10.0.0.0/8");
    assert_string_equal(canon(fx, "::ffff:192.0.2.0/120"), "192.0.2.0/24");
    assert_string_equal(canon(fx, "::ffff:192.0.2.7"), "192.0.2.7");
    assert_string_equal(canon(fx, "::ffff:c000:207"), "192.0.2.7");
    assert_string_equal(canon(fx, "2001:db8::/32"), "2001:db8::/32");
    assert_string_equal(canon(fx, "2001:0DB8:0000:0000::/32"),
                        "2001:db8::/32");
    assert_string_equal(canon(fx, "2001:db8:0:0:1:0:0:1"),
                        "2001:db8::1:0:0:1");
    assert_string_equal(canon(fx, "::1"), "::1");
    assert_string_equal(canon(fx, "::"), "::");
    assert_string_equal(canon(fx, "::/0"), "::/0");
    assert_string_equal(canon(fx, "fe80::/10"), "fe80::/10");
}

/* parse(format(c)) == c for ranges of every prefix length. */
static void round_trip(void **state)
{
    unit_fx *fx = *state;
    static const unsigned char seed[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0x08, 0xd3,
        0x13, 0x19, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x44
    };
    static const unsigned char v4[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 201
    };
    azs_cidr_t c, back;
    const char *text;
    int bits;

    for (bits = 0; bits <= 128; bits++) {
        azs_cidr_mask(c.net, seed, bits);
        c.bits = bits;
        text = azs_cidr_format(fx->pool, &c);
        back = cidr_ok(text);
        assert_int_equal(back.bits, bits);
        assert_memory_equal(back.net, c.net, 16);
    }
    for (bits = 96; bits <= 128; bits++) {
        azs_cidr_mask(c.net, v4, bits);
        c.bits = bits;
        text = azs_cidr_format(fx->pool, &c);
        assert_null(strchr(text, ':'));
        back = cidr_ok(text);
        assert_int_equal(back.bits, bits);
        assert_memory_equal(back.net, c.net, 16);
    }
}

static int contains(const char *range, const char *addr)
{
    azs_cidr_t r = cidr_ok(range), a = addr_ok(addr);

    return azs_cidr_contains(&r, a.net);
}

static void contains_v4(void **state)
{
    (void)state;
    assert_true(contains("192.0.2.0/24", "192.0.2.0"));
    assert_true(contains("192.0.2.0/24", "192.0.2.7"));
    assert_true(contains("192.0.2.0/24", "192.0.2.255"));
    assert_true(contains("192.0.2.0/24", "::ffff:192.0.2.9"));
    assert_false(contains("192.0.2.0/24", "192.0.3.0"));
    assert_false(contains("192.0.2.0/24", "192.0.1.255"));
    assert_false(contains("192.0.2.0/24", "2001:db8::c000:207"));
    assert_true(contains("10.0.0.0/9", "10.127.255.255"));
    assert_false(contains("10.0.0.0/9", "10.128.0.0"));
    assert_true(contains("192.0.2.7", "192.0.2.7"));
    assert_false(contains("192.0.2.7", "192.0.2.6"));
    assert_false(contains("192.0.2.7", "192.0.2.8"));
    /* All of IPv4, and nothing else. */
    assert_true(contains("0.0.0.0/0", "255.255.255.255"));
    assert_true(contains("0.0.0.0/0", "0.0.0.0"));
    assert_false(contains("0.0.0.0/0", "::1"));
    assert_false(contains("0.0.0.0/0", "2001:db8::1"));
}

static void contains_v6(void **state)
{
    (void)state;
    assert_true(contains("2001:db8::/32", "2001:db8::1"));
    assert_true(contains("2001:db8::/32", "2001:db8:ffff:ffff::1"));
    assert_false(contains("2001:db8::/32", "2001:db9::"));
    assert_false(contains("2001:db8::/32", "2001:db7:ffff::"));
    assert_true(contains("2001:db8::/127", "2001:db8::1"));
    assert_false(contains("2001:db8::/127", "2001:db8::2"));
    assert_true(contains("::1", "::1"));
    assert_false(contains("::1", "::2"));
    assert_false(contains("::1", "127.0.0.1"));
    assert_true(contains("::/0", "2001:db8::1"));
    assert_true(contains("::/0", "192.0.2.7"));
    assert_true(contains("fe80::/10", "febf::1"));
    assert_false(contains("fe80::/10", "fec0::1"));
    assert_true(contains("fe80::/64", "fe80::1%eth0"));
}

static void contains_refuses_bad_range(void **state)
{
    azs_cidr_t r = cidr_ok("::/0");
    azs_cidr_t a = addr_ok("::1");

    (void)state;
    r.bits = 129;
    assert_false(azs_cidr_contains(&r, a.net));
    r.bits = -1;
    assert_false(azs_cidr_contains(&r, a.net));
}

/* A range that somehow kept host bits (an edited database) covers its
 * whole prefix: a blocklist errs on the side of blocking. */
static void contains_ignores_stray_host_bits(void **state)
{
    azs_cidr_t r = cidr_ok("192.0.2.0/24");

    (void)state;
    r.net[15] = 7;
    assert_true(azs_cidr_contains(&r, addr_ok("192.0.2.9").net));
    assert_false(azs_cidr_contains(&r, addr_ok("192.0.3.7").net));
}

static void mask(void **state)
{
    static const unsigned char all[16] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };
    unsigned char out[16], want[16];
    int bits, i;

    (void)state;
    for (bits = 0; bits <= 128; bits++) {
        memset(want, 0, sizeof(want));
        for (i = 0; i < bits; i++) {
            want[i / 8] |= (unsigned char)(0x80 >> (i % 8));
        }
        memset(out, 0x33, sizeof(out));
        azs_cidr_mask(out, all, bits);
        assert_memory_equal(out, want, 16);
    }
    /* In place. */
    memcpy(out, all, 16);
    azs_cidr_mask(out, out, 121);
    assert_int_equal(out[15], 0x80);
    assert_int_equal(out[14], 0xff);
    /* Out-of-range lengths are clamped. */
    azs_cidr_mask(out, all, -5);
    memset(want, 0, 16);
    assert_memory_equal(out, want, 16);
    azs_cidr_mask(out, all, 500);
    assert_memory_equal(out, all, 16);
}

static const struct CMUnitTest tests[] = {
    T(ipv4_is_mapped),
    T(ipv6),
    T(host_bits_refused),
    T(bad_prefix),
    T(whitespace_refused),
    T(bad_addresses),
    T(client_addresses),
    T(format),
    T(round_trip),
    T(contains_v4),
    T(contains_v6),
    T(contains_refuses_bad_range),
    T(contains_ignores_stray_host_bits),
    T(mask),
};

UNIT_MAIN(tests)
