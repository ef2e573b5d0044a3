/*
 * core/jsonobj.c — every member of a JSON object (see jsonobj.h).
 *
 * Two passes over the arena: strings that need unescaping are written into
 * it and remembered by offset, and only once it has stopped growing are
 * the offsets turned into pointers (a realloc would move them).
 */
#include "core/jsonobj.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "core/mem.h"

#define ARENA_FLAG ((const char *) 1)	/* ptr placeholder: len holds the arena offset */

void
pt_jsonobj_init(pt_jsonobj *o)
{
	memset(o, 0, sizeof(*o));
	pt_buf_init(&o->arena);
}

void
pt_jsonobj_free(pt_jsonobj *o)
{
	if (o == NULL)
		return;
	free(o->names);
	free(o->values);
	free(o->kinds);
	free(o->alen);
	free(o->toks);
	pt_buf_free(&o->arena);
	memset(o, 0, sizeof(*o));
}

static bool
tokenize(pt_jsonobj *o, const char *json, size_t len, int *ntok)
{
	jsmn_parser p;
	int			r;

	if (o->tokcap == 0)
	{
		o->tokcap = 64;
		o->toks = pt_malloc(sizeof(jsmntok_t) * o->tokcap);
	}
	for (;;)
	{
		jsmn_init(&p);
		r = jsmn_parse(&p, json, len, o->toks, o->tokcap);
		if (r != JSMN_ERROR_NOMEM)
			break;
		o->tokcap *= 2;
		o->toks = pt_realloc(o->toks, sizeof(jsmntok_t) * o->tokcap);
	}
	*ntok = r;
	return r > 0 && ((jsmntok_t *) o->toks)[0].type == JSMN_OBJECT;
}

static void
grow(pt_jsonobj *o, int n)
{
	if (n <= o->cap)
		return;
	o->cap = n < 16 ? 16 : n * 2;
	o->names = pt_realloc(o->names, sizeof(pt_text) * (size_t) o->cap);
	o->values = pt_realloc(o->values, sizeof(pt_text) * (size_t) o->cap);
	o->kinds = pt_realloc(o->kinds, sizeof(pt_json_kind) * (size_t) o->cap);
	o->alen = pt_realloc(o->alen, sizeof(size_t) * 2 * (size_t) o->cap);
}

/* Index just past the value token i and everything nested in it. */
static int
skip(const jsmntok_t *t, int ntok, int i)
{
	int			end = t[i].end;

	for (i++; i < ntok && t[i].start < end; i++)
		;
	return i;
}

/*
 * A string token as a span: into json when it has no backslash, else the
 * arena offset (ptr = ARENA_FLAG, len = offset, *alen = length) fixed later.
 */
static bool
string_span(pt_jsonobj *o, const char *json, const jsmntok_t *t, pt_text *out, size_t *alen)
{
	const char *s = json + t->start;
	size_t		len = (size_t) (t->end - t->start);
	size_t		at;

	if (memchr(s, '\\', len) == NULL)
	{
		out->ptr = s;
		out->len = len;
		return true;
	}
	at = o->arena.len;
	if (!pt_json_unescape(s, len, &o->arena))
		return false;
	pt_buf_putc(&o->arena, '\0');
	out->ptr = ARENA_FLAG;
	out->len = at;
	*alen = o->arena.len - at - 1;
	return true;
}

bool
pt_jsonobj_parse(pt_jsonobj *o, const char *json, size_t len, pt_err *err)
{
	const jsmntok_t *t;
	int			ntok,
				i = 1;
	size_t	   *alen;

	o->n = 0;
	pt_buf_reset(&o->arena);
	if (!tokenize(o, json, len, &ntok))
		return pt_err_set(err, PT_ERR_INTEGRITY, "not a JSON object: %.40s", json);
	t = o->toks;
	grow(o, t[0].size);
	alen = o->alen;
	for (int k = 0; k < t[0].size && i + 1 < ntok; k++)
	{
		int			v = i + 1;

		if (!string_span(o, json, &t[i], &o->names[k], &alen[2 * k]))
			goto bad;
		if (t[v].type == JSMN_STRING)
		{
			o->kinds[k] = PT_JSON_STRING;
			if (!string_span(o, json, &t[v], &o->values[k], &alen[2 * k + 1]))
				goto bad;
		}
		else if (t[v].type == JSMN_PRIMITIVE && json[t[v].start] == 'n')
		{
			o->kinds[k] = PT_JSON_NULL;
			o->values[k].ptr = NULL;
			o->values[k].len = 0;
		}
		else
		{
			o->kinds[k] = PT_JSON_RAW;
			o->values[k].ptr = json + t[v].start;
			o->values[k].len = (size_t) (t[v].end - t[v].start);
		}
		o->n++;
		i = skip(t, ntok, v);
	}
	/* the arena has stopped growing: offsets become pointers */
	for (int k = 0; k < o->n; k++)
	{
		if (o->names[k].ptr == ARENA_FLAG)
			o->names[k] = (pt_text) {o->arena.data + o->names[k].len, alen[2 * k]};
		if (o->values[k].ptr == ARENA_FLAG)
			o->values[k] = (pt_text) {o->arena.data + o->values[k].len, alen[2 * k + 1]};
	}
	return true;
bad:
	return pt_err_set(err, PT_ERR_INTEGRITY, "JSON string with a lone surrogate or \\u0000");
}

int
pt_jsonobj_find(const pt_jsonobj *o, const char *name, size_t len)
{
	for (int k = 0; k < o->n; k++)
		if (o->names[k].len == len && memcmp(o->names[k].ptr, name, len) == 0)
			return k;
	return -1;
}

bool
pt_json_array_items(const char *json, size_t len, pt_text **items, int *cap, int *n, pt_err *err)
{
	jsmn_parser p;
	jsmntok_t  *t;
	int			ntok,
				i = 1;

	*n = 0;
	jsmn_init(&p);
	ntok = jsmn_parse(&p, json, len, NULL, 0);
	if (ntok <= 0)
		return pt_err_set(err, PT_ERR_INTEGRITY, "not a JSON array: %.40s", json);
	t = pt_malloc(sizeof(jsmntok_t) * (size_t) ntok);
	jsmn_init(&p);
	if (jsmn_parse(&p, json, len, t, (unsigned) ntok) != ntok || t[0].type != JSMN_ARRAY)
	{
		free(t);
		return pt_err_set(err, PT_ERR_INTEGRITY, "not a JSON array: %.40s", json);
	}
	if (t[0].size > *cap)
	{
		*cap = t[0].size;
		*items = pt_realloc(*items, sizeof(pt_text) * (size_t) *cap);
	}
	for (int k = 0; k < t[0].size && i < ntok; k++)
	{
		(*items)[k].ptr = json + t[i].start - (t[i].type == JSMN_STRING ? 1 : 0);
		(*items)[k].len = (size_t) (t[i].end - t[i].start) + (t[i].type == JSMN_STRING ? 2 : 0);
		(*n)++;
		i = skip(t, ntok, i);
	}
	free(t);
	return true;
}
