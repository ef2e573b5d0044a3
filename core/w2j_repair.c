/*
 * core/w2j_repair.c — mend wal2json's unescaped type names (see w2j_repair.h).
 *
 * Valid wal2json output holds the bytes ,"type": only as a key: inside a
 * JSON string a quote is escaped. So each such key starts a type span that
 * runs to the next ,"typeoid":. A span that is one JSON string is kept;
 * any other span is the raw format_type() text and becomes one.
 */
#include "core/w2j_repair.h"

#include <string.h>

static const char TYPE_KEY[] = ",\"type\":";
static const char OID_KEY[] = ",\"typeoid\":";

static const char *
find(const char *from, const char *end, const char *what)
{
	size_t		n = strlen(what);

	for (const char *s = from; s + n <= end; s++)
		if (*s == what[0] && memcmp(s, what, n) == 0)
			return s;
	return NULL;
}

/* A JSON string with nothing after it: opening quote, closing quote, no bare quote between. */
static bool
is_json_string(const char *s, const char *end)
{
	const char *c = s + 1;

	if (end - s < 2 || s[0] != '"' || end[-1] != '"')
		return false;
	while (c < end - 1)
	{
		if (*c == '\\')
			c += 2;
		else if (*c == '"' || (unsigned char) *c < 0x20)
			return false;
		else
			c++;
	}
	return c == end - 1;
}

static void
put_escaped(pt_buf *out, const char *s, const char *end)
{
	pt_buf_putc(out, '"');
	for (; s < end; s++)
	{
		if (*s == '"' || *s == '\\')
			pt_buf_putc(out, '\\');
		if ((unsigned char) *s < 0x20)
			pt_buf_printf(out, "\\u%04x", (unsigned) (unsigned char) *s);
		else
			pt_buf_putc(out, *s);
	}
	pt_buf_putc(out, '"');
}

bool
pt_w2j_repair(const char *line, size_t len, pt_buf *out)
{
	const char *end = line + len;
	const char *done = line;
	const char *key;
	bool		mended = false;

	pt_buf_reset(out);
	while ((key = find(done, end, TYPE_KEY)) != NULL)
	{
		const char *span = key + strlen(TYPE_KEY);
		const char *stop = find(span, end, OID_KEY);

		if (stop == NULL)
			break;
		pt_buf_append(out, done, (size_t) (span - done));
		if (is_json_string(span, stop))
			pt_buf_append(out, span, (size_t) (stop - span));
		else
		{
			put_escaped(out, span, stop);
			mended = true;
		}
		done = stop;
	}
	pt_buf_append(out, done, (size_t) (end - done));
	return mended;
}
