/*
 * fuzz.h - the start of every libFuzzer target here that needs APR: APR
 * initialized once, and a pool, `pool`, for the target to allocate from
 * (and clear) for each input.
 */
#ifndef AZS_FUZZ_H
#define AZS_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "azs.h"

static apr_pool_t *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    return 0;
}

#endif
