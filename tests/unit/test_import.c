/*
 * test_import.c - the htpasswd and htgroup line parsers (azs_import.c):
 * what httpd would read from a line, and what is refused and why.
 */
#include "unit.h"

/* One hash in the format of each kept scheme: the parser checks formats
 * and costs, never a password. */
#define BCRYPT "$2y$04$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H."
#define SHA1   "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="
#define APR1   "$apr1$WxXmfCZr$Mb2cnvZ8HnQT.cLmtmgH10"
#define SHA256 "$5$saltsalt$JFvhfcBIbBNpCPjDa7FiPgDOMx1hX7Yo2UJi7Il7Qn6"
#define SHA512 "$6$rounds=5000$saltsalt$" \
    "zFrCLBNTGuRcK8Ec4T0zC2NCjjNNnzwUsKh6OFbCFGxvmYJvY6F8cx1Pl3fnvbBW" \
    "R3gG0WRrnbhGE8p2CJNSc."

static const char *refused_kept =
    "password hash refused: malformed, or its cost (bcrypt cost, rounds= "
    "of $5$ and $6$) is above the limit";
static const char *refused_scheme =
    "unsupported password hash (bcrypt, $apr1$, {SHA}, $5$ and $6$ are "
    "kept; plain text and crypt() are not)";

/* One line through the parser; text is copied, as a read line would be. */
static azs_line_kind parse(unit_fx *fx, azs_import_t *im, const char *text,
                           azs_import_line_t *l)
{
    char *line = apr_pstrdup(fx->pool, text);

    return azs_import_line(im, line, strlen(line), l, fx->pool);
}

static void htpasswd_valid_lines(void **state)
{
    unit_fx *fx = *state;
    azs_import_t *im = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    static const char *const hashes[] = {
        BCRYPT, SHA1, APR1, SHA256, SHA512, NULL
    };
    azs_import_line_t l;
    int i;

    for (i = 0; hashes[i]; i++) {
        const char *name = apr_psprintf(fx->pool, "user%d", i);

        assert_int_equal(parse(fx, im, apr_pstrcat(fx->pool, name, ":",
                                                   hashes[i], "\n", NULL),
                               &l), AZS_LINE_ENTRY);
        assert_int_equal(l.lineno, i + 1);
        assert_string_equal(l.name, name);
        assert_string_equal(l.hash, hashes[i]);
        assert_null(l.why);
        assert_null(l.bad_name);
    }
    /* White space around the line goes (CRLF too), a third field is
     * ignored, a space inside a user name is kept (httpd keeps it). */
    assert_int_equal(parse(fx, im, " \t bob:" BCRYPT ":comment\r\n", &l),
                     AZS_LINE_ENTRY);
    assert_string_equal(l.name, "bob");
    assert_string_equal(l.hash, BCRYPT);
    assert_int_equal(parse(fx, im, "Jane Doe:" SHA1, &l), AZS_LINE_ENTRY);
    assert_string_equal(l.name, "Jane Doe");
    /* Names are case-sensitive, as httpd compares them. */
    assert_int_equal(parse(fx, im, "BOB:" SHA1, &l), AZS_LINE_ENTRY);
}

static void comments_and_blank_lines(void **state)
{
    unit_fx *fx = *state;
    static const char *const skipped[] = {
        "", "\n", "   \t\r\n", "# a comment", "  # indented: " SHA1,
        "#alice:" BCRYPT, "\f\v", NULL
    };
    azs_import_format formats[] = { AZS_IMPORT_HTPASSWD, AZS_IMPORT_HTGROUP };
    azs_import_line_t l;
    int f, i;

    for (f = 0; f < 2; f++) {
        azs_import_t *im = azs_import_make(formats[f], fx->pool);

        for (i = 0; skipped[i]; i++) {
            assert_int_equal(parse(fx, im, skipped[i], &l), AZS_LINE_SKIP);
            assert_int_equal(l.lineno, i + 1);   /* counted all the same */
            assert_null(l.why);
        }
    }
}

static void htpasswd_malformed_lines(void **state)
{
    unit_fx *fx = *state;
    azs_import_t *im = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_line_t l;

    assert_int_equal(parse(fx, im, "no colon on this line", &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.why, "no ':' between user name and hash");
    assert_null(l.name);

    assert_int_equal(parse(fx, im, "alice:", &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "empty password hash");
    assert_string_equal(l.name, "alice");     /* the refusal is about her */

    assert_int_equal(parse(fx, im, "alice::" SHA1, &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "empty password hash");

    assert_int_equal(parse(fx, im, ":" SHA1, &l), AZS_LINE_REFUSED);
    assert_string_equal(l.bad_name, "");
    assert_string_equal(l.why, "name is empty");
    assert_null(l.name);
    /* The user may still come on a later line. */
    assert_int_equal(parse(fx, im, "alice:" SHA1, &l), AZS_LINE_ENTRY);
    assert_int_equal(l.lineno, 5);
}

static void htgroup_lines(void **state)
{
    unit_fx *fx = *state;
    azs_import_t *im = azs_import_make(AZS_IMPORT_HTGROUP, fx->pool);
    azs_import_line_t l;
    char *rest;

    assert_int_equal(parse(fx, im, "staff: alice  bob\tcarol \r\n", &l),
                     AZS_LINE_ENTRY);
    assert_string_equal(l.name, "staff");
    rest = l.members;
    assert_string_equal(azs_import_member(&rest), "alice");
    assert_string_equal(azs_import_member(&rest), "bob");
    assert_string_equal(azs_import_member(&rest), "carol");
    assert_null(azs_import_member(&rest));
    assert_null(azs_import_member(&rest));

    /* White space around the group name goes; no member is fine; ':' in
     * a group name is allowed after the first (role names may hold it). */
    assert_int_equal(parse(fx, im, "  ops :", &l), AZS_LINE_ENTRY);
    assert_string_equal(l.name, "ops");
    rest = l.members;
    assert_null(azs_import_member(&rest));

    assert_int_equal(parse(fx, im, "no colon", &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "no ':' after the group name");
    assert_int_equal(parse(fx, im, "bad group: alice", &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.bad_name, "bad group");
    assert_string_equal(l.why, "name contains whitespace");
    assert_null(l.name);
    assert_int_equal(parse(fx, im, ": alice", &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "name is empty");
}

/* Long lines are parsed whole: no length limit of their own, the name
 * and hash rules refuse what is too long. */
static void long_lines(void **state)
{
    unit_fx *fx = *state;
    azs_import_t *pw = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_t *gr = azs_import_make(AZS_IMPORT_HTGROUP, fx->pool);
    char *longname = apr_palloc(fx->pool, 100001);
    char *name255 = apr_palloc(fx->pool, 256);
    apr_array_header_t *many = apr_array_make(fx->pool, 10000,
                                              sizeof(const char *));
    azs_import_line_t l;
    char *rest;
    int i;

    memset(longname, 'a', 100000);
    longname[100000] = '\0';
    memset(name255, 'b', 255);
    name255[255] = '\0';

    assert_int_equal(parse(fx, pw, apr_pstrcat(fx->pool, longname, ":",
                                               SHA1, NULL), &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.why, "name is longer than 255 bytes");
    assert_int_equal(parse(fx, pw, apr_pstrcat(fx->pool, name255, ":",
                                               SHA1, NULL), &l),
                     AZS_LINE_ENTRY);
    assert_int_equal(strlen(l.name), 255);
    assert_int_equal(parse(fx, pw, apr_pstrcat(fx->pool, "carol:{SHA}",
                                               longname, NULL), &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.why, refused_kept);

    for (i = 0; i < 10000; i++) {
        APR_ARRAY_PUSH(many, const char *) = apr_psprintf(fx->pool, "u%d", i);
    }
    assert_int_equal(parse(fx, gr, apr_pstrcat(fx->pool, "big: ",
                                               apr_array_pstrcat(fx->pool,
                                                                 many, ' '),
                                               NULL), &l), AZS_LINE_ENTRY);
    rest = l.members;
    for (i = 0; i < 10000; i++) {
        assert_string_equal(azs_import_member(&rest),
                            APR_ARRAY_IDX(many, i, const char *));
    }
    assert_null(azs_import_member(&rest));
}

/* A NUL byte refuses the line (getline counts it, strlen stops at it);
 * other control characters are the name rules' to refuse. */
static void nul_and_control_characters(void **state)
{
    unit_fx *fx = *state;
    azs_import_format formats[] = { AZS_IMPORT_HTPASSWD, AZS_IMPORT_HTGROUP };
    static const char with_nul[] = "al\0ice:" SHA1 "\n";
    azs_import_t *pw = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_t *gr = azs_import_make(AZS_IMPORT_HTGROUP, fx->pool);
    azs_import_line_t l;
    char *line, *rest;
    int f;

    for (f = 0; f < 2; f++) {
        azs_import_t *im = azs_import_make(formats[f], fx->pool);

        line = apr_pmemdup(fx->pool, with_nul, sizeof(with_nul));
        assert_int_equal(azs_import_line(im, line, sizeof(with_nul) - 1, &l,
                                         fx->pool), AZS_LINE_REFUSED);
        assert_string_equal(l.why, "line contains a NUL byte");
        assert_null(l.name);
        assert_null(l.bad_name);
    }

    assert_int_equal(parse(fx, pw, "bad\001name:" SHA1, &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.bad_name, "bad\001name");
    assert_string_equal(l.why, "name contains a control character");
    assert_int_equal(parse(fx, pw, "del\177:" SHA1, &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.why, "name contains a control character");
    /* Escape sequences in the hash do not make it a hash. */
    assert_int_equal(parse(fx, pw, "eve:\033[2J" SHA1, &l),
                     AZS_LINE_REFUSED);
    assert_string_equal(l.why, refused_scheme);

    assert_int_equal(parse(fx, gr, "g\002: a", &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "name contains a control character");
    /* A member is split at spaces and tabs only: the rest is left for
     * azs_user_name_invalid to refuse. */
    assert_int_equal(parse(fx, gr, "g: a\001b c", &l), AZS_LINE_ENTRY);
    rest = l.members;
    assert_string_equal(azs_import_member(&rest), "a\001b");
    assert_non_null(azs_user_name_invalid("a\001b"));
    assert_string_equal(azs_import_member(&rest), "c");
}

/* A hash is kept exactly when azs_hash_supported says so; a refused one
 * is told apart by scheme: kept but malformed or too costly, or a scheme
 * that is not kept at all.  The message never quotes the hash. */
static void unsupported_and_costly_hashes(void **state)
{
    unit_fx *fx = *state;
    static const struct {
        const char *hash;
        int kept_scheme;
    } refused[] = {
        { "plaintext", 0 },
        { "abJnggxhB/yWI", 0 },                       /* DES crypt */
        { "$1$saltsalt$abcdefghijklmnopqrstuv", 0 },  /* MD5 crypt */
        { "$2y$31$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 1 },
        { "$2y$18$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 1 },
        { "$2y$03$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 1 },
        { "$2y$10$short", 1 },
        { "$6$rounds=999999999$saltsalt$aaaa", 1 },
        { "$5$rounds=1000001$saltsalt$aaaa", 1 },
        { "$6$rounds=0x10$saltsalt$aaaa", 1 },
        { "{SHA}tooshort", 1 },
        { "$apr1$", 1 },
    };
    azs_import_t *im = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_line_t l;
    apr_size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *h = refused[i].hash;

        assert_false(azs_hash_supported(h));
        assert_non_null(azs_hash_invalid(h));
        assert_int_equal(parse(fx, im, apr_pstrcat(fx->pool, "u:", h, NULL),
                               &l), AZS_LINE_REFUSED);
        assert_string_equal(l.name, "u");
        assert_string_equal(l.why, refused[i].kept_scheme ? refused_kept
                                                          : refused_scheme);
        assert_null(strstr(l.why, h));
    }
    /* The costs at the limit are kept. */
    assert_true(azs_hash_supported(
        "$2y$17$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
    assert_int_equal(parse(fx, im, "u:$2y$17$bbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                                   "bbbbbbbbbbbbbbbbbbbbbbbb", &l),
                     AZS_LINE_ENTRY);
    assert_int_equal(parse(fx, im, "v:$6$rounds=1000000$saltsalt$aaaa", &l),
                     AZS_LINE_ENTRY);
}

/* A user named again keeps the first line, as httpd uses the first; a
 * group named again adds members, as httpd reads every line. */
static void duplicate_users_and_groups(void **state)
{
    unit_fx *fx = *state;
    azs_import_t *pw = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_t *gr = azs_import_make(AZS_IMPORT_HTGROUP, fx->pool);
    azs_import_t *other = azs_import_make(AZS_IMPORT_HTPASSWD, fx->pool);
    azs_import_line_t l;

    assert_int_equal(parse(fx, pw, "# users", &l), AZS_LINE_SKIP);
    assert_int_equal(parse(fx, pw, "dup:plaintext", &l), AZS_LINE_REFUSED);
    assert_int_equal(parse(fx, pw, "dup:" SHA1, &l), AZS_LINE_ENTRY);
    assert_int_equal(parse(fx, pw, "dup:" BCRYPT, &l), AZS_LINE_REFUSED);
    assert_string_equal(l.name, "dup");
    assert_string_equal(l.why, "already on line 3 (httpd uses the first)");
    assert_int_equal(parse(fx, pw, "  dup:" APR1, &l), AZS_LINE_REFUSED);
    assert_string_equal(l.why, "already on line 3 (httpd uses the first)");
    assert_int_equal(parse(fx, pw, "Dup:" APR1, &l), AZS_LINE_ENTRY);
    /* Each file is read on its own. */
    assert_int_equal(parse(fx, other, "dup:" SHA1, &l), AZS_LINE_ENTRY);

    assert_int_equal(parse(fx, gr, "staff: a", &l), AZS_LINE_ENTRY);
    assert_int_equal(parse(fx, gr, "staff: b", &l), AZS_LINE_ENTRY);
    assert_string_equal(l.name, "staff");
    assert_string_equal(azs_import_member(&l.members), "b");
}

#define IMPORT_TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, \
                                                       unit_teardown)

static const struct CMUnitTest tests[] = {
    IMPORT_TEST(htpasswd_valid_lines),
    IMPORT_TEST(comments_and_blank_lines),
    IMPORT_TEST(htpasswd_malformed_lines),
    IMPORT_TEST(htgroup_lines),
    IMPORT_TEST(long_lines),
    IMPORT_TEST(nul_and_control_characters),
    IMPORT_TEST(unsupported_and_costly_hashes),
    IMPORT_TEST(duplicate_users_and_groups),
};

UNIT_MAIN(tests)
