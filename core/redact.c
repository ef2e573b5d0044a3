/*
 * core/redact.c — key, row and old written again with erased members set
 * to null (see redact.h).
 */
#include "core/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"

static const char *const parts[3] = {"key", "row", "old"};

/* Is prefix[0..plen) followed by rest[0..rlen) there already? */
static bool
names_have(const pt_names *names, const char *prefix, size_t plen, const char *rest, size_t rlen)
{
	for (int i = 0; i < names->n; i++)
		if (strlen(names->items[i]) == plen + rlen && memcmp(names->items[i], prefix, plen) == 0 &&
			memcmp(names->items[i] + plen, rest, rlen) == 0)
			return true;
	return false;
}

/* Add prefix + rest unless it is there already, in a slot whose room is reused. */
static void
names_push(pt_names *names, const char *prefix, size_t plen, const char *rest, size_t rlen)
{
	char	   *slot;

	if (names_have(names, prefix, plen, rest, rlen))
		return;
	if (names->n == names->cap)
	{
		int			cap = names->cap ? names->cap * 2 : 8;

		names->items = pt_realloc(names->items, (size_t) cap * sizeof(char *));
		names->room = pt_realloc(names->room, (size_t) cap * sizeof(size_t));
		memset(names->items + names->cap, 0, (size_t) (cap - names->cap) * sizeof(char *));
		memset(names->room + names->cap, 0, (size_t) (cap - names->cap) * sizeof(size_t));
		names->cap = cap;
	}
	if (names->room[names->n] < plen + rlen + 1)
	{
		names->room[names->n] = plen + rlen + 1;
		names->items[names->n] = pt_realloc(names->items[names->n], plen + rlen + 1);
	}
	slot = names->items[names->n++];
	memcpy(slot, prefix, plen);
	memcpy(slot + plen, rest, rlen);
	slot[plen + rlen] = '\0';
}

void
pt_names_add(pt_names *names, const char *part, const char *name, size_t len)
{
	char		prefix[8];
	int			plen = snprintf(prefix, sizeof(prefix), "%s.", part);

	names_push(names, prefix, (size_t) plen, name, len);
}

void
pt_names_clear(pt_names *names)
{
	names->n = 0;
}

void
pt_redacted_init(pt_redacted *red)
{
	memset(red, 0, sizeof(*red));
	for (int i = 0; i < 3; i++)
		pt_buf_init(&red->text[i]);
	pt_jsonobj_init(&red->obj);
}

void
pt_redacted_free(pt_redacted *red)
{
	for (int i = 0; i < 3; i++)
		pt_buf_free(&red->text[i]);
	for (int i = 0; i < red->erased.cap; i++)
		free(red->erased.items[i]);
	free(red->erased.items);
	free(red->erased.room);
	pt_jsonobj_free(&red->obj);
}

static bool
chosen(const pt_text *name, const char *const *columns, int ncolumns)
{
	for (int i = 0; i < ncolumns; i++)
		if (name->len == strlen(columns[i]) && memcmp(name->ptr, columns[i], name->len) == 0)
			return true;
	return ncolumns == 0;
}

static void
put_value(pt_buf *out, const pt_jsonobj *o, int i)
{
	if (o->kinds[i] == PT_JSON_NULL)
		pt_buf_puts(out, "null");
	else if (o->kinds[i] == PT_JSON_STRING)
		pt_json_put_string(out, o->values[i].ptr, o->values[i].len);
	else
		pt_buf_append(out, o->values[i].ptr, o->values[i].len);
}

/* One object (part p of the event) written again into red->text[p]. */
static bool
redact_object(pt_redacted *red, int p, pt_text json, const char *const *columns, int ncolumns, pt_err *err)
{
	pt_jsonobj *o = &red->obj;
	pt_buf	   *out = &red->text[p];

	pt_buf_reset(out);
	if ((red->isnull[p] = json.ptr == NULL))
		return true;
	if (!pt_jsonobj_parse(o, json.ptr, json.len, err))
		return false;
	pt_buf_putc(out, '{');
	for (int i = 0; i < o->n; i++)
	{
		bool		erase = chosen(&o->names[i], columns, ncolumns) && o->kinds[i] != PT_JSON_NULL;

		if (i)
			pt_buf_putc(out, ',');
		pt_json_put_string(out, o->names[i].ptr, o->names[i].len);
		pt_buf_putc(out, ':');
		if (erase)
		{
			pt_buf_puts(out, "null");
			pt_names_add(&red->erased, parts[p], o->names[i].ptr, o->names[i].len);
			red->values++;
		}
		else
			put_value(out, o, i);
	}
	pt_buf_putc(out, '}');
	return true;
}

bool
pt_redact_event(pt_redacted *red, const pt_event *ev, const char *const *columns, int ncolumns, pt_err *err)
{
	const pt_text texts[3] = {ev->key, ev->row, ev->old};

	pt_names_clear(&red->erased);
	red->values = 0;
	for (int i = 0; i < ev->nerased; i++)
		names_push(&red->erased, ev->erased[i].ptr, ev->erased[i].len, "", 0);	/* erased before */
	for (int p = 0; p < 3; p++)
		if (!redact_object(red, p, texts[p], columns, ncolumns, err))
			return false;
	return true;
}

void
pt_redacted_apply(const pt_redacted *red, pt_event *ev, pt_text *erased_items)
{
	pt_text    *spans[3] = {&ev->key, &ev->row, &ev->old};

	for (int p = 0; p < 3; p++)
	{
		spans[p]->ptr = red->isnull[p] ? NULL : red->text[p].data;
		spans[p]->len = red->isnull[p] ? 0 : red->text[p].len;
	}
	for (int i = 0; i < red->erased.n; i++)
		erased_items[i] = pt_text_c(red->erased.items[i]);
	ev->erased = erased_items;
	ev->nerased = red->erased.n;
}
