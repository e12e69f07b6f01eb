/*
 * password.c - a new password, from one line of standard input or typed
 * twice on the terminal without echo, and its bcrypt hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "htauthz.h"

/*
 * Echo is off while the password is typed.  The signals that would stop
 * or end the process there are caught (readpassphrase(3) does the same):
 * the terminal gets its modes back first, then the signal does what it
 * would have done; once continued after a stop, echo goes off again, the
 * prompt is shown again and the reading goes on.
 */
static int tty_fd = -1;
static int tty_modes;                   /* tty_saved holds its modes */
static struct termios tty_saved, tty_quiet;
static const char *tty_prompt;          /* the prompt being answered */
static volatile sig_atomic_t tty_caught;        /* 0, or a signal */
static const int tty_signals[] = {
    SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU
};
#define TTY_NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))
static struct sigaction tty_old[TTY_NSIGNALS];

static void tty_catch(int sig)
{
    tty_caught = sig;
}

/* Without SA_RESTART, so that a read at the prompt returns EINTR. */
static void tty_handle(int sig, struct sigaction *old)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tty_catch;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}

/* A job in the background gets SIGTTOU for a tcsetattr: caught, it ends
 * the attempt, and the stop comes at the next read. */
static void tty_set(const struct termios *t)
{
    while (tcsetattr(tty_fd, TCSANOW, t) != 0 && errno == EINTR
           && tty_caught != SIGTTOU) {
    }
}

/* Acts on a signal caught at the prompt, as described above. */
static void tty_deliver(void)
{
    int sig = tty_caught;
    apr_size_t i;

    for (i = 0; sig && i < TTY_NSIGNALS; i++) {
        if (tty_signals[i] != sig) {
            continue;
        }
        tty_set(&tty_saved);
        tty_caught = 0;
        sigaction(sig, &tty_old[i], NULL);
        raise(sig);                     /* stops or ends the process */
        tty_handle(sig, NULL);
        tty_set(&tty_quiet);
        if ((sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
            && tty_prompt
            && write(tty_fd, tty_prompt, strlen(tty_prompt)) < 0) {
            /* the reading goes on without the prompt */
        }
    }
}

static int tty_open(void)
{
    apr_size_t i;

    tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_fd < 0) {
        return -1;
    }
    tty_modes = tcgetattr(tty_fd, &tty_saved) == 0;
    if (tty_modes) {
        tty_quiet = tty_saved;
        tty_quiet.c_lflag &= ~(ECHO | ECHONL);
        tty_quiet.c_lflag |= ICANON;
        tty_caught = 0;
        for (i = 0; i < TTY_NSIGNALS; i++) {
            tty_handle(tty_signals[i], &tty_old[i]);
        }
        tty_set(&tty_quiet);
    }
    return 0;
}

/* Echo back on, the signals as they were, and a signal caught after the
 * last read is acted on now. */
static void tty_close(void)
{
    apr_size_t i;

    if (tty_modes) {
        tty_set(&tty_saved);
        for (i = 0; i < TTY_NSIGNALS; i++) {
            sigaction(tty_signals[i], &tty_old[i], NULL);
        }
        if (tty_caught && tty_caught != SIGTTOU) {
            raise(tty_caught);
        }
        tty_caught = 0;
        tty_modes = 0;
    }
    tty_prompt = NULL;
    close(tty_fd);
    tty_fd = -1;
}

/* Reads one line from fd into buf (size bytes), without the line end.
 * Returns the length, -1 on a read error, -2 when the line is longer
 * than buf holds, -3 when it holds a NUL byte. */
static int read_line(int fd, char *buf, apr_size_t size, int *eof)
{
    apr_size_t n = 0;
    int toolong = 0, nul = 0;

    *eof = 0;
    for (;;) {
        char ch;
        ssize_t got;

        tty_deliver();          /* a signal caught at the prompt */
        got = read(fd, &ch, 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            *eof = 1;
            break;
        }
        if (ch == '\n') {
            break;
        }
        if (ch == '\0') {
            nul = 1;
        }
        if (n + 1 < size) {
            buf[n++] = ch;
        }
        else {
            toolong = 1;
        }
    }
    if (n > 0 && buf[n - 1] == '\r' && !toolong) {
        n--;
    }
    buf[n] = '\0';
    if (toolong) {
        return -2;
    }
    return nul ? -3 : (int)n;
}

static int prompt(const char *text, char *buf, apr_size_t size)
{
    int got, eof;

    /* A write cut short by a signal: the reading shows the prompt again
     * after a stop. */
    tty_prompt = text;
    if (write(tty_fd, text, strlen(text)) < 0 && errno != EINTR) {
        return -1;
    }
    got = read_line(tty_fd, buf, size, &eof);
    if (write(tty_fd, "\n", 1) < 0 && errno != EINTR) {
        return -1;
    }
    return got;
}

/* The new password, in buf: from one line of stdin, or typed twice on
 * the terminal without echo. */
static int get_password(int from_stdin, char *buf, apr_size_t size)
{
    char again[AZS_PASSWORD_MAX + 2];
    const char *why;
    int got, eof = 0;

    if (from_stdin) {
        got = read_line(STDIN_FILENO, buf, size, &eof);
        if (got == -1) {
            return fail(EX_FAIL, "cannot read the password from standard "
                        "input: %s", strerror(errno));
        }
        if (got == 0 && eof) {
            return fail(EX_FAIL, "no password on standard input");
        }
    }
    else {
        if (tty_open() != 0) {
            return usage("no terminal to read the password from; use "
                         "--password-stdin");
        }
        got = prompt("New password: ", buf, size);
        if (got >= 0) {
            int got2 = prompt("Re-type new password: ", again,
                              sizeof(again));

            if (got2 != got || strcmp(buf, again) != 0) {
                got = -4;
            }
        }
        tty_close();
        explicit_bzero(again, sizeof(again));
        if (got == -1) {
            return fail(EX_FAIL, "cannot read the password from the "
                        "terminal: %s", strerror(errno));
        }
        if (got == -4) {
            return fail(EX_FAIL, "passwords do not match");
        }
    }
    if (got == -2) {
        return fail(EX_FAIL, "password is longer than %d bytes (bcrypt "
                    "reads no more)", AZS_BCRYPT_MAX);
    }
    if (got == -3) {
        return fail(EX_FAIL, "password contains a control character");
    }
    if ((why = azs_password_invalid(buf)) != NULL) {
        return fail(EX_FAIL, "%s", why);
    }
    return EX_OK;
}

int new_hash(cli_t *c, int from_stdin, const char **hash)
{
    char pw[AZS_PASSWORD_MAX + 2];
    int code = get_password(from_stdin, pw, sizeof(pw));

    if (code == EX_OK
        && azs_password_hash(c->p, pw, AZS_BCRYPT_COST, hash) != AZS_RC_OK) {
        code = fail(EX_FAIL, "cannot hash the password");
    }
    explicit_bzero(pw, sizeof(pw));
    return code;
}
