/*
 * unit.h - shared cmocka fixture: an APR pool and a temp directory that
 * holds real SQLite files.  Include after <cmocka.h>'s prerequisites.
 */
#ifndef AZS_UNIT_H
#define AZS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include <ftw.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "azs.h"

typedef struct {
    apr_pool_t *pool;
    char dir[64];
    const char *db;        /* <dir>/test.db, not created */
} unit_fx;

static inline int unit_setup(void **state)
{
    unit_fx *fx = calloc(1, sizeof(*fx));
    apr_pool_create(&fx->pool, NULL);
    strcpy(fx->dir, "/tmp/azs-unit-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        return -1;
    }
    fx->db = apr_pstrcat(fx->pool, fx->dir, "/test.db", NULL);
    *state = fx;
    return 0;
}

static inline int unit_rm(const char *path, const struct stat *sb, int flag,
                   struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static inline int unit_teardown(void **state)
{
    unit_fx *fx = *state;
    nftw(fx->dir, unit_rm, 16, FTW_DEPTH | FTW_PHYS);
    apr_pool_destroy(fx->pool);
    free(fx);
    return 0;
}

/* A string of n copies of c, from the fixture's pool. */
static inline char *unit_repeat(unit_fx *fx, int c, apr_size_t n)
{
    char *s = apr_palloc(fx->pool, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A fresh database through azs_store_init, opened read-write. */
static inline azs_store_t *unit_store(unit_fx *fx)
{
    const char *err = NULL;
    azs_store_t *st = NULL;
    assert_int_equal(azs_store_init(fx->db, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_OK);
    return st;
}

/* A test with the fixture above: T(name) in a file's tests[] array. */
#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

/* The main() of every test file: UNIT_MAIN(tests) after the array. */
#define UNIT_MAIN(tests)                                                  \
    int main(void)                                                        \
    {                                                                     \
        int rc;                                                           \
        apr_initialize();                                                 \
        rc = cmocka_run_group_tests(tests, NULL, NULL);                   \
        apr_terminate();                                                  \
        return rc;                                                        \
    }

#endif
