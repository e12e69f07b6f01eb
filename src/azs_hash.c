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
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "azs.h"

#if APR_HAS_THREADS
#include <pthread.h>
#endif

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
        return AZS_RC_INVALID;
    }
    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode(pw, cost, salt, sizeof(salt), out,
                             sizeof(out)) != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    *hash = apr_pstrdup(p, out);
    return AZS_RC_OK;
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

/* The bcrypt cost ("$2y$NN$"), or -1 when it is not two digits. */
static int bcrypt_cost(const char *hash)
{
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9'
        || hash[6] != '$') {
        return -1;
    }
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

/* SHA-crypt ($5$, $6$): the salt field may start with "rounds=N$".
 * crypt() takes whatever strtoul makes of N when a '$' follows it (glibc
 * clamps it to 999999999, libxcrypt refuses what is out of its range), so
 * the same reading is checked here: any "rounds=" that is not a plain
 * number within the bound is refused, whatever crypt() would do with it. */
static const char *sha_crypt_rounds_invalid(const char *hash)
{
    static const char prefix[] = "rounds=";
    const char *num = hash + 3;
    unsigned long rounds;
    char *end;

    if (strncmp(num, prefix, sizeof(prefix) - 1) != 0) {
        return NULL;        /* crypt()'s default: 5000 */
    }
    num += sizeof(prefix) - 1;
    errno = 0;
    rounds = strtoul(num, &end, 10);
    if (*num < '1' || *num > '9' || *end != '$') {
        return "malformed rounds= in a $5$ or $6$ hash";
    }
    if (errno != 0 || rounds > AZS_SHA_CRYPT_ROUNDS_MAX) {
        return "$5$ or $6$ hash with more than "
               AZS_STR(AZS_SHA_CRYPT_ROUNDS_MAX) " rounds";
    }
    return NULL;
}

const char *azs_hash_invalid(const char *hash)
{
    apr_size_t len = strlen(hash);

    /* A cost is refused above what anyone would configure: verifying it
     * would hold a CPU and a place under the hash limit for minutes or
     * hours (bcrypt cost 31 is 2^21 times cost 10), for every attempt
     * at that user's password. */
    if (is_bcrypt(hash)) {
        int cost = len == 60 ? bcrypt_cost(hash) : -1;

        if (cost < 4) {
            return "malformed bcrypt hash";
        }
        return cost > AZS_BCRYPT_COST_MAX
               ? "bcrypt cost above " AZS_STR(AZS_BCRYPT_COST_MAX)
                 " (the most htpasswd -C sets)"
               : NULL;
    }
    if (strncmp(hash, "$apr1$", 6) == 0) {
        return len > 6 && len <= 37 ? NULL : "malformed $apr1$ hash";
    }
    if (strncmp(hash, "{SHA}", 5) == 0) {
        return len == 33 ? NULL : "malformed {SHA} hash";
    }
    if (strncmp(hash, "$5$", 3) == 0 || strncmp(hash, "$6$", 3) == 0) {
        if (len <= 3 || len > 160 || !strchr(hash + 3, '$')) {
            return "malformed $5$ or $6$ hash";
        }
        return sha_crypt_rounds_invalid(hash);
    }
    /* Plain text, DES crypt and the rest are refused: they would be
     * accepted by apr_password_validate, but are not worth protecting. */
    return "not bcrypt, $apr1$, {SHA}, $5$ or $6$";
}

int azs_hash_supported(const char *hash)
{
    return azs_hash_invalid(hash) == NULL;
}

const char *azs_hash_kind(apr_pool_t *p, const char *hash, int *weak)
{
    const char *kind = "unknown";
    int w = 1;

    if (azs_hash_invalid(hash)) {
        /* unknown, and weak: nothing vouches for it */
    }
    else if (is_bcrypt(hash)) {
        int cost = bcrypt_cost(hash);

        kind = apr_psprintf(p, "bcrypt/%d", cost);
        w = cost < AZS_BCRYPT_COST;
    }
    else if (hash[0] == '$' && (hash[1] == '5' || hash[1] == '6')) {
        unsigned long rounds = 5000;    /* crypt()'s default */

        if (strncmp(hash + 3, "rounds=", 7) == 0) {
            rounds = strtoul(hash + 10, NULL, 10);
        }
        kind = apr_psprintf(p, "sha%s-crypt/%lu",
                            hash[1] == '5' ? "256" : "512", rounds);
        w = rounds < AZS_SHA_CRYPT_ROUNDS_WEAK;
    }
    else if (strncmp(hash, "$apr1$", 6) == 0) {
        kind = "apr1-md5";
    }
    else if (strncmp(hash, "{SHA}", 5) == 0) {
        kind = "sha1";
    }
    if (weak) {
        *weak = w;
    }
    return kind;
}

int azs_hash_costly(const char *hash)
{
    /* {SHA} is one SHA-1 block: cheaper than starting a thread. */
    return strncmp(hash, "{SHA}", 5) != 0;
}

/* ---- the failure floor --------------------------------------------- */

/* Verifications of the dummy hash the floor is the most of: the slowest
 * of a few runs, so a padded failure is never quicker than a typical one. */
#define FLOOR_RUNS 3

/* Microseconds, 0 until calibrated; set once, and a child forked after
 * it was set inherits it. */
static apr_interval_time_t fail_floor;

apr_time_t azs_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void floor_calibrate(void)
{
    apr_interval_time_t most = 1;
    int i;

    for (i = 0; i < FLOOR_RUNS; i++) {
        apr_time_t t0 = azs_clock();
        apr_interval_time_t took;

        (void)azs_password_verify("x", azs_dummy_hash);
        took = azs_clock() - t0;
        if (took > most) {
            most = took;
        }
    }
    __atomic_store_n(&fail_floor, most, __ATOMIC_RELEASE);
}

#if APR_HAS_THREADS
static pthread_once_t floor_once = PTHREAD_ONCE_INIT;
#endif

apr_interval_time_t azs_fail_floor(void)
{
#if APR_HAS_THREADS
    /* The first caller calibrates; any other thread that asks meanwhile
     * waits for the figure rather than running bcrypt of its own. */
    pthread_once(&floor_once, floor_calibrate);
#else
    if (!fail_floor) {
        floor_calibrate();
    }
#endif
    return __atomic_load_n(&fail_floor, __ATOMIC_ACQUIRE);
}

void azs_fail_pad(apr_time_t start)
{
    apr_time_t deadline = start + azs_fail_floor();
    apr_time_t now;

    /* Asleep, not spinning: a failure that cost little CPU stays cheap
     * for the server, it only answers later. */
    while ((now = azs_clock()) < deadline) {
        apr_sleep(deadline - now);
    }
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
