/*
 * cmd_ip.c - htauthz ip: block, unblock, list.
 */
#include <string.h>

#include "htauthz.h"

static int parse_range(cli_t *c, const char *cmd, const char *text,
                       azs_cidr_t *range)
{
    const char *err = azs_cidr_parse(text, range);

    if (err) {
        return usage("%s: invalid address %s: %s", cmd, show(c->p, text),
                     err);
    }
    return EX_OK;
}

int cmd_ip_block(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--expires", 1, 0}, {"--reason", 1, 0}, {NULL, 0, 0}
    };
    args_t a;
    azs_cidr_t range;
    apr_array_header_t *list;
    const char *reason, *text;
    apr_int64_t expires = 0, now = azs_now();
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, "ip block", argc, argv, defs, 1, 1, &a))
        || (code = parse_range(c, "ip block", POS(&a, 0), &range))
        || (code = parse_expires(c, "ip block", &a, &expires))) {
        return code;
    }
    reason = apr_table_get(a.opt, "--reason");
    if (reason && (code = check_text("reason", reason))) {
        return code;
    }
    audit_start(c, "ip block");
    audit_word(c, azs_cidr_format(c->p, &range));
    if (apr_table_get(a.opt, "--expires")) {
        audit_time(c, "--expires", expires);
    }
    audit_opt(c, "--reason", reason);
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    text = azs_cidr_format(c->p, &range);
    r = azs_block_add(c->st, &range, reason ? reason : "", expires);
    if (r == AZS_RC_EXISTS) {
        /* An entry that has expired is replaced; a live one stays. */
        if (azs_block_list(c->st, c->p, &list) != AZS_RC_OK) {
            return finish(c, db_error(c));
        }
        for (i = 0; i < list->nelts; i++) {
            azs_block_t *b = &APR_ARRAY_IDX(list, i, azs_block_t);

            if (b->range.bits == range.bits
                && !memcmp(b->range.net, range.net, 16)
                && b->expires && b->expires <= now) {
                r = azs_block_del(c->st, &range);
                if (r == AZS_RC_OK) {
                    r = azs_block_add(c->st, &range, reason ? reason : "",
                                      expires);
                }
                break;
            }
        }
        if (r == AZS_RC_EXISTS) {
            return finish(c, fail(EX_FAIL, "%s is already blocked", text));
        }
    }
    return finish(c, rc_fail(c, r, text));
}

int cmd_ip_unblock(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_cidr_t range;
    azs_rc r;
    int code;

    if ((code = parse_args(c, "ip unblock", argc, argv, NULL, 1, 1, &a))
        || (code = parse_range(c, "ip unblock", POS(&a, 0), &range))) {
        return finish(c, code);
    }
    audit_start(c, "ip unblock");
    audit_word(c, azs_cidr_format(c->p, &range));
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    r = azs_block_del(c->st, &range);
    if (r == AZS_RC_NOTFOUND) {
        return finish(c, fail(EX_FAIL, "%s is not on the blocklist",
                              azs_cidr_format(c->p, &range)));
    }
    return finish(c, rc_fail(c, r, azs_cidr_format(c->p, &range)));
}

int cmd_ip_list(cli_t *c, int argc, const char *const *argv)
{
    apr_array_header_t *list;
    apr_int64_t now = azs_now();
    int code, i, json;

    if ((code = begin_list(c, "ip list", argc, argv, &json))) {
        return finish(c, code);
    }
    if (azs_block_list(c->st, c->p, &list) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    list_open(json, apr_psprintf(c->p, "%-43s  %-7s  %-20s  %-20s  %s\n",
                                 "ADDRESS", "STATE", "CREATED", "EXPIRES",
                                 "REASON"));
    for (i = 0; i < list->nelts; i++) {
        azs_block_t *b = &APR_ARRAY_IDX(list, i, azs_block_t);
        const char *state = b->expires && b->expires <= now ? "expired"
                                                            : "active";

        if (json) {
            json_item(i, "address");
            json_str(b->text);
            printf(", \"id\": %" APR_INT64_T_FMT ", \"state\": \"%s\"",
                   b->id, state);
            json_time(c->p, "created", b->created);
            json_time(c->p, "expires", b->expires);
            json_text("reason", b->reason);
            putchar('}');
        }
        else {
            printf("%-43s  %-7s  %-20s  %-20s  %s\n", b->text, state,
                   azs_time_format(c->p, b->created),
                   azs_time_format(c->p, b->expires),
                   *b->reason ? plain(c->p, b->reason) : "-");
        }
    }
    list_close(json, list->nelts);
    return finish(c, EX_OK);
}
