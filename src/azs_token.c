/*
 * azs_token.c - API tokens: "azs_" + 32 base64url characters.
 *
 * Only the SHA-256 of a token is stored.  A plain hash is enough (no
 * salt, no slow hash) because the token carries 192 random bits, not a
 * human secret.
 */
#include <string.h>

#include <apr_general.h>

#include "azs.h"

/* 24 bytes are exactly 32 base64 characters: no padding to strip. */
#if AZS_TOKEN_RANDOM % 3 != 0
#error "AZS_TOKEN_RANDOM must be a multiple of 3"
#endif

azs_rc azs_token_generate(apr_pool_t *p, const char **token)
{
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char rnd[AZS_TOKEN_RANDOM];
    char *out, *o;
    int i;

    *token = NULL;
    /* The failure of the system's random source is reported as
     * AZS_RC_INVALID: azs_rc has no better code, and no token must come of
     * it. */
    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    out = apr_palloc(p, AZS_TOKEN_LEN + 1);
    memcpy(out, AZS_TOKEN_PREFIX, sizeof(AZS_TOKEN_PREFIX) - 1);
    o = out + sizeof(AZS_TOKEN_PREFIX) - 1;
    for (i = 0; i < AZS_TOKEN_RANDOM; i += 3) {
        apr_uint32_t v = (apr_uint32_t)rnd[i] << 16
                       | (apr_uint32_t)rnd[i + 1] << 8 | rnd[i + 2];

        *o++ = b64url[v >> 18 & 0x3f];
        *o++ = b64url[v >> 12 & 0x3f];
        *o++ = b64url[v >> 6 & 0x3f];
        *o++ = b64url[v & 0x3f];
    }
    *o = '\0';
    *token = out;
    return AZS_RC_OK;
}

void azs_token_hash(unsigned char out[AZS_SHA256_LEN], const char *token)
{
    if (!token) {
        token = "";
    }
    azs_sha256(out, token, strlen(token));
}
