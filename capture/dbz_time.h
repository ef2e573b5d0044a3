/*
 * capture/dbz_time.h — PostgreSQL's date, time and interval texts read as
 * Debezium reads them, and the ISO 8601 forms it writes.
 *
 * Capture's sessions print dates and times with DateStyle = ISO,
 * TimeZone = UTC and IntervalStyle = postgres (stream.c pins them), so the
 * texts read here are "2016-11-04", "2016-11-04 13:51:30.123456",
 * "2016-11-04 11:51:30.123456+00", "0044-03-15 BC", "13:51:30.5",
 * "13:51:30+02", "1 year 2 mons -3 days 04:05:06.78" and the infinities.
 * Arithmetic is our own, on the proleptic Gregorian calendar with
 * astronomical years (1 BC is year 0), as java.time counts.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_TIME_H
#define PGTRAIL_CAPTURE_DBZ_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define PT_USEC_PER_DAY INT64_C(86400000000)

typedef enum pt_dbz_inf
{
	PT_DBZ_FINITE,
	PT_DBZ_PLUS_INFINITY,
	PT_DBZ_MINUS_INFINITY
} pt_dbz_inf;

/* A date text: days since 1970-01-01 (or an infinity). */
bool		pt_dbz_parse_date(const char *s, size_t len, int64_t *days, pt_dbz_inf *inf);

/*
 * A timestamp or timestamptz text: microseconds since 1970-01-01 00:00 UTC
 * (the wall clock read as UTC when there is no offset), or an infinity.
 */
bool		pt_dbz_parse_timestamp(const char *s, size_t len, int64_t *usec, pt_dbz_inf *inf);

/* A time text: microseconds since midnight (24:00:00 is a whole day). */
bool		pt_dbz_parse_time(const char *s, size_t len, int64_t *usec);

/*
 * A timetz text: the time at UTC, microseconds since midnight wrapped to
 * one day; *end_of_day is set for 24:00:00 at offset zero, which Debezium
 * keeps as 24:00:00.
 */
bool		pt_dbz_parse_timetz(const char *s, size_t len, int64_t *usec, bool *end_of_day);

/* ISO forms, java.time's: years 0..9999 in four digits, larger ones with
 * '+', negative ones with '-' and at least four digits. */
void		pt_dbz_put_iso_date(pt_buf *out, int64_t days);

/*
 * yyyy-MM-ddTHH:mm:ss, then the fraction: digits < 0 as few digits as the
 * value needs (none for whole seconds), else exactly that many (<= 6,
 * zero-padded); then "Z".
 */
void		pt_dbz_put_iso_timestamp(pt_buf *out, int64_t usec, int digits);

/* HH:mm:ss with as few fraction digits as needed, then "Z". */
void		pt_dbz_put_iso_time(pt_buf *out, int64_t usec_of_day);

/* An interval as pgjdbc's PGInterval holds it. */
typedef struct pt_dbz_interval
{
	int32_t		years,
				months,
				days,
				hours,
				minutes;
	double		seconds;		/* whole seconds plus microseconds / 1e6 */
} pt_dbz_interval;

bool		pt_dbz_parse_interval(const char *s, size_t len, pt_dbz_interval *iv);

/* io.debezium.time.MicroDuration: months of 30.4375 days, in doubles, truncated. */
int64_t		pt_dbz_interval_micros(const pt_dbz_interval *iv);

/* io.debezium.time.Interval: "P1Y2M3DT4H5M6.78S", every part present. */
void		pt_dbz_put_interval_iso(pt_buf *out, const pt_dbz_interval *iv);

#endif
