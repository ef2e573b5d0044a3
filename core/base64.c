/*
 * core/base64.c — bytes as base64 text (see base64.h).
 */
#include "core/base64.h"

static const char alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
pt_base64_put(pt_buf *out, const uint8_t *bytes, size_t len)
{
	char		quad[4];
	size_t		i = 0;

	pt_buf_reserve(out, (len + 2) / 3 * 4);
	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = (uint32_t) bytes[i] << 16 | (uint32_t) bytes[i + 1] << 8 | bytes[i + 2];

		quad[0] = alphabet[v >> 18];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = alphabet[(v >> 6) & 63];
		quad[3] = alphabet[v & 63];
		pt_buf_append(out, quad, 4);
	}
	if (i < len)
	{
		uint32_t	v = (uint32_t) bytes[i] << 16 | (i + 1 < len ? (uint32_t) bytes[i + 1] << 8 : 0);

		quad[0] = alphabet[v >> 18];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		quad[3] = '=';
		pt_buf_append(out, quad, 4);
	}
}
