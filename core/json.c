/*
 * core/json.c — JSON string escaping into a reused buffer (see json.h).
 */
#include "core/json.h"

#include <string.h>

#include "core/hex.h"

static const char hexdigits[] = "0123456789abcdef";

void
pt_json_put_string(pt_buf *buf, const char *s, size_t len)
{
	size_t		run = 0;		/* start of the current run of plain bytes */

	/* worst case: every byte becomes \u00XX */
	pt_buf_reserve(buf, len * 6 + 2);
	buf->data[buf->len++] = '"';
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(buf->data + buf->len, s + run, i - run);
		buf->len += i - run;
		run = i + 1;
		switch (c)
		{
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default: break;
		}
		if (esc)
		{
			buf->data[buf->len++] = esc[0];
			buf->data[buf->len++] = esc[1];
		}
		else
		{
			memcpy(buf->data + buf->len, "\\u00", 4);
			buf->len += 4;
			buf->data[buf->len++] = hexdigits[c >> 4];
			buf->data[buf->len++] = hexdigits[c & 15];
		}
	}
	memcpy(buf->data + buf->len, s + run, len - run);
	buf->len += len - run;
	buf->data[buf->len++] = '"';
	buf->data[buf->len] = '\0';
}

void
pt_json_put_cstring(pt_buf *buf, const char *s)
{
	pt_json_put_string(buf, s, strlen(s));
}

void
pt_json_put_bytea(pt_buf *buf, const char *s, size_t len)
{
	pt_buf_reserve(buf, len * 2 + 5);
	memcpy(buf->data + buf->len, "\"\\\\x", 4);
	buf->len += 4;
	pt_hex_encode((const uint8_t *) s, len, buf->data + buf->len);
	buf->len += len * 2;
	buf->data[buf->len++] = '"';
	buf->data[buf->len] = '\0';
}
