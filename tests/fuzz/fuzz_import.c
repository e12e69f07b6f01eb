/*
 * fuzz_import.c - azs_import_line on arbitrary files, read as htpasswd and
 * as htgroup, line by line as getline() hands them over (NUL bytes
 * included).
 *
 * Beyond "no crash": every line is numbered, an entry obeys the name and
 * hash rules, a user is accepted once per file, a skipped line is blank
 * or a comment, and a refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "azs.h"

/* Made on the first input, cleared after each. */
static apr_pool_t *pool;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
           || c == '\v';
}

/* Blank, or a comment, once white space is gone. */
static int skippable(const char *line)
{
    while (is_space(*line)) {
        line++;
    }
    return *line == '\0' || *line == '#';
}

static void check_refused(const azs_import_line_t *l, azs_import_format f)
{
    const char *(*invalid)(const char *) =
        f == AZS_IMPORT_HTPASSWD ? azs_user_name_invalid
                                 : azs_role_name_invalid;
    const unsigned char *w;

    if (!l->why || !*l->why || l->hash || l->members) {
        abort();
    }
    for (w = (const unsigned char *)l->why; *w; w++) {
        if (*w < 0x20 || *w == 0x7f) {
            abort();
        }
    }
    if (l->bad_name && (l->name || !invalid(l->bad_name))) {
        abort();
    }
    if (l->name && invalid(l->name)) {
        abort();
    }
}

static void check_entry(const azs_import_line_t *l, azs_import_format f,
                        apr_hash_t *users)
{
    char *rest;
    const char *member;

    if (l->why || l->bad_name || !l->name) {
        abort();
    }
    if (f == AZS_IMPORT_HTPASSWD) {
        if (azs_user_name_invalid(l->name) || !l->hash || l->members
            || !azs_hash_supported(l->hash) || strchr(l->hash, ':')
            || apr_hash_get(users, l->name, APR_HASH_KEY_STRING)) {
            abort();
        }
        apr_hash_set(users, l->name, APR_HASH_KEY_STRING, "");
        return;
    }
    if (azs_role_name_invalid(l->name) || l->hash || !l->members) {
        abort();
    }
    rest = l->members;
    while ((member = azs_import_member(&rest)) != NULL) {
        if (!*member || strpbrk(member, " \t")) {
            abort();
        }
    }
}

static void run(const uint8_t *data, size_t size, azs_import_format f)
{
    azs_import_t *im = azs_import_make(f, pool);
    apr_hash_t *users = apr_hash_make(pool);
    size_t at = 0;
    long lineno = 0;

    while (at < size) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - data - at) + 1 : size - at;
        char *line = apr_palloc(pool, len + 1);
        char *copy;
        azs_import_line_t l;
        azs_line_kind kind;

        memcpy(line, data + at, len);
        line[len] = '\0';
        copy = apr_pstrmemdup(pool, line, len);
        at += len;
        kind = azs_import_line(im, line, len, &l, pool);
        if (l.lineno != ++lineno) {
            abort();
        }
        switch (kind) {
        case AZS_LINE_SKIP:
            if (strlen(copy) != len || !skippable(copy) || l.why) {
                abort();
            }
            break;
        case AZS_LINE_ENTRY:
            if (strlen(copy) != len || skippable(copy)) {
                abort();
            }
            check_entry(&l, f, users);
            break;
        case AZS_LINE_REFUSED:
            check_refused(&l, f);
            break;
        default:
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pool) {
        apr_initialize();
        apr_pool_create(&pool, NULL);
    }
    run(data, size, AZS_IMPORT_HTPASSWD);
    run(data, size, AZS_IMPORT_HTGROUP);
    apr_pool_clear(pool);
    return 0;
}
