/*
 * azs_throttle.c - the arithmetic of AuthzStatusThrottle (azs.h): which
 * key counts a client, the record of its recent failures, and the table
 * of bans every child of one server reads before it reads a credential.
 *
 * The record is what httpd's socache keeps per key (one server's shmcb,
 * or redis/memcache for a fleet): the times of the failures within the
 * window, oldest first, as offsets from a base, and the end of the ban
 * when there is one.  A window is a true sliding window: N failures
 * within any WINDOW ban, N spread over more never do.
 */
#include <string.h>

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "azs.h"

#define REC_VERSION 1
#define REC_HEAD    24          /* version, count, base, ban end */
#define BAN_WAYS    4

const char *azs_throttle_key(apr_pool_t *p, const char *ip)
{
    azs_cidr_t a;

    if (!ip || azs_addr_parse(ip, &a) != NULL) {
        return NULL;
    }
    /* IPv4 (kept as ::ffff:a.b.c.d) per address; IPv6 per /64, the
     * smallest network a site is given: one host has the whole /64 to
     * choose from.  Behind a NAT64/SIIT translator (64:ff9b::/96), each
     * IPv4 client is the address it embeds. */
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};

    if (memcmp(a.net, nat64, sizeof(nat64)) == 0) {
        memset(a.net, 0, 10);
        a.net[10] = a.net[11] = 0xff;
    }
    else if (a.bits == 128 && !azs_cidr_is_v4(&a)) {
        memset(a.net + 8, 0, 8);
        a.bits = 64;
    }
    return azs_cidr_format(p, &a);
}

const char *azs_throttle_parse(const char *limit, const char *ban,
                               azs_throttle_policy_t *out)
{
    const char *slash = limit ? strchr(limit, '/') : NULL;
    char *end;
    apr_int64_t n;

    if (!slash || slash == limit) {
        return "takes N/WINDOW [BAN]: 20/1m, or 20/1m 15m";
    }
    n = apr_strtoi64(limit, &end, 10);
    if (end != slash || n < 1 || n > AZS_THROTTLE_MAX_N) {
        return "N must be a number from 1 to 1000";
    }
    if (azs_duration_ms(slash + 1, &out->window_ms) != 0
        || out->window_ms < 1000 || out->window_ms > 86400000) {
        return "WINDOW must be a duration from 1s to 24h (30s, 5m, 1h)";
    }
    out->ban_ms = out->window_ms;
    if (ban && (azs_duration_ms(ban, &out->ban_ms) != 0
                || out->ban_ms < 1000 || out->ban_ms > 30LL * 86400000)) {
        return "BAN must be a duration from 1s to 30 days (15m, 1h, 720h)";
    }
    out->n = (int)n;
    return NULL;
}

static apr_int64_t get64(const unsigned char *b)
{
    apr_int64_t v;

    memcpy(&v, b, sizeof(v));
    return v;
}

static void put64(unsigned char *b, apr_int64_t v)
{
    memcpy(b, &v, sizeof(v));
}

apr_size_t azs_throttle_count(const azs_throttle_policy_t *pol,
                              const unsigned char *rec, apr_size_t len,
                              apr_int64_t now_ms, unsigned char *out,
                              azs_throttle_state_t *st)
{
    apr_uint32_t n = 0, i, kept = 0, off;
    apr_int64_t base = 0, t, from = now_ms - pol->window_ms;
    apr_int64_t times[AZS_THROTTLE_MAX_N];

    memset(st, 0, sizeof(*st));
    /* A record of another version or size (a foreign writer, a cut
     * value) is read as none: the count starts again. */
    if (rec && len >= REC_HEAD && rec[0] == REC_VERSION) {
        memcpy(&n, rec + 4, sizeof(n));
        if (n <= AZS_THROTTLE_MAX_N && len == REC_HEAD + 4 * (apr_size_t)n) {
            base = get64(rec + 8);
            st->ban_until = get64(rec + 16);
        }
        else {
            n = 0;
        }
    }
    else {
        n = 0;
    }
    /* Keep the failures still inside the window, at most N - 1 of them
     * (the newest): with this one, N within the window ban.  Another
     * node's clock may be ahead of this one: its failures "from the
     * future" count (up to a window ahead), or a client could reset its
     * count by taking turns between nodes. */
    for (i = 0; i < n; i++) {
        memcpy(&off, rec + REC_HEAD + 4 * i, sizeof(off));
        t = base + off;
        if (t > from && t <= now_ms + pol->window_ms) {
            times[kept++] = t;     /* in order: the record is */
        }
    }
    if (kept > (apr_uint32_t)pol->n - 1) {
        memmove(times, times + (kept - (pol->n - 1)),
                (pol->n - 1) * sizeof(times[0]));
        kept = pol->n - 1;
    }
    for (i = kept; i > 0 && times[i - 1] > now_ms; i--) {
        times[i] = times[i - 1];
    }
    times[i] = now_ms;
    kept++;
    st->failures = kept;
    if (st->ban_until > now_ms) {
        st->banned = 1;          /* banned already: counted, not extended */
    }
    else if ((int)kept >= pol->n) {
        /* The ban starts; its failures are forgotten, so the count after
         * it starts from nothing. */
        st->ban_until = now_ms + pol->ban_ms;
        st->banned = st->new_ban = 1;
        kept = 0;
    }
    else {
        st->ban_until = 0;
    }
    out[0] = REC_VERSION;
    out[1] = out[2] = out[3] = 0;
    memcpy(out + 4, &kept, sizeof(kept));
    base = kept ? times[0] : now_ms;
    put64(out + 8, base);
    put64(out + 16, st->ban_until);
    for (i = 0; i < kept; i++) {
        off = (apr_uint32_t)(times[i] - base);
        memcpy(out + REC_HEAD + 4 * i, &off, sizeof(off));
    }
    return REC_HEAD + 4 * (apr_size_t)kept;
}

apr_int64_t azs_throttle_record_ban(const unsigned char *rec, apr_size_t len)
{
    apr_uint32_t n;

    if (!rec || len < REC_HEAD || rec[0] != REC_VERSION) {
        return 0;
    }
    memcpy(&n, rec + 4, sizeof(n));
    return len == REC_HEAD + 4 * (apr_size_t)n ? get64(rec + 16) : 0;
}

/* ---- the table of bans ------------------------------------------------ */

typedef struct {
    apr_uint32_t seq;          /* even: stable; odd: being written */
    apr_uint32_t logged;       /* 1: this ban's 429 line was written */
    apr_uint64_t tag;          /* the key's keyed hash; 0: empty */
    apr_int64_t until;         /* ms since the epoch */
    apr_uint32_t failures;     /* what banned it, for the line */
    apr_uint32_t pad;
} ban_slot;                    /* 32 bytes */

struct azs_bans {
    unsigned char secret[32];
    apr_size_t buckets;
    ban_slot *slot;
};

azs_rc azs_bans_create(azs_bans_t **out, apr_size_t slots, apr_pool_t *p)
{
    azs_bans_t *b = apr_pcalloc(p, sizeof(*b));
    apr_shm_t *shm = NULL;

    if (apr_generate_random_bytes(b->secret, sizeof(b->secret))
        != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    b->buckets = slots / BAN_WAYS ? slots / BAN_WAYS : 1;
    /* Anonymous shared memory, made before the children are forked and
     * zeroed: one table for all of them, unmapped when p is cleared. */
    if (apr_shm_create(&shm, b->buckets * BAN_WAYS * sizeof(ban_slot), NULL,
                       p) != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    b->slot = apr_shm_baseaddr_get(shm);
    *out = b;
    return AZS_RC_OK;
}

/* The key's tag (never 0) and the first slot of its bucket.  Keyed: a
 * client cannot choose addresses that share one bucket. */
static ban_slot *ban_bucket(const azs_bans_t *b, const char *key,
                            apr_uint64_t *tag)
{
    unsigned char h[AZS_SHA256_LEN];
    apr_uint64_t idx;

    azs_hmac_sha256(h, b->secret, sizeof(b->secret), key, strlen(key));
    memcpy(tag, h, sizeof(*tag));
    memcpy(&idx, h + 8, sizeof(idx));
    *tag |= 1;
    return &b->slot[(idx % b->buckets) * BAN_WAYS];
}

/* Reads s under its sequence: 1 when stable, with the sequence read. */
static int slot_read(ban_slot *s, apr_uint64_t *tag, apr_int64_t *until,
                     apr_uint32_t *failures, apr_uint32_t *seq)
{
    apr_uint32_t s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE), s2;

    if (s1 & 1) {
        return 0;
    }
    *tag = __atomic_load_n(&s->tag, __ATOMIC_RELAXED);
    *until = __atomic_load_n(&s->until, __ATOMIC_RELAXED);
    *failures = __atomic_load_n(&s->failures, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    *seq = s1;
    return s1 == s2;
}

apr_int64_t azs_bans_get(azs_bans_t *b, const char *key, apr_int64_t now_ms,
                         apr_uint32_t *failures, int *first)
{
    apr_uint64_t tag, t;
    apr_int64_t until;
    apr_uint32_t f, sq;
    ban_slot *s = ban_bucket(b, key, &tag);
    int i;

    for (i = 0; i < BAN_WAYS; i++) {
        if (slot_read(&s[i], &t, &until, &f, &sq) && t == tag
            && until > now_ms) {
            if (failures) {
                *failures = f;
            }
            /* The first to answer this ban writes its line. */
            if (first) {
                apr_uint32_t zero = 0;

                *first = __atomic_compare_exchange_n(&s[i].logged, &zero, 1,
                                                     0, __ATOMIC_ACQ_REL,
                                                     __ATOMIC_RELAXED);
            }
            return until;
        }
    }
    return 0;
}

void azs_bans_put(azs_bans_t *b, const char *key, apr_int64_t until,
                  apr_uint32_t failures, apr_int64_t now_ms)
{
    apr_uint64_t tag, t;
    apr_int64_t u, least = 0;
    apr_uint32_t f, seq, pick_seq = 1, sq;
    ban_slot *s = ban_bucket(b, key, &tag), *pick = NULL;
    int i;

    /* Its own slot; else an empty or ended one; else the ban that ends
     * first (an evicted ban still stands in the cache's record: the
     * address's next failure brings it back). */
    for (i = 0; i < BAN_WAYS && !pick; i++) {
        if (slot_read(&s[i], &t, &u, &f, &sq) && t == tag) {
            if (u == until) {
                return;          /* known already */
            }
            pick = &s[i];
            pick_seq = sq;
        }
    }
    for (i = 0; i < BAN_WAYS && !pick; i++) {
        if (slot_read(&s[i], &t, &u, &f, &sq) && (t == 0 || u <= now_ms)) {
            pick = &s[i];
            pick_seq = sq;
        }
    }
    if (!pick) {
        for (i = 0; i < BAN_WAYS; i++) {
            if (slot_read(&s[i], &t, &u, &f, &sq) && (!pick || u < least)) {
                least = u;
                pick = &s[i];
                pick_seq = sq;
            }
        }
    }
    if (!pick) {
        return;
    }
    /* Writers do not wait for each other: one that finds the slot being
     * written (or written since it was chosen) leaves it to the other. */
    seq = pick_seq;
    if ((seq & 1)
        || !__atomic_compare_exchange_n(&pick->seq, &seq, seq + 1, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return;
    }
    /* The odd sequence is seen before any of the stores below. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&pick->tag, tag, __ATOMIC_RELAXED);
    __atomic_store_n(&pick->until, until, __ATOMIC_RELAXED);
    __atomic_store_n(&pick->failures, failures, __ATOMIC_RELAXED);
    __atomic_store_n(&pick->logged, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pick->seq, seq + 2, __ATOMIC_RELEASE);
}

apr_size_t azs_bans_count(azs_bans_t *b, apr_int64_t now_ms)
{
    apr_size_t i, n = 0;
    apr_uint64_t t;
    apr_int64_t until;
    apr_uint32_t f, sq;

    for (i = 0; b && i < b->buckets * BAN_WAYS; i++) {
        if (slot_read(&b->slot[i], &t, &until, &f, &sq) && t
            && until > now_ms) {
            n++;
        }
    }
    return n;
}

apr_size_t azs_bans_shape(apr_size_t slots)
{
    return (sizeof(ban_slot) * 64 + BAN_WAYS) * 1000003u + slots;
}
