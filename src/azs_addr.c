/*
 * azs_addr.c - addresses and CIDR ranges, IPv4 kept as IPv4-mapped IPv6.
 */
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "azs.h"

/* Longer than any address with a prefix: refused before copying. */
#define ADDR_TEXT_MAX 64

static const unsigned char v4mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int is_v4mapped(const unsigned char a[16])
{
    return memcmp(a, v4mapped, sizeof(v4mapped)) == 0;
}

int azs_cidr_is_v4(const azs_cidr_t *c)
{
    return is_v4mapped(c->net);
}

/* The address alone; *v4 tells which notation it was written in.  No
 * whitespace, zone or prefix: inet_pton refuses all of them, and also
 * refuses octets with leading zeros (glibc), which some tools would read
 * as octal. */
static const char *parse_addr(const char *text, unsigned char out[16],
                              int *v4)
{
    struct in_addr a4;

    if (strchr(text, ':')) {
        if (inet_pton(AF_INET6, text, out) != 1) {
            return "not a valid IPv6 address";
        }
        *v4 = 0;
        return NULL;
    }
    if (inet_pton(AF_INET, text, &a4) != 1) {
        return "not a valid IP address";
    }
    memcpy(out, v4mapped, sizeof(v4mapped));
    memcpy(out + 12, &a4, 4);
    *v4 = 1;
    return NULL;
}

/* Decimal prefix length: no sign, no leading zero, at most max. */
static int parse_bits(const char *s, int max)
{
    int v = 0;

    if (!*s || (s[0] == '0' && s[1])) {
        return -1;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        v = v * 10 + (*s - '0');
        if (v > max) {
            return -1;
        }
    }
    return v;
}

/* httpd may hand over a link-local client address with its zone
 * ("fe80::1%eth0"); the zone is not part of what a blocklist matches, so
 * a client address may carry one, a blocklist entry may not. */
static const char *parse_host(const char *text, unsigned char out[16],
                              int allow_zone)
{
    char buf[ADDR_TEXT_MAX];
    const char *pct, *z;
    int v4;

    if (!*text) {
        return "empty address";
    }
    if (strlen(text) >= sizeof(buf)) {
        return "address is too long";
    }
    strcpy(buf, text);
    pct = strchr(text, '%');
    if (pct && allow_zone) {
        if (!pct[1] || !strchr(text, ':')) {
            return "not a valid IP address";
        }
        for (z = pct + 1; *z; z++) {
            if (!apr_isalnum(*z) && *z != '-' && *z != '_' && *z != '.') {
                return "not a valid IPv6 zone";
            }
        }
        buf[pct - text] = '\0';
    }
    return parse_addr(buf, out, &v4);
}

const char *azs_cidr_parse(const char *text, azs_cidr_t *out)
{
    char buf[ADDR_TEXT_MAX];
    unsigned char net[16], masked[16];
    const char *slash, *err;
    int v4, bits;

    if (!text || !*text) {
        return "empty address";
    }
    if (strlen(text) >= sizeof(buf)) {
        return "address is too long";
    }
    slash = strchr(text, '/');
    if (!slash) {
        if ((err = parse_host(text, net, 0)) != NULL) {
            return err;
        }
        memcpy(out->net, net, 16);
        out->bits = 128;
        return NULL;
    }
    memcpy(buf, text, slash - text);
    buf[slash - text] = '\0';
    if ((err = parse_addr(buf, net, &v4)) != NULL) {
        return err;
    }
    bits = parse_bits(slash + 1, v4 ? 32 : 128);
    if (bits < 0) {
        return v4 ? "prefix length must be 0 to 32"
                  : "prefix length must be 0 to 128";
    }
    if (v4) {
        bits += 96;
    }
    azs_cidr_mask(masked, net, bits);
    if (memcmp(masked, net, 16) != 0) {
        return "address has bits set beyond the prefix length";
    }
    memcpy(out->net, net, 16);
    out->bits = bits;
    return NULL;
}

const char *azs_addr_parse(const char *text, azs_cidr_t *out)
{
    unsigned char net[16];
    const char *err;

    if (!text) {
        return "empty address";
    }
    if (strchr(text, '/')) {
        return "an address cannot have a prefix length here";
    }
    if ((err = parse_host(text, net, 1)) != NULL) {
        return err;
    }
    memcpy(out->net, net, 16);
    out->bits = 128;
    return NULL;
}

const char *azs_cidr_format(apr_pool_t *p, const azs_cidr_t *c)
{
    char buf[INET6_ADDRSTRLEN];
    int bits = c->bits;

    if (bits < 0 || bits > 128) {
        return "(invalid)";
    }
    if (bits >= 96 && is_v4mapped(c->net)) {
        const unsigned char *a = c->net + 12;

        if (bits == 128) {
            return apr_psprintf(p, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        }
        return apr_psprintf(p, "%u.%u.%u.%u/%d", a[0], a[1], a[2], a[3],
                            bits - 96);
    }
    if (!inet_ntop(AF_INET6, c->net, buf, sizeof(buf))) {
        return "(invalid)";
    }
    if (bits == 128) {
        return apr_pstrdup(p, buf);
    }
    return apr_psprintf(p, "%s/%d", buf, bits);
}

int azs_cidr_contains(const azs_cidr_t *range, const unsigned char addr[16])
{
    unsigned char a[16], net[16];

    if (range->bits < 0 || range->bits > 128) {
        return 0;
    }
    azs_cidr_mask(a, addr, range->bits);
    azs_cidr_mask(net, range->net, range->bits);
    return memcmp(a, net, 16) == 0;
}

/* out may be addr. */
void azs_cidr_mask(unsigned char out[16], const unsigned char addr[16],
                   int bits)
{
    int i;

    if (bits < 0) {
        bits = 0;
    }
    for (i = 0; i < 16; i++, bits -= 8) {
        if (bits >= 8) {
            out[i] = addr[i];
        }
        else if (bits > 0) {
            out[i] = addr[i] & (unsigned char)(0xff << (8 - bits));
        }
        else {
            out[i] = 0;
        }
    }
}
