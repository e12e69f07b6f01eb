/*
 * azs_hash.c - password hashes, in the formats httpd itself verifies.
 *
 * Verification goes through apr_password_validate, the function
 * mod_authn_file and htpasswd use, so a hash htauthz writes or imports is
 * one httpd accepts, and the reverse.
 */
#include <string.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "azs.h"

/* bcrypt, cost AZS_BCRYPT_COST, of 32 random bytes that were discarded. */
const char azs_dummy_hash[] =
    "$2y$10$vMR3skTkYTbq3CXKH/qA/.fOzg2kIPS9BK6CmLH5xaUix/4nWpEA2";

static int is_bcrypt(const char *hash)
{
    return hash[0] == '$' && hash[1] == '2'
           && (hash[2] == 'y' || hash[2] == 'a' || hash[2] == 'b')
           && hash[3] == '$';
}

azs_rc azs_password_hash(apr_pool_t *p, const char *pw, int cost,
                         const char **hash)
{
    unsigned char salt[16];
    char out[64];

    if (azs_password_invalid(pw)) {
        return AZS_INVALID;
    }
    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode(pw, cost, salt, sizeof(salt), out,
                             sizeof(out)) != APR_SUCCESS) {
        return AZS_INVALID;
    }
    *hash = apr_pstrdup(p, out);
    return AZS_OK;
}

int azs_password_verify(const char *pw, const char *hash)
{
    apr_size_t len = strlen(pw);

    if (len == 0 || len > AZS_PASSWORD_MAX) {
        return 0;
    }
    /* bcrypt ignores what follows byte 72: a longer password would match
     * on its prefix alone.  htauthz never sets one, so none can match. */
    if (is_bcrypt(hash) && len > AZS_BCRYPT_MAX) {
        return 0;
    }
    if (!azs_hash_supported(hash)) {
        return 0;
    }
    return apr_password_validate(pw, hash) == APR_SUCCESS;
}

int azs_hash_supported(const char *hash)
{
    apr_size_t len = strlen(hash);

    if (is_bcrypt(hash)) {
        return len == 60;
    }
    if (strncmp(hash, "$apr1$", 6) == 0) {
        return len > 6 && len <= 37;
    }
    if (strncmp(hash, "{SHA}", 5) == 0) {
        return len == 33;
    }
    if (strncmp(hash, "$5$", 3) == 0 || strncmp(hash, "$6$", 3) == 0) {
        return len > 3 && len <= 160 && strchr(hash + 3, '$') != NULL;
    }
    /* Plain text, DES crypt and the rest are refused: they would be
     * accepted by apr_password_validate, but are not worth protecting. */
    return 0;
}
