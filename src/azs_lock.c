/*
 * azs_lock.c - the files htauthz keeps beside the database, and the lock
 * that serializes its writers.
 *
 * The database's directory belongs to httpd's user (SQLite needs to create
 * -wal and -shm there), so whatever is found in it may have been planted:
 * a symbolic or hard link to a file of root's, a link to a path where a
 * file should not be, a FIFO.  htauthz, often run as root, creates and
 * chowns what it finds there, so it uses only regular files with a single
 * link, opened without following a link relative to the directory and
 * checked on the descriptor, never by path (doc/security.md; doc/htauthz.1,
 * FILES).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "azs.h"

const char *azs_file_unfit(const struct stat *sb)
{
    if (S_ISLNK(sb->st_mode)) {
        return "is a symbolic link";
    }
    if (!S_ISREG(sb->st_mode)) {
        return "is not a regular file";
    }
    if (sb->st_nlink != 1) {
        return "has more than one hard link";
    }
    return NULL;
}

int azs_file_open(int dir_fd, const char *name, int flags, mode_t mode,
                  int *fd, const char **why)
{
    struct stat sb;
    int err = 0;

    *why = NULL;
    *fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                 mode);
    if (*fd < 0) {
        if (errno != ELOOP) {
            return -1;
        }
        *why = "is a symbolic link";
        return 1;
    }
    if (fstat(*fd, &sb) != 0) {
        err = errno;
    }
    else if ((*why = azs_file_unfit(&sb)) == NULL) {
        return 0;
    }
    close(*fd);
    *fd = -1;
    errno = err;
    return *why ? 1 : -1;
}

/*
 * Writers are serialized for the whole command, the checkpoint at close
 * included, with flock on <db>.lock: SQLite 3.40 (Debian 12) can corrupt
 * the WAL when two connections write or checkpoint at the same moment,
 * and BEGIN IMMEDIATE alone does not cover the checkpoint.  httpd only
 * reads, so it never takes this lock.  A separate file, because closing
 * any descriptor of the database would drop SQLite's own POSIX locks.
 */
azs_rc azs_writer_lock(int dir_fd, const char *db, uid_t uid, gid_t gid,
                       int wait_ms, int *fd, apr_pool_t *p,
                       const char **err)
{
    const char *path = apr_pstrcat(p, db, ".lock", NULL);
    const char *slash = strrchr(db, '/');
    const char *name = path, *why;
    apr_time_t deadline;
    int code;

    if (dir_fd != AT_FDCWD) {
        name = apr_pstrcat(p, slash ? slash + 1 : db, ".lock", NULL);
    }
    code = azs_file_open(dir_fd, name, O_RDWR | O_CREAT, 0600, fd, &why);
    if (code != 0) {
        *err = code > 0
               ? apr_psprintf(p, "%s %s; refusing to use it", path, why)
               : apr_psprintf(p, "cannot open lock file %s: %s", path,
                              strerror(errno));
        return AZS_RC_INVALID;
    }
    /* As SQLite does for -wal and -shm: root keeps the lock file owned by
     * the database's owner, so that owner can still write later. */
    if (geteuid() == 0 && fchown(*fd, uid, gid) != 0) {
        *err = apr_psprintf(p, "cannot chown lock file %s: %s", path,
                            strerror(errno));
        azs_writer_unlock(fd);
        return AZS_RC_INVALID;
    }
    deadline = apr_time_now() + apr_time_from_msec(wait_ms);
    while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;

        if (!busy || apr_time_now() >= deadline) {
            *err = apr_psprintf(p, "database %s is busy: another htauthz "
                                "is writing (%s)", db,
                                busy ? "timed out" : strerror(errno));
            azs_writer_unlock(fd);
            return busy ? AZS_RC_EXISTS : AZS_RC_INVALID;
        }
        usleep(10000);
    }
    return AZS_RC_OK;
}

void azs_writer_unlock(int *fd)
{
    if (*fd >= 0) {
        close(*fd);     /* releases the flock */
        *fd = -1;
    }
}
