/*
 * core/pgtime.c — timestamptz text <-> epoch microseconds (see pgtime.h).
 */
#include "core/pgtime.h"

#include <stdio.h>
#include <string.h>

#define USECS_PER_SEC INT64_C(1000000)
#define SECS_PER_DAY INT64_C(86400)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
int64_t
pt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
pt_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Read exactly n digits at s[*pos]; false if not digits. */
static bool
digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
	int			v = 0;

	if (*pos + (size_t) n > len)
		return false;
	for (int i = 0; i < n; i++)
	{
		char		c = s[*pos + (size_t) i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += (size_t) n;
	*out = v;
	return true;
}

static bool
expect(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

static bool
parse_offset(const char *s, size_t len, size_t *pos, int64_t *offset_sec)
{
	int			sign,
				hh,
				mm = 0,
				ss = 0;

	if (*pos >= len || (s[*pos] != '+' && s[*pos] != '-'))
		return false;
	sign = s[*pos] == '-' ? -1 : 1;
	(*pos)++;
	if (!digits(s, len, pos, 2, &hh))
		return false;
	if (*pos < len && s[*pos] == ':')
	{
		(*pos)++;
		if (!digits(s, len, pos, 2, &mm))
			return false;
		if (*pos < len && s[*pos] == ':')
		{
			(*pos)++;
			if (!digits(s, len, pos, 2, &ss))
				return false;
		}
	}
	if (mm > 59 || ss > 59)
		return false;
	*offset_sec = sign * ((int64_t) hh * 3600 + mm * 60 + ss);
	return true;
}

bool
pt_time_parse(const char *s, size_t len, int64_t *usec)
{
	size_t		pos = 0;
	int			year = 0,
				mon = 0,
				day = 0,
				hh = 0,
				mi = 0,
				ss = 0,
				frac = 0;
	int64_t		offset_sec,
				secs;

	if (!digits(s, len, &pos, 4, &year) || !expect(s, len, &pos, '-') ||
		!digits(s, len, &pos, 2, &mon) || !expect(s, len, &pos, '-') ||
		!digits(s, len, &pos, 2, &day) || !expect(s, len, &pos, ' ') ||
		!digits(s, len, &pos, 2, &hh) || !expect(s, len, &pos, ':') ||
		!digits(s, len, &pos, 2, &mi) || !expect(s, len, &pos, ':') ||
		!digits(s, len, &pos, 2, &ss))
		return false;
	if (pos < len && s[pos] == '.')
	{
		int			n = 0;

		pos++;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9' && n < 6)
		{
			frac = frac * 10 + (s[pos++] - '0');
			n++;
		}
		if (n == 0)
			return false;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (!parse_offset(s, len, &pos, &offset_sec) || pos != len)
		return false;
	if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mi > 59 || ss > 60)
		return false;
	secs = pt_days_from_civil(year, mon, day) * SECS_PER_DAY + hh * 3600 + mi * 60 + ss - offset_sec;
	*usec = secs * USECS_PER_SEC + frac;
	return true;
}

/* n decimal digits of v, zero-padded. */
static void
put_digits(char *out, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

int
pt_time_format(int64_t usec, char *buf)
{
	int64_t		secs = usec / USECS_PER_SEC;
	int64_t		frac = usec % USECS_PER_SEC;
	int64_t		days,
				rem,
				year;
	int			mon,
				day;

	if (frac < 0)
	{
		frac += USECS_PER_SEC;
		secs--;
	}
	days = secs / SECS_PER_DAY;
	rem = secs % SECS_PER_DAY;
	if (rem < 0)
	{
		rem += SECS_PER_DAY;
		days--;
	}
	pt_civil_from_days(days, &year, &mon, &day);
	if (year < 0 || year > 9999)
		return snprintf(buf, PT_TIME_BUFLEN, "%04lld-%02d-%02d %02d:%02d:%02d.%06lld+00",
						(long long) year, mon, day, (int) (rem / 3600), (int) (rem / 60 % 60),
						(int) (rem % 60), (long long) frac);
	/* the common case by hand: it runs for every event written */
	put_digits(buf, year, 4);
	buf[4] = '-';
	put_digits(buf + 5, mon, 2);
	buf[7] = '-';
	put_digits(buf + 8, day, 2);
	buf[10] = ' ';
	put_digits(buf + 11, rem / 3600, 2);
	buf[13] = ':';
	put_digits(buf + 14, rem / 60 % 60, 2);
	buf[16] = ':';
	put_digits(buf + 17, rem % 60, 2);
	buf[19] = '.';
	put_digits(buf + 20, frac, 6);
	memcpy(buf + 26, "+00", 4);
	return 29;
}
