/*
 * azs_name.c - what a user, role, permission name or password may hold.
 */
#include <string.h>

#include "azs.h"

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* One scan for both kinds of name; they differ in ':' and ' ' only. */
static const char *name_invalid(const char *name, int colon_ok,
                                int space_ok)
{
    const unsigned char *s = (const unsigned char *)name;
    apr_size_t n;

    if (!name || !*name) {
        return "name is empty";
    }
    for (n = 0; s[n]; n++) {
        if (n >= AZS_NAME_MAX) {
            return "name is longer than 255 bytes";
        }
        if (s[n] == ':' && !colon_ok) {
            return "name contains ':'";
        }
        if (is_control(s[n])) {
            return "name contains a control character";
        }
        if (s[n] == ' ' && !space_ok) {
            return "name contains whitespace";
        }
    }
    return NULL;
}

const char *azs_user_name_invalid(const char *name)
{
    return name_invalid(name, 0, 1);
}

/* ':' is allowed: the same rule serves permission names, written
 * "docs:read" (README, "Quick start").  Only user names need to refuse
 * it, since Basic credentials are split at the first colon. */
const char *azs_role_name_invalid(const char *name)
{
    return name_invalid(name, 1, 0);
}

const char *azs_password_invalid(const char *pw)
{
    const unsigned char *s = (const unsigned char *)pw;
    apr_size_t n;

    if (!pw || !*pw) {
        return "password is empty";
    }
    for (n = 0; s[n]; n++) {
        if (n >= AZS_BCRYPT_MAX) {
            return "password is longer than 72 bytes (bcrypt reads no more)";
        }
        if (is_control(s[n])) {
            return "password contains a control character";
        }
    }
    return NULL;
}
