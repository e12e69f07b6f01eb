/*
 * azs_hash.c - password hashes, in the formats httpd itself verifies.
 *
 * Verification goes through apr_password_validate, the function
 * mod_authn_file and htpasswd use, so a hash htauthz writes or imports is
 * one httpd accepts, and the reverse.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE            /* SCHED_IDLE */
#endif
#include <sched.h>
#include <string.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

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

int azs_hash_costly(const char *hash)
{
    /* {SHA} is one SHA-1 block: cheaper than starting a thread. */
    return strncmp(hash, "{SHA}", 5) != 0;
}

#if APR_HAS_THREADS
typedef struct {
    const char *pw;
    const char *hash;
    int ok;
    int idle;                 /* the thread got SCHED_IDLE */
} verify_job;

static void *APR_THREAD_FUNC verify_thread(apr_thread_t *t, void *data)
{
    verify_job *job = data;
#ifdef SCHED_IDLE
    struct sched_param sp;

    /* Linux schedules threads, so this thread alone drops to idle
     * priority: any runnable normal thread preempts it at once.  A thread
     * cannot climb back from SCHED_IDLE without privilege, hence a thread
     * of its own for each hash. */
    memset(&sp, 0, sizeof(sp));
    job->idle = sched_setscheduler(0, SCHED_IDLE, &sp) == 0;
#endif
    job->ok = azs_password_verify(job->pw, job->hash);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
#endif

int azs_password_verify_idle(const char *pw, const char *hash, int *idle)
{
#if APR_HAS_THREADS
    verify_job job;
    apr_allocator_t *alloc;
    apr_pool_t *tp;
    apr_thread_t *t;
    apr_status_t rv;

    if (idle) {
        *idle = 0;
    }
    if (!azs_hash_costly(hash)) {
        return azs_password_verify(pw, hash);
    }
    job.pw = pw;
    job.hash = hash;
    job.ok = 0;
    job.idle = 0;
    /* A root pool with an allocator of its own: the thread frees its pool
     * when it exits, and must not touch the caller's allocator. */
    if (apr_allocator_create(&alloc) != APR_SUCCESS) {
        return azs_password_verify(pw, hash);
    }
    if (apr_pool_create_unmanaged_ex(&tp, NULL, alloc) != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return azs_password_verify(pw, hash);
    }
    apr_allocator_owner_set(alloc, tp);
    if (apr_thread_create(&t, NULL, verify_thread, &job, tp)
        != APR_SUCCESS) {
        apr_pool_destroy(tp);
        return azs_password_verify(pw, hash);
    }
    apr_thread_join(&rv, t);
    apr_pool_destroy(tp);
    if (idle) {
        *idle = job.idle;
    }
    return job.ok;
#else
    if (idle) {
        *idle = 0;
    }
    return azs_password_verify(pw, hash);
#endif
}
