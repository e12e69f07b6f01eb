/*
 * azs_hashlimit.c - the server-wide bound on costly password hashes.
 *
 * One System V semaphore counts the hashes running in all of httpd's
 * children at once.  It is the kernel's, so it needs no lock of ours, a
 * wait on it sleeps with a deadline (semtimedop), and SEM_UNDO gives back
 * whatever a child held if it dies in the middle: a crash cannot leak a
 * slot.  The parent creates it before forking and removes it when its
 * configuration pool goes (a restart makes a new one).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE            /* semtimedop */
#endif
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "azs.h"

struct azs_hashlimit {
    int id;
    pid_t creator;           /* only the creator removes it */
};

/* semctl's fourth argument, which the caller must declare. */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static apr_status_t hashlimit_remove(void *data)
{
    azs_hashlimit_t *g = data;

    /* A forked child destroys its copy of the pool too: it must not take
     * the semaphore away from its siblings. */
    if (g->id >= 0 && getpid() == g->creator) {
        semctl(g->id, 0, IPC_RMID);
    }
    g->id = -1;
    return APR_SUCCESS;
}

azs_rc azs_hashlimit_create(azs_hashlimit_t **out, int limit, apr_pool_t *p,
                       const char **err)
{
    azs_hashlimit_t *g = apr_pcalloc(p, sizeof(*g));
    union semun arg;

    g->id = semget(IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0600);
    if (g->id < 0) {
        *err = apr_psprintf(p, "semget: %s", strerror(errno));
        return AZS_RC_INVALID;
    }
    g->creator = getpid();
    apr_pool_cleanup_register(p, g, hashlimit_remove, apr_pool_cleanup_null);
    arg.val = limit > 0 ? limit : 1;
    if (semctl(g->id, 0, SETVAL, arg) != 0) {
        *err = apr_psprintf(p, "semctl SETVAL: %s", strerror(errno));
        return AZS_RC_INVALID;
    }
    *out = g;
    return AZS_RC_OK;
}

azs_rc azs_hashlimit_owner(azs_hashlimit_t *g, uid_t uid, gid_t gid)
{
    struct semid_ds ds;
    union semun arg;

    memset(&ds, 0, sizeof(ds));
    arg.buf = &ds;
    if (semctl(g->id, 0, IPC_STAT, arg) != 0) {
        return AZS_RC_INVALID;
    }
    ds.sem_perm.uid = uid;
    ds.sem_perm.gid = gid;
    ds.sem_perm.mode = 0600;
    return semctl(g->id, 0, IPC_SET, arg) == 0 ? AZS_RC_OK : AZS_RC_INVALID;
}

int azs_hashlimit_enter(azs_hashlimit_t *g, apr_interval_time_t wait)
{
    /* The monotonic clock: a wall clock set back must not stretch it. */
    apr_time_t deadline = azs_clock() + wait;
    struct sembuf op;

    if (!g || g->id < 0) {
        return 1;
    }
    op.sem_num = 0;
    op.sem_op = -1;
    op.sem_flg = SEM_UNDO;
    for (;;) {
        apr_time_t left = deadline - azs_clock();
        struct timespec ts;

        if (left < 0) {
            left = 0;
        }
        ts.tv_sec = (time_t)apr_time_sec(left);
        ts.tv_nsec = (long)(apr_time_usec(left) * 1000);
        if (semtimedop(g->id, &op, 1, &ts) == 0) {
            return 1;
        }
        if (errno == EINTR && left > 0) {
            continue;
        }
        if (errno == EINTR) {
            /* A signal at the deadline itself is no answer: one last try
             * that cannot sleep, so it cannot be interrupted either.  Only
             * the kernel's word "gone" may let a hash run without a place. */
            op.sem_flg |= IPC_NOWAIT;
            if (semop(g->id, &op, 1) == 0) {
                return 1;
            }
        }
        if (errno == EIDRM || errno == EINVAL) {
            /* A restart removed it while this child (of the old
             * generation) finishes its last requests. */
            return -1;
        }
        /* EAGAIN: the wait is over and no place came; any other failure
         * gives no place either, and a hash without one is what the bound
         * is there to prevent. */
        return 0;
    }
}

void azs_hashlimit_leave(azs_hashlimit_t *g)
{
    struct sembuf op;

    if (!g || g->id < 0) {
        return;
    }
    op.sem_num = 0;
    op.sem_op = 1;
    op.sem_flg = SEM_UNDO;
    semop(g->id, &op, 1);
}

int azs_hashlimit_value(azs_hashlimit_t *g)
{
    return g && g->id >= 0 ? semctl(g->id, 0, GETVAL) : -1;
}

int azs_hashlimit_id(azs_hashlimit_t *g)
{
    return g ? g->id : -1;
}
