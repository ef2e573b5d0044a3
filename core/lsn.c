/*
 * core/lsn.c — LSN text form (see lsn.h).
 */
#include "core/lsn.h"

#include <stdio.h>

#include "core/hex.h"

/* Parse 1-8 hex digits from s[*pos..len) up to stop (or the end). */
static bool
parse_half(const char *s, size_t len, size_t *pos, char stop, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		start = *pos;

	while (*pos < len && s[*pos] != stop)
	{
		int			d = pt_hex_digit(s[*pos]);

		if (d < 0 || *pos - start >= 8)
			return false;
		v = (v << 4) | (uint32_t) d;
		(*pos)++;
	}
	*out = v;
	return *pos > start;
}

bool
pt_lsn_parse(const char *s, size_t len, pt_lsn *lsn)
{
	size_t		pos = 0;
	uint32_t	hi,
				lo;

	if (!parse_half(s, len, &pos, '/', &hi) || pos >= len || s[pos] != '/')
		return false;
	pos++;
	if (!parse_half(s, len, &pos, '\0', &lo) || pos != len)
		return false;
	*lsn = ((pt_lsn) hi << 32) | lo;
	return true;
}

/* Upper-case hex of v without leading zeros ("0" for zero); returns the length. */
static int
put_hex32(uint32_t v, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	char		tmp[8];
	int			n = 0;

	do
	{
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Hand-written rather than snprintf: it runs for every event. */
int
pt_lsn_format(pt_lsn lsn, char *buf)
{
	int			n = put_hex32((uint32_t) (lsn >> 32), buf);

	buf[n++] = '/';
	n += put_hex32((uint32_t) lsn, buf + n);
	buf[n] = '\0';
	return n;
}
