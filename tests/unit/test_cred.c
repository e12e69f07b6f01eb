/*
 * test_cred.c - Authorization header parsing, and the scope of a Bearer
 * challenge (azs_cred.c).
 */
#include <apr_base64.h>

#include "unit.h"


/* "Basic " + base64 of len bytes of raw, which may hold NUL. */
static const char *basic_n(unit_fx *fx, const char *raw, apr_size_t len)
{
    char *b64 = apr_palloc(fx->pool, apr_base64_encode_len((int)len));

    apr_base64_encode_binary(b64, (const unsigned char *)raw, (int)len);
    return apr_pstrcat(fx->pool, "Basic ", b64, NULL);
}

static const char *basic(unit_fx *fx, const char *raw)
{
    return basic_n(fx, raw, strlen(raw));
}

static void decode_ok(unit_fx *fx, const char *header, const char *user,
                      const char *pw)
{
    const char *u = "unset", *w = "unset";
    const char *err = azs_basic_decode(fx->pool, header, &u, &w);

    if (err) {
        fail_msg("\"%s\" refused: %s", header, err);
    }
    assert_string_equal(u, user);
    assert_string_equal(w, pw);
}

/* Refused with a message, and neither output left pointing anywhere. */
static const char *decode_bad(unit_fx *fx, const char *header)
{
    const char *u = "unset", *w = "unset";
    const char *err = azs_basic_decode(fx->pool, header, &u, &w);

    if (!err) {
        fail_msg("\"%s\" accepted as \"%s\" / \"%s\"", header, u, w);
    }
    assert_true(strlen(err) > 0);
    assert_null(u);
    assert_null(w);
    return err;
}

static void basic_valid(void **state)
{
    unit_fx *fx = *state;

    decode_ok(fx, "Basic dXNlcjpwYXNz", "user", "pass");
    /* RFC 7617 section 2 example. */
    decode_ok(fx, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin",
              "open sesame");
    decode_ok(fx, "Basic YWxpY2U6eA==", "alice", "x");      /* == */
    decode_ok(fx, "Basic YWxpY2U6eHk=", "alice", "xy");     /* = */
    decode_ok(fx, "Basic YWxpY2U6eHl6", "alice", "xyz");    /* none */
    decode_ok(fx, basic(fx, "bob:s3cr3t!"), "bob", "s3cr3t!");
}

static void basic_scheme_any_case(void **state)
{
    unit_fx *fx = *state;

    decode_ok(fx, "basic dXNlcjpwYXNz", "user", "pass");
    decode_ok(fx, "BASIC dXNlcjpwYXNz", "user", "pass");
    decode_ok(fx, "bAsIc dXNlcjpwYXNz", "user", "pass");
}

static void basic_several_spaces(void **state)
{
    unit_fx *fx = *state;

    decode_ok(fx, "Basic  dXNlcjpwYXNz", "user", "pass");
    decode_ok(fx, "Basic        dXNlcjpwYXNz", "user", "pass");
}

static void basic_password_forms(void **state)
{
    unit_fx *fx = *state;

    /* Split at the first colon: the password may hold more. */
    decode_ok(fx, basic(fx, "alice:pa:ss"), "alice", "pa:ss");
    decode_ok(fx, basic(fx, "alice::"), "alice", ":");
    /* Decodes; the provider answers bad-password. */
    decode_ok(fx, basic(fx, "alice:"), "alice", "");
    decode_ok(fx, basic(fx, "alice:with space"), "alice", "with space");
    decode_ok(fx, basic(fx, "j\xc3\xb6rg:p\xc3\xa4ss\xe2\x82\xac"),
              "j\xc3\xb6rg", "p\xc3\xa4ss\xe2\x82\xac");
    decode_ok(fx, basic(fx, "a:\xff\xfe\x80"), "a", "\xff\xfe\x80");
    decode_ok(fx, basic(fx, "Bob Smith:x"), "Bob Smith", "x");
}

static void basic_user_length(void **state)
{
    unit_fx *fx = *state;
    const char *u255 = unit_repeat(fx, 'u', 255);
    const char *err;

    decode_ok(fx, basic(fx, apr_pstrcat(fx->pool, u255, ":pw", NULL)),
              u255, "pw");
    decode_bad(fx, basic(fx, apr_pstrcat(fx->pool, unit_repeat(fx, 'u', 256),
                                         ":pw", NULL)));
    /* An 8 KB user name: refused, not truncated, no overflow. */
    err = decode_bad(fx, basic(fx, apr_pstrcat(fx->pool,
                                               unit_repeat(fx, 'u', 8192),
                                               ":pw", NULL)));
    assert_non_null(strstr(err, "255"));
    decode_bad(fx, basic(fx, unit_repeat(fx, 'u', 8192)));
}

static void basic_long_password(void **state)
{
    unit_fx *fx = *state;
    const char *pw = unit_repeat(fx, 'p', 6000);

    /* Length limits on passwords belong to the verifier. */
    decode_ok(fx, basic(fx, apr_pstrcat(fx->pool, "alice:", pw, NULL)),
              "alice", pw);
}

static void basic_missing_parts(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, NULL);
    decode_bad(fx, "");
    decode_bad(fx, "Basic");
    decode_bad(fx, "Basic ");
    decode_bad(fx, "Basic     ");
    assert_non_null(strstr(decode_bad(fx, basic(fx, "alice")), "':'"));
    decode_bad(fx, basic(fx, "alicesecret"));
    decode_bad(fx, basic(fx, ":secret"));
    decode_bad(fx, basic(fx, ":"));
    decode_bad(fx, basic_n(fx, "", 0));
    decode_bad(fx, basic(fx, "x"));
}

static void basic_wrong_scheme(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, "Bearer dXNlcjpwYXNz");
    decode_bad(fx, "Digest dXNlcjpwYXNz");
    decode_bad(fx, "Basicx dXNlcjpwYXNz");
    decode_bad(fx, "BasicdXNlcjpwYXNz");
    decode_bad(fx, "Basi dXNlcjpwYXNz");
    decode_bad(fx, " Basic dXNlcjpwYXNz");
    decode_bad(fx, "Basic\tdXNlcjpwYXNz");
    decode_bad(fx, "Basic:dXNlcjpwYXNz");
    decode_bad(fx, "dXNlcjpwYXNz");
}

static void basic_invalid_base64(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, "Basic dXNl*jpwYXNz");
    decode_bad(fx, "Basic dXNlcjpwYXN!");
    decode_bad(fx, "Basic dXNlcjpwYX\"z");
    decode_bad(fx, "Basic dXNlcjpw\x80XNz");
    /* base64url is not base64: "alice:~~~" encodes to YWxpY2U6fn5+ */
    decode_ok(fx, "Basic YWxpY2U6fn5+", "alice", "~~~");
    decode_bad(fx, "Basic YWxpY2U6fn5-");
    decode_ok(fx, "Basic YWxpY2U6Pz8/", "alice", "???");
    decode_bad(fx, "Basic YWxpY2U6Pz8_");
    decode_bad(fx, "Basic ====");
    decode_bad(fx, "Basic =");
}

static void basic_wrong_padding(void **state)
{
    unit_fx *fx = *state;

    /* "alice:x" is YWxpY2U6eA== */
    decode_bad(fx, "Basic YWxpY2U6eA");
    decode_bad(fx, "Basic YWxpY2U6eA=");
    decode_bad(fx, "Basic YWxpY2U6eA===");
    decode_bad(fx, "Basic YWxpY2U6eA====");
    decode_bad(fx, "Basic YWxpY2U6e===");
    decode_bad(fx, "Basic =YWxpY2U6eA=");
    decode_bad(fx, "Basic YWxp=Y2U6eA=");
    decode_bad(fx, "Basic YWxpY2U6=A==");
    /* "alice:xy" is YWxpY2U6eHk= */
    decode_bad(fx, "Basic YWxpY2U6eHk");
    decode_bad(fx, "Basic YWxpY2U6eHk==");
    decode_bad(fx, "Basic YWxpY2U6eH=k");
    /* Padding in the middle: two encodings glued together. */
    decode_bad(fx, "Basic YWxpY2U6eA==YWxpY2U6eA==");
    decode_bad(fx, "Basic YQ==YWxpY2U6eA==");
}

/* Each byte string has one encoding: unused bits must be zero.  A lenient
 * decoder (apr_base64_decode) takes these as "alice:x" / "alice:xy". */
static void basic_nonzero_trailing_bits(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, "Basic YWxpY2U6eB==");
    decode_bad(fx, "Basic YWxpY2U6eP==");
    decode_bad(fx, "Basic YWxpY2U6eHl=");
    decode_bad(fx, "Basic YWxpY2U6eHn=");
    assert_non_null(strstr(decode_bad(fx, "Basic YWxpY2U6eB=="), "bits"));
}

static void basic_whitespace_inside(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, "Basic YWxp Y2U6eA==");
    decode_bad(fx, "Basic YWxpY2U6\teA==");
    decode_bad(fx, "Basic YWxpY2U6\neA==");
    decode_bad(fx, "Basic YWxpY2U6\r\neA==");
    decode_bad(fx, "Basic YWxpY2U6eA ==");
}

static void basic_trailing_garbage(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, "Basic YWxpY2U6eA== ");
    decode_bad(fx, "Basic YWxpY2U6eA==  ");
    decode_bad(fx, "Basic YWxpY2U6eA==\r\n");
    decode_bad(fx, "Basic YWxpY2U6eA==\n");
    decode_bad(fx, "Basic YWxpY2U6eA==x");
    decode_bad(fx, "Basic YWxpY2U6eA== x");
    decode_bad(fx, "Basic YWxpY2U6eA==;");
    decode_bad(fx, "Basic YWxpY2U6eA== realm=\"x\"");
    decode_bad(fx, "Basic dXNlcjpwYXNz dXNlcjpwYXNz");
    decode_bad(fx, "Basic dXNlcjpwYXNzA");
}

/* httpd joins two Authorization headers into one value with ", ". */
static void basic_merged_headers(void **state)
{
    unit_fx *fx = *state;
    const char *err;

    err = decode_bad(fx, "Basic YWxpY2U6eA==, Basic Ym9iOnk=");
    assert_non_null(strstr(err, "several"));
    decode_bad(fx, "Basic a, Basic b");
    decode_bad(fx, "Basic dXNlcjpwYXNz, Basic dXNlcjpwYXNz");
    decode_bad(fx, "Basic dXNlcjpwYXNz,Basic dXNlcjpwYXNz");
    decode_bad(fx, "Basic dXNlcjpwYXNz, Bearer abc");
    decode_bad(fx, "Basic dXNlcjpwYXNz,");
    decode_bad(fx, "Basic ,dXNlcjpwYXNz");
}

static void basic_nul(void **state)
{
    unit_fx *fx = *state;

    decode_bad(fx, basic_n(fx, "al\0ice:pw", 9));
    decode_bad(fx, basic_n(fx, "alice\0:pw", 9));
    decode_bad(fx, basic_n(fx, "\0:pw", 4));
    decode_bad(fx, basic_n(fx, "alice:p\0w", 9));
    decode_bad(fx, basic_n(fx, "alice:pw\0", 9));
    /* A NUL hiding the colon: still no user name of "alice". */
    decode_bad(fx, basic_n(fx, "alice\0x", 7));
}

static void basic_control_characters(void **state)
{
    unit_fx *fx = *state;
    const char *err;

    /* A forged log line or header through the user name. */
    err = decode_bad(fx, basic(fx, "alice\r\nX-Forged: 1:pw"));
    assert_non_null(strstr(err, "user"));
    decode_bad(fx, basic(fx, "alice\n:pw"));
    decode_bad(fx, basic(fx, "ali\rce:pw"));
    decode_bad(fx, basic(fx, "\talice:pw"));
    decode_bad(fx, basic(fx, "al\x1b[1mice:pw"));
    decode_bad(fx, basic(fx, "alice\x7f:pw"));
    decode_bad(fx, basic(fx, "\x01:pw"));
    err = decode_bad(fx, basic(fx, "alice:pw\n"));
    assert_non_null(strstr(err, "password"));
    decode_bad(fx, basic(fx, "alice:p\rw"));
    decode_bad(fx, basic(fx, "alice:\tpw"));
    decode_bad(fx, basic(fx, "alice:pw\x7f"));
    decode_bad(fx, basic(fx, "alice:\x1f"));
}

static void basic_messages_hide_secrets(void **state)
{
    unit_fx *fx = *state;
    const char *err;

    err = decode_bad(fx, basic(fx, "alice:hunter2\n"));
    assert_null(strstr(err, "hunter2"));
    assert_null(strstr(err, "alice"));
    err = decode_bad(fx, "Basic aHVudGVyMgo=x");
    assert_null(strstr(err, "aHVudGVy"));
}

static const char *bearer_ok(const char *header, const char *want)
{
    const char *tok = "unset";
    const char *err = azs_bearer_parse(header, &tok);

    if (err) {
        fail_msg("\"%s\" refused: %s", header, err);
    }
    assert_string_equal(tok, want);
    return tok;
}

static const char *bearer_bad(const char *header)
{
    const char *tok = "unset";
    const char *err = azs_bearer_parse(header, &tok);

    if (!err) {
        fail_msg("\"%s\" accepted as \"%s\"", header, tok);
    }
    assert_true(strlen(err) > 0);
    assert_null(tok);
    return err;
}

static void bearer_valid(void **state)
{
    static const char h[] = "Bearer azs_abc";
    unit_fx *fx = *state;
    const char *tok = NULL;

    bearer_ok("Bearer abc", "abc");
    bearer_ok("bearer abc", "abc");
    bearer_ok("BEARER abc", "abc");
    bearer_ok("Bearer    abc", "abc");
    bearer_ok("Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM");  /* RFC 6750 */
    bearer_ok("Bearer AZaz09-._~+/", "AZaz09-._~+/");
    bearer_ok("Bearer abc=", "abc=");
    bearer_ok("Bearer abc==", "abc==");
    bearer_ok("Bearer a", "a");
    /* The token points into the header: no copy is made. */
    assert_null(azs_bearer_parse(h, &tok));
    assert_ptr_equal(tok, h + 7);
    /* What azs_token_generate makes, this takes. */
    assert_int_equal(azs_token_generate(fx->pool, &tok), AZS_RC_OK);
    bearer_ok(apr_pstrcat(fx->pool, "Bearer ", tok, NULL), tok);
}

static void bearer_missing(void **state)
{
    (void)state;
    bearer_bad(NULL);
    bearer_bad("");
    bearer_bad("Bearer");
    bearer_bad("Bearer ");
    bearer_bad("Bearer     ");
    bearer_bad("Bearerabc");
    bearer_bad("Basic abc");
    bearer_bad(" Bearer abc");
    bearer_bad("Bearer\tabc");
    bearer_bad("abc");
}

static void bearer_several(void **state)
{
    (void)state;
    assert_non_null(strstr(bearer_bad("Bearer abc def"), "several"));
    bearer_bad("Bearer abc  def");
    assert_non_null(strstr(bearer_bad("Bearer abc, Bearer def"),
                           "several"));
    bearer_bad("Bearer abc,def");
    bearer_bad("Bearer abc,");
    bearer_bad("Bearer abc= def");
}

static void bearer_bad_characters(void **state)
{
    (void)state;
    bearer_bad("Bearer =abc");
    bearer_bad("Bearer ==");
    bearer_bad("Bearer =");
    bearer_bad("Bearer a=b");
    bearer_bad("Bearer a==b");
    bearer_bad("Bearer token=abc");          /* auth-param form */
    bearer_bad("Bearer ab\"c");
    bearer_bad("Bearer ab;c");
    bearer_bad("Bearer ab%20c");
    bearer_bad("Bearer ab*c");
    bearer_bad("Bearer ab\\c");
    bearer_bad("Bearer \xc3\xa9t\xc3\xa9");
    bearer_bad("Bearer ab\x7f");
    bearer_bad("Bearer ab\tc");
}

static void bearer_trailing(void **state)
{
    (void)state;
    bearer_bad("Bearer abc ");
    bearer_bad("Bearer abc\r\n");
    bearer_bad("Bearer abc\n");
    bearer_bad("Bearer abc\t");
    bearer_bad("Bearer abc==x");
    bearer_bad("Bearer abc=\n");
}

static void scheme_is(void **state)
{
    (void)state;
    assert_true(azs_auth_scheme_is("Basic abc", "Basic"));
    assert_true(azs_auth_scheme_is("basic abc", "Basic"));
    assert_true(azs_auth_scheme_is("BASIC abc", "basic"));
    assert_true(azs_auth_scheme_is("Basic", "Basic"));
    assert_true(azs_auth_scheme_is("Basic ", "Basic"));
    assert_true(azs_auth_scheme_is("Bearer x", "Bearer"));
    assert_false(azs_auth_scheme_is("Basicx abc", "Basic"));
    assert_false(azs_auth_scheme_is("Basic\tabc", "Basic"));
    assert_false(azs_auth_scheme_is("Bas", "Basic"));
    assert_false(azs_auth_scheme_is("", "Basic"));
    assert_false(azs_auth_scheme_is(NULL, "Basic"));
    assert_false(azs_auth_scheme_is("Basic abc", NULL));
    assert_false(azs_auth_scheme_is(" Basic abc", "Basic"));
    assert_false(azs_auth_scheme_is("Bearer abc", "Basic"));
    assert_false(azs_auth_scheme_is("Basic abc", "Bearer"));
    assert_false(azs_auth_scheme_is("Digest abc", "Basic"));
}

/* The scope="..." of a Bearer challenge: names may come from the request
 * (Require permission "%{QUERY_STRING}"), so only scope tokens pass. */
static void bearer_scope_tokens_only(void **state)
{
    unit_fx *fx = *state;
    apr_pool_t *p = fx->pool;
    char all[0x7f - 0x21 + 1];
    int c, n = 0;

    assert_string_equal(azs_bearer_scope(p, "api:call"), "api:call");
    assert_string_equal(azs_bearer_scope(p, "api:call docs:read"),
                        "api:call docs:read");
    /* one space between names, none around them */
    assert_string_equal(azs_bearer_scope(p, "  a   b  "), "a b");
    /* a name with a quote, a backslash or a control character is left
     * out whole: it cannot end the quoted string and add parameters */
    assert_string_equal(azs_bearer_scope(p, "x\",error=\"invalid_token "
                                            "api:call"), "api:call");
    assert_string_equal(azs_bearer_scope(p, "a\\ b"), "b");
    assert_string_equal(azs_bearer_scope(p, "a\r\nX-Evil:1 b"), "b");
    assert_string_equal(azs_bearer_scope(p, "a\tb c"), "c");
    assert_string_equal(azs_bearer_scope(p, "caf\xc3\xa9 c"), "c");
    assert_string_equal(azs_bearer_scope(p, "a\x7f c"), "c");
    /* nothing left: no scope at all */
    assert_null(azs_bearer_scope(p, "\""));
    assert_null(azs_bearer_scope(p, "\\ \"x\""));
    assert_null(azs_bearer_scope(p, ""));
    assert_null(azs_bearer_scope(p, "   "));
    assert_null(azs_bearer_scope(p, NULL));
    /* every scope-token character passes */
    for (c = 0x21; c < 0x7f; c++) {
        if (c != '"' && c != '\\') {
            all[n++] = (char)c;
        }
    }
    all[n] = '\0';
    assert_string_equal(azs_bearer_scope(p, all), all);
}

static const struct CMUnitTest tests[] = {
    T(basic_valid),
    T(basic_scheme_any_case),
    T(basic_several_spaces),
    T(basic_password_forms),
    T(basic_user_length),
    T(basic_long_password),
    T(basic_missing_parts),
    T(basic_wrong_scheme),
    T(basic_invalid_base64),
    T(basic_wrong_padding),
    T(basic_nonzero_trailing_bits),
    T(basic_whitespace_inside),
    T(basic_trailing_garbage),
    T(basic_merged_headers),
    T(basic_nul),
    T(basic_control_characters),
    T(basic_messages_hide_secrets),
    T(bearer_valid),
    T(bearer_missing),
    T(bearer_several),
    T(bearer_bad_characters),
    T(bearer_trailing),
    T(scheme_is),
    T(bearer_scope_tokens_only),
};

UNIT_MAIN(tests)
