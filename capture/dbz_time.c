/*
 * capture/dbz_time.c — date, time and interval texts (see dbz_time.h).
 *
 * Dates are days since the epoch (core/pgtime.h's calendar); everything
 * else is microseconds. The interval follows
 * pgjdbc's PGInterval token by token (its seconds are a double, rounded
 * to microseconds), since Debezium's numbers come from there.
 */
#include "capture/dbz_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pgtime.h"

typedef struct cursor
{
	const char *p;
	const char *end;
} cursor;

static bool
at_end(const cursor *c)
{
	return c->p >= c->end;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* At least min_digits digits as a number. */
static bool
read_number(cursor *c, int min_digits, int64_t *v)
{
	int			n = 0;

	*v = 0;
	while (!at_end(c) && is_digit(*c->p) && n < 15)
	{
		*v = *v * 10 + (*c->p++ - '0');
		n++;
	}
	return n >= min_digits;
}

static bool
expect(cursor *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

static bool
rest_is(const cursor *c, const char *lit)
{
	size_t		n = strlen(lit);

	return (size_t) (c->end - c->p) == n && memcmp(c->p, lit, n) == 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* "YYYY-MM-DD" (years of four digits or more), era not yet applied. */
static bool
read_ymd(cursor *c, int64_t *y, int64_t *m, int64_t *d)
{
	return read_number(c, 4, y) && expect(c, '-') && read_number(c, 2, m) && expect(c, '-') &&
		read_number(c, 2, d) && *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

/* " BC" at the end: the year was of that era (astronomical 1 - y). */
static bool
read_era(cursor *c, int64_t *y)
{
	if (at_end(c))
		return true;
	if (!rest_is(c, " BC"))
		return false;
	c->p = c->end;
	*y = 1 - *y;
	return true;
}

static bool
infinity(const char *s, size_t len, pt_dbz_inf *inf)
{
	if (len == 8 && memcmp(s, "infinity", 8) == 0)
		*inf = PT_DBZ_PLUS_INFINITY;
	else if (len == 9 && memcmp(s, "-infinity", 9) == 0)
		*inf = PT_DBZ_MINUS_INFINITY;
	else
	{
		*inf = PT_DBZ_FINITE;
		return false;
	}
	return true;
}

bool
pt_dbz_parse_date(const char *s, size_t len, int64_t *days, pt_dbz_inf *inf)
{
	cursor		c = {s, s + len};
	int64_t		y,
				m,
				d;

	*days = 0;
	if (infinity(s, len, inf))
		return true;
	if (!read_ymd(&c, &y, &m, &d) || !read_era(&c, &y) || !at_end(&c))
		return false;
	*days = pt_days_from_civil(y, m, d);
	return true;
}

/* "HH:MM:SS[.ffffff]" as microseconds. */
static bool
read_clock(cursor *c, int64_t *usec)
{
	int64_t		h,
				mi,
				sec,
				frac = 0;
	int			digits = 0;

	if (!read_number(c, 2, &h) || !expect(c, ':') || !read_number(c, 2, &mi) || !expect(c, ':') ||
		!read_number(c, 2, &sec))
		return false;
	if (!at_end(c) && *c->p == '.')
	{
		c->p++;
		for (; !at_end(c) && is_digit(*c->p); c->p++, digits++)
			if (digits < 6)
				frac = frac * 10 + (*c->p - '0');
		if (digits == 0)
			return false;
		for (int i = digits; i < 6; i++)
			frac *= 10;
	}
	*usec = ((h * 60 + mi) * 60 + sec) * 1000000 + frac;
	return true;
}

/* "+HH", "+HH:MM" or "+HH:MM:SS" as seconds east of UTC. */
static bool
read_offset(cursor *c, int64_t *seconds)
{
	int			sign;
	int64_t		h,
				m = 0,
				sec = 0;

	if (at_end(c) || (*c->p != '+' && *c->p != '-'))
		return false;
	sign = *c->p++ == '-' ? -1 : 1;
	if (!read_number(c, 2, &h))
		return false;
	if (!at_end(c) && *c->p == ':' && (c->p++, !read_number(c, 2, &m)))
		return false;
	if (!at_end(c) && *c->p == ':' && (c->p++, !read_number(c, 2, &sec)))
		return false;
	*seconds = sign * ((h * 60 + m) * 60 + sec);
	return true;
}

bool
pt_dbz_parse_timestamp(const char *s, size_t len, int64_t *usec, pt_dbz_inf *inf)
{
	cursor		c = {s, s + len};
	int64_t		y,
				m,
				d,
				clock,
				offset = 0;

	*usec = 0;
	if (infinity(s, len, inf))
		return true;
	if (!read_ymd(&c, &y, &m, &d) || !expect(&c, ' ') || !read_clock(&c, &clock))
		return false;
	if (!at_end(&c) && (*c.p == '+' || *c.p == '-') && !read_offset(&c, &offset))
		return false;
	if (!read_era(&c, &y) || !at_end(&c))
		return false;
	/* false past int64 microseconds (294277 AD and beyond): written as null and counted */
	return !__builtin_mul_overflow(pt_days_from_civil(y, m, d), PT_USEC_PER_DAY, usec) &&
		!__builtin_add_overflow(*usec, clock - offset * 1000000, usec);
}

bool
pt_dbz_parse_time(const char *s, size_t len, int64_t *usec)
{
	cursor		c = {s, s + len};

	return read_clock(&c, usec) && at_end(&c);
}

bool
pt_dbz_parse_timetz(const char *s, size_t len, int64_t *usec, bool *end_of_day)
{
	cursor		c = {s, s + len};
	int64_t		clock,
				offset;

	if (!read_clock(&c, &clock) || !read_offset(&c, &offset) || !at_end(&c))
		return false;
	*end_of_day = clock == PT_USEC_PER_DAY && offset == 0;
	*usec = clock - offset * 1000000;
	*usec -= floor_div(*usec, PT_USEC_PER_DAY) * PT_USEC_PER_DAY;
	return true;
}

/* ---- ISO output ---- */

static void
put_year(pt_buf *out, int64_t y)
{
	if (y > 9999)
		pt_buf_printf(out, "+%lld", (long long) y);
	else if (y >= 0)
		pt_buf_printf(out, "%04lld", (long long) y);
	else
		pt_buf_printf(out, "-%04lld", (long long) -y);
}

void
pt_dbz_put_iso_date(pt_buf *out, int64_t days)
{
	int64_t		y;
	int			m,
				d;

	pt_civil_from_days(days, &y, &m, &d);
	put_year(out, y);
	pt_buf_printf(out, "-%02d-%02dZ", m, d);
}

/* HH:mm:ss and the fraction of a time of day (digits as pt_dbz_put_iso_timestamp). */
static void
put_clock(pt_buf *out, int64_t usec, int digits)
{
	int64_t		sec = usec / 1000000;
	int			frac = (int) (usec % 1000000);
	char		tmp[8];

	pt_buf_printf(out, "%02d:%02d:%02d", (int) (sec / 3600), (int) (sec / 60 % 60), (int) (sec % 60));
	if (digits < 0)
	{
		if (frac == 0)
			return;
		digits = 6;
		while (frac % 10 == 0)
			frac /= 10, digits--;
		snprintf(tmp, sizeof(tmp), "%0*d", digits, frac);
	}
	else
	{
		if (digits == 0)
			return;
		snprintf(tmp, sizeof(tmp), "%06d", frac);
		tmp[digits > 6 ? 6 : digits] = '\0';
	}
	pt_buf_putc(out, '.');
	pt_buf_puts(out, tmp);
}

void
pt_dbz_put_iso_timestamp(pt_buf *out, int64_t usec, int digits)
{
	int64_t		days = usec / PT_USEC_PER_DAY;
	int64_t		tod = usec % PT_USEC_PER_DAY;	/* (days * PT_USEC_PER_DAY can overflow) */
	int64_t		y;
	int			m,
				d;

	if (tod < 0)
	{
		tod += PT_USEC_PER_DAY;
		days--;
	}
	pt_civil_from_days(days, &y, &m, &d);
	put_year(out, y);
	pt_buf_printf(out, "-%02d-%02dT", m, d);
	put_clock(out, tod, digits);
	pt_buf_putc(out, 'Z');
}

void
pt_dbz_put_iso_time(pt_buf *out, int64_t usec_of_day)
{
	put_clock(out, usec_of_day % PT_USEC_PER_DAY, -1);
	pt_buf_putc(out, 'Z');
}

/* ---- interval ---- */

/* Java's Math.round: floor(x + 0.5), saturating. */
static int64_t
java_round(double x)
{
	double		r = floor(x + 0.5);

	if (r >= 9.2233720368547758e18)
		return INT64_MAX;
	if (r <= -9.2233720368547758e18)
		return INT64_MIN;
	return (int64_t) r;
}

/* PGInterval.setSeconds: rounded to microseconds, kept as whole + micros. */
static double
pginterval_seconds(double seconds)
{
	int64_t		total = java_round(seconds * 1e6);

	return (double) (total / 1000000) + (double) (total % 1000000) / 1e6;
}

/* Integer.parseInt of a token's text (0 for none); false when not a number. */
static bool
token_int(const char *s, size_t len, int32_t *v)
{
	char		tmp[16];
	char	   *end;
	long		n;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	n = strtol(tmp, &end, 10);
	*v = (int32_t) n;
	return *end == '\0' && n >= INT32_MIN && n <= INT32_MAX;
}

static bool
token_double(const char *s, size_t len, double *v)
{
	char		tmp[40];
	char	   *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*v = strtod(tmp, &end);
	return *end == '\0';
}

/* "[-]H:MM[:SS.ffffff]" (odd tokens with a colon). */
static bool
interval_clock(const char *t, size_t len, pt_dbz_interval *iv, double *seconds)
{
	size_t		neg = t[0] == '-' ? 1 : 0;
	const char *colon = memchr(t, ':', len);
	size_t		h_end = (size_t) (colon - t);
	const char *colon2;

	if (!token_int(t + neg, h_end - neg, &iv->hours) || h_end + 3 > len ||
		!token_int(t + h_end + 1, 2, &iv->minutes))
		return false;
	*seconds = 0;
	colon2 = memchr(t + h_end + 1, ':', len - h_end - 1);
	if (colon2 != NULL && !token_double(colon2 + 1, (size_t) (t + len - colon2 - 1), seconds))
		return false;
	if (neg)
	{
		iv->hours = -iv->hours;
		iv->minutes = -iv->minutes;
		*seconds = -*seconds;
	}
	return true;
}

static bool
starts(const char *t, size_t len, const char *word)
{
	size_t		n = strlen(word);

	return len >= n && memcmp(t, word, n) == 0;
}

/* "<n> <unit>" (even tokens name the unit of the token before). */
static bool
interval_unit(const char *num, size_t numlen, const char *t, size_t len, pt_dbz_interval *iv, double *seconds)
{
	if (starts(t, len, "year"))
		return token_int(num, numlen, &iv->years);
	if (starts(t, len, "mon"))
		return token_int(num, numlen, &iv->months);
	if (starts(t, len, "day"))
		return token_int(num, numlen, &iv->days);
	if (starts(t, len, "hour"))
		return token_int(num, numlen, &iv->hours);
	if (starts(t, len, "min"))
		return token_int(num, numlen, &iv->minutes);
	if (starts(t, len, "sec"))
		return token_double(num, numlen, seconds);
	return true;
}

bool
pt_dbz_parse_interval(const char *s, size_t len, pt_dbz_interval *iv)
{
	const char *num = NULL;
	size_t		numlen = 0;
	double		seconds = 0;
	size_t		i = 0;

	memset(iv, 0, sizeof(*iv));
	if ((len == 8 && memcmp(s, "infinity", 8) == 0) || (len == 9 && memcmp(s, "-infinity", 9) == 0))
		return false;			/* PostgreSQL 17's infinite intervals: no MicroDuration or ISO form */
	for (int k = 1; i < len; k++)
	{
		size_t		start;

		while (i < len && (s[i] == ' ' || s[i] == '+'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '+')
			i++;
		if ((k & 1) == 1 && memchr(s + start, ':', i - start) != NULL)
		{
			if (!interval_clock(s + start, i - start, iv, &seconds))
				return false;
			num = NULL;
		}
		else if ((k & 1) == 1)
			num = s + start, numlen = i - start;
		else if (!interval_unit(num, num ? numlen : 0, s + start, i - start, iv, &seconds))
			return false;
	}
	iv->seconds = pginterval_seconds(seconds);
	return true;
}

int64_t
pt_dbz_interval_micros(const pt_dbz_interval *iv)
{
	double		days = (double) (iv->years * 12 + iv->months) * (365.25 / 12.0) + iv->days;
	double		secs = ((days * 24 + iv->hours) * 60 + iv->minutes) * 60 + iv->seconds;
	double		us = secs * 1e6;

	/* Java's (long) cast: toward zero, saturating, NaN is 0 */
	if (isnan(us))
		return 0;
	if (us >= 9.2233720368547758e18)
		return INT64_MAX;
	if (us <= -9.2233720368547758e18)
		return INT64_MIN;
	return (int64_t) us;
}

/*
 * BigDecimal.valueOf(d).setScale(9, DOWN) if finer, stripTrailingZeros,
 * toPlainString: the shortest digits that give d back (Double.toString's),
 * in plain notation, at most nine fraction digits, no trailing zeros.
 */
static void
put_plain_seconds(pt_buf *out, double d)
{
	char		sci[40];
	char		digits[24];
	int			nd = 0,
				exp10;
	char	   *e;

	for (int prec = 0; prec < 17; prec++)
	{
		snprintf(sci, sizeof(sci), "%.*e", prec, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	e = strchr(sci, 'e');
	exp10 = atoi(e + 1);
	for (char *p = sci; p < e; p++)
		if (is_digit(*p))
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (d < 0)
		pt_buf_putc(out, '-');
	if (d == 0)
	{
		pt_buf_putc(out, '0');
		return;
	}
	/* value = 0.d1d2... x 10^(exp10 + 1) */
	{
		int			int_digits = exp10 + 1;
		int			frac_end;

		if (int_digits <= 0)
			pt_buf_putc(out, '0');
		for (int i = 0; i < int_digits; i++)
			pt_buf_putc(out, i < nd ? digits[i] : '0');
		frac_end = nd - int_digits > 9 ? int_digits + 9 : nd;	/* DOWN at nine digits */
		while (frac_end > int_digits && frac_end > 0 && digits[frac_end - 1] == '0')
			frac_end--;
		if (frac_end <= int_digits || frac_end <= 0)
			return;
		pt_buf_putc(out, '.');
		for (int i = int_digits; i < frac_end; i++)
			pt_buf_putc(out, i < 0 ? '0' : digits[i]);
	}
}

void
pt_dbz_put_interval_iso(pt_buf *out, const pt_dbz_interval *iv)
{
	pt_buf_printf(out, "P%dY%dM%dDT%dH%dM", iv->years, iv->months, iv->days, iv->hours, iv->minutes);
	put_plain_seconds(out, iv->seconds);
	pt_buf_putc(out, 'S');
}
