/*
 * core/jsonread.c — reading one member of a small JSON object (see json.h).
 *
 * Logical-message contents (pgtrail.set_context, Bemi, Sequin) are small
 * JSON objects. jsmn gives the members' spans; strings are unescaped with
 * the same rules as wal2json values, everything else is kept byte for byte
 * (metadata stays exactly as the application wrote it).
 */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "core/hex.h"
#include "core/mem.h"
#include "core/utf8.h"

static int
skip(const jsmntok_t *t, int ntok, int i)
{
	int			end = t[i].end;

	if (t[i].type == JSMN_STRING || t[i].type == JSMN_PRIMITIVE)
		return i + 1;
	for (i++; i < ntok && t[i].start < end; i++)
		;
	return i;
}

static unsigned
read_u4(const char *s)
{
	unsigned	v = 0;

	for (int i = 0; i < 4; i++)
		v = (v << 4) | (unsigned) pt_hex_digit(s[i]);
	return v;
}

bool
pt_json_unescape(const char *s, size_t len, pt_buf *out)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned	cp;

		if (s[i] != '\\')
		{
			pt_buf_putc(out, s[i]);
			continue;
		}
		i++;
		switch (s[i])
		{
			case 'b': pt_buf_putc(out, '\b'); break;
			case 'f': pt_buf_putc(out, '\f'); break;
			case 'n': pt_buf_putc(out, '\n'); break;
			case 'r': pt_buf_putc(out, '\r'); break;
			case 't': pt_buf_putc(out, '\t'); break;
			case 'u':
				cp = read_u4(s + i + 1);
				i += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u')
				{
					unsigned	lo = read_u4(s + i + 3);

					if (lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
				else if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
					return false;
				{
					char		utf8[4];

					pt_buf_append(out, utf8, (size_t) pt_utf8_encode(cp, utf8));
				}
				break;
			default: pt_buf_putc(out, s[i]); break;
		}
	}
	return true;
}

bool
pt_json_object_get(const char *json, size_t len, const char *key, bool *found,
				   pt_json_kind *kind, pt_buf *out, pt_err *err)
{
	jsmn_parser p;
	jsmntok_t  *t;
	int			ntok;
	int			i = 1;
	size_t		klen = strlen(key);
	bool		ok = true;

	*found = false;
	jsmn_init(&p);
	ntok = jsmn_parse(&p, json, len, NULL, 0);
	if (ntok <= 0)
		return pt_err_set(err, PT_ERR_CONFIG, "message content is not valid JSON");
	t = pt_malloc(sizeof(jsmntok_t) * (size_t) ntok);
	jsmn_init(&p);
	if (jsmn_parse(&p, json, len, t, (unsigned) ntok) != ntok || t[0].type != JSMN_OBJECT)
	{
		free(t);
		return pt_err_set(err, PT_ERR_CONFIG, "message content is not a JSON object");
	}
	for (int k = 0; k < t[0].size && i + 1 < ntok; k++)
	{
		int			v = i + 1;

		if ((size_t) (t[i].end - t[i].start) == klen && memcmp(json + t[i].start, key, klen) == 0)
		{
			*found = true;
			if (t[v].type == JSMN_STRING)
			{
				*kind = PT_JSON_STRING;
				ok = pt_json_unescape(json + t[v].start, (size_t) (t[v].end - t[v].start), out);
			}
			else if (t[v].type == JSMN_PRIMITIVE && json[t[v].start] == 'n')
				*kind = PT_JSON_NULL;
			else
			{
				*kind = PT_JSON_RAW;
				pt_buf_append(out, json + t[v].start, (size_t) (t[v].end - t[v].start));
			}
			break;
		}
		i = skip(t, ntok, v);
	}
	free(t);
	if (!ok)
		return pt_err_set(err, PT_ERR_CONFIG, "message content has a bad \\u escape");
	return true;
}
