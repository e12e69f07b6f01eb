/*
 * args.c - a command's operands and options, and the checks on names and
 * texts that come before anything is opened.
 */
#include <string.h>

#include "htauthz.h"

const optdef json_opt[] = { {"--json", 0, 0}, {NULL, 0, 0} };

/* The synopsis of a command, from the help text: "user add NAME ...". */
static const char *synopsis(apr_pool_t *p, const char *cmd)
{
    apr_size_t n = strlen(cmd);
    const char *s = usage_text;

    while ((s = strstr(s, cmd)) != NULL) {
        if (s - usage_text >= 2 && s[-1] == ' '
            && (s[-2] == ' ' || s[-2] == '|')
            && (s[n] == ' ' || s[n] == '\n')) {
            const char *e = s + strcspn(s, "|\n");
            const char *gap = strstr(s, "  ");

            if (gap && gap < e) {
                e = gap;
            }
            while (e > s && e[-1] == ' ') {
                e--;
            }
            return apr_pstrndup(p, s, e - s);
        }
        s += n;
    }
    return cmd;
}

/* Options may come before, between or after operands; "--" ends them and
 * "--opt=value" is the same as "--opt value". */
int parse_args(cli_t *c, const char *cmd, int argc, const char *const *argv,
               const optdef *defs, int min, int max, args_t *a)
{
    int i, dashdash = 0;

    a->pos = apr_array_make(c->p, 4, sizeof(const char *));
    a->opt = apr_table_make(c->p, 4);
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const optdef *d;
        const char *eq, *val = "";
        apr_size_t len;

        if (dashdash || arg[0] != '-' || arg[1] == '\0') {
            APR_ARRAY_PUSH(a->pos, const char *) = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            dashdash = 1;
            continue;
        }
        eq = strchr(arg, '=');
        len = eq ? (apr_size_t)(eq - arg) : strlen(arg);
        for (d = defs; d && d->name; d++) {
            if (strlen(d->name) == len && !strncmp(d->name, arg, len)) {
                break;
            }
        }
        if (!d || !d->name) {
            return usage("%s: unknown option %s", cmd,
                         show(c->p, apr_pstrndup(c->p, arg, len)));
        }
        if (d->arg) {
            if (eq) {
                val = eq + 1;
            }
            else if (i + 1 < argc) {
                val = argv[++i];
            }
            else {
                return usage("%s: %s needs a value", cmd, d->name);
            }
        }
        else if (eq) {
            return usage("%s: %s takes no value", cmd, d->name);
        }
        if (!d->multi && apr_table_get(a->opt, d->name)) {
            return usage("%s: %s given twice", cmd, d->name);
        }
        apr_table_add(a->opt, d->name, val);
    }
    if (a->pos->nelts < min) {
        return usage("%s: missing argument; usage: htauthz %s", cmd,
                     synopsis(c->p, cmd));
    }
    if (max >= 0 && a->pos->nelts > max) {
        return usage("%s: unexpected argument %s", cmd,
                     show(c->p, APR_ARRAY_IDX(a->pos, max, const char *)));
    }
    return EX_OK;
}

int parse_when(cli_t *c, const char *cmd, const char *text,
               apr_int64_t *when)
{
    const char *err = azs_when_parse(text, azs_now(), when);

    if (err) {
        return usage("%s: invalid time %s: %s", cmd, show(c->p, text), err);
    }
    return EX_OK;
}

/* --expires WHEN, when given; else *expires is left as it is (0: never). */
int parse_expires(cli_t *c, const char *cmd, const args_t *a,
                  apr_int64_t *expires)
{
    const char *when = apr_table_get(a->opt, "--expires");

    return when ? parse_when(c, cmd, when, expires) : EX_OK;
}

/* PostgreSQL holds UTF-8 text only. */
static const char *pg_name_invalid(cli_t *c, const char *name)
{
    return azs_is_pg_url(c->db) && !azs_utf8_valid(name)
           ? "not UTF-8 (PostgreSQL holds UTF-8 names only)" : NULL;
}

int check_user_name(cli_t *c, const char *name)
{
    const char *why = azs_user_name_invalid(name);

    if (!why) {
        why = pg_name_invalid(c, name);
    }
    if (why) {
        return fail(EX_FAIL, "invalid user name %s: %s", show(c->p, name),
                    why);
    }
    return EX_OK;
}

int check_role_name(cli_t *c, const char *what, const char *name)
{
    const char *why = azs_role_name_invalid(name);

    if (!why) {
        why = pg_name_invalid(c, name);
    }
    if (why) {
        return fail(EX_FAIL, "invalid %s name %s: %s", what,
                    show(c->p, name), why);
    }
    return EX_OK;
}

/* Labels and reasons: one line of printable text. */
int check_text(const char *what, const char *text)
{
    const unsigned char *u = (const unsigned char *)text;

    for (; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return fail(EX_FAIL, "invalid %s: it contains a control "
                        "character", what);
        }
    }
    if (strlen(text) > CLI_TEXT_MAX) {
        return fail(EX_FAIL, "invalid %s: longer than %d bytes", what,
                    CLI_TEXT_MAX);
    }
    return EX_OK;
}
