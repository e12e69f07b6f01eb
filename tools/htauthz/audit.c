/*
 * audit.c - what the audit row of a write command says: the command, its
 * words (names, ids, ranges, options, the file it imports and the counts)
 * and its outcome.  The words come from the parsed command, never from
 * argv as typed, and no command takes a secret as an operand: passwords
 * are read from the terminal or standard input, tokens are made here and
 * printed once, hashes come inside imported files, whose content is never
 * recorded.  store.c writes the row (finish()).
 */
#include <stdarg.h>
#include <string.h>

#include "htauthz.h"

#define AUDIT_REASON_MAX 200    /* bytes of an error kept in the row */

void audit_start(cli_t *c, const char *cmd)
{
    c->audit_cmd = cmd;
    c->audit_words = apr_array_make(c->p, 8, sizeof(const char *));
    c->audit_reached = 0;
    c->audit_done = 0;
}

void audit_word(cli_t *c, const char *word)
{
    if (c->audit_cmd) {
        APR_ARRAY_PUSH(c->audit_words, const char *) =
            azs_audit_quote(c->p, word);
    }
}

void audit_opt(cli_t *c, const char *name, const char *value)
{
    if (!c->audit_cmd || !value) {
        return;
    }
    APR_ARRAY_PUSH(c->audit_words, const char *) = name;
    if (*value) {
        audit_word(c, value);
    }
}

void audit_time(cli_t *c, const char *name, apr_int64_t t)
{
    audit_opt(c, name, azs_time_format(c->p, t));
}

void audit_fact(cli_t *c, const char *fmt, ...)
{
    va_list ap;

    if (!c->audit_cmd) {
        return;
    }
    va_start(ap, fmt);
    APR_ARRAY_PUSH(c->audit_words, const char *) =
        apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
}

const char *audit_args(cli_t *c)
{
    return c->audit_words ? apr_array_pstrcat(c->p, c->audit_words, ' ')
                          : "";
}

const char *audit_outcome(cli_t *c, int code)
{
    if (!c->audit_cmd || c->audit_done || !c->audit_reached
        || code == EX_OK || code == EX_USAGE) {
        return NULL;
    }
    return apr_pstrcat(c->p, "error: ",
                       azs_audit_text(c->p, last_failure(),
                                      AUDIT_REASON_MAX), NULL);
}

azs_rc audit_add(cli_t *c, const char *outcome)
{
    azs_audit_t a;

    memset(&a, 0, sizeof(a));
    a.sys_user = azs_audit_user(c->p);
    a.command = c->audit_cmd;
    a.args = audit_args(c);
    a.outcome = outcome;
    c->audit_done = 1;
    return azs_audit_add(c->st, &a);
}
