/*
 * core/hex.c — hexadecimal digits (see hex.h).
 */
#include "core/hex.h"

#include <string.h>

int
pt_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
	for (size_t i = 0; i < n; i++)
	{
		int			hi = pt_hex_digit(hex[2 * i]);
		int			lo = pt_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

bool
pt_hex_decode_bytea(const char *text, size_t n, uint8_t *out)
{
	return strncmp(text, "\\x", 2) == 0 && strlen(text) == 2 + 2 * n && pt_hex_decode(text + 2, n, out);
}
