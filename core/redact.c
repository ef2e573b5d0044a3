/*
 * core/redact.c — key, row and old written again with erased members set
 * to null (see redact.h).
 */
#include "core/redact.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"

static const char *const parts[3] = {"key", "row", "old"};

/* Add item[0..len) unless it is there already. */
static void
names_push(pt_names *names, const char *item, size_t len)
{
	for (int i = 0; i < names->n; i++)
		if (strlen(names->items[i]) == len && memcmp(names->items[i], item, len) == 0)
			return;
	if (names->n == names->cap)
	{
		names->cap = names->cap ? names->cap * 2 : 8;
		names->items = pt_realloc(names->items, (size_t) names->cap * sizeof(char *));
	}
	names->items[names->n] = pt_malloc(len + 1);
	memcpy(names->items[names->n], item, len);
	names->items[names->n++][len] = '\0';
}

void
pt_names_add(pt_names *names, const char *part, const char *name, size_t len)
{
	pt_buf		item = PT_BUF_INIT;

	pt_buf_printf(&item, "%s.", part);
	pt_buf_append(&item, name, len);
	names_push(names, item.data, item.len);
	pt_buf_free(&item);
}

void
pt_names_clear(pt_names *names)
{
	for (int i = 0; i < names->n; i++)
		free(names->items[i]);
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
	pt_names_clear(&red->erased);
	free(red->erased.items);
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
		names_push(&red->erased, ev->erased[i].ptr, ev->erased[i].len);	/* erased before */
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
