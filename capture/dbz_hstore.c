/*
 * capture/dbz_hstore.c — hstore pairs in java.util.HashMap order (see
 * dbz_hstore.h).
 *
 * PostgreSQL prints an hstore as "k"=>"v", "k2"=>NULL with '"' and '\\'
 * escaped by a backslash. The unescaped keys and values go into
 * sc->text; pairs hold offsets into it, so growing it moves nothing.
 */
#include "capture/dbz_hstore.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/mem.h"

typedef struct pair
{
	size_t		key,
				key_len;
	size_t		val,
				val_len;
	bool		val_null;
	int			arrival;
	uint32_t	bucket;
} pair;

static void
skip_spaces(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == ',' || **p == '\n' || **p == '\t'))
		(*p)++;
}

/* A quoted string at *p, unescaped into text; its offset and length. */
static bool
read_quoted(const char **p, const char *end, pt_buf *text, size_t *off, size_t *len)
{
	if (*p >= end || **p != '"')
		return false;
	(*p)++;
	*off = text->len;
	while (*p < end && **p != '"')
	{
		if (**p == '\\' && *p + 1 < end)
			(*p)++;
		pt_buf_putc(text, *(*p)++);
	}
	if (*p >= end)
		return false;
	(*p)++;
	*len = text->len - *off;
	return true;
}

static pair *
next_pair(pt_dbz_scratch *sc, int n)
{
	if (n == sc->pairs_cap)
	{
		sc->pairs_cap = sc->pairs_cap ? sc->pairs_cap * 2 : 16;
		sc->pairs = pt_realloc(sc->pairs, (size_t) sc->pairs_cap * sizeof(pair));
	}
	return (pair *) sc->pairs + n;
}

static bool
read_value(const char **p, const char *end, pt_buf *text, pair *pr)
{
	pr->val_null = end - *p >= 4 && (*p)[0] == 'N' && (*p)[1] == 'U' && (*p)[2] == 'L' && (*p)[3] == 'L';
	if (pr->val_null)
	{
		*p += 4;
		return true;
	}
	return read_quoted(p, end, text, &pr->val, &pr->val_len);
}

/* Every pair of s, in PostgreSQL's order; the count, or -1 when malformed. */
static int
parse_pairs(const char *s, size_t len, pt_dbz_scratch *sc)
{
	const char *p = s;
	const char *end = s + len;
	int			n = 0;

	pt_buf_reset(&sc->text);
	for (skip_spaces(&p, end); p < end; skip_spaces(&p, end))
	{
		pair	   *pr = next_pair(sc, n);

		if (!read_quoted(&p, end, &sc->text, &pr->key, &pr->key_len))
			return -1;
		while (p < end && *p == ' ')
			p++;
		if (end - p < 2 || p[0] != '=' || p[1] != '>')
			return -1;
		for (p += 2; p < end && *p == ' '; p++)
			;
		if (!read_value(&p, end, &sc->text, pr))
			return -1;
		pr->arrival = n++;
	}
	return n;
}

/* One UTF-8 character at s (of n bytes left) as a code point; bytes used. */
static int
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	int			len = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;

	if ((size_t) len > n)
		len = 1;
	*cp = len == 1 ? s[0] : (uint32_t) (s[0] & (0x7F >> len));
	for (int i = 1; i < len; i++)
		*cp = (*cp << 6) | (s[i] & 0x3F);
	return len;
}

/* java.lang.String.hashCode of UTF-8 text, over its UTF-16 units. */
static int32_t
java_hash(const char *s, size_t len)
{
	uint32_t	h = 0;

	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;

		i += (size_t) utf8_next((const unsigned char *) s + i, len - i, &cp);
		if (cp >= 0x10000)
		{
			cp -= 0x10000;
			h = 31 * h + (0xD800 + (cp >> 10));
			cp = 0xDC00 + (cp & 0x3FF);
		}
		h = 31 * h + cp;
	}
	return (int32_t) h;
}

uint32_t
pt_dbz_hashmap_bucket(const char *key, size_t len, uint32_t cap)
{
	uint32_t	h = (uint32_t) java_hash(key, len);

	return (h ^ (h >> 16)) & (cap - 1);
}

static int
by_bucket(const void *a, const void *b)
{
	const pair *x = a;
	const pair *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->arrival - y->arrival;
}

/* Sort the pairs as a HashMap holding them iterates. */
static void
hashmap_order(pair *pairs, int n, const pt_buf *text)
{
	uint32_t	cap = 16;

	while ((double) n > 0.75 * cap)
		cap *= 2;
	for (int i = 0; i < n; i++)
		pairs[i].bucket = pt_dbz_hashmap_bucket(text->data + pairs[i].key, pairs[i].key_len, cap);
	qsort(pairs, (size_t) n, sizeof(pair), by_bucket);
}

static void
put_object(pt_buf *out, const pair *pairs, int n, const pt_buf *text)
{
	pt_buf_putc(out, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			pt_buf_putc(out, ',');
		pt_dbz_put_string(out, text->data + pairs[i].key, pairs[i].key_len);
		pt_buf_putc(out, ':');
		if (pairs[i].val_null)
			pt_buf_puts(out, "null");
		else
			pt_dbz_put_string(out, text->data + pairs[i].val, pairs[i].val_len);
	}
	pt_buf_putc(out, '}');
}

bool
pt_dbz_put_hstore(pt_buf *out, const char *s, size_t len, bool as_map, pt_dbz_scratch *sc)
{
	int			n = parse_pairs(s, len, sc);
	size_t		start;

	if (n < 0)
		return false;
	hashmap_order(sc->pairs, n, &sc->text);
	if (as_map)
	{
		put_object(out, sc->pairs, n, &sc->text);
		return true;
	}
	/* the object's text, itself as a JSON string: built at the end of out, then moved */
	start = out->len;
	put_object(out, sc->pairs, n, &sc->text);
	pt_buf_reset(&sc->bytes);
	pt_buf_append(&sc->bytes, out->data + start, out->len - start);
	out->len = start;
	pt_dbz_put_string(out, sc->bytes.data, sc->bytes.len);
	return true;
}
