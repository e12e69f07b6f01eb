/*
 * azs_time.c - WHEN arguments and UTC timestamps.
 *
 * The calendar arithmetic is done here rather than through timegm() or
 * strptime(), so the result never depends on the locale or on TZ.
 */
#include <string.h>

#include <apr_strings.h>

#include "azs.h"

/* 9999-12-31T23:59:59Z: every accepted time prints as a 4-digit year. */
#define TIME_MAX APR_INT64_C(253402300799)

#define WHEN_SYNTAX "expected now, never, a duration (90s, 15m, 12h, 30d) " \
                    "or a UTC date (2027-01-31, 2027-01-31T12:00:00Z)"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static apr_int64_t days_from_civil(apr_int64_t y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(apr_int64_t z, apr_int64_t *y, int *m, int *d)
{
    apr_int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(apr_int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n fixed digits at s, or -1. */
static int fixed_digits(const char *s, int n)
{
    int v = 0;

    while (n--) {
        if (!is_digit(*s)) {
            return -1;
        }
        v = v * 10 + (*s++ - '0');
    }
    return v;
}

static const char *parse_duration(const char *text, apr_int64_t now,
                                  apr_int64_t *when)
{
    apr_int64_t n = 0, unit;
    const char *s = text;

    for (; is_digit(*s); s++) {
        /* Anything past TIME_MAX seconds is refused below anyway. */
        if (n > TIME_MAX) {
            return "duration is too long";
        }
        n = n * 10 + (*s - '0');
    }
    switch (*s) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return WHEN_SYNTAX;
    }
    if (s == text || s[1] != '\0') {
        return WHEN_SYNTAX;
    }
    if (n == 0) {
        return "duration must be greater than zero";
    }
    if (now < 0 || now > TIME_MAX || n > (TIME_MAX - now) / unit) {
        return "time is too far in the future (after year 9999)";
    }
    *when = now + n * unit;
    return NULL;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", nothing else. */
static const char *parse_date(const char *text, apr_int64_t *when)
{
    apr_size_t len = strlen(text);
    int y, mo, d, h = 0, mi = 0, s = 0;
    apr_int64_t t;

    if (len != 10 && len != 20) {
        return WHEN_SYNTAX;
    }
    y = fixed_digits(text, 4);
    mo = fixed_digits(text + 5, 2);
    d = fixed_digits(text + 8, 2);
    if (y < 0 || mo < 0 || d < 0 || text[4] != '-' || text[7] != '-') {
        return WHEN_SYNTAX;
    }
    if (len == 20) {
        h = fixed_digits(text + 11, 2);
        mi = fixed_digits(text + 14, 2);
        s = fixed_digits(text + 17, 2);
        if (text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || text[19] != 'Z' || h < 0 || mi < 0 || s < 0) {
            return WHEN_SYNTAX;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return "no such date";
    }
    if (h > 23 || mi > 59 || s > 59) {
        return "time of day out of range";
    }
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* 0 means "never" to every caller: the epoch itself is refused. */
    if (t <= 0) {
        return "date must be after 1970-01-01T00:00:00Z";
    }
    *when = t;
    return NULL;
}

const char *azs_when_parse(const char *text, apr_int64_t now,
                           apr_int64_t *when)
{
    apr_size_t i;

    if (!text || !*text) {
        return WHEN_SYNTAX;
    }
    if (strcmp(text, "now") == 0) {
        *when = now;
        return NULL;
    }
    if (strcmp(text, "never") == 0) {
        *when = 0;
        return NULL;
    }
    for (i = 0; is_digit(text[i]); i++) {
        ;
    }
    if (i == 4 && text[4] == '-') {
        return parse_date(text, when);
    }
    return parse_duration(text, now, when);
}

const char *azs_since_parse(const char *text, apr_int64_t now,
                            apr_int64_t *since)
{
    apr_int64_t when;
    const char *err;
    apr_size_t i;

    if (text && strcmp(text, "never") == 0) {
        return "expected now, a duration ago (90s, 15m, 12h, 7d) or a UTC "
               "date (2027-01-31, 2027-01-31T12:00:00Z)";
    }
    if ((err = azs_when_parse(text, now, &when)) != NULL) {
        return err;
    }
    for (i = 0; is_digit(text[i]); i++) {
        ;
    }
    if (i > 0 && text[i] != '-' && strcmp(text, "now") != 0) {
        /* A duration: that long before now (the epoch at the most). */
        when = now - (when - now);
        if (when < 1) {
            when = 1;
        }
    }
    *since = when;
    return NULL;
}

const char *azs_time_format(apr_pool_t *p, apr_int64_t t)
{
    apr_int64_t days, rem, y;
    int m, d;

    if (t == 0) {
        return "never";
    }
    days = t / 86400;
    rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    return apr_psprintf(p, "%04" APR_INT64_T_FMT "-%02d-%02dT%02d:%02d:%02dZ",
                        y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
                        (int)(rem % 60));
}

apr_int64_t azs_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

int azs_duration_ms(const char *text, apr_int64_t *ms)
{
    apr_int64_t v = 0;
    const char *p = text;

    if (!p || !is_digit(*p)) {
        return -1;
    }
    for (; is_digit(*p); p++) {
        if (v > 1000000000) {
            return -1;
        }
        v = v * 10 + (*p - '0');
    }
    if (strcmp(p, "ms") == 0) {
        *ms = v;
    }
    else if (*p == '\0' || strcmp(p, "s") == 0) {
        *ms = v * 1000;
    }
    else if (strcmp(p, "m") == 0) {
        *ms = v * 60 * 1000;
    }
    else if (strcmp(p, "h") == 0) {
        *ms = v * 3600 * 1000;
    }
    else if (strcmp(p, "d") == 0) {
        *ms = v * 86400 * 1000;
    }
    else {
        return -1;
    }
    return 0;
}
