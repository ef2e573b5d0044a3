/*
 * core/lsn.h — PostgreSQL log sequence numbers: parse and format "X/X".
 *
 * The text form is pg_lsn's: two upper-case hex numbers without leading
 * zeros, "16/B374D848". Parsing accepts either case, as pg_lsn_in does.
 */
#ifndef PGTRAIL_CORE_LSN_H
#define PGTRAIL_CORE_LSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t pt_lsn;

#define PT_LSN_INVALID ((pt_lsn) 0)
#define PT_LSN_BUFLEN 18		/* "FFFFFFFF/FFFFFFFF" + NUL */

/* Parse s[0..len); false on anything but 1-8 hex digits, '/', 1-8 hex digits. */
bool		pt_lsn_parse(const char *s, size_t len, pt_lsn *lsn);

/* Format into buf (at least PT_LSN_BUFLEN bytes); returns the length. */
int			pt_lsn_format(pt_lsn lsn, char *buf);

#endif
