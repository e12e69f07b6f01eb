/*
 * cmd_audit.c - htauthz audit [--since WHEN] [--json]: the audit trail,
 * oldest first.  Text: a header, then one tab-separated line a row; JSON:
 * one object a line (JSON Lines), so a trail of any length streams.
 */
#include <string.h>

#include "htauthz.h"

typedef struct {
    apr_pool_t *p;              /* cleared after each row */
    int json;
    long rows;
} audit_out;

static int audit_row(const azs_audit_t *a, void *baton)
{
    audit_out *o = baton;

    if (o->json) {
        printf("{\"id\": %" APR_INT64_T_FMT ", \"time\": ", a->id);
        json_str(azs_time_format(o->p, a->at));
        json_text("user", a->sys_user);
        json_text("db_role", a->db_role);
        json_text("command", a->command);
        json_text("args", a->args);
        json_text("outcome", a->outcome);
        fputs("}\n", stdout);
    }
    else {
        printf("%" APR_INT64_T_FMT "\t%s\t%s\t%s\t%s\t%s\t%s\n", a->id,
               azs_time_format(o->p, a->at), printable(o->p, a->sys_user),
               *a->db_role ? printable(o->p, a->db_role) : "-",
               printable(o->p, a->command),
               *a->args ? printable(o->p, a->args) : "-",
               printable(o->p, a->outcome));
    }
    o->rows++;
    apr_pool_clear(o->p);
    return ferror(stdout) ? 1 : 0;
}

int cmd_audit(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--since", 1, 0}, {"--json", 0, 0}, {NULL, 0, 0}
    };
    static char buf[1 << 16];
    args_t a;
    audit_out o;
    const char *since_text, *err;
    apr_int64_t since = 0;
    int code;

    if ((code = parse_args(c, "audit", argc, argv, defs, 0, 0, &a))) {
        return code;
    }
    since_text = apr_table_get(a.opt, "--since");
    if (since_text
        && (err = azs_since_parse(since_text, azs_now(), &since)) != NULL) {
        return usage("audit: invalid time %s: %s", show(c->p, since_text),
                     err);
    }
    if ((code = begin_read(c))) {
        return finish(c, code);
    }
    memset(&o, 0, sizeof(o));
    o.json = apr_table_get(a.opt, "--json") != NULL;
    apr_pool_create(&o.p, c->p);
    setvbuf(stdout, buf, _IOFBF, sizeof(buf));
    if (!o.json) {
        fputs("ID\tTIME\tUSER\tDB_ROLE\tCOMMAND\tARGS\tOUTCOME\n", stdout);
    }
    if (azs_audit_list(c->st, since, audit_row, &o) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    return finish(c, EX_OK);
}
