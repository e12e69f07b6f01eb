/*
 * fuzz_when.c - azs_when_parse and azs_time_format.
 *
 * Accepted text gives a time in range (or 0 for "never" only), and the
 * formatted time parses back to itself.
 */
#include "fuzz.h"

#define NOW APR_INT64_C(1767225600)       /* 2026-01-01T00:00:00Z */
#define LAST APR_INT64_C(253402300799)    /* 9999-12-31T23:59:59Z */

static void check_round_trip(apr_int64_t t)
{
    apr_int64_t back = -1;

    if (azs_when_parse(azs_time_format(pool, t), NOW, &back) != NULL
        || back != t) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    apr_int64_t when = -1, t;

    memcpy(s, data, size);
    s[size] = '\0';
    if (azs_when_parse(s, NOW, &when) == NULL) {
        if (when == 0) {
            if (strcmp(s, "never") != 0) {
                abort();
            }
        }
        else if (when < 1 || when > LAST) {
            abort();
        }
        else {
            check_round_trip(when);
        }
    }
    else if (when != -1) {
        abort();
    }
    /* Any 64-bit time formats without trouble. */
    if (size >= 8) {
        memcpy(&t, data, 8);
        if (!azs_time_format(pool, t)) {
            abort();
        }
        t = t < 0 ? -(t + 1) : t;
        check_round_trip(1 + t % LAST);
    }
    apr_pool_clear(pool);
    free(s);
    return 0;
}
