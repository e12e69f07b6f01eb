/*
 * test_hashlimit.c - the server-wide bound on costly hashes: a real System V
 * semaphore, real threads and real forked processes.
 */
#include "unit.h"

#include <errno.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <apr_atomic.h>
#include <apr_thread_proc.h>

typedef struct {
    azs_hashlimit_t *g;
    volatile apr_uint32_t inside;
    volatile apr_uint32_t peak;
} bound_ctx;

static void *APR_THREAD_FUNC holder(apr_thread_t *t, void *data)
{
    bound_ctx *b = data;
    int i;

    for (i = 0; i < 20; i++) {
        apr_uint32_t now, peak;

        while (azs_hashlimit_enter(b->g, apr_time_from_msec(50)) != 1) {
        }
        now = apr_atomic_inc32(&b->inside) + 1;
        while ((peak = apr_atomic_read32(&b->peak)) < now
               && apr_atomic_cas32(&b->peak, now, peak) != peak) {
        }
        apr_sleep(200);
        apr_atomic_dec32(&b->inside);
        azs_hashlimit_leave(b->g);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void bound_holds_under_threads(void **state)
{
    unit_fx *fx = *state;
    bound_ctx b = {NULL, 0, 0};
    const char *err = NULL;
    apr_thread_t *th[16];
    apr_status_t rv;
    int i;

    assert_int_equal(azs_hashlimit_create(&b.g, 3, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(azs_hashlimit_value(b.g), 3);
    for (i = 0; i < 16; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, holder, &b,
                                           fx->pool), APR_SUCCESS);
    }
    for (i = 0; i < 16; i++) {
        apr_thread_join(&rv, th[i]);
    }
    assert_true(b.peak >= 2);     /* they did run side by side */
    assert_true(b.peak <= 3);     /* and never more than the bound */
    assert_int_equal(azs_hashlimit_value(b.g), 3);
}

static void wait_is_bounded(void **state)
{
    unit_fx *fx = *state;
    azs_hashlimit_t *g = NULL;
    const char *err = NULL;
    apr_time_t t0, took;

    assert_int_equal(azs_hashlimit_create(&g, 1, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(azs_hashlimit_enter(g, 0), 1);
    t0 = apr_time_now();
    assert_int_equal(azs_hashlimit_enter(g, apr_time_from_msec(30)), 0);
    took = apr_time_now() - t0;
    assert_true(took >= apr_time_from_msec(25));
    assert_true(took < apr_time_from_sec(2));
    azs_hashlimit_leave(g);
    assert_int_equal(azs_hashlimit_enter(g, 0), 1);
    azs_hashlimit_leave(g);
    /* no gate: nothing to wait for */
    assert_int_equal(azs_hashlimit_enter(NULL, 0), 1);
}

/* The bound is across processes, and a process that dies holding a place
 * gives it back (SEM_UNDO): a crashed child cannot shrink the bound. */
static void shared_by_children_and_undone_on_death(void **state)
{
    unit_fx *fx = *state;
    azs_hashlimit_t *g = NULL;
    const char *err = NULL;
    int status;
    pid_t pid;

    assert_int_equal(azs_hashlimit_create(&g, 2, fx->pool, &err), AZS_RC_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* takes both places and dies without giving them back */
        _exit(azs_hashlimit_enter(g, 0) == 1 && azs_hashlimit_enter(g, 0) == 1
              && azs_hashlimit_enter(g, 0) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(azs_hashlimit_value(g), 2);
}

/* Only the creator removes it: a forked child clearing its copy of the
 * pool leaves it to its siblings. */
static void removed_only_by_its_creator(void **state)
{
    unit_fx *fx = *state;
    azs_hashlimit_t *g = NULL;
    const char *err = NULL;
    apr_pool_t *p;
    int status;
    pid_t pid;

    assert_int_equal(apr_pool_create(&p, fx->pool), APR_SUCCESS);
    assert_int_equal(azs_hashlimit_create(&g, 1, p, &err), AZS_RC_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apr_pool_destroy(p);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(azs_hashlimit_value(g), 1);
    assert_int_equal(azs_hashlimit_enter(g, 0), 1);
    azs_hashlimit_leave(g);
    /* the creator's pool goes: so does the semaphore, and a process
     * forked before (a child of the previous configuration) is told (-1),
     * not blocked */
    {
        int fds[2];
        char c = 'x';

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[1]);
            _exit(read(fds[0], &c, 1) == 1 && azs_hashlimit_enter(g, 0) == -1
                  ? 0 : 1);
        }
        close(fds[0]);
        apr_pool_destroy(p);
        assert_int_equal(write(fds[1], &c, 1), 1);
        close(fds[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

/* semtimedop as the kernel answers it when a signal arrives just as the
 * wait ends: EINTR where the answer would have been EAGAIN (time is up),
 * and EINTR before trying at all once no time is left.  This definition
 * stands in for the C library's (the test is linked with libazs); off, it
 * is the real system call. */
static int eintr_at_deadline;
static int eintr_seen;

int semtimedop(int id, struct sembuf *ops, size_t n,
               const struct timespec *ts)
{
    int rc;

    if (eintr_at_deadline && ts && ts->tv_sec == 0 && ts->tv_nsec == 0) {
        eintr_seen++;
        errno = EINTR;
        return -1;
    }
    rc = (int)syscall(SYS_semtimedop, id, ops, n, ts);
    if (eintr_at_deadline && rc < 0 && errno == EAGAIN) {
        eintr_seen++;
        errno = EINTR;
    }
    return rc;
}

/* A signal exactly at the deadline is neither a place nor "gone": with
 * none free the answer is "none came free" (503), never "run without a
 * place"; with one free it is taken. */
static void interrupted_at_the_deadline(void **state)
{
    unit_fx *fx = *state;
    azs_hashlimit_t *g = NULL;
    const char *err = NULL;

    assert_int_equal(azs_hashlimit_create(&g, 1, fx->pool, &err), AZS_RC_OK);
    eintr_at_deadline = 1;
    eintr_seen = 0;
    /* a place is free: interrupted, then taken */
    assert_int_equal(azs_hashlimit_enter(g, 0), 1);
    assert_int_equal(azs_hashlimit_value(g), 0);
    /* none is: interrupted at once (no wait), or at the end of the wait */
    assert_int_equal(azs_hashlimit_enter(g, 0), 0);
    assert_int_equal(azs_hashlimit_enter(g, apr_time_from_msec(20)), 0);
    eintr_at_deadline = 0;
    assert_true(eintr_seen >= 4);
    assert_int_equal(azs_hashlimit_value(g), 0);
    azs_hashlimit_leave(g);
    assert_int_equal(azs_hashlimit_value(g), 1);
}

static const struct CMUnitTest tests[] = {
    T(bound_holds_under_threads),
    T(wait_is_bounded),
    T(shared_by_children_and_undone_on_death),
    T(removed_only_by_its_creator),
    T(interrupted_at_the_deadline),
};

UNIT_MAIN(tests)
