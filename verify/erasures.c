/*
 * verify/erasures.c — erased events against their erasure events (see
 * erasures.h).
 */
#include "verify/erasures.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/erasure.h"
#include "core/hex.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/store_due.h"
#include "core/withhold.h"

#define ERASURES_SQL \
	"SELECT id, row::text, metadata::text, actor, committed_at, prev_hash FROM %1$s.events " \
	"WHERE op = 'erasure' AND id <= $1 ORDER BY id"
#define LISTED_MAX 10			/* event ids named in an erasure's note */

/* An event an erasure names; after keep_last_erasures, the last erasure that names it. */
typedef struct named
{
	int64_t		event_id;
	int64_t		erasure_id;
	uint8_t		redacted[PT_HASH_LEN];
	bool		seen;			/* the event was found erased */
} named;

/*
 * Consecutive erasure events of one erasure: its parts share request,
 * reason, scope, actor and time (pgtrail-erase dates them all alike; two
 * runs never share a microsecond).
 */
typedef struct erasure_note
{
	bool		open;
	int64_t		first;			/* erasure event ids */
	int64_t		last;
	int64_t		values;
	int64_t		events;
	int			listed;			/* event ids in list (at most LISTED_MAX) */
	pt_buf		list;
	pt_buf		same;			/* request, reason, scope, actor and time: what the parts share */
	pt_buf		said;			/* "(request R, day, by A)" */
} erasure_note;

typedef struct checker
{
	PGconn	   *conn;
	const char *schema;
	const pt_keyring *ring;
	pt_report  *rep;
	named	   *names;
	int			n;
	int			cap;
	pt_jsonobj	rec;			/* the record */
	pt_jsonobj	item;			/* one of its events */
	pt_text    *items;
	int			items_cap;
	erasure_note note;			/* the note being gathered: one for the parts of one erasure */
	int64_t		withheld_records;	/* capture's [capture] withhold erasures: one note for all */
	int64_t		withheld_events;
	int64_t		withheld_values;
} checker;

/* A new entry (erasures are read in id order: a later entry of an event is its last erasure). */
static named *
name_event(checker *c, int64_t event_id)
{
	if (c->n == c->cap)
	{
		c->cap = c->cap ? c->cap * 2 : 64;
		c->names = pt_realloc(c->names, (size_t) c->cap * sizeof(named));
	}
	memset(&c->names[c->n], 0, sizeof(named));
	c->names[c->n].event_id = event_id;
	return &c->names[c->n++];
}

static int
by_event_then_erasure(const void *a, const void *b)
{
	const named *x = a, *y = b;

	if (x->event_id != y->event_id)
		return x->event_id < y->event_id ? -1 : 1;
	return x->erasure_id < y->erasure_id ? -1 : x->erasure_id > y->erasure_id;
}

/* Sorted by event, each event's last erasure only: looked up by binary search per erased event. */
static void
keep_last_erasures(checker *c)
{
	int			n = 0;

	if (c->n == 0)
		return;
	qsort(c->names, (size_t) c->n, sizeof(named), by_event_then_erasure);
	for (int i = 0; i < c->n; i++)
	{
		if (n > 0 && c->names[n - 1].event_id == c->names[i].event_id)
			n--;				/* a later erasure of the same event replaces it */
		c->names[n++] = c->names[i];
	}
	c->n = n;
}

static int
by_event_id(const void *a, const void *b)
{
	const named *x = a, *y = b;

	return x->event_id < y->event_id ? -1 : x->event_id > y->event_id;
}

static named *
find_named(checker *c, int64_t event_id)
{
	named		key = {.event_id = event_id};

	return c->n ? bsearch(&key, c->names, (size_t) c->n, sizeof(named), by_event_id) : NULL;
}

static const pt_text *
member(const pt_jsonobj *o, const char *name)
{
	int			i = pt_jsonobj_find(o, name, strlen(name));

	return i >= 0 && o->values[i].ptr ? &o->values[i] : NULL;
}

/* The record's signature, checked with the ring. */
static void
check_signature(checker *c, int64_t id, const PGresult *res, int row)
{
	pt_jsonobj	meta;
	pt_err		ignored;
	pt_buf		msg = PT_BUF_INIT;
	uint8_t		prev[PT_HASH_LEN], sig[PT_SIG_LEN];
	const pt_text *s = NULL, *k = NULL;
	const char *m = PQgetvalue(res, row, 2);
	pt_sign_check check = PT_SIGN_BAD;

	pt_jsonobj_init(&meta);
	if (!PQgetisnull(res, row, 2) && pt_jsonobj_parse(&meta, m, strlen(m), &ignored))
	{
		s = member(&meta, "signature");
		k = member(&meta, "key_id");
	}
	if (s && k && s->len == 2 * PT_SIG_LEN && k->len == PT_KEY_ID_LEN && pt_hex_decode(s->ptr, PT_SIG_LEN, sig) &&
		pt_hex_decode_bytea(PQgetvalue(res, row, 5), PT_HASH_LEN, prev))
	{
		char		key_id[PT_KEY_ID_LEN + 1];

		memcpy(key_id, k->ptr, PT_KEY_ID_LEN);
		key_id[PT_KEY_ID_LEN] = '\0';
		pt_erasure_signed_text(prev, PQgetvalue(res, row, 1), (size_t) PQgetlength(res, row, 1), &msg);
		check = pt_keyring_check(c->ring, key_id, msg.data, msg.len, sig);
	}
	if (check != PT_SIGN_GOOD)
		pt_report_finding(c->rep, PT_FIND_ERASURE, id,
						  "only the holder of the signing key can erase values from the log; a record without a good "
						  "signature is a change of the log passed off as an erasure",
						  "event %lld: erasure record %s", (long long) id,
						  s == NULL ? "is not signed" : check == PT_SIGN_UNKNOWN_KEY ?
						  "is signed by a key not given" : "has a bad signature");
	pt_jsonobj_free(&meta);
	pt_buf_free(&msg);
}

/* One entry of the record's events: {"id":N,"erased":[...],"redacted":"<hex>"}. */
static bool
take_item(checker *c, int64_t erasure_id, pt_text item, int64_t *event_id)
{
	pt_err		ignored;
	const pt_text *id, *redacted;
	named	   *nm;
	uint8_t		digest[PT_HASH_LEN];

	if (!pt_jsonobj_parse(&c->item, item.ptr, item.len, &ignored) ||
		(id = member(&c->item, "id")) == NULL || (redacted = member(&c->item, "redacted")) == NULL ||
		redacted->len != 2 * PT_HASH_LEN || !pt_hex_decode(redacted->ptr, PT_HASH_LEN, digest))
		return false;
	*event_id = strtoll(id->ptr, NULL, 10);
	if (*event_id <= 0 || *event_id >= erasure_id)
		return false;
	nm = name_event(c, *event_id);
	nm->erasure_id = erasure_id;
	memcpy(nm->redacted, digest, PT_HASH_LEN);
	return true;
}

/* "event 2101: 2 values erased in 1 events (2100) (request GDPR-17, 2026-12-01, by alice)", or "events 2101..2104: ..." */
static void
flush_note(checker *c)
{
	erasure_note *n = &c->note;

	if (!n->open)
		return;
	if (n->events > n->listed)
		pt_buf_printf(&n->list, " and %lld more", (long long) (n->events - n->listed));
	if (n->last > n->first)
		pt_report_note(c->rep, "events %lld..%lld: %lld values erased in %lld events (%s) %s", (long long) n->first,
					   (long long) n->last, (long long) n->values, (long long) n->events, n->list.data ? n->list.data : "",
					   n->said.data);
	else
		pt_report_note(c->rep, "event %lld: %lld values erased in %lld events (%s) %s", (long long) n->first,
					   (long long) n->values, (long long) n->events, n->list.data ? n->list.data : "", n->said.data);
	n->open = false;
}

static void
put_member(pt_buf *out, const pt_text *t)
{
	if (t)
		pt_buf_append(out, t->ptr, t->len);
	pt_buf_putc(out, '\x1f');
}

/* What an erasure's parts share, into out. */
static void
shared_of(checker *c, const PGresult *res, int row, pt_buf *out)
{
	pt_buf_reset(out);
	put_member(out, member(&c->rec, "request"));
	put_member(out, member(&c->rec, "reason"));
	put_member(out, member(&c->rec, "scope"));
	pt_buf_printf(out, "%s\x1f%s", PQgetvalue(res, row, 3), PQgetvalue(res, row, 4));
}

/* The note of an erasure: a part of the one gathered, or a new one. */
static void
note_erasure(checker *c, const PGresult *res, int row, int64_t id, const int64_t *ids, int nids)
{
	const pt_text *request = member(&c->rec, "request"), *values = member(&c->rec, "values");
	erasure_note *n = &c->note;
	pt_buf		same = PT_BUF_INIT;

	if (request && request->len == strlen(PT_WITHHOLD_REQUEST) &&
		memcmp(request->ptr, PT_WITHHOLD_REQUEST, request->len) == 0)
	{
		c->withheld_records++;
		c->withheld_events += nids;
		c->withheld_values += values ? strtoll(values->ptr, NULL, 10) : 0;
		return;
	}
	shared_of(c, res, row, &same);
	if (!n->open || id != n->last + 1 || same.len != n->same.len || memcmp(same.data, n->same.data, same.len) != 0)
	{
		flush_note(c);
		*n = (erasure_note) {.open = true, .first = id, .list = n->list, .same = n->same, .said = n->said};
		pt_buf_reset(&n->list);
		pt_buf_reset(&n->same);
		pt_buf_append(&n->same, same.data, same.len);
		pt_buf_reset(&n->said);
		pt_buf_printf(&n->said, "(request %.*s, %.10s, by %s)", request ? (int) request->len : 1,
					  request ? request->ptr : "?", PQgetvalue(res, row, 4),
					  PQgetisnull(res, row, 3) ? "?" : PQgetvalue(res, row, 3));
	}
	n->last = id;
	n->values += values ? strtoll(values->ptr, NULL, 10) : 0;
	n->events += nids;
	for (int i = 0; i < nids && n->listed < LISTED_MAX; i++)
		pt_buf_printf(&n->list, "%s%lld", n->listed++ ? ", " : "", (long long) ids[i]);
	pt_buf_free(&same);
}

/* One erasure event: its record read, its events named, its signature checked. */
static void
take_erasure(checker *c, const PGresult *res, int row)
{
	int64_t		id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	const char *text = PQgetvalue(res, row, 1);
	const pt_text *events;
	int64_t    *ids = NULL;
	int			nitems = 0;
	pt_err		ignored;
	bool		ok;

	ok = !PQgetisnull(res, row, 1) && pt_jsonobj_parse(&c->rec, text, strlen(text), &ignored) &&
		(events = member(&c->rec, "events")) != NULL &&
		pt_json_array_items(events->ptr, events->len, &c->items, &c->items_cap, &nitems, &ignored);
	if (ok)
		ids = pt_calloc((size_t) nitems + 1, sizeof(int64_t));
	for (int i = 0; ok && i < nitems; i++)
		ok = take_item(c, id, c->items[i], &ids[i]);
	if (!ok)
		pt_report_finding(c->rep, PT_FIND_ERASURE, id, NULL, "event %lld: erasure record is malformed", (long long) id);
	else
		note_erasure(c, res, row, id, ids, nitems);
	free(ids);
	if (c->ring)
		check_signature(c, id, res, row);
}

static bool
load_erasures(checker *c, int64_t log_end, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char		end[24];
	const char *params[1] = {end};
	PGresult   *res;

	snprintf(end, sizeof(end), "%lld", (long long) log_end);
	if (!pt_pq_sql_with_ident(c->conn, ERASURES_SQL, c->schema, &sql, err))
	{
		pt_buf_free(&sql);
		return false;
	}
	res = pt_pq_exec_params(c->conn, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		take_erasure(c, res, i);
	flush_note(c);
	if (PQntuples(res) > 0 && c->ring == NULL)
		pt_report_note(c->rep, "erasure signatures were not checked: give --public-key to tell lawful erasures "
					   "from forged ones");
	PQclear(res);
	keep_last_erasures(c);
	return true;
}

/* One erased event against the erasure that names it last. */
static void
check_erased(checker *c, pt_chain *chain, const pt_event *ev)
{
	uint8_t		digest[PT_HASH_LEN];
	named	   *nm = find_named(c, ev->id);

	pt_chain_hash(chain, ev->prev_hash, ev, digest);
	if (memcmp(digest, ev->hash, PT_HASH_LEN) != 0)
	{
		pt_report_finding(c->rep, PT_FIND_CHANGED, ev->id, "its values commitment (sealed) was changed",
						  "event %lld: changed (its erased form does not match its hash)", (long long) ev->id);
		return;
	}
	if (nm == NULL || ev->seal == NULL)
	{
		pt_report_finding(c->rep, PT_FIND_ERASED, ev->id, "values were removed from it, but no erasure event says so",
						  "event %lld: values removed without an erasure event", (long long) ev->id);
		return;
	}
	nm->seen = true;
	pt_chain_values(chain, ev, ev->seal, true, digest);
	if (memcmp(digest, nm->redacted, PT_HASH_LEN) != 0)
		pt_report_finding(c->rep, PT_FIND_CHANGED, ev->id, "what remains of it differs from what the erasure left",
						  "event %lld: changed after erasure event %lld", (long long) ev->id,
						  (long long) nm->erasure_id);
}

static bool
check_erased_events(checker *c, int64_t log_end, pt_err *err)
{
	pt_store_reader *reader;
	pt_chain   *chain = pt_chain_new(0, NULL);
	pt_event	ev;
	bool		done = false,
				ok;

	if (!pt_pq_command(c->conn, "SAVEPOINT pgtrail_erasures", err) ||
		(reader = pt_store_reader_open_erased(c->conn, c->schema, err)) == NULL)
	{
		pt_chain_free(chain);
		return false;
	}
	while ((ok = pt_store_reader_next(reader, &ev, &done, err)) && !done)
		if (ev.id <= log_end)
			check_erased(c, chain, &ev);
	pt_store_reader_close(reader);
	pt_chain_free(chain);
	if (!ok && err->kind == PT_ERR_INTEGRITY)
	{
		pt_report_finding(c->rep, PT_FIND_CHANGED, 0, err->message, "an erased event is not a well-formed event");
		ok = pt_pq_command(c->conn, "ROLLBACK TO SAVEPOINT pgtrail_erasures", err);
	}
	return ok;
}

/* Erased keys a Kafka sink has yet to get tombstones for: still in the store, so said. */
static bool
note_keys_waiting(PGconn *conn, const char *schema, pt_report *rep, pt_err *err)
{
	int64_t		keys,
				first;
	char		since[64];

	if (!pt_due_keys_waiting(conn, schema, &keys, &first, since, sizeof(since), err))
		return false;
	if (keys < 0)
		pt_report_note(rep, "erasure_due could not be read (GRANT SELECT ON it to this role): erased keys waiting "
					   "for their Kafka tombstones are not counted");
	if (keys > 0)
		pt_report_note(rep, "%lld erased keys (erasure event %lld on) wait in erasure_due, since %s, for capture to "
					   "publish their Kafka tombstones: the store holds them until then (docs/OPERATIONS.md)",
					   (long long) keys, (long long) first, since);
	return true;
}

bool
pt_verify_erasures(PGconn *conn, const char *schema, const pt_keyring *ring, int64_t log_end, pt_report *rep,
				   pt_err *err)
{
	checker		c;
	bool		has_seal,
				ok;

	if (!pt_store_has_seal(conn, schema, &has_seal, err))
		return false;
	if (!has_seal)
		return true;			/* a store from before format 2: nothing can be erased */
	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.schema = schema;
	c.ring = ring;
	c.rep = rep;
	pt_jsonobj_init(&c.rec);
	pt_jsonobj_init(&c.item);
	ok = load_erasures(&c, log_end, err) && check_erased_events(&c, log_end, err) &&
		note_keys_waiting(conn, schema, rep, err);
	if (ok && c.withheld_records > 0)
		pt_report_note(rep, "%lld values of %lld events were kept out of the log by capture ([capture] withhold), "
					   "named by %lld erasure events", (long long) c.withheld_values, (long long) c.withheld_events,
					   (long long) c.withheld_records);
	for (int i = 0; ok && i < c.n; i++)
		if (!c.names[i].seen)
			pt_report_finding(rep, PT_FIND_ERASURE, c.names[i].erasure_id, NULL,
							  "event %lld: erasure record names event %lld, which holds no erasure",
							  (long long) c.names[i].erasure_id, (long long) c.names[i].event_id);
	pt_jsonobj_free(&c.rec);
	pt_jsonobj_free(&c.item);
	pt_buf_free(&c.note.list);
	pt_buf_free(&c.note.same);
	pt_buf_free(&c.note.said);
	free(c.items);
	free(c.names);
	return ok;
}
