/*
 * core/build.c — change to event (see build.h).
 */
#include "core/build.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

struct pt_builder
{
	pt_buf		json;			/* key, row and old, one after the other */
	pt_text    *unchanged;
	int			unchanged_cap;
};

pt_builder *
pt_builder_new(void)
{
	pt_builder *b = pt_calloc(1, sizeof(*b));

	pt_buf_init(&b->json);
	return b;
}

void
pt_builder_free(pt_builder *b)
{
	if (b == NULL)
		return;
	pt_buf_free(&b->json);
	free(b->unchanged);
	free(b);
}

bool
pt_builder_begin(pt_txn *txn, const pt_w2j_change *begin, pt_err *err)
{
	if (begin->action != 'B' || !begin->has_lsn || !begin->has_commit_time)
		return pt_err_set(err, PT_ERR_CONFIG, "BEGIN without \"lsn\" and \"timestamp\"");
	txn->commit_lsn = begin->lsn;
	txn->has_xid = begin->has_xid;
	txn->xid = begin->xid;
	txn->committed_at = begin->commit_time;
	return true;
}

static bool
is_pk(const pt_w2j_columns *pk, const pt_w2j_column *c)
{
	for (int i = 0; i < pk->count; i++)
		if (pk->items[i].name.len == c->name.len &&
			memcmp(pk->items[i].name.ptr, c->name.ptr, c->name.len) == 0)
			return true;
	return false;
}

/*
 * Append {"name":"value",...} of cols (only key columns when only_pk) to the
 * JSON buffer and return the offset where it starts; -1 when cols absent.
 */
static long
put_object(pt_builder *b, const pt_w2j_columns *cols, const pt_w2j_columns *only_pk)
{
	size_t		start = b->json.len;
	bool		first = true;

	if (!cols->present)
		return -1;
	pt_buf_putc(&b->json, '{');
	for (int i = 0; i < cols->count; i++)
	{
		const pt_w2j_column *c = &cols->items[i];

		if (only_pk && !is_pk(only_pk, c))
			continue;
		if (!first)
			pt_buf_putc(&b->json, ',');
		first = false;
		pt_json_put_string(&b->json, c->name.ptr, c->name.len);
		pt_buf_putc(&b->json, ':');
		if (c->isnull)
			pt_buf_append(&b->json, "null", 4);
		else
			pt_json_put_string(&b->json, c->value.ptr, c->value.len);
	}
	pt_buf_putc(&b->json, '}');
	return (long) start;
}

static void
collect_unchanged(pt_builder *b, const pt_w2j_columns *sent, const pt_text *all, int n, pt_event *ev)
{
	ev->nunchanged = 0;
	for (int i = 0; i < n; i++)
	{
		bool		found = false;

		for (int k = 0; k < sent->count && !found; k++)
			found = sent->items[k].name.len == all[i].len &&
				memcmp(sent->items[k].name.ptr, all[i].ptr, all[i].len) == 0;
		if (found)
			continue;
		if (ev->nunchanged == b->unchanged_cap)
		{
			b->unchanged_cap = b->unchanged_cap ? b->unchanged_cap * 2 : 8;
			b->unchanged = pt_realloc(b->unchanged, sizeof(pt_text) * (size_t) b->unchanged_cap);
		}
		b->unchanged[ev->nunchanged++] = all[i];
	}
	ev->unchanged = b->unchanged;
}

static pt_text
span(const pt_builder *b, long start, long end)
{
	pt_text		t = {NULL, 0};

	if (start >= 0)
	{
		t.ptr = b->json.data + start;
		t.len = (size_t) (end - start);
	}
	return t;
}

bool
pt_builder_row_event(pt_builder *b, const pt_txn *txn, const pt_w2j_change *ch,
					 const pt_text *all_columns, int ncolumns, pt_event *ev, pt_err *err)
{
	const pt_w2j_columns *keysrc;
	const pt_w2j_columns *pk = ch->pk.present && ch->pk.count > 0 ? &ch->pk : NULL;
	long		key_at,
				key_end,
				row_at,
				row_end,
				old_at;

	memset(ev, 0, sizeof(*ev));
	switch (ch->action)
	{
		case 'I': ev->op = PT_OP_INSERT; break;
		case 'U': ev->op = PT_OP_UPDATE; break;
		case 'D': ev->op = PT_OP_DELETE; break;
		case 'T': ev->op = PT_OP_TRUNCATE; break;
		default:
			return pt_err_set(err, PT_ERR_CONFIG, "not a row change: action \"%c\"", ch->action);
	}
	ev->lsn = ch->has_lsn ? ch->lsn : txn->commit_lsn;
	ev->commit_lsn = txn->commit_lsn;
	ev->has_xid = txn->has_xid;
	ev->xid = txn->xid;
	ev->committed_at = txn->committed_at;
	ev->schema_name.ptr = ch->schema.ptr;
	ev->schema_name.len = ch->schema.len;
	ev->table_name.ptr = ch->table.ptr;
	ev->table_name.len = ch->table.len;

	/* the key: new key for insert/update, old for delete; no pk: the identity */
	pt_buf_reset(&b->json);
	keysrc = ch->action == 'D' ? &ch->identity : &ch->columns;
	if (pk == NULL)
		keysrc = &ch->identity;
	key_at = ch->action == 'T' ? -1 : put_object(b, keysrc, pk);
	key_end = (long) b->json.len;
	row_at = put_object(b, &ch->columns, NULL);
	row_end = (long) b->json.len;
	old_at = ch->action == 'U' || ch->action == 'D' ? put_object(b, &ch->identity, NULL) : -1;
	/* spans are taken only now: the buffer may have moved while growing */
	ev->key = span(b, key_at, key_end);
	ev->row = span(b, row_at, row_end);
	ev->old = span(b, old_at, (long) b->json.len);
	if (ch->action == 'U' && all_columns)
		collect_unchanged(b, &ch->columns, all_columns, ncolumns, ev);
	return true;
}

/* {"name":"value",...} of the columns selected by only (all when NULL). */
static void
put_values(pt_builder *b, const pt_text *names, const pt_text *values, const bool *only, int n)
{
	bool		first = true;

	pt_buf_putc(&b->json, '{');
	for (int i = 0; i < n; i++)
	{
		if (only && !only[i])
			continue;
		if (!first)
			pt_buf_putc(&b->json, ',');
		first = false;
		pt_json_put_string(&b->json, names[i].ptr, names[i].len);
		pt_buf_putc(&b->json, ':');
		if (values[i].ptr == NULL)
			pt_buf_append(&b->json, "null", 4);
		else
			pt_json_put_string(&b->json, values[i].ptr, values[i].len);
	}
	pt_buf_putc(&b->json, '}');
}

void
pt_builder_snapshot_event(pt_builder *b, const pt_txn *txn, pt_text schema, pt_text table,
						  const pt_text *names, const pt_text *values, const bool *is_key,
						  int n, pt_event *ev)
{
	bool		has_key = false;
	long		row_at;

	memset(ev, 0, sizeof(*ev));
	ev->op = PT_OP_SNAPSHOT;
	ev->lsn = ev->commit_lsn = txn->commit_lsn;
	ev->has_xid = txn->has_xid;
	ev->xid = txn->xid;
	ev->committed_at = txn->committed_at;
	ev->schema_name = schema;
	ev->table_name = table;
	for (int i = 0; i < n; i++)
		has_key |= is_key[i];
	pt_buf_reset(&b->json);
	if (has_key)
		put_values(b, names, values, is_key, n);
	row_at = (long) b->json.len;
	put_values(b, names, values, NULL, n);
	ev->key = span(b, has_key ? 0 : -1, row_at);
	ev->row = span(b, row_at, (long) b->json.len);
}
