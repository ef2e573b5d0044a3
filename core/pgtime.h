/*
 * core/pgtime.h — timestamptz text <-> microseconds since the Unix epoch.
 *
 * pgtrail keeps commit times as int64 microseconds since 1970-01-01 00:00:00
 * UTC (the canonical form hashes that number), and reads and writes
 * PostgreSQL's ISO text form: "2026-11-23 23:35:23.658633+00", offsets
 * "+HH", "+HH:MM" or "+HH:MM:SS". The arithmetic is our own (proleptic
 * Gregorian calendar), so nothing depends on the process's TZ or locale.
 */
#ifndef PGTRAIL_CORE_PGTIME_H
#define PGTRAIL_CORE_PGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_TIME_BUFLEN 40

/* Parse ISO timestamptz text (years 1..9999 AD); false when malformed. */
bool		pt_time_parse(const char *s, size_t len, int64_t *usec);

/* Format as "YYYY-MM-DD HH:MM:SS.ffffff+00" (always 6 fraction digits, UTC).
 * buf must hold PT_TIME_BUFLEN bytes; returns the length. */
int			pt_time_format(int64_t usec, char *buf);

/*
 * The proleptic Gregorian calendar with astronomical years (1 BC is 0):
 * days since 1970-01-01 of a date, and the date of a day number.
 */
int64_t		pt_days_from_civil(int64_t y, int64_t m, int64_t d);
void		pt_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
