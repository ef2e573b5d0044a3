/*
 * capture/dbz_record.c — an event as Debezium's records (see
 * dbz_record.h).
 *
 * The stored row, key and old objects are parsed (their values are
 * PostgreSQL's texts) and each column rendered by dbz_value.c; members
 * come in the table's column order, so each is looked for from where the
 * last one was found. Messages are built in the writer's own buffers,
 * reused from event to event.
 */
#include "capture/dbz_record.h"

#include <stdlib.h>
#include <string.h>

#include "capture/dbz_schema.h"
#include "core/base64.h"
#include "core/json.h"
#include "core/version.h"

#define PUT_LIT(buf, lit) pt_buf_append((buf), (lit), sizeof(lit) - 1)

bool
pt_dbz_parse_skipped(const char *s, bool skip[4])
{
	static const char ops[] = "cudt";

	memset(skip, 0, 4 * sizeof(bool));
	if (strcmp(s, "none") == 0 || s[0] == '\0')
		return true;
	for (const char *p = s; *p; p++)
	{
		const char *op = *p ? strchr(ops, *p) : NULL;

		if (*p == ',' || *p == ' ')
			continue;
		if (op == NULL || (p[1] != '\0' && p[1] != ',' && p[1] != ' '))
			return false;
		skip[op - ops] = true;
	}
	return true;
}

void
pt_dbz_writer_init(pt_dbz_writer *w, const pt_dbz_settings *set)
{
	memset(w, 0, sizeof(*w));
	w->set = set;
	pt_jsonobj_init(&w->row);
	pt_jsonobj_init(&w->old);
}

void
pt_dbz_writer_free(pt_dbz_writer *w)
{
	for (int i = 0; i < PT_DBZ_MAX_MESSAGES; i++)
	{
		pt_buf_free(&w->msgs[i].key);
		pt_buf_free(&w->msgs[i].value);
		pt_buf_free(&w->msgs[i].header_value);
	}
	pt_dbz_scratch_free(&w->sc);
	pt_jsonobj_free(&w->row);
	pt_jsonobj_free(&w->old);
	pt_buf_free(&w->payload);
	pt_buf_free(&w->snapshot_table);
	pt_dbz_txn_free(&w->txn);
	pt_buf_free(&w->held_msg.key);
	pt_buf_free(&w->held_msg.value);
	pt_buf_free(&w->held_msg.header_value);
	pt_buf_free(&w->held_names);
	pt_buf_free(&w->released_names);
}

/* ---- rows ---- */

/* Member name of o, looked for from *hint on (members follow column order). */
static int
find_member(const pt_jsonobj *o, const pt_dbz_column *c, int *hint)
{
	for (int k = 0; k < o->n; k++)
	{
		int			i = (*hint + k) % o->n;

		if (o->names[i].len == c->name_len && memcmp(o->names[i].ptr, c->name, c->name_len) == 0)
		{
			*hint = i + 1;
			return i;
		}
	}
	return -1;
}

/* A column without a value: its default, else null, else (NOT NULL) Debezium's fallback. */
static void
put_absent(pt_buf *out, const pt_dbz_column *c, const pt_dbz_modes *m)
{
	if (c->default_json != NULL)
		pt_buf_puts(out, c->default_json);
	else if (c->optional)
		PUT_LIT(out, "null");
	else
		pt_dbz_put_fallback(out, &c->type, m);
}

static bool
is_unchanged(const pt_event *ev, const pt_dbz_column *c)
{
	for (int i = 0; ev != NULL && i < ev->nunchanged; i++)
		if (ev->unchanged[i].len == c->name_len && memcmp(ev->unchanged[i].ptr, c->name, c->name_len) == 0)
			return true;
	return false;
}

static void
put_column(pt_dbz_writer *w, pt_buf *out, const pt_dbz_column *c, const pt_jsonobj *o, int k, const pt_event *ev)
{
	const pt_dbz_modes *m = &w->set->modes;
	pt_text		v = k >= 0 ? o->values[k] : (pt_text) {NULL, 0};

	if (k < 0 && is_unchanged(ev, c))
	{
		if (!pt_dbz_put_unavailable(out, &c->type, m))
			pt_buf_puts(out, c->default_json ? c->default_json : "null");
		return;
	}
	if (v.ptr == NULL || c->type.kind == PT_DBZ_NULL_STRING)
	{
		put_absent(out, c, m);
		return;
	}
	if (!pt_dbz_put_value(out, &c->type, m, v.ptr, v.len, &w->sc))
	{
		w->unwritable++;
		w->unwritable_column = c->name;
		put_absent(out, c, m);
	}
}

/* The row struct of o over the columns which[0..n) (NULL: all); ev for unchanged TOAST columns. */
static void
put_struct(pt_dbz_writer *w, pt_buf *out, const pt_dbz_table *tab, const pt_jsonobj *o, const int *which,
		   int n, const pt_event *ev)
{
	int			hint = 0;

	pt_buf_putc(out, '{');
	for (int i = 0; i < n; i++)
	{
		const pt_dbz_column *c = &tab->cols[which ? which[i] : i];

		if (i > 0)
			pt_buf_putc(out, ',');
		pt_buf_append(out, c->member, c->member_len);
		put_column(w, out, c, o, find_member(o, c, &hint), ev);
	}
	pt_buf_putc(out, '}');
}

/* Does o hold every column (an old row under REPLICA IDENTITY FULL)? */
static bool
whole_row(const pt_dbz_table *tab, const pt_jsonobj *o)
{
	int			hint = 0;

	for (int i = 0; i < tab->ncols; i++)
		if (find_member(o, &tab->cols[i], &hint) < 0)
			return false;
	return tab->ncols > tab->nkey;
}

/* Do the key columns differ between old and new? */
static bool
key_changed(const pt_dbz_table *tab, const pt_jsonobj *old, const pt_jsonobj *row)
{
	for (int i = 0; i < tab->nkey; i++)
	{
		const pt_dbz_column *c = &tab->cols[tab->key[i]];
		int			h1 = 0,
					h2 = 0;
		int			a = find_member(old, c, &h1),
					b = find_member(row, c, &h2);
		pt_text		x,
					y;

		if (a < 0 || b < 0)
			return false;
		x = old->values[a];
		y = row->values[b];
		if ((x.ptr == NULL) != (y.ptr == NULL) || x.len != y.len || (x.ptr && memcmp(x.ptr, y.ptr, x.len) != 0))
			return true;
	}
	return false;
}

/* ---- the envelope ---- */

/* Milliseconds of a microsecond time, rounded down (also before 1970). */
static int64_t
floor_ms(int64_t usec)
{
	return usec / 1000 - (usec % 1000 < 0);
}

static void
put_u64(pt_buf *out, uint64_t v)
{
	char		tmp[20];
	char	   *p = tmp + sizeof(tmp);

	do
	{
		*--p = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	pt_buf_append(out, p, (size_t) (tmp + sizeof(tmp) - p));
}

/* An LSN as a decimal JSON string inside the JSON string source.sequence. */
static void
put_lsn_text(pt_buf *out, pt_lsn lsn)
{
	PUT_LIT(out, "\\\"");
	put_u64(out, lsn);
	PUT_LIT(out, "\\\"");
}

static void
put_source(pt_dbz_writer *w, pt_buf *out, const pt_event *ev, const char *snapshot)
{
	const pt_dbz_settings *s = w->set;

	PUT_LIT(out, "{\"version\":\"" PGTRAIL_VERSION "\",\"connector\":\"postgresql\",\"name\":");
	pt_dbz_put_string(out, s->prefix, strlen(s->prefix));
	PUT_LIT(out, ",\"ts_ms\":");
	pt_buf_put_i64(out, floor_ms(ev->committed_at));
	PUT_LIT(out, ",\"snapshot\":\"");
	w->marker_at = out->len;
	pt_buf_puts(out, snapshot);
	PUT_LIT(out, "\",\"db\":");
	pt_dbz_put_string(out, s->db ? s->db : "", s->db ? strlen(s->db) : 0);
	PUT_LIT(out, ",\"sequence\":\"[");
	if (w->prev_commit_lsn == 0)
		PUT_LIT(out, "null");
	else
		put_lsn_text(out, w->prev_commit_lsn);
	pt_buf_putc(out, ',');
	put_lsn_text(out, ev->lsn);
	PUT_LIT(out, "]\",\"ts_us\":");
	pt_buf_put_i64(out, ev->committed_at);
	PUT_LIT(out, ",\"ts_ns\":");
	pt_buf_put_i64(out, ev->committed_at * 1000);
	PUT_LIT(out, ",\"schema\":");
	pt_dbz_put_string(out, ev->schema_name.ptr ? ev->schema_name.ptr : "", ev->schema_name.len);
	PUT_LIT(out, ",\"table\":");
	pt_dbz_put_string(out, ev->table_name.ptr ? ev->table_name.ptr : "", ev->table_name.len);
	PUT_LIT(out, ",\"txId\":");
	if (ev->has_xid)
		pt_buf_put_i64(out, ev->xid);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"lsn\":");
	put_u64(out, ev->lsn);
	PUT_LIT(out, ",\"xmin\":null,\"origin\":null,\"origin_lsn\":null}");
}

typedef struct envelope
{
	char		op;
	bool		block;			/* a transaction block (provide.transaction.metadata) */
	const pt_jsonobj *before;	/* NULL: null */
	const int  *before_cols;	/* the columns the old row has values for: NULL all */
	const pt_jsonobj *after;
	const char *snapshot;
} envelope;

static void
put_times(pt_buf *out, int64_t now_us)
{
	PUT_LIT(out, ",\"ts_ms\":");
	pt_buf_put_i64(out, floor_ms(now_us));
	PUT_LIT(out, ",\"ts_us\":");
	pt_buf_put_i64(out, now_us);
	PUT_LIT(out, ",\"ts_ns\":");
	pt_buf_put_i64(out, now_us * 1000);
	pt_buf_putc(out, '}');
}

static void
put_envelope(pt_dbz_writer *w, pt_buf *out, const pt_dbz_table *tab, const pt_event *ev, const envelope *e,
			 int64_t now_us)
{
	if (w->set->value_schemas)
	{
		PUT_LIT(out, "{\"schema\":");
		pt_buf_append(out, tab->envelope_schema.data, tab->envelope_schema.len);
		PUT_LIT(out, ",\"payload\":");
	}
	PUT_LIT(out, "{\"before\":");
	if (e->before)
		put_struct(w, out, tab, e->before, NULL, tab->ncols, NULL);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"after\":");
	if (e->after)
		put_struct(w, out, tab, e->after, NULL, tab->ncols, ev);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"source\":");
	put_source(w, out, ev, e->snapshot);
	PUT_LIT(out, ",\"transaction\":");
	if (e->block)
		pt_dbz_txn_block(&w->txn, ev->schema_name, ev->table_name, ev->lsn, out);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"op\":\"");
	pt_buf_putc(out, e->op);
	pt_buf_putc(out, '"');
	put_times(out, now_us);
	if (w->set->value_schemas)
		pt_buf_putc(out, '}');
}

/* The key of o as a message key (schema-wrapped when asked); false without a key. */
static bool
put_key(pt_dbz_writer *w, pt_buf *out, const pt_dbz_table *tab, const pt_jsonobj *o)
{
	pt_buf_reset(out);
	if (tab->nkey == 0)
		return false;
	if (w->set->key_schemas)
	{
		PUT_LIT(out, "{\"schema\":");
		pt_buf_append(out, tab->key_schema.data, tab->key_schema.len);
		PUT_LIT(out, ",\"payload\":");
	}
	put_struct(w, out, tab, o, tab->key, tab->nkey, NULL);
	if (w->set->key_schemas)
		pt_buf_putc(out, '}');
	return true;
}

/* The next message slot, emptied. */
static pt_dbz_message *
message(pt_dbz_writer *w, int *n)
{
	pt_dbz_message *msg = &w->msgs[(*n)++];

	msg->has_key = msg->has_value = false;
	msg->topic = PT_DBZ_TOPIC_TABLE;
	msg->event = NULL;
	msg->header = NULL;
	pt_buf_reset(&msg->key);
	pt_buf_reset(&msg->value);
	pt_buf_reset(&msg->header_value);
	return msg;
}

static void
add_record(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, const envelope *e,
		   const pt_jsonobj *key_of, int64_t now_us, int *n)
{
	pt_dbz_message *msg = message(w, n);
	envelope	with = *e;

	with.block = w->txn.open && ev->op != PT_OP_SNAPSHOT;
	msg->has_key = key_of != NULL && put_key(w, &msg->key, tab, key_of);
	msg->has_value = true;
	put_envelope(w, &msg->value, tab, ev, &with, now_us);
}

static void
add_tombstone(pt_dbz_writer *w, int *n)
{
	pt_dbz_message *prev = &w->msgs[*n - 1];
	pt_dbz_message *msg = message(w, n);

	msg->has_key = prev->has_key;
	pt_buf_append(&msg->key, prev->key.data, prev->key.len);
	msg->header = prev->header;
	pt_buf_append(&msg->header_value, prev->header_value.data, prev->header_value.len);
}

/* The key's payload alone, for a key-change header (Connect's header converter prints the struct so). */
static void
put_key_header(pt_dbz_writer *w, pt_dbz_message *msg, const char *name, const pt_dbz_table *tab,
			   const pt_jsonobj *o)
{
	msg->header = name;
	put_struct(w, &msg->header_value, tab, o, tab->key, tab->nkey, NULL);
}

/* An update that changed the key: delete (+ tombstone) under the old key, create under the new. */
static void
add_key_change(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n)
{
	envelope	del = {'d', false, &w->old, NULL, NULL, "false"};
	envelope	create = {'c', false, NULL, NULL, &w->row, "false"};

	if (!w->set->skip[2])
	{
		add_record(w, tab, ev, &del, &w->old, now_us, n);
		put_key_header(w, &w->msgs[*n - 1], "__debezium.newkey", tab, &w->row);
		if (w->set->tombstones)
			add_tombstone(w, n);
	}
	if (!w->set->skip[0])
	{
		add_record(w, tab, ev, &create, &w->row, now_us, n);
		put_key_header(w, &w->msgs[*n - 1], "__debezium.oldkey", tab, &w->old);
	}
}

static bool
parse(pt_jsonobj *o, pt_text t, pt_err *err)
{
	if (t.ptr == NULL)
		return pt_jsonobj_parse(o, "{}", 2, err);
	return pt_jsonobj_parse(o, t.ptr, t.len, err);
}

static bool
write_update(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n, pt_err *err)
{
	envelope	e = {'u', false, NULL, NULL, &w->row, "false"};

	if (!parse(&w->row, ev->row, err) || !parse(&w->old, ev->old, err))
		return false;
	if (tab->nkey > 0 && ev->old.ptr != NULL && key_changed(tab, &w->old, &w->row))
	{
		add_key_change(w, tab, ev, now_us, n);
		return true;
	}
	if (ev->old.ptr != NULL && whole_row(tab, &w->old))
		e.before = &w->old;
	if (!w->set->skip[1])
		add_record(w, tab, ev, &e, &w->row, now_us, n);
	return true;
}

static bool
write_delete(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n, pt_err *err)
{
	envelope	e = {'d', false, &w->old, NULL, NULL, "false"};

	if (w->set->skip[2])
		return true;
	if (!parse(&w->old, ev->old, err))
		return false;
	add_record(w, tab, ev, &e, &w->old, now_us, n);
	if (w->set->tombstones)
		add_tombstone(w, n);
	return true;
}

bool
pt_dbz_tombstone(pt_dbz_writer *w, const pt_dbz_table *tab, pt_text key, int *n, pt_err *err)
{
	pt_dbz_message *msg;

	*n = 0;
	if (tab->nkey == 0)
		return true;
	if (!parse(&w->old, key, err))
		return false;
	msg = message(w, n);
	msg->has_key = put_key(w, &msg->key, tab, &w->old);
	return true;
}

bool
pt_dbz_erased_update(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n,
					 pt_err *err)
{
	envelope	e = {'u', false, NULL, NULL, &w->row, "false"};

	*n = 0;
	if (w->set->skip[1])
		return true;
	if (!parse(&w->row, ev->row, err))
		return false;
	add_record(w, tab, ev, &e, &w->row, now_us, n);
	return true;
}

static void
swap_messages(pt_dbz_message *a, pt_dbz_message *b)
{
	pt_dbz_message t = *a;

	*a = *b;
	*b = t;
}

static void
swap_bufs(pt_buf *a, pt_buf *b)
{
	pt_buf		t = *a;

	*a = *b;
	*b = t;
}

/* Is ev of the table of the last snapshot record (schema '\0' table)? */
static bool
same_snapshot_table(const pt_dbz_writer *w, const pt_event *ev)
{
	size_t		s = ev->schema_name.len;

	return w->snapshot_table.len == s + 1 + ev->table_name.len &&
		memcmp(w->snapshot_table.data, ev->schema_name.ptr, s) == 0 && w->snapshot_table.data[s] == '\0' &&
		memcmp(w->snapshot_table.data + s + 1, ev->table_name.ptr, ev->table_name.len) == 0;
}

/* The held record's marker: "true" (where it stands) becomes marker. */
static void
set_marker(pt_buf *value, size_t at, const char *marker)
{
	size_t		len = strlen(marker);

	pt_buf_reserve(value, len);
	memmove(value->data + at + len, value->data + at + 4, value->len - at - 4);
	memcpy(value->data + at, marker, len);
	value->len = value->len + len - 4;
	value->data[value->len] = '\0';
}

/*
 * The held snapshot record, with the marker Debezium's resolver gives it
 * now that the next event (NULL: none) is known: last, first,
 * last_in_data_collection, first_in_data_collection, true, in that order.
 */
static void
release_held(pt_dbz_writer *w, const pt_event *next, int *n)
{
	bool		more = next != NULL && next->op == PT_OP_SNAPSHOT;
	bool		same_table = more && same_snapshot_table(w, next);
	pt_dbz_message *msg;

	if (!w->held)
		return;
	msg = message(w, n);
	swap_messages(msg, &w->held_msg);
	/* (held_event is the next held record's) */
	w->released_event = w->held_event;
	swap_bufs(&w->released_names, &w->held_names);
	w->released_event.schema_name.ptr = w->released_names.data;
	w->released_event.table_name.ptr = w->released_names.data + w->released_event.schema_name.len;
	msg->event = &w->released_event;
	set_marker(&msg->value, w->marker_at, !more ? "last" : w->held_first ? "first" :
			   !same_table ? "last_in_data_collection" : w->held_first_in_table ? "first_in_data_collection" : "true");
	w->held = false;
}

/* The snapshot record just made (the last message) is held back. */
static void
hold_last(pt_dbz_writer *w, const pt_event *ev, bool first, bool first_in_table, int *n)
{
	swap_messages(&w->msgs[--*n], &w->held_msg);
	w->held = true;
	w->held_first = first;
	w->held_first_in_table = first_in_table;
	w->held_event = *ev;
	pt_buf_reset(&w->held_names);
	pt_buf_append(&w->held_names, ev->schema_name.ptr, ev->schema_name.len);
	pt_buf_append(&w->held_names, ev->table_name.ptr, ev->table_name.len);
	/* (offsets: the buffer moves when it is swapped; release points them again) */
	w->held_event.schema_name = (pt_text) {NULL, ev->schema_name.len};
	w->held_event.table_name = (pt_text) {NULL, ev->table_name.len};
	w->held_event.key = w->held_event.row = w->held_event.old = (pt_text) {NULL, 0};
	w->held_event.actor = w->held_event.action = w->held_event.metadata = (pt_text) {NULL, 0};
	w->held_event.unchanged = NULL;
	w->held_event.nunchanged = 0;
}

static bool
write_snapshot(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n,
			   pt_err *err)
{
	envelope	e = {'r', false, NULL, NULL, &w->row, "true"};
	bool		first = !w->in_snapshot;
	bool		first_in_table = first || !same_snapshot_table(w, ev);

	w->in_snapshot = true;
	pt_buf_reset(&w->snapshot_table);
	pt_buf_append(&w->snapshot_table, ev->schema_name.ptr, ev->schema_name.len);
	pt_buf_putc(&w->snapshot_table, '\0');
	pt_buf_append(&w->snapshot_table, ev->table_name.ptr, ev->table_name.len);
	if (!parse(&w->row, ev->row, err))
		return false;
	add_record(w, tab, ev, &e, &w->row, now_us, n);
	hold_last(w, ev, first, first_in_table, n);
	return true;
}

static bool
write_row_event(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n,
				pt_err *err)
{
	envelope	e = {'c', false, NULL, NULL, &w->row, "false"};

	switch (ev->op)
	{
		case PT_OP_INSERT:
			if (w->set->skip[0])
				return true;
			break;
		case PT_OP_SNAPSHOT:
			return write_snapshot(w, tab, ev, now_us, n, err);
		case PT_OP_UPDATE:
			return write_update(w, tab, ev, now_us, n, err);
		case PT_OP_DELETE:
			return write_delete(w, tab, ev, now_us, n, err);
		case PT_OP_TRUNCATE:
			e = (envelope) {'t', false, NULL, NULL, NULL, "false"};
			if (!w->set->skip[3])
				add_record(w, tab, ev, &e, NULL, now_us, n);
			return true;
		default:
			return true;
	}
	if (!parse(&w->row, ev->row, err))
		return false;
	add_record(w, tab, ev, &e, &w->row, now_us, n);
	return true;
}

/* ---- logical decoding messages ---- */

static void
put_content(pt_dbz_writer *w, pt_buf *out, pt_text content, bool bytea)
{
	const uint8_t *bytes = (const uint8_t *) content.ptr;
	size_t		len = content.len;

	if (bytea)
	{
		pt_buf_reset(&w->sc.bytes);
		for (size_t i = 2; i + 1 < content.len; i += 2)
		{
			char		pair[3] = {content.ptr[i], content.ptr[i + 1], 0};

			pt_buf_putc(&w->sc.bytes, (char) strtol(pair, NULL, 16));
		}
		bytes = (const uint8_t *) w->sc.bytes.data;
		len = w->sc.bytes.len;
	}
	if (w->set->modes.binary == PT_DBZ_BINARY_HEX)
	{
		pt_buf_putc(out, '"');
		for (size_t i = 0; i < len; i++)
			pt_buf_printf(out, "%02x", bytes[i]);
		pt_buf_putc(out, '"');
		return;
	}
	pt_buf_putc(out, '"');
	pt_base64_put(out, bytes, len);
	pt_buf_putc(out, '"');
}

static bool
write_message(pt_dbz_writer *w, const pt_event *ev, int64_t now_us, int *n, pt_err *err)
{
	pt_dbz_message *msg;
	int			kp,
				kc,
				ke;
	pt_text		prefix;

	if (!parse(&w->row, ev->row, err))
		return false;
	kp = pt_jsonobj_find(&w->row, "prefix", 6);
	kc = pt_jsonobj_find(&w->row, "content", 7);
	ke = pt_jsonobj_find(&w->row, "encoding", 8);
	prefix = kp >= 0 ? w->row.values[kp] : (pt_text) {NULL, 0};
	msg = message(w, n);
	msg->has_key = msg->has_value = true;
	msg->topic = PT_DBZ_TOPIC_MESSAGE;
	if (w->set->key_schemas)
		PUT_LIT(&msg->key, "{\"schema\":" PT_DBZ_MESSAGE_KEY_SCHEMA ",\"payload\":");
	PUT_LIT(&msg->key, "{\"prefix\":");
	pt_dbz_put_string(&msg->key, prefix.ptr ? prefix.ptr : "", prefix.len);
	pt_buf_puts(&msg->key, w->set->key_schemas ? "}}" : "}");
	if (w->set->value_schemas)
	{
		PUT_LIT(&msg->value, "{\"schema\":");
		pt_dbz_put_message_value_schema(&msg->value, &w->set->modes);
		PUT_LIT(&msg->value, ",\"payload\":");
	}
	pt_buf_printf(&msg->value, "{\"op\":\"m\",\"ts_ms\":%lld,\"source\":", (long long) (now_us / 1000));
	put_source(w, &msg->value, ev, "false");
	PUT_LIT(&msg->value, ",\"transaction\":null,\"message\":{\"prefix\":");
	pt_dbz_put_string(&msg->value, prefix.ptr ? prefix.ptr : "", prefix.len);
	PUT_LIT(&msg->value, ",\"content\":");
	if (kc >= 0 && w->row.values[kc].ptr != NULL)
		put_content(w, &msg->value, w->row.values[kc], ke >= 0);
	else
		PUT_LIT(&msg->value, "null");
	pt_buf_puts(&msg->value, w->set->value_schemas ? "}}}" : "}}");
	return true;
}

/* source.sequence's first element: the commit LSN of the transaction before this event's. */
static void
follow_commits(pt_dbz_writer *w, const pt_event *ev)
{
	if (ev->commit_lsn == w->commit_lsn)
		return;
	w->prev_commit_lsn = w->commit_lsn;
	w->commit_lsn = ev->commit_lsn;
}

/* The END record of the transaction in progress, if any. */
static void
end_transaction(pt_dbz_writer *w, int *n)
{
	pt_dbz_message *msg;

	if (!w->txn.open)
		return;
	msg = message(w, n);
	msg->topic = PT_DBZ_TOPIC_TRANSACTION;
	msg->has_key = msg->has_value = true;
	pt_dbz_txn_end(&w->txn, w->set->key_schemas, w->set->value_schemas, &msg->key, &msg->value);
}

void
pt_dbz_finish(pt_dbz_writer *w, int *n)
{
	*n = 0;
	release_held(w, NULL, n);
	w->in_snapshot = false;
	end_transaction(w, n);
}

void
pt_dbz_forget(pt_dbz_writer *w)
{
	w->txn.open = false;
	w->held = false;
	w->in_snapshot = false;
}

/*
 * The END of the open transaction when ev is not of it (a message without
 * a transaction ends it too, as in Debezium), and the BEGIN of ev's own
 * for a row event.
 */
static void
transaction_bounds(pt_dbz_writer *w, const pt_event *ev, int *n)
{
	pt_dbz_message *msg;

	if (!w->set->tx_metadata || ev->op == PT_OP_SNAPSHOT)
		return;
	if (w->txn.open && (!ev->has_xid || pt_dbz_txn_other(&w->txn, ev)))
		end_transaction(w, n);
	if (w->txn.open || !ev->has_xid || ev->op == PT_OP_MESSAGE)
		return;
	msg = message(w, n);
	msg->topic = PT_DBZ_TOPIC_TRANSACTION;
	msg->has_key = msg->has_value = true;
	pt_dbz_txn_begin(&w->txn, ev, w->set->key_schemas, w->set->value_schemas, &msg->key, &msg->value);
}

void
pt_dbz_before_other(pt_dbz_writer *w, const pt_event *ev, int *n)
{
	*n = 0;
	release_held(w, ev, n);
	w->in_snapshot = false;
	if (w->set->tx_metadata && w->txn.open && (!ev->has_xid || pt_dbz_txn_other(&w->txn, ev)))
		end_transaction(w, n);
}

bool
pt_dbz_write(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us, int *n, pt_err *err)
{
	*n = 0;
	follow_commits(w, ev);
	release_held(w, ev, n);
	if (ev->op != PT_OP_SNAPSHOT)
		w->in_snapshot = false;
	transaction_bounds(w, ev, n);
	if (ev->op == PT_OP_MESSAGE)
		return write_message(w, ev, now_us, n, err);
	if (tab == NULL)
		return true;
	return write_row_event(w, tab, ev, now_us, n, err);
}

/* ---- heartbeats ---- */

void
pt_dbz_heartbeat(pt_dbz_writer *w, int64_t now_us)
{
	int			n = 0;
	pt_dbz_message *msg = message(w, &n);

	msg->has_key = msg->has_value = true;
	if (w->set->key_schemas)
		PUT_LIT(&msg->key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
				"\"field\":\"serverName\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\","
				"\"version\":1},\"payload\":");
	PUT_LIT(&msg->key, "{\"serverName\":");
	pt_dbz_put_string(&msg->key, w->set->prefix, strlen(w->set->prefix));
	pt_buf_puts(&msg->key, w->set->key_schemas ? "}}" : "}");
	if (w->set->value_schemas)
		PUT_LIT(&msg->value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
				"\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\","
				"\"version\":1},\"payload\":");
	pt_buf_printf(&msg->value, "{\"ts_ms\":%lld}", (long long) (now_us / 1000));
	if (w->set->value_schemas)
		pt_buf_putc(&msg->value, '}');
}
