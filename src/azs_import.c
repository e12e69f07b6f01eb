/*
 * azs_import.c - the lines of htpasswd and htgroup files, read as httpd's
 * mod_authn_file and mod_authz_groupfile read them.
 *
 * Parsing only: what an entry becomes in the database is the caller's
 * (htauthz import, doc/htauthz.1).  Nothing here needs SQLite, so the
 * parsers run under libFuzzer on their own (tests/fuzz/fuzz_import.c).
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "azs.h"

struct azs_import {
    apr_pool_t *pool;
    azs_import_format format;
    long lineno;
    apr_hash_t *seen;           /* htpasswd: user name -> long, its line */
};

azs_import_t *azs_import_make(azs_import_format format, apr_pool_t *p)
{
    azs_import_t *im = apr_pcalloc(p, sizeof(*im));

    im->pool = p;
    im->format = format;
    im->seen = apr_hash_make(p);
    return im;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
           || c == '\v';
}

/* httpd reads these files with ap_cfg_getline: leading and trailing
 * white space goes, and empty lines and lines starting with '#' are
 * skipped. */
static char *trim(char *s)
{
    char *e;

    while (is_space(*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && is_space(e[-1])) {
        *--e = '\0';
    }
    return s;
}

static azs_line_kind refuse(azs_import_line_t *out, const char *why)
{
    out->why = why;
    return AZS_LINE_REFUSED;
}

/* Why azs_hash_supported refused a hash: a scheme that is kept, but a
 * malformed hash or one whose cost is above the limit (it would hold a
 * CPU for every login attempt), or a scheme that is not kept at all. */
static const char *hash_refusal(const char *hash)
{
    static const char *const kept[] = {
        "$2y$", "$2a$", "$2b$", "$5$", "$6$", "$apr1$", "{SHA}", NULL
    };
    int i;

    for (i = 0; kept[i]; i++) {
        if (!strncmp(hash, kept[i], strlen(kept[i]))) {
            return "password hash refused: malformed, or its cost (bcrypt "
                   "cost, rounds= of $5$ and $6$) is above the limit";
        }
    }
    return "unsupported password hash (bcrypt, $apr1$, {SHA}, $5$ and $6$ "
           "are kept; plain text and crypt() are not)";
}

/* name:hash[:ignored]; a user named twice keeps the first line, as
 * httpd, which stops at the first match, does. */
static azs_line_kind htpasswd_line(azs_import_t *im, char *l,
                                   azs_import_line_t *out, apr_pool_t *lp)
{
    char *colon, *hash;
    long *first;

    if (!(colon = strchr(l, ':'))) {
        return refuse(out, "no ':' between user name and hash");
    }
    *colon = '\0';
    hash = colon + 1;
    if ((colon = strchr(hash, ':'))) {
        *colon = '\0';
    }
    if ((out->why = azs_user_name_invalid(l))) {
        out->bad_name = l;
        return AZS_LINE_REFUSED;
    }
    out->name = l;
    if (!*hash) {
        return refuse(out, "empty password hash");
    }
    if (!azs_hash_supported(hash)) {
        return refuse(out, hash_refusal(hash));
    }
    if ((first = apr_hash_get(im->seen, l, APR_HASH_KEY_STRING))) {
        return refuse(out, apr_psprintf(lp, "already on line %ld (httpd "
                                        "uses the first)", *first));
    }
    apr_hash_set(im->seen, apr_pstrdup(im->pool, l), APR_HASH_KEY_STRING,
                 apr_pmemdup(im->pool, &im->lineno, sizeof(im->lineno)));
    out->hash = hash;
    return AZS_LINE_ENTRY;
}

/* group: user1 user2; a group named on several lines has the members of
 * all of them, as mod_authz_groupfile reads every line. */
static azs_line_kind htgroup_line(char *l, azs_import_line_t *out)
{
    char *colon, *group;

    if (!(colon = strchr(l, ':'))) {
        return refuse(out, "no ':' after the group name");
    }
    *colon = '\0';
    group = trim(l);
    if ((out->why = azs_role_name_invalid(group))) {
        out->bad_name = group;
        return AZS_LINE_REFUSED;
    }
    out->name = group;
    out->members = colon + 1;
    return AZS_LINE_ENTRY;
}

azs_line_kind azs_import_line(azs_import_t *im, char *line, apr_size_t len,
                              azs_import_line_t *out, apr_pool_t *lp)
{
    char *l;

    memset(out, 0, sizeof(*out));
    out->lineno = ++im->lineno;
    if (len != strlen(line)) {
        return refuse(out, "line contains a NUL byte");
    }
    l = trim(line);
    if (!*l || *l == '#') {
        return AZS_LINE_SKIP;
    }
    return im->format == AZS_IMPORT_HTPASSWD ? htpasswd_line(im, l, out, lp)
                                             : htgroup_line(l, out);
}

const char *azs_import_member(char **members)
{
    char *s = *members, *e;

    s += strspn(s, " \t");
    if (!*s) {
        *members = s;
        return NULL;
    }
    e = s + strcspn(s, " \t");
    *members = *e ? e + 1 : e;
    *e = '\0';
    return s;
}
