/*
 * test_lock.c - the writer lock and the files beside the database
 * (azs_lock.c): real files, links and FIFOs in a temp directory, and a
 * real second process for the lock.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int dir_open(unit_fx *fx)
{
    int fd = open(fx->dir, O_RDONLY | O_DIRECTORY);

    assert_true(fd >= 0);
    return fd;
}

static const char *lock_path(unit_fx *fx)
{
    return apr_pstrcat(fx->pool, fx->db, ".lock", NULL);
}

/* A file outside the database's directory, as root's own would be. */
static const char *target(unit_fx *fx)
{
    const char *dir = apr_pstrcat(fx->pool, fx->dir, "/elsewhere", NULL);
    const char *path = apr_pstrcat(fx->pool, dir, "/target", NULL);
    FILE *f;

    mkdir(dir, 0700);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("root's own\n", f);
    fclose(f);
    chmod(path, 0600);
    return path;
}

/* Held: the file is there, regular, 0600; a second taker (another open
 * file description, as another process would have) waits its time and
 * is told the database is busy; once unlocked, it is free. */
static void lock_holds_and_times_out(void **state)
{
    unit_fx *fx = *state;
    int dir = dir_open(fx), fd = -1, fd2 = -1;
    const char *err = NULL;
    struct stat sb;
    apr_time_t t0;

    assert_int_equal(azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 100,
                                     &fd, fx->pool, &err), AZS_RC_OK);
    assert_true(fd >= 0);
    assert_int_equal(lstat(lock_path(fx), &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    t0 = apr_time_now();
    assert_int_equal(azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 100,
                                     &fd2, fx->pool, &err), AZS_RC_EXISTS);
    assert_true(apr_time_now() - t0 >= apr_time_from_msec(90));
    assert_int_equal(fd2, -1);
    assert_non_null(strstr(err, fx->db));
    assert_non_null(strstr(err, "is busy: another htauthz is writing "
                                "(timed out)"));
    azs_writer_unlock(&fd);
    assert_int_equal(fd, -1);
    azs_writer_unlock(&fd);             /* a -1 is left alone */
    assert_int_equal(azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 0,
                                     &fd2, fx->pool, &err), AZS_RC_OK);
    azs_writer_unlock(&fd2);
    close(dir);
}

/* A writer waiting in another process gets the lock as soon as the
 * holder lets it go, well before its deadline. */
static void lock_waiter_gets_it_when_released(void **state)
{
    unit_fx *fx = *state;
    int dir = dir_open(fx), fd = -1, status;
    const char *err = NULL;
    pid_t pid;

    assert_int_equal(azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 0,
                                     &fd, fx->pool, &err), AZS_RC_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int mine = -1;
        apr_time_t t0;
        azs_rc r;

        /* The copy of the parent's descriptor shares its lock. */
        close(fd);
        t0 = apr_time_now();
        r = azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 5000, &mine,
                            fx->pool, &err);

        _exit(r == AZS_RC_OK
              && apr_time_now() - t0 < apr_time_from_sec(3) ? 0 : 1);
    }
    apr_sleep(apr_time_from_msec(200));
    azs_writer_unlock(&fd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(dir);
}

/* A planted lock file is refused with one line naming it, and what it
 * points to is neither created, changed nor chowned. */
static void lock_refuses_links_and_fifos(void **state)
{
    unit_fx *fx = *state;
    const char *lock = lock_path(fx), *t = target(fx), *err = NULL;
    const char *dangling = apr_pstrcat(fx->pool, fx->dir, "/elsewhere/new",
                                       NULL);
    int dir = dir_open(fx), fd = 0;
    struct stat sb;

    assert_int_equal(symlink(t, lock), 0);
    assert_int_equal(azs_writer_lock(dir, fx->db, 1, 1, 0, &fd, fx->pool,
                                     &err), AZS_RC_INVALID);
    assert_int_equal(fd, -1);
    assert_string_equal(err, apr_pstrcat(fx->pool, lock, " is a symbolic "
                                         "link; refusing to use it", NULL));
    unlink(lock);

    assert_int_equal(symlink(dangling, lock), 0);
    assert_int_equal(azs_writer_lock(dir, fx->db, 1, 1, 0, &fd, fx->pool,
                                     &err), AZS_RC_INVALID);
    assert_non_null(strstr(err, "is a symbolic link"));
    assert_int_equal(access(dangling, F_OK), -1);
    unlink(lock);

    assert_int_equal(link(t, lock), 0);
    assert_int_equal(azs_writer_lock(dir, fx->db, 1, 1, 0, &fd, fx->pool,
                                     &err), AZS_RC_INVALID);
    assert_non_null(strstr(err, "has more than one hard link"));
    unlink(lock);

    /* Opened without waiting for a writer at the other end. */
    assert_int_equal(mkfifo(lock, 0600), 0);
    assert_int_equal(azs_writer_lock(dir, fx->db, 1, 1, 0, &fd, fx->pool,
                                     &err), AZS_RC_INVALID);
    assert_non_null(strstr(err, "is not a regular file"));
    unlink(lock);

    assert_int_equal(stat(t, &sb), 0);
    assert_int_equal(sb.st_uid, geteuid());
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_size, 11);
    close(dir);
}

/* As root, the lock file goes to the database's owner (by descriptor);
 * -1 leaves it as created. */
static void lock_chowned_as_root(void **state)
{
    unit_fx *fx = *state;
    int dir, fd = -1;
    const char *err = NULL;
    struct stat sb;

    if (geteuid() != 0) {
        skip();
    }
    dir = dir_open(fx);
    assert_int_equal(azs_writer_lock(dir, fx->db, 1, 2, 0, &fd, fx->pool,
                                     &err), AZS_RC_OK);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal(sb.st_uid, 1);
    assert_int_equal(sb.st_gid, 2);
    azs_writer_unlock(&fd);
    assert_int_equal(azs_writer_lock(dir, fx->db, (uid_t)-1, (gid_t)-1, 0,
                                     &fd, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(stat(lock_path(fx), &sb), 0);
    assert_int_equal(sb.st_uid, 1);
    azs_writer_unlock(&fd);
    close(dir);
}

/* AT_FDCWD: the database's own path names the lock. */
static void lock_by_path(void **state)
{
    unit_fx *fx = *state;
    const char *err = NULL;
    struct stat sb;
    int fd = -1;

    assert_int_equal(azs_writer_lock(AT_FDCWD, fx->db, (uid_t)-1, (gid_t)-1,
                                     0, &fd, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(stat(lock_path(fx), &sb), 0);
    azs_writer_unlock(&fd);
    assert_int_equal(azs_writer_lock(AT_FDCWD, apr_pstrcat(fx->pool,
                                     fx->dir, "/no/such/test.db", NULL),
                                     (uid_t)-1, (gid_t)-1, 0, &fd, fx->pool,
                                     &err), AZS_RC_INVALID);
    assert_non_null(strstr(err, "cannot open lock file"));
    assert_non_null(strstr(err, strerror(ENOENT)));
}

/* azs_file_open: 0 and a descriptor for a regular file with one link;
 * 1 and why for anything else; -1 and errno when it is not there. */
static void file_open_checks_the_descriptor(void **state)
{
    unit_fx *fx = *state;
    const char *t = target(fx), *why = "x";
    int fd = 0;
    struct stat sb;

    assert_int_equal(azs_file_open(AT_FDCWD, t, O_RDONLY, 0, &fd, &why), 0);
    assert_true(fd >= 0);
    assert_null(why);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    assert_int_equal(azs_file_open(AT_FDCWD, fx->dir, O_RDONLY, 0, &fd,
                                   &why), 1);
    assert_string_equal(why, "is not a regular file");
    assert_int_equal(fd, -1);
    assert_int_equal(azs_file_open(AT_FDCWD, fx->db, O_RDONLY, 0, &fd, &why),
                     -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fd, -1);

    assert_int_equal(lstat(t, &sb), 0);
    assert_null(azs_file_unfit(&sb));
    assert_int_equal(symlink(t, fx->db), 0);
    assert_int_equal(lstat(fx->db, &sb), 0);
    assert_string_equal(azs_file_unfit(&sb), "is a symbolic link");
}

static const struct CMUnitTest tests[] = {
    T(lock_holds_and_times_out),
    T(lock_waiter_gets_it_when_released),
    T(lock_refuses_links_and_fifos),
    T(lock_chowned_as_root),
    T(lock_by_path),
    T(file_open_checks_the_descriptor),
};

UNIT_MAIN(tests)
