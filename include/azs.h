/*
 * azs.h - the core of mod_authz_status.
 *
 * Everything here uses APR, APR-util and SQLite only: no httpd header.  The
 * module (src/mod_azs_*.c), the CLI (tools/htauthz.c) and the unit tests
 * (tests/unit) link the same code (libazs).
 *
 * Conventions: functions that can fail return azs_rc; strings and arrays
 * they hand back are allocated from the pool argument; an azs_store_t is
 * used by one thread at a time (the module keeps one per thread).
 */
#ifndef AZS_H
#define AZS_H

#include <sys/types.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_time.h>
#include <sqlite3.h>

#define AZS_SCHEMA_VERSION   5
#define AZS_NAME_MAX         255   /* user, role and permission names */
#define AZS_BCRYPT_COST      10    /* what htauthz writes */
#define AZS_BCRYPT_MAX       72    /* bcrypt reads no more: longer is refused */
#define AZS_BCRYPT_COST_MAX  17    /* htpasswd -C's maximum; above: refused */
#define AZS_SHA_CRYPT_ROUNDS_MAX 1000000  /* $5$/$6$ rounds=; above: refused */
#define AZS_PASSWORD_MAX     1024  /* hard bound for any scheme */
#define AZS_TOKEN_PREFIX     "azs_"
#define AZS_TOKEN_RANDOM     24    /* bytes of entropy in a token: 192 bits */
#define AZS_TOKEN_LEN        (sizeof(AZS_TOKEN_PREFIX) - 1 + 32)
#define AZS_SHA256_LEN       32
#define AZS_BUSY_TIMEOUT_MS  2000  /* module: answer 500 after this, never hang */
#define AZS_READ_CACHE_KB    512   /* page cache of each read-only handle */
#define AZS_XSTR(x) #x
#define AZS_STR(x) AZS_XSTR(x)

typedef enum {
    AZS_RC_OK = 0,
    AZS_RC_NOTFOUND,     /* no such user, role, token, entry */
    AZS_RC_EXISTS,       /* already there */
    AZS_RC_INVALID,      /* bad argument: name rules, syntax, cycle */
    AZS_RC_DBERR         /* SQLite failed; azs_store_error() says why */
} azs_rc;

/* Why a request was or was not let in.  Each has one row in the table of
 * reasons (azs_decide.c): its log keyword, default status and message id
 * (doc/log-messages.md). */
typedef enum {
    AZS_REASON_GRANTED = 0,
    AZS_REASON_UNKNOWN_USER,
    AZS_REASON_BAD_PASSWORD,
    AZS_REASON_ACCOUNT_DISABLED,
    AZS_REASON_ACCOUNT_EXPIRED,
    AZS_REASON_TOKEN_UNKNOWN,
    AZS_REASON_TOKEN_EXPIRED,
    AZS_REASON_TOKEN_REVOKED,
    AZS_REASON_MALFORMED,
    AZS_REASON_MISSING_ROLE,
    AZS_REASON_MISSING_PERMISSION,
    AZS_REASON_IP_BLOCKED,
    AZS_REASON_DB_ERROR,
    AZS_REASON_BUSY,           /* 503: no place under AuthzStatusHashLimit */
    AZS_REASON_THROTTLED,      /* 429: AuthzStatusThrottle */
    AZS_REASON_COUNT           /* not a reason: the size of the table */
} azs_reason;

typedef struct {
    const char *keyword;       /* "unknown-user": what the log line says */
    int status;                /* the status it answers by default */
    const char *log_id;        /* "AZS0101": the line's message id */
} azs_reason_info_t;

/* The reason's row; an unknown value gets a row saying "unknown". */
const azs_reason_info_t *azs_reason_info(azs_reason reason);
/* "unknown-user", "bad-password", ... */
const char *azs_reason_name(azs_reason reason);

/* ---- names (azs_name.c) ---------------------------------------------- */

/* User names: 1..255 bytes, no ':' and no control character (< 0x20,
 * 0x7f).  Role and permission names: 1..255 bytes, no control character
 * and no whitespace; ':' is allowed ("docs:read").  Returns NULL when
 * valid, else why not. */
const char *azs_user_name_invalid(const char *name);
const char *azs_role_name_invalid(const char *name);

/* Why a new password is refused (empty, control characters, longer than
 * bcrypt reads), or NULL. */
const char *azs_password_invalid(const char *pw);

/* ---- time (azs_time.c) ----------------------------------------------- */

/* WHEN: "now", "never", "90s" / "15m" / "12h" / "30d" from now,
 * "2027-01-31" (00:00:00 UTC) or "2027-01-31T12:00:00Z".  On success
 * *when is seconds since the epoch, 0 for "never".  Returns NULL on
 * success, else a message for the user. */
const char *azs_when_parse(const char *text, apr_int64_t now,
                           apr_int64_t *when);
/* A time in the past for --since: "now", a duration that long ago
 * ("90s", "15m", "12h", "7d") or a date as azs_when_parse reads it;
 * "never" is refused.  *since > 0 on success. */
const char *azs_since_parse(const char *text, apr_int64_t now,
                            apr_int64_t *since);
/* "2027-01-31T12:00:00Z", or "never" for 0. */
const char *azs_time_format(apr_pool_t *p, apr_int64_t t);
/* "500ms", "1s", "2m", "1h", "30d" (a bare number: seconds) into ms; 0, or -1
 * when it is not one. */
int azs_duration_ms(const char *text, apr_int64_t *ms);
apr_int64_t azs_now(void);   /* seconds since the epoch */

/* ---- addresses (azs_addr.c) ------------------------------------------ */

/* IPv4 is kept as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one
 * comparison serves both families. */
typedef struct {
    unsigned char net[16];   /* network address, host bits zero */
    int bits;                /* prefix length, 0..128 (IPv4: 96..128) */
} azs_cidr_t;

/* "192.0.2.7", "192.0.2.0/24", "2001:db8::/32", "::1".  Host bits that
 * are set are refused (192.0.2.7/24), as is anything else. */
const char *azs_cidr_parse(const char *text, azs_cidr_t *out);
/* An address without prefix, as a client address: out->bits = 128. */
const char *azs_addr_parse(const char *text, azs_cidr_t *out);
/* Canonical text: "192.0.2.0/24", "2001:db8::/32", "192.0.2.7". */
const char *azs_cidr_format(apr_pool_t *p, const azs_cidr_t *c);
/* Is it an IPv4 address or range (kept IPv4-mapped)? */
int azs_cidr_is_v4(const azs_cidr_t *c);
/* Does the range contain the address (a /128)? */
int azs_cidr_contains(const azs_cidr_t *range, const unsigned char addr[16]);
/* The network of addr at prefix length bits (host bits cleared). */
void azs_cidr_mask(unsigned char out[16], const unsigned char addr[16],
                   int bits);

/* ---- credentials on the wire (azs_cred.c) ----------------------------- */

/* Strict RFC 7617 decoder for the value of one Authorization header:
 * scheme "Basic" (any case), one or more spaces, canonical base64 with
 * correct padding and nothing after it, decoding to user ':' password,
 * user 1..255 bytes, no control characters or NUL in either part.
 * httpd merges repeated headers with ", ", which this refuses.  Returns
 * NULL and sets *user, *password, or returns why it is malformed. */
const char *azs_basic_decode(apr_pool_t *p, const char *header,
                             const char **user, const char **password);

/* RFC 6750 section 2.1: "Bearer" (any case), one or more spaces, one
 * b64token (ALPHA DIGIT - . _ ~ + / then '=' padding only).  Returns NULL
 * and sets *token, or why it is malformed. */
const char *azs_bearer_parse(const char *header, const char **token);

/* Does the header use this scheme (case-insensitive, followed by a space
 * or the end)? */
int azs_auth_scheme_is(const char *header, const char *scheme);

/* The value of a Bearer challenge's scope="..." (RFC 6750 section 3) from
 * space-separated names: the names made only of scope-token characters
 * (%x21 / %x23-5B / %x5D-7E), one space between them; any other name is
 * left out, so no quote, backslash or control character gets through.
 * NULL when none is left (or names is NULL): send no scope. */
const char *azs_bearer_scope(apr_pool_t *p, const char *names);

/* ---- log escaping (azs_escape.c) ------------------------------------- */

/* Copy of s in which bytes < 0x20, >= 0x7f, '"' and '\\' become \xHH
 * (\" and \\ for the two), so a user-controlled string cannot forge a
 * line or end a quoted field.  At most max input bytes are shown;
 * longer input ends with "...". */
const char *azs_escape(apr_pool_t *p, const char *s, apr_size_t max);

/* ---- hashing (azs_sha256.c, azs_hash.c) ------------------------------- */

void azs_sha256(unsigned char out[AZS_SHA256_LEN], const void *data,
                apr_size_t len);
void azs_hmac_sha256(unsigned char out[AZS_SHA256_LEN],
                     const void *key, apr_size_t keylen,
                     const void *data, apr_size_t len);
/* Constant time; 1 when equal. */
int azs_equal(const void *a, const void *b, apr_size_t len);

/* A new $2y$ bcrypt hash at the given cost. */
azs_rc azs_password_hash(apr_pool_t *p, const char *pw, int cost,
                         const char **hash);
/* 1 when pw matches hash ($2y$, $2a$, $apr1$, {SHA}, $5$, $6$ through
 * apr_password_validate).  A bcrypt hash never matches a password longer
 * than 72 bytes: no silent truncation. */
int azs_password_verify(const char *pw, const char *hash);
/* What kind of hash this is, as one word: "bcrypt/12" (the cost),
 * "sha512-crypt/5000" and "sha256-crypt/5000" (the rounds), "apr1-md5",
 * "sha1" ({SHA}), "unknown".  *weak (may be NULL): 1 for $apr1$ (MD5),
 * {SHA} (unsalted SHA-1), bcrypt below cost AZS_BCRYPT_COST and $5$/$6$
 * below AZS_SHA_CRYPT_ROUNDS_WEAK rounds, and for anything unknown. */
#define AZS_SHA_CRYPT_ROUNDS_WEAK 5000
const char *azs_hash_kind(apr_pool_t *p, const char *hash, int *weak);
/* Does verifying this hash cost real CPU (anything but {SHA})? */
int azs_hash_costly(const char *hash);
/* azs_password_verify, but a costly hash is verified on a thread of its
 * own at idle CPU priority (SCHED_IDLE, Linux), so requests that need no
 * hash are never queued behind one; the caller waits for the answer.
 * *idle (may be NULL) tells whether the priority was lowered. */
int azs_password_verify_idle(const char *pw, const char *hash, int *idle);
/* Is this a hash we accept on import and verify at all?  Its format, and
 * a cost within bounds: bcrypt 4..AZS_BCRYPT_COST_MAX, $5$/$6$ at most
 * AZS_SHA_CRYPT_ROUNDS_MAX rounds, so no stored hash can hold a CPU and a
 * hash place for minutes per attempt. */
int azs_hash_supported(const char *hash);
/* The same check: NULL when supported, else why not ("bcrypt cost above
 * 17 ...", "malformed {SHA} hash"), for a message.  Never quotes it. */
const char *azs_hash_invalid(const char *hash);
/* A fixed bcrypt hash (cost AZS_BCRYPT_COST) of a secret nobody knows:
 * verified for unknown users so they cost the same time. */
extern const char azs_dummy_hash[];

/* The failure floor: a failed password check (unknown user, wrong
 * password, disabled or expired account) returns no sooner than
 * azs_fail_floor() after it started, whatever the stored hash costs, so
 * the time of a 401 tells nothing about which names exist.  The floor is
 * the most of a few verifications of azs_dummy_hash, measured once per
 * process by the first caller (others wait for it); a process forked
 * after it was measured inherits it.  Microseconds. */
apr_interval_time_t azs_fail_floor(void);
/* Microseconds on a clock that never jumps (CLOCK_MONOTONIC). */
apr_time_t azs_clock(void);
/* Sleeps until azs_fail_floor() after start (from azs_clock()). */
void azs_fail_pad(apr_time_t start);

/* ---- tokens (azs_token.c) -------------------------------------------- */

/* "azs_" + 32 base64url characters (192 random bits). */
azs_rc azs_token_generate(apr_pool_t *p, const char **token);
/* What is stored and looked up: SHA-256 of the whole token. */
void azs_token_hash(unsigned char out[AZS_SHA256_LEN], const char *token);

/* ---- the store (azs_store.c: open and read; azs_admin.c: write) ------- */

typedef struct azs_store azs_store_t;

/* Opens an existing database.  Read-only mode never creates the file,
 * sets the busy timeout, and refuses a schema version other than
 * AZS_SCHEMA_VERSION.  On failure *st is NULL and *err says why (the
 * SQLite reason included). */
azs_rc azs_store_open(azs_store_t **st, const char *path, int readonly,
                      int busy_timeout_ms, apr_pool_t *p, const char **err);
/* Creates the file (schema from sql/schema.sql, compiled in) or upgrades
 * it; succeeds on a current database. */
azs_rc azs_store_init(const char *path, apr_pool_t *p, const char **err);
/* The same, adding the audit row a in the transaction that creates or
 * upgrades the file (none when it was current already).  Version 4 gets
 * the audit trail alone; versions 1 to 3 get every trigger made again. */
struct azs_audit_row;
azs_rc azs_store_init_audit(const char *path,
                            const struct azs_audit_row *a, apr_pool_t *p,
                            const char **err);
void azs_store_close(azs_store_t *st);
/* The reason of the last failure on this handle ("database is locked"). */
const char *azs_store_error(azs_store_t *st);
sqlite3 *azs_store_db(azs_store_t *st);
/* Names this file for caches: path, device and inode, so a file replaced
 * by rename never matches entries of the one it replaced. */
const char *azs_store_id(azs_store_t *st);
/* Sets what azs_store_error returns until the next failure; the message is
 * copied.  For faults found above SQLite (a bad row, say). */
void azs_store_set_error(azs_store_t *st, const char *msg);
/* 1 when the path no longer names the file this handle has open (deleted,
 * replaced by rename) or its mode or owner changed: close it and open
 * again. */
int azs_store_stale(azs_store_t *st);
/* SQLite (a path) or PostgreSQL (AZS_DB_PG: postgresql://..., postgres://...
 * or postgresql:key=value ...). */
int azs_store_is_pg(azs_store_t *st);
int azs_is_pg_url(const char *s);

/*
 * Statements, the same for both databases.  SQL is written once in the
 * dialect both accept: ?N placeholders (sent to PostgreSQL as $N),
 * ON CONFLICT DO NOTHING, RETURNING.  A statement is prepared once per
 * handle and kept until it closes, keyed by the address of sql (a string
 * literal).  Bound text and blobs must stay valid until the statement is
 * reset.  azs_step answers AZS_STEP_ROW, AZS_STEP_DONE or a failure
 * (AZS_STEP_UNIQUE, AZS_STEP_FOREIGN, AZS_STEP_BUSY, anything else), with
 * azs_store_error set; columns are read between a ROW and the next step.
 * The values are SQLite's (extended) result codes.
 */
typedef struct azs_stmt azs_stmt_t;
#define AZS_STEP_ROW     100
#define AZS_STEP_DONE    101
#define AZS_STEP_ERROR   1
#define AZS_STEP_BUSY    5
#define AZS_STEP_FOREIGN 787
#define AZS_STEP_UNIQUE  2067
azs_rc azs_store_prepare(azs_store_t *st, const char *sql, azs_stmt_t **s);
void azs_bind_int64(azs_stmt_t *s, int i, apr_int64_t v);
void azs_bind_text(azs_stmt_t *s, int i, const char *v);
void azs_bind_blob(azs_stmt_t *s, int i, const void *v, int len);
int azs_step(azs_stmt_t *s);
/* Ready to run again, bindings cleared. */
void azs_reset(azs_stmt_t *s);
int azs_col_null(azs_stmt_t *s, int i);
apr_int64_t azs_col_int64(azs_stmt_t *s, int i);
const char *azs_col_text(azs_stmt_t *s, int i);     /* NULL: SQL NULL */
const void *azs_col_blob(azs_stmt_t *s, int i, int *len);
/* Rows the last INSERT, UPDATE or DELETE changed. */
apr_int64_t azs_store_changes(azs_store_t *st);
/* A unique or primary key was violated. */
int azs_step_unique(int rc);
/* The first column of the first row of sql, an integer (a PRAGMA, a
 * count): SQLITE_OK with *value set, else SQLite's code. */
int azs_sqlite_int(sqlite3 *db, const char *sql, int *value);
/* Every connection: defensive mode, an untrusted schema (views and
 * triggers call innocuous functions only), no extension loading. */
void azs_sqlite_harden(sqlite3 *db);

azs_rc azs_store_begin(azs_store_t *st);     /* BEGIN IMMEDIATE */
/* A read transaction: the reads between begin and end see one snapshot
 * and pay for SQLite's file locking once instead of once per statement.
 * begin returns 1 when it opened one (the caller must end it), 0 when one
 * was already open or none could be (reads then run one by one). */
int azs_store_read_begin(azs_store_t *st);
void azs_store_read_end(azs_store_t *st);
int azs_store_in_read(azs_store_t *st);
azs_rc azs_store_commit(azs_store_t *st);
void azs_store_rollback(azs_store_t *st);

/* Bumped by triggers on every change to any table: a cache keyed by it is
 * invalidated by the next request after any write. */
azs_rc azs_store_generation(azs_store_t *st, apr_int64_t *gen);
/* 1 (and the generation) when no transaction has committed to the file
 * since a read transaction of this handle read that generation, known
 * without a transaction: SQLite's WAL-index header, in shared memory, is
 * the same as before that one began.  0 when it may have changed, or when
 * it cannot tell (not in WAL mode, first read): read the generation. */
int azs_store_unchanged(azs_store_t *st, apr_int64_t *gen);

/* A place in the change feed (table changes): its newest row when the
 * generation was last read.  seq orders the rows; tag is random, so a
 * restored file written again does not show a (seq, tag) seen before. */
typedef struct {
    apr_int64_t seq;
    apr_int64_t tag;
} azs_feed_pos_t;

/* Kinds of feed rows (schema.sql). */
#define AZS_FEED_USER   1       /* key: a user name */
#define AZS_FEED_ROLE   2       /* key: a role id */
#define AZS_FEED_ROLES  3       /* every role */
#define AZS_FEED_TOKEN  4       /* key: a token id */
#define AZS_FEED_BLOCK  5       /* key: a range */
#define AZS_FEED_ALL    6       /* everything (PostgreSQL: a TRUNCATE) */

/* The feed's newest row as of the last azs_store_generation (or
 * azs_store_unchanged that answered 1). */
void azs_store_feed_pos(azs_store_t *st, azs_feed_pos_t *pos);
typedef void (*azs_feed_fn)(void *baton, apr_int64_t seq, apr_int64_t tag,
                            int kind, const char *key);
/* Calls fn for each feed row with from <= seq <= to, in order, at most
 * limit rows. */
azs_rc azs_store_feed(azs_store_t *st, apr_int64_t from, apr_int64_t to,
                      int limit, azs_feed_fn fn, void *baton);

typedef struct {
    apr_int64_t id;
    const char *name;
    const char *hash;
    int disabled;
    apr_int64_t expires;        /* 0: never */
    apr_int64_t created;
    apr_int64_t updated;
    apr_int64_t cred;           /* credential version: new at every change
                                 * of name, hash, state or expiry */
} azs_user_t;

azs_rc azs_user_get(azs_store_t *st, const char *name, azs_user_t *u,
                    apr_pool_t *p);

/* The user's effective roles (direct and inherited) and permissions.
 * Keys are names; values are const char * chains for explanations, from
 * the role granted to the user to the one that carries the entry:
 * roles: "admin > editor" (editor, inherited through admin; a direct
 * role's chain is its own name); perms: the chain of the role that
 * carries the permission. */
azs_rc azs_user_effective(azs_store_t *st, apr_int64_t user_id,
                          apr_pool_t *p, apr_hash_t **roles,
                          apr_hash_t **perms);
/* The ids of the roles granted to the user directly. */
azs_rc azs_user_role_ids(azs_store_t *st, apr_int64_t user_id,
                         apr_pool_t *p, apr_array_header_t **ids);
/* One role as it stands: its name, the permissions it carries itself
 * (names) and the roles it inherits (ids).  AZS_RC_NOTFOUND when there is
 * no such role. */
azs_rc azs_role_node(azs_store_t *st, apr_int64_t role_id, apr_pool_t *p,
                     const char **name, apr_array_header_t **perms,
                     apr_array_header_t **parents);

typedef struct {
    apr_int64_t id;
    apr_int64_t user_id;
    const char *user;
    const char *label;
    apr_int64_t created;
    apr_int64_t expires;        /* 0: never */
    apr_int64_t revoked;        /* 0: not revoked, else when */
    apr_array_header_t *scopes; /* const char *; empty: all permissions */
} azs_token_t;

azs_rc azs_token_get(azs_store_t *st, const unsigned char hash[32],
                     azs_token_t *t, apr_pool_t *p);

typedef struct {
    apr_int64_t id;
    azs_cidr_t range;
    const char *text;           /* canonical */
    const char *reason;         /* "" when none */
    apr_int64_t created;
    apr_int64_t expires;        /* 0: never */
} azs_block_t;

/* The entry that covers addr and has not expired at now, if any:
 * AZS_RC_OK with *b filled, or AZS_RC_NOTFOUND. */
azs_rc azs_block_match(azs_store_t *st, const unsigned char addr[16],
                       apr_int64_t now, azs_block_t *b, apr_pool_t *p);

/* ---- decisions (azs_decide.c) ----------------------------------------- */

/* Password login: looks the user up, always verifies a hash (the dummy
 * one for unknown users), then checks the account state; a failure is
 * answered no sooner than the failure floor (azs_login_verify).  Returns
 * the reason; *u is filled when the user exists.  AZS_REASON_DB_ERROR on a store
 * fault (azs_store_error says why). */
typedef int (*azs_verify_fn)(const char *pw, const char *hash, void *ctx);
/* verify (NULL: azs_password_verify) checks the password against the
 * stored hash, or against azs_dummy_hash for an unknown user: 1 match,
 * 0 no match, -1 not checked (AZS_REASON_BUSY). */
azs_reason azs_login(azs_store_t *st, const char *user, const char *pw,
                     apr_int64_t now, azs_user_t *u, apr_pool_t *p,
                     azs_verify_fn verify, void *ctx);
/* The second half of azs_login, for a caller that looked the user up
 * itself: found 0 means unknown (the dummy hash is verified).  Every
 * failure (unknown user, bad password, disabled, expired) returns no
 * sooner than azs_fail_floor() after the call began (azs_fail_pad);
 * AZS_REASON_GRANTED and AZS_REASON_BUSY are not delayed. */
azs_reason azs_login_verify(int found, const azs_user_t *u, const char *pw,
                            apr_int64_t now, azs_verify_fn verify,
                            void *ctx);
/* Does this check need a place under the hash limit?  Yes for an unknown
 * user (the dummy hash) and a costly hash; for a cheap one ({SHA}), yes
 * exactly when the check will fail (the password is verified here), so a
 * failure waits for a place, or gets 503, like an unknown user's. */
int azs_login_needs_place(int found, const azs_user_t *u, const char *pw,
                          apr_int64_t now);

/* Account state alone (for tokens and cached credentials). */
azs_reason azs_account_state(const azs_user_t *u, apr_int64_t now);

/* ---- the verified-credential cache (azs_cache.c) ---------------------- */

/* ---- azs_memo.c: what a child remembers of one database ---------------- */

typedef struct azs_memo azs_memo_t;
typedef struct azs_memo_entry azs_memo_entry_t;

/* A role a user holds, and through what: "admin > editor" (editor,
 * inherited through admin; a direct role's chain is its own name). */
typedef struct {
    const azs_memo_entry_t *role;
    const char *chain;
} azs_visit_t;

typedef struct {
    apr_uint64_t hits, misses;  /* users and roles looked up */
    apr_uint64_t forgotten;     /* entries a feed row named */
    apr_uint64_t flushes;       /* times everything was forgotten */
    apr_uint64_t evictions;     /* entries dropped to stay in the budget */
    apr_uint64_t catchups;      /* feed reads that forgot only what they
                                 * named */
    apr_size_t bytes;           /* held in the tables now */
    apr_size_t entries;
} azs_memo_stats_t;

/* A memo of at most budget bytes of entries (one that is larger than the
 * budget by itself is kept alone).  Thread-safe; not across fork. */
azs_rc azs_memo_create(azs_memo_t **m, apr_size_t budget);
void azs_memo_destroy(azs_memo_t *m);
void azs_memo_stats(azs_memo_t *m, azs_memo_stats_t *out);

/* What one lookup of a user gives: the user's row (found) and the roles
 * the user holds, directly or inherited, each once, in the order of a walk
 * breadth first from the direct ones; the entries are held until
 * azs_access_release. */
typedef struct {
    int found;
    azs_user_t u;               /* strings valid until released */
    apr_array_header_t *visits; /* azs_visit_t */
    apr_array_header_t *held;   /* azs_memo_entry_t *: to release */
    /* What this lookup cost: */
    int read;                   /* entries read from the database (the
                                 * user, roles) */
    int hits;                   /* entries found in the memo */
    int forgotten;              /* entries the feed rows it caught up
                                 * with named */
    int flushed;                /* 1: the memo forgot everything */
    apr_int64_t seq;            /* the feed row the lookup was at */
} azs_access_t;

/* Begins a read snapshot for the reader (if it has none) and gives the
 * feed's place in it: 0, or -1 after a database error. */
typedef int (*azs_snapshot_fn)(void *baton, azs_feed_pos_t *pos);

/* Looks the user up through m (NULL: no memo, read everything) for a
 * reader at place pos in the feed (as azs_store_feed_pos gave it).
 * Everything it gives is as of one place: what the memo holds while the
 * memo is level with it, and what it reads in a snapshot at that place.
 * in_snapshot: the reader's reads already share one snapshot at pos;
 * else snapshot() is called before the first read, and a snapshot at
 * another place (something committed since pos was read) starts the
 * lookup again there.  AZS_RC_DBERR with azs_store_error set; what was
 * held so far is released by azs_access_release all the same. */
azs_rc azs_access_load(azs_memo_t *m, azs_store_t *st,
                       const azs_feed_pos_t *pos, int in_snapshot,
                       azs_snapshot_fn snapshot, void *baton,
                       const char *user, apr_pool_t *p, azs_access_t *a);
void azs_access_release(azs_access_t *a);
/* The user's effective roles (direct and inherited), each once, sorted
 * bytewise, separated by one space ("" when none). */
const char *azs_access_roles(const azs_access_t *a, apr_pool_t *p);
/* The chain through which the user holds role (is_perm 0) or permission
 * name, the shortest; NULL when not held. */
const char *azs_access_find(const azs_access_t *a, int is_perm,
                            const char *name);
void azs_memo_entry_release(azs_memo_entry_t *e);

/* A table of logins that passed the password check, so a returning
 * client does not pay for bcrypt on every request.  An entry is keyed by
 * HMAC-SHA256 (a random key per table) of database, user and password -
 * never the password itself - and holds the user's credential version
 * (azs_user_t.cred) it was verified at: any change to that user's name,
 * hash, state or expiry gives a new one, and no other write touches it.
 * Set-associative (buckets of 8, the least recently used replaced).  The
 * table is in shared memory: made before fork(), it is one table for
 * every process forked after.  Safe between threads and processes; nobody
 * waits. */
typedef struct azs_cache azs_cache_t;

/* entries 0: no table (every lookup misses).  Freed with p. */
azs_rc azs_cache_create(azs_cache_t **c, apr_size_t entries, apr_pool_t *p);
/* 1 when this login was verified at credential version gen and the
 * account has not expired at now. */
int azs_cache_get(azs_cache_t *c, const char *db, const char *user,
                  const char *pw, apr_int64_t gen, apr_int64_t now);
void azs_cache_put(azs_cache_t *c, const char *db, const char *user,
                   const char *pw, apr_int64_t gen, apr_int64_t expires);

/* ---- the server's counters (azs_metrics.c) --------------------------- */

typedef enum {
    AZS_M_CACHE_HIT = 0,       /* a login found in the verified-login cache */
    AZS_M_CACHE_MISS,          /* a known user's login not found there */
    AZS_M_HASH_VERIFIED,       /* a password hash verified */
    AZS_M_HASH_BUSY,           /* no place under AuthzStatusHashLimit */
    AZS_M_THROTTLE_BAN,        /* an address banned by AuthzStatusThrottle */
    AZS_M_DB_ERROR,            /* a request answered 500 db-error */
    AZS_M_COUNT
} azs_metric;

/* Decisions are counted by reason and by status, one of 200, 400, 401,
 * 403, 429, 500, 503 or any other. */
#define AZS_M_STATUSES 8

typedef struct azs_metrics azs_metrics_t;

typedef struct {
    apr_uint64_t v[AZS_M_COUNT];
    apr_uint64_t decisions[AZS_REASON_COUNT][AZS_M_STATUSES];
    apr_int64_t started;       /* seconds since the epoch */
} azs_metrics_snap_t;

/* Counters in anonymous shared memory, zeroed: made before fork, one set
 * for every process forked after; unmapped when p is cleared.  Counting
 * is lock-free (one atomic add) and exact; a NULL m counts nothing. */
azs_rc azs_metrics_create(azs_metrics_t **m, apr_pool_t *p);
/* A number that changes with the counters' layout and meaning (rows,
 * counters, statuses, reasons): what a restart may keep. */
apr_uint32_t azs_metrics_shape(void);
void azs_metrics_add(azs_metrics_t *m, azs_metric k);
void azs_metrics_decision(azs_metrics_t *m, int status, azs_reason reason);
/* The index of a status among the counted ones (the last: any other). */
int azs_metrics_status_index(int status);
/* The sums of every row (each counter read atomically). */
void azs_metrics_read(const azs_metrics_t *m, azs_metrics_snap_t *out);
/* The counters in the Prometheus text format, version 0.0.4. */
const char *azs_metrics_text(apr_pool_t *p, const azs_metrics_snap_t *s);
/* A label value escaped for that format (\\, \", \n). */
const char *azs_metrics_label(apr_pool_t *p, const char *v);

/* ---- the server-wide bound on costly hashes (azs_hashlimit.c) -------------- */

/* A System V semaphore shared by every process forked after it is made:
 * at most limit holders at once, a sleeping wait with a deadline, and
 * whatever a dying process held is given back (SEM_UNDO).  Removed when
 * p is destroyed in the process that created it. */
typedef struct azs_hashlimit azs_hashlimit_t;

azs_rc azs_hashlimit_create(azs_hashlimit_t **g, int limit, apr_pool_t *p,
                       const char **err);
/* Hands the semaphore to the user the children run as. */
azs_rc azs_hashlimit_owner(azs_hashlimit_t *g, uid_t uid, gid_t gid);
/* 1: taken (give it back with azs_hashlimit_leave); 0: none came free within
 * wait (a signal at the deadline, or any other failure, is a 0 too);
 * -1: the semaphore is gone (removed by a restart).  A NULL limit always
 * admits. */
int azs_hashlimit_enter(azs_hashlimit_t *g, apr_interval_time_t wait);
void azs_hashlimit_leave(azs_hashlimit_t *g);
/* Free places now (for tests and diagnostics), -1 when gone. */
int azs_hashlimit_value(azs_hashlimit_t *g);
/* The System V id (what ipcs shows), -1 when gone. */
int azs_hashlimit_id(azs_hashlimit_t *g);

/* ---- administration (azs_admin.c), used by htauthz ------------------- */

azs_rc azs_user_add(azs_store_t *st, const char *name, const char *hash,
                    int disabled, apr_int64_t expires);
azs_rc azs_user_set_hash(azs_store_t *st, const char *name,
                         const char *hash);
azs_rc azs_user_set_disabled(azs_store_t *st, const char *name, int off);
azs_rc azs_user_set_expires(azs_store_t *st, const char *name,
                            apr_int64_t expires);
azs_rc azs_user_del(azs_store_t *st, const char *name);
/* azs_user_t elements, by name. */
azs_rc azs_user_list(azs_store_t *st, apr_pool_t *p,
                     apr_array_header_t **users);
azs_rc azs_user_grant(azs_store_t *st, const char *user, const char *role);
azs_rc azs_user_revoke(azs_store_t *st, const char *user, const char *role);
/* Direct roles of a user (const char *), by name. */
azs_rc azs_user_roles(azs_store_t *st, apr_int64_t user_id, apr_pool_t *p,
                      apr_array_header_t **roles);

azs_rc azs_role_add(azs_store_t *st, const char *role);
azs_rc azs_role_del(azs_store_t *st, const char *role);
azs_rc azs_role_exists(azs_store_t *st, const char *role);
azs_rc azs_role_list(azs_store_t *st, apr_pool_t *p,
                     apr_array_header_t **roles);
/* Creates the permission name on first use. */
azs_rc azs_role_grant(azs_store_t *st, const char *role, const char *perm);
azs_rc azs_role_revoke(azs_store_t *st, const char *role, const char *perm);
/* role inherits other; AZS_RC_INVALID when that would make a cycle. */
azs_rc azs_role_inherit(azs_store_t *st, const char *role,
                        const char *other);
azs_rc azs_role_disinherit(azs_store_t *st, const char *role,
                           const char *other);
/* Direct permissions, inherited roles, and members of a role. */
azs_rc azs_role_detail(azs_store_t *st, const char *role, apr_pool_t *p,
                       apr_array_header_t **perms,
                       apr_array_header_t **inherits,
                       apr_array_header_t **members);

azs_rc azs_token_add(azs_store_t *st, const char *user,
                     const unsigned char hash[32], const char *label,
                     apr_int64_t expires, const apr_array_header_t *scopes,
                     apr_int64_t *id);
azs_rc azs_token_revoke(azs_store_t *st, apr_int64_t id, apr_int64_t now);
/* azs_token_t elements; user NULL for all. */
azs_rc azs_token_list(azs_store_t *st, const char *user, apr_pool_t *p,
                      apr_array_header_t **tokens);

azs_rc azs_block_add(azs_store_t *st, const azs_cidr_t *range,
                     const char *reason, apr_int64_t expires);
azs_rc azs_block_del(azs_store_t *st, const azs_cidr_t *range);
/* azs_block_t elements. */
azs_rc azs_block_list(azs_store_t *st, apr_pool_t *p,
                      apr_array_header_t **entries);

/* ---- the audit trail (azs_audit.c), written and read by htauthz only --- */

/* One row of table audit.  Texts given to azs_audit_add are made one line
 * of valid UTF-8 (control characters and bytes that are not UTF-8 as
 * \xHH) and bounded; none may hold a password, hash or token. */
typedef struct azs_audit_row {
    apr_int64_t id;             /* read: its key, in the order written */
    apr_int64_t at;             /* seconds since the epoch; 0: now */
    const char *sys_user;       /* azs_audit_user() */
    const char *db_role;        /* read: PostgreSQL's role, "" on SQLite */
    const char *command;        /* "user add" */
    const char *args;           /* words, each azs_audit_quote'd */
    const char *outcome;        /* "ok", or "error: " and why */
} azs_audit_t;

/* Adds the row in the caller's transaction; no generation, no feed row. */
azs_rc azs_audit_add(azs_store_t *st, const azs_audit_t *a);
/* The same on a bare SQLite handle (htauthz init's transaction). */
int azs_audit_add_sqlite(sqlite3 *db, const azs_audit_t *a);
/* Calls fn for each row with at >= since (0: every row), oldest first;
 * a non-zero return from fn stops the walk (AZS_RC_OK).  The row's texts
 * are valid only during the call. */
typedef int (*azs_audit_fn)(const azs_audit_t *a, void *baton);
azs_rc azs_audit_list(azs_store_t *st, apr_int64_t since, azs_audit_fn fn,
                      void *baton);
/* word as it is when it holds only printable UTF-8 and no space, quote or
 * backslash; else in double quotes with '"' and '\\' escaped and control
 * characters and bytes that are not UTF-8 as \xHH. */
const char *azs_audit_quote(apr_pool_t *p, const char *word);
/* text as one line of valid UTF-8 (\xHH for the rest), at most max bytes
 * of it ("..." after). */
const char *azs_audit_text(apr_pool_t *p, const char *text, apr_size_t max);
/* Who runs this process: as root, SUDO_USER when set (who ran sudo);
 * else the login name of the real uid (or "uid N"), followed by
 * "(SUDO_USER name)" when that is set. */
const char *azs_audit_user(apr_pool_t *p);
/* Is the UTF-8 sequence of n bytes at s (azs_utf8_len) a control that
 * moves or reorders a terminal's text: C0, DEL, C1, or a bidirectional
 * formatting character? */
int azs_utf8_control(const unsigned char *s, int n);
/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 when there is
 * none (a stray byte, an overlong form, a surrogate, past U+10FFFF). */
int azs_utf8_len(const unsigned char *s);

/* ---- throttling failed logins (azs_throttle.c) ----------------------- */

#define AZS_THROTTLE_MAX_N 1000
#define AZS_THROTTLE_REC_MAX (24 + 4 * AZS_THROTTLE_MAX_N)

/* AuthzStatusThrottle N/WINDOW [BAN]. */
typedef struct {
    int n;                     /* failures ... */
    apr_int64_t window_ms;     /* ... within this long ban ... */
    apr_int64_t ban_ms;        /* ... for this long (default: the window) */
} azs_throttle_policy_t;

/* Parses "20/1m" and an optional "15m"; NULL, or what is wrong. */
const char *azs_throttle_parse(const char *limit, const char *ban,
                               azs_throttle_policy_t *out);
/* The key a client address is counted under: the IPv4 address, or the
 * IPv6 /64 ("2001:db8:1:2::/64"); NULL when ip is not an address. */
const char *azs_throttle_key(apr_pool_t *p, const char *ip);

/* Is this a failed login (a 401 with credentials, or a 400)? */
int azs_reason_is_failed_login(azs_reason reason);

/* What counting one failure found. */
typedef struct {
    apr_uint32_t failures;     /* within the window, this one included */
    apr_int64_t ban_until;     /* ms since the epoch; 0: not banned */
    int banned;                /* the address is banned now ... */
    int new_ban;               /* ... by this failure */
} azs_throttle_state_t;

/* Counts a failure at now_ms into the record rec (len bytes, NULL: none;
 * anything unreadable is none): writes the new record to out (at least
 * AZS_THROTTLE_REC_MAX bytes) and returns its length.  Pure: the caller
 * reads and stores the record (httpd's socache). */
apr_size_t azs_throttle_count(const azs_throttle_policy_t *pol,
                              const unsigned char *rec, apr_size_t len,
                              apr_int64_t now_ms, unsigned char *out,
                              azs_throttle_state_t *st);
/* The end of the ban a record holds (ms; 0: none). */
apr_int64_t azs_throttle_record_ban(const unsigned char *rec, apr_size_t len);

/* The bans a server knows, in shared memory made before its children are
 * forked: read lock-free before any credential.  Set-associative, keyed;
 * a full bucket gives up the ban that ends first. */
typedef struct azs_bans azs_bans_t;
/* A number that changes with the layout of a table of this many slots
 * (what a restart that loads an upgraded module may keep). */
apr_size_t azs_bans_shape(apr_size_t slots);
azs_rc azs_bans_create(azs_bans_t **out, apr_size_t slots, apr_pool_t *p);
/* The end of key's ban (ms) when it is banned at now_ms, else 0; with
 * *failures (may be NULL) what banned it, and *first (may be NULL) set
 * for exactly one caller per ban. */
apr_int64_t azs_bans_get(azs_bans_t *b, const char *key, apr_int64_t now_ms,
                         apr_uint32_t *failures, int *first);
void azs_bans_put(azs_bans_t *b, const char *key, apr_int64_t until,
                  apr_uint32_t failures, apr_int64_t now_ms);
/* How many addresses are banned at now_ms (a walk over the table). */
apr_size_t azs_bans_count(azs_bans_t *b, apr_int64_t now_ms);

/* ==== added for htauthz: its files, its lock, the files it imports ===== */

/* ---- files beside the database, the writer lock (azs_lock.c) ---------- */

/* The database's directory is writable by httpd's user, so a file found
 * there may be a planted link or FIFO: htauthz uses only regular files
 * with one link, checked on the descriptor it then uses. */
struct stat;

/* Why the file sb describes (from fstat, or from fstatat with
 * AT_SYMLINK_NOFOLLOW) is not to be used: "is a symbolic link", "is not a
 * regular file", "has more than one hard link"; NULL when it is a regular
 * file with one link. */
const char *azs_file_unfit(const struct stat *sb);
/* Opens name relative to the directory dir_fd (AT_FDCWD: the current
 * one), adding O_NOFOLLOW, O_NONBLOCK (opening a FIFO must not hang; a
 * regular file ignores it) and O_CLOEXEC to flags, and checks the
 * descriptor with azs_file_unfit.  0: *fd is open.  1: refused, *fd is -1
 * and *why says why (a symbolic link is refused by the open itself).
 * -1: *fd is -1 and errno says why. */
int azs_file_open(int dir_fd, const char *name, int flags, mode_t mode,
                  int *fd, const char **why);
/* The lock htauthz writers hold for a whole command: flock on db".lock",
 * opened with azs_file_open in dir_fd, the database's directory (with
 * AT_FDCWD, db's own path is used), created 0600.  As root, the file is
 * chowned by descriptor to uid:gid, the database's owner ((uid_t)-1 and
 * (gid_t)-1 leave it as it is).  Waits up to wait_ms for another writer.
 * AZS_RC_OK: held in *fd, until azs_writer_unlock.  AZS_RC_EXISTS: still
 * held by another writer at the deadline.  AZS_RC_INVALID: the file was
 * refused, or could not be opened, chowned or locked.  On failure *fd is
 * -1 and *err is one line that names the file. */
azs_rc azs_writer_lock(int dir_fd, const char *db, uid_t uid, gid_t gid,
                       int wait_ms, int *fd, apr_pool_t *p,
                       const char **err);
/* Releases the lock; *fd becomes -1 (a -1 is left alone). */
void azs_writer_unlock(int *fd);

/* ---- the schema version of a file (azs_admin.c) ----------------------- */

/* PRAGMA user_version of the database at path, read without changing it
 * (0: a new, empty file), or -1 when it cannot be read.  Read before
 * azs_store_init, it tells whether init upgrades the file. */
int azs_store_version(const char *path);

/* ---- htpasswd and htgroup files (azs_import.c) ------------------------ */

/* One line at a time, as mod_authn_file and mod_authz_groupfile read them
 * (leading and trailing white space goes; blank lines and lines starting
 * with '#' are skipped). */
typedef enum {
    AZS_IMPORT_HTPASSWD,        /* user:hash[:ignored] */
    AZS_IMPORT_HTGROUP          /* group: user1 user2 */
} azs_import_format;

typedef enum {
    AZS_LINE_ENTRY,             /* an entry: name, hash or members set */
    AZS_LINE_SKIP,              /* blank, or a comment */
    AZS_LINE_REFUSED            /* why says why */
} azs_line_kind;

typedef struct {
    long lineno;                /* of this line; the first is 1 */
    const char *name;           /* the user or group; on a refusal, set
                                 * when the refusal is about its entry */
    const char *bad_name;       /* refused for this name; why says why */
    const char *hash;           /* htpasswd: the password hash, one that
                                 * azs_hash_supported accepts */
    char *members;              /* htgroup: for azs_import_member */
    const char *why;            /* refused: why, never quoting the line */
} azs_import_line_t;

typedef struct azs_import azs_import_t;

/* The reader of one file: it numbers the lines and remembers the users
 * an htpasswd file named (a user named again keeps the first line, as
 * httpd does; the later line is refused).  Freed with p. */
azs_import_t *azs_import_make(azs_import_format format, apr_pool_t *p);
/* The next line, len bytes as read (a NUL byte in them refuses it),
 * parsed in place: out points into line.  Messages come from lp. */
azs_line_kind azs_import_line(azs_import_t *im, char *line, apr_size_t len,
                              azs_import_line_t *out, apr_pool_t *lp);
/* The next user name of an htgroup entry's members (split at spaces and
 * tabs, in place), NULL after the last.  Not checked: see
 * azs_user_name_invalid. */
const char *azs_import_member(char **members);

/* ---- PostgreSQL (azs_pg.c; stubs that refuse when built without libpq) - */

typedef struct azs_pg azs_pg_t;
typedef struct azs_pg_stmt azs_pg_stmt_t;
/* What libpq is given for url: a URI as it is; "postgresql:k=v ..."
 * without its prefix. */
const char *azs_pg_conninfo(const char *url);
/* NULL when url can be used: parsed by libpq and without a password
 * (those belong in ~/.pgpass); else why not. */
const char *azs_pg_url_check(const char *url, apr_pool_t *p);
/* Connects within deadline_ms (0: no bound; every later call then has
 * none either).  Closed with p or azs_pg_close. */
azs_rc azs_pg_open(azs_pg_t **c, const char *url, const char *app,
                   int deadline_ms, apr_int64_t at_ms, apr_pool_t *p,
                   const char **err);
void azs_pg_close(azs_pg_t *c);
int azs_pg_ok(azs_pg_t *c);
const char *azs_pg_error(azs_pg_t *c);
/* One command, no parameters (BEGIN, COMMIT, LISTEN). */
azs_rc azs_pg_exec(azs_pg_t *c, const char *sql);
int azs_pg_in_txn(azs_pg_t *c);
apr_int64_t azs_pg_changes(azs_pg_t *c);
azs_pg_stmt_t *azs_pg_stmt_make(azs_pg_t *c, const char *sql,
                                apr_pool_t *p);
void azs_pg_bind_int64(azs_pg_stmt_t *s, int i, apr_int64_t v);
void azs_pg_bind_text(azs_pg_stmt_t *s, int i, const char *v);
void azs_pg_bind_blob(azs_pg_stmt_t *s, int i, const void *v, int len);
int azs_pg_step(azs_pg_stmt_t *s);
/* 1 between a step that ran the statement and its reset. */
int azs_pg_stepping(azs_pg_stmt_t *s);
void azs_pg_reset(azs_pg_stmt_t *s);
void azs_pg_clear(azs_pg_stmt_t *s);
int azs_pg_col_null(azs_pg_stmt_t *s, int i);
apr_int64_t azs_pg_col_int64(azs_pg_stmt_t *s, int i);
const char *azs_pg_col_text(azs_pg_stmt_t *s, int i);
const void *azs_pg_col_blob(azs_pg_stmt_t *s, int i, int *len);
/* Waits up to wait_ms for input; 1 when a notification came (all are
 * consumed), 0 when none, -1 when the connection failed. */
int azs_pg_notified(azs_pg_t *c, int wait_ms);
/* PostgreSQL refuses text that is not UTF-8: such a name cannot be there. */
int azs_utf8_valid(const char *s);

/*
 * What a node heard from PostgreSQL last (mod_azs_watch.c writes it in
 * shared memory, every thread of every child reads it): the generation
 * and the feed's newest row, and when (CLOCK_MONOTONIC, ms).  Written
 * under a sequence count: odd while written.
 */
typedef struct {
    apr_uint32_t count;
    apr_int64_t gen;
    apr_int64_t seq;
    apr_int64_t tag;
    apr_int64_t heard_ms;            /* 0: never */
    volatile apr_uint32_t pid;       /* the watcher's */
    volatile apr_uint32_t restarts;
} azs_watch_t;

apr_int64_t azs_mono_ms(void);
/* Called by the one writer of w; asked_ms: when the query that read gen
 * and pos was sent (the lease counts from then). */
void azs_watch_publish(azs_watch_t *w, apr_int64_t gen,
                       const azs_feed_pos_t *pos, apr_int64_t asked_ms);
/* A consistent copy; 0 when nothing was heard yet. */
int azs_watch_read(const azs_watch_t *w, apr_int64_t *gen,
                   azs_feed_pos_t *pos, apr_int64_t *heard_ms);
/* The handle (PostgreSQL) answers from the generation and feed place w
 * published, while w heard from the database less than max_stale_ms ago. */
void azs_store_watch(azs_store_t *st, const azs_watch_t *w,
                     int max_stale_ms);
/* PostgreSQL: no call on this handle ends after at_ms (CLOCK_MONOTONIC;
 * 0: only each call's own bound). */
void azs_store_deadline(azs_store_t *st, apr_int64_t at_ms);
void azs_pg_deadline_at(azs_pg_t *c, apr_int64_t at_ms);

/* ==== end of the htauthz section ======================================= */

#endif /* AZS_H */
