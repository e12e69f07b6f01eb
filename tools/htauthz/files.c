/*
 * files.c - the files beside the database, and the files htauthz imports.
 *
 * The database's directory belongs to httpd's user (SQLite needs to create
 * -wal and -shm there), so whatever is found in it may have been planted:
 * a symbolic or hard link to a file of root's, a link to a path where a
 * file should not be, a FIFO.  htauthz, often run as root, creates and
 * chowns what it finds there, so it uses only regular files with a single
 * link.  Its own files (the lock, a new database) are opened with
 * O_NOFOLLOW relative to the directory and checked on the descriptor
 * (azs_file_open, azs_writer_lock); the files SQLite opens (the database,
 * -wal, -shm, -journal) are checked just before it does, and SQLite then
 * opens each with O_NOFOLLOW and refuses a link in the database's path
 * (see the VFS below).  What is left is a hard link planted between the
 * check and SQLite's open: the kernel's protected_hardlinks, on by
 * default, keeps httpd's user from linking a file it cannot already write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htauthz.h"

static int refuse_file(const char *path, const char *why)
{
    return fail(EX_FAIL, "%s %s; refusing to use it", path, why);
}

/* azs_file_open, with a refusal reported (shown names the file): EX_OK,
 * EX_FAIL once refused, or -1 with errno. */
static int open_checked(int dir_fd, const char *path, const char *shown,
                        int flags, mode_t mode, int *fd)
{
    const char *why;
    int code = azs_file_open(dir_fd, path, flags, mode, fd, &why);

    return code > 0 ? refuse_file(shown, why) : code;
}

/* The database's directory, opened once; SQLite gets its real path, so
 * that a link in it (refused by the VFS below) can only be one planted
 * after this point.  -1 with errno when the directory cannot be opened. */
static int db_locate(cli_t *c)
{
    const char *slash = strrchr(c->db, '/');
    char *real;
    int err;

    if (c->dir_fd >= 0) {
        return 0;
    }
    c->base = slash ? slash + 1 : c->db;
    c->dir = !slash ? "." : slash == c->db ? "/"
                    : apr_pstrndup(c->p, c->db, slash - c->db);
    if ((real = realpath(c->dir, NULL)) == NULL) {
        return -1;
    }
    c->sqlpath = apr_pstrcat(c->p, real, strcmp(real, "/") ? "/" : "",
                             c->base, NULL);
    c->dir_fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    err = errno;
    free(real);
    errno = err;
    return c->dir_fd < 0 ? -1 : 0;
}

int db_check(cli_t *c, int *exists)
{
    static const char *const beside[] = { "-wal", "-shm", "-journal", NULL };
    struct stat sb;
    const char *why;
    int i;

    *exists = 0;
    if (db_locate(c) != 0) {
        return -1;
    }
    if (fstatat(c->dir_fd, c->base, &c->db_sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if ((why = azs_file_unfit(&c->db_sb)) != NULL) {
            return refuse_file(c->db, why);
        }
        *exists = 1;
    }
    else if (errno != ENOENT) {
        return -1;
    }
    for (i = 0; beside[i]; i++) {
        const char *name = apr_pstrcat(c->p, c->base, beside[i], NULL);

        if (fstatat(c->dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;
            }
            return fail(EX_FAIL, "cannot check %s%s: %s", c->db, beside[i],
                        strerror(errno));
        }
        if ((why = azs_file_unfit(&sb)) != NULL) {
            return refuse_file(apr_pstrcat(c->p, c->db, beside[i], NULL),
                               why);
        }
    }
    return EX_OK;
}

int db_create(cli_t *c, int *created)
{
    int code, fd;

    /* Created here, not by SQLite, so the mode is 0640 whatever the
     * umask: the -wal and -shm files take the mode of this file. */
    code = open_checked(c->dir_fd, c->base, c->db,
                        O_WRONLY | O_CREAT | O_EXCL, 0640, &fd);
    if (code == EX_OK) {
        fchmod(fd, 0640);
        close(fd);
        *created = 1;
    }
    return code;
}

/* Opened as the files beside the database are: root often runs the
 * import, the file may sit in a directory someone else can write, and
 * what root reads goes into a database httpd's user can read. */
int open_input(cli_t *c, const char *file, FILE **in)
{
    const char *shown = show_n(c->p, file, 0);
    int fd, code, err;

    if (!strcmp(file, "-")) {
        *in = stdin;
        return EX_OK;
    }
    code = open_checked(AT_FDCWD, file, shown, O_RDONLY, 0, &fd);
    if (code == EX_OK && (*in = fdopen(fd, "r")) == NULL) {
        err = errno;
        close(fd);
        errno = err;
        code = -1;
    }
    if (code < 0) {
        return fail(EX_FAIL, "cannot read %s: %s", shown, strerror(errno));
    }
    return code;
}

/* SQLite's own VFS, except that a database path that goes through a
 * symbolic link is refused, as SQLITE_OPEN_NOFOLLOW would refuse it, for
 * every database this process opens: a link put in place of the database
 * after db_check is not followed. */
static sqlite3_vfs *vfs_os;
static sqlite3_vfs vfs_nofollow;

static int nofollow_full_pathname(sqlite3_vfs *vfs, const char *name,
                                  int size, char *out)
{
    int rc = vfs_os->xFullPathname(vfs_os, name, size, out);

    (void)vfs;
    return rc == SQLITE_OK_SYMLINK ? SQLITE_CANTOPEN_SYMLINK : rc;
}

int vfs_install(void)
{
    if ((vfs_os = sqlite3_vfs_find(NULL)) == NULL) {
        return fail(EX_FAIL, "SQLite has no file system layer");
    }
    vfs_nofollow = *vfs_os;
    vfs_nofollow.zName = "htauthz-nofollow";
    vfs_nofollow.pNext = NULL;
    vfs_nofollow.xFullPathname = nofollow_full_pathname;
    if (sqlite3_vfs_register(&vfs_nofollow, 1) != SQLITE_OK) {
        return fail(EX_FAIL, "cannot set up SQLite's file system layer");
    }
    return EX_OK;
}
