/*
 * core/hex.c — hexadecimal digits (see hex.h).
 */
#include "core/hex.h"

#include <stdint.h>
#include <string.h>

/* Each byte's digit value, or -1: one load per digit on the hot path (hashes of every event read). */
static const int8_t digit_of[256] = {
	['0'] = 0 + 1, ['1'] = 1 + 1, ['2'] = 2 + 1, ['3'] = 3 + 1, ['4'] = 4 + 1, ['5'] = 5 + 1, ['6'] = 6 + 1,
	['7'] = 7 + 1, ['8'] = 8 + 1, ['9'] = 9 + 1, ['a'] = 10 + 1, ['b'] = 11 + 1, ['c'] = 12 + 1, ['d'] = 13 + 1,
	['e'] = 14 + 1, ['f'] = 15 + 1, ['A'] = 10 + 1, ['B'] = 11 + 1, ['C'] = 12 + 1, ['D'] = 13 + 1, ['E'] = 14 + 1,
	['F'] = 15 + 1,
};

int
pt_hex_digit(char c)
{
	return digit_of[(unsigned char) c] - 1;	/* stored plus one: 0 means not a digit */
}

void
pt_hex_encode(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

bool
pt_hex_decode(const char *hex, size_t n, uint8_t *out)
{
	int			bad = 0;

	for (size_t i = 0; i < n; i++)
	{
		int			hi = digit_of[(unsigned char) hex[2 * i]] - 1;
		int			lo = digit_of[(unsigned char) hex[2 * i + 1]] - 1;

		bad |= hi | lo;			/* negative when either is not a digit */
		out[i] = (uint8_t) ((unsigned) hi << 4 | (unsigned) lo);
	}
	return bad >= 0;
}

bool
pt_hex_decode_bytea(const char *text, size_t n, uint8_t *out)
{
	return strncmp(text, "\\x", 2) == 0 && strlen(text) == 2 + 2 * n && pt_hex_decode(text + 2, n, out);
}
