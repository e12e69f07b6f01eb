/*
 * test_time.c - WHEN parsing and UTC formatting (azs_time.c).
 */
#include <time.h>

#include "unit.h"


#define NOW APR_INT64_C(1767225600)       /* 2026-01-01T00:00:00Z */
#define LAST APR_INT64_C(253402300799)    /* 9999-12-31T23:59:59Z */
#define UNTOUCHED APR_INT64_C(-4242)

static apr_int64_t when_ok(const char *text, apr_int64_t now)
{
    apr_int64_t when = UNTOUCHED;
    const char *err = azs_when_parse(text, now, &when);

    if (err) {
        fail_msg("\"%s\" refused: %s", text, err);
    }
    return when;
}

/* Refused, with a message, and *when left alone. */
static void when_bad(const char *text, apr_int64_t now)
{
    apr_int64_t when = UNTOUCHED;
    const char *err = azs_when_parse(text, now, &when);

    if (!err) {
        fail_msg("\"%s\" accepted as %" APR_INT64_T_FMT, text, when);
    }
    assert_true(strlen(err) > 0);
    assert_int_equal(when, UNTOUCHED);
}

static void keywords(void **state)
{
    (void)state;
    assert_int_equal(when_ok("now", NOW), NOW);
    assert_int_equal(when_ok("now", 12345), 12345);
    assert_int_equal(when_ok("never", NOW), 0);
    when_bad("NOW", NOW);
    when_bad("Never", NOW);
    when_bad("now ", NOW);
    when_bad(" now", NOW);
    when_bad("nowx", NOW);
    when_bad("neverr", NOW);
    when_bad("", NOW);
    when_bad(NULL, NOW);
}

static void durations(void **state)
{
    (void)state;
    assert_int_equal(when_ok("90s", NOW), NOW + 90);
    assert_int_equal(when_ok("15m", NOW), NOW + 15 * 60);
    assert_int_equal(when_ok("12h", NOW), NOW + 12 * 3600);
    assert_int_equal(when_ok("30d", NOW), NOW + 30 * 86400);
    assert_int_equal(when_ok("1s", NOW), NOW + 1);
    assert_int_equal(when_ok("015m", NOW), NOW + 15 * 60);
    assert_int_equal(when_ok("3650d", NOW), NOW + 3650 * 86400);
    assert_int_equal(when_ok("90s", 0), 90);
}

static void durations_refused(void **state)
{
    (void)state;
    when_bad("0s", NOW);
    when_bad("0d", NOW);
    when_bad("000m", NOW);
    when_bad("-5m", NOW);
    when_bad("+5m", NOW);
    when_bad("5", NOW);
    when_bad("m", NOW);
    when_bad("5x", NOW);
    when_bad("5M", NOW);
    when_bad("5D", NOW);
    when_bad("5 m", NOW);
    when_bad(" 5m", NOW);
    when_bad("5m ", NOW);
    when_bad("5mm", NOW);
    when_bad("5m5s", NOW);
    when_bad("1.5h", NOW);
    when_bad("1,5h", NOW);
    when_bad("0x10s", NOW);
    when_bad("5w", NOW);
    when_bad("5y", NOW);
    when_bad("5m\n", NOW);
}

static void durations_overflow(void **state)
{
    (void)state;
    when_bad("99999999999999999999999999999999d", NOW);
    when_bad("9223372036854775807s", NOW);
    when_bad("9223372036854775808s", NOW);
    when_bad("106751991167300d", NOW);
    when_bad("3000000d", NOW);               /* past year 9999 */
    /* Up to the last second of year 9999, not one more. */
    assert_int_equal(when_ok("1s", LAST - 1), LAST);
    when_bad("2s", LAST - 1);
    when_bad("1s", LAST);
    when_bad("1s", APR_INT64_MAX);
    when_bad("1d", APR_INT64_MAX - 10);
}

static void dates(void **state)
{
    (void)state;
    assert_int_equal(when_ok("2027-01-31", NOW), APR_INT64_C(1801353600));
    assert_int_equal(when_ok("2027-01-31T12:00:00Z", NOW),
                     APR_INT64_C(1801396800));
    assert_int_equal(when_ok("2000-02-29", NOW), APR_INT64_C(951782400));
    assert_int_equal(when_ok("2400-02-29", NOW), APR_INT64_C(13574563200));
    assert_int_equal(when_ok("2024-02-29T23:59:59Z", NOW),
                     APR_INT64_C(1709251199));
    assert_int_equal(when_ok("2038-01-19T03:14:08Z", NOW),
                     APR_INT64_C(2147483648));
    assert_int_equal(when_ok("9999-12-31T23:59:59Z", NOW), LAST);
    assert_int_equal(when_ok("1970-01-02", NOW), 86400);
    assert_int_equal(when_ok("1970-01-01T00:00:01Z", NOW), 1);
    /* Absolute dates do not depend on now; past dates are the caller's
     * business (expiring an account at once is legitimate). */
    assert_int_equal(when_ok("2027-01-31", 0), APR_INT64_C(1801353600));
    assert_int_equal(when_ok("2020-06-01", NOW), APR_INT64_C(1590969600));
}

static void invalid_dates(void **state)
{
    (void)state;
    when_bad("2027-02-29", NOW);
    when_bad("2027-02-30", NOW);
    when_bad("2027-02-31", NOW);
    when_bad("2100-02-29", NOW);
    when_bad("2027-04-31", NOW);
    when_bad("2027-06-31", NOW);
    when_bad("2027-09-31", NOW);
    when_bad("2027-11-31", NOW);
    when_bad("2027-01-32", NOW);
    when_bad("2027-13-01", NOW);
    when_bad("2027-00-10", NOW);
    when_bad("2027-01-00", NOW);
    when_bad("2027-99-99", NOW);
    /* The epoch itself would read as "never"; earlier is negative. */
    when_bad("1970-01-01", NOW);
    when_bad("1970-01-01T00:00:00Z", NOW);
    when_bad("1969-12-31", NOW);
    when_bad("0000-01-01", NOW);
    when_bad("1900-02-28", NOW);
}

static void times_of_day(void **state)
{
    (void)state;
    assert_int_equal(when_ok("2027-01-31T00:00:00Z", NOW),
                     APR_INT64_C(1801353600));
    assert_int_equal(when_ok("2027-01-31T23:59:59Z", NOW),
                     APR_INT64_C(1801353600) + 86399);
    when_bad("2027-01-31T24:00:00Z", NOW);
    when_bad("2027-01-31T23:60:00Z", NOW);
    when_bad("2027-01-31T23:59:60Z", NOW);     /* no leap seconds */
    when_bad("2027-01-31T99:99:99Z", NOW);
}

static void date_syntax(void **state)
{
    (void)state;
    when_bad("2027-1-31", NOW);
    when_bad("2027-01-1", NOW);
    when_bad("27-01-31", NOW);
    when_bad("02027-01-31", NOW);
    when_bad("10000-01-01", NOW);
    when_bad("2027/01/31", NOW);
    when_bad("2027.01.31", NOW);
    when_bad("20270131", NOW);
    when_bad("2027-01-31 ", NOW);
    when_bad(" 2027-01-31", NOW);
    when_bad("2027-01-31x", NOW);
    when_bad("2027-01-31Z", NOW);
    when_bad("2027-01-31T", NOW);
    when_bad("2027-01-31T12:00:00", NOW);
    when_bad("2027-01-31T12:00Z", NOW);
    when_bad("2027-01-31T12Z", NOW);
    when_bad("2027-01-31 12:00:00Z", NOW);
    when_bad("2027-01-31t12:00:00z", NOW);
    when_bad("2027-01-31T12:00:00+00:00", NOW);
    when_bad("2027-01-31T12:00:00.5Z", NOW);
    when_bad("2027-01-31T12:00:00ZZ", NOW);
    when_bad("2027-01-31T12:00:00z", NOW);
    when_bad("2027-01-31T12:00:00 ", NOW);
    when_bad("2027-01-31T12:00:001", NOW);
    when_bad("2027-01-31X12:00:00Z", NOW);
    when_bad("2027-01-31T12-00:00Z", NOW);
    when_bad("2027-01-31T12:00-00Z", NOW);
    when_bad("2027-01-31T1a:00:00Z", NOW);
    when_bad("2027-0a-31", NOW);
    when_bad("2027--1-31", NOW);
    when_bad("-2027-01-31", NOW);
    when_bad("2027-01-31T-1:00:00Z", NOW);
}

/* No locale, no TZ: the same text is the same second everywhere. */
static void independent_of_tz(void **state)
{
    const char *saved = getenv("TZ");
    char *copy = saved ? strdup(saved) : NULL;

    setenv("TZ", "Asia/Kathmandu", 1);
    tzset();
    assert_int_equal(when_ok("2027-01-31", NOW), APR_INT64_C(1801353600));
    assert_string_equal(azs_time_format(((unit_fx *)*state)->pool,
                                        APR_INT64_C(1801396800)),
                        "2027-01-31T12:00:00Z");
    setenv("TZ", "America/St_Johns", 1);
    tzset();
    assert_int_equal(when_ok("2027-01-31T12:00:00Z", NOW),
                     APR_INT64_C(1801396800));
    if (copy) {
        setenv("TZ", copy, 1);
        free(copy);
    }
    else {
        unsetenv("TZ");
    }
    tzset();
}

static void format(void **state)
{
    apr_pool_t *p = ((unit_fx *)*state)->pool;

    assert_string_equal(azs_time_format(p, 0), "never");
    assert_string_equal(azs_time_format(p, 1), "1970-01-01T00:00:01Z");
    assert_string_equal(azs_time_format(p, 86400), "1970-01-02T00:00:00Z");
    assert_string_equal(azs_time_format(p, APR_INT64_C(1801396800)),
                        "2027-01-31T12:00:00Z");
    assert_string_equal(azs_time_format(p, APR_INT64_C(951782400)),
                        "2000-02-29T00:00:00Z");
    assert_string_equal(azs_time_format(p, APR_INT64_C(1709251199)),
                        "2024-02-29T23:59:59Z");
    assert_string_equal(azs_time_format(p, APR_INT64_C(2147483648)),
                        "2038-01-19T03:14:08Z");
    assert_string_equal(azs_time_format(p, LAST), "9999-12-31T23:59:59Z");
    assert_string_equal(azs_time_format(p, -1), "1969-12-31T23:59:59Z");
    assert_string_equal(azs_time_format(p, -86400), "1969-12-31T00:00:00Z");
}

/* Cross-check the calendar against the C library's gmtime_r. */
static void format_matches_gmtime(void **state)
{
    apr_pool_t *p = ((unit_fx *)*state)->pool;
    apr_int64_t t;
    char want[64];
    struct tm tm;
    time_t tt;

    for (t = 1; t <= LAST; t += APR_INT64_C(7654321) + t / 1000) {
        tt = (time_t)t;
        assert_non_null(gmtime_r(&tt, &tm));
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        assert_string_equal(azs_time_format(p, t), want);
    }
}

/* What azs_time_format prints, azs_when_parse reads back. */
static void round_trip(void **state)
{
    apr_pool_t *p = ((unit_fx *)*state)->pool;
    apr_int64_t t;
    int n = 0;

    for (t = 1; t <= LAST; t += APR_INT64_C(86399) * 367 + 12345) {
        assert_int_equal(when_ok(azs_time_format(p, t), NOW), t);
        n++;
    }
    assert_true(n > 1000);
    assert_int_equal(when_ok(azs_time_format(p, LAST), NOW), LAST);
    /* Every day of a leap year and of a common year. */
    for (t = APR_INT64_C(1704067200); t < APR_INT64_C(1767225600);
         t += 86400) {
        assert_int_equal(when_ok(azs_time_format(p, t), NOW), t);
        assert_int_equal(when_ok(azs_time_format(p, t + 86399), NOW),
                         t + 86399);
    }
}

static void now_is_now(void **state)
{
    apr_int64_t a, b, n;

    (void)state;
    a = (apr_int64_t)time(NULL);
    n = azs_now();
    b = (apr_int64_t)time(NULL);
    assert_true(n >= a && n <= b);
}

/* --since: durations reach back, dates and now are as they are. */
static void since(void **state)
{
    const apr_int64_t now = 1800000000;
    apr_int64_t t = -1;

    (void)state;
    assert_null(azs_since_parse("7d", now, &t));
    assert_int_equal(t, now - 7 * 86400);
    assert_null(azs_since_parse("90s", now, &t));
    assert_int_equal(t, now - 90);
    assert_null(azs_since_parse("24h", now, &t));
    assert_int_equal(t, now - 86400);
    assert_null(azs_since_parse("15m", now, &t));
    assert_int_equal(t, now - 900);
    assert_null(azs_since_parse("now", now, &t));
    assert_int_equal(t, now);
    assert_null(azs_since_parse("2027-01-31", now, &t));
    assert_int_equal(t, 1801353600);
    assert_null(azs_since_parse("2027-01-31T12:00:00Z", now, &t));
    assert_int_equal(t, 1801396800);
    /* further back than the epoch: the epoch's first second */
    assert_null(azs_since_parse("30000d", now, &t));
    assert_int_equal(t, 1);
    t = 5;
    assert_non_null(azs_since_parse("never", now, &t));
    assert_non_null(azs_since_parse("", now, &t));
    assert_non_null(azs_since_parse("7", now, &t));
    assert_non_null(azs_since_parse("-7d", now, &t));
    assert_non_null(azs_since_parse("0d", now, &t));
    assert_non_null(azs_since_parse("yesterday", now, &t));
    assert_int_equal(t, 5);
}

static const struct CMUnitTest tests[] = {
    T(keywords),
    T(durations),
    T(durations_refused),
    T(durations_overflow),
    T(dates),
    T(invalid_dates),
    T(times_of_day),
    T(date_syntax),
    T(independent_of_tz),
    T(format),
    T(format_matches_gmtime),
    T(round_trip),
    T(now_is_now),
    T(since),
};

UNIT_MAIN(tests)
