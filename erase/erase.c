/*
 * erase/erase.c — one erasure, in one transaction of the event store (see
 * erase.h and docs/FORMAT.md, "Erasure"):
 *
 *   lock the event table against capture's writer; find the events in
 *   scope; read them in chunks and check each against its hash; redact
 *   them (values to null, a fresh seal, the old values commitment kept as
 *   sealed); append the erasure event (signed when a key is given, with a
 *   signed checkpoint after it); commit.
 */
#include "erase/erase.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/checkpoint.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/store_due.h"
#include "core/erasure.h"
#include "core/redact.h"

#define CHUNK 200				/* events read, redacted and written back at a time */
#define PART_EVENTS 1000		/* events one erasure event names at most, */
#define PART_BYTES (256 * 1024)	/* and its record's events array's bytes (a Kafka message is 1 MB by default) */
#define ROW_OPS "op IN ('insert', 'update', 'delete', 'snapshot')"

typedef enum scope_kind
{
	BY_KEY,
	BY_COLUMN,
	BY_EVENT
} scope_kind;

/* What to erase, parsed from the options. */
typedef struct scope
{
	scope_kind	kind;
	char	   *schema_name;	/* BY_KEY, BY_COLUMN */
	char	   *table_name;
	char	   *column;			/* BY_COLUMN; NULL: every member */
	int64_t		event_id;		/* BY_EVENT */
} scope;

/* One event's new values, kept until the reader is closed and they can be written. */
typedef struct redaction
{
	int64_t		id;
	char	   *text[3];		/* key, row, old; NULL stays NULL */
	char		seal[2 * PT_SEAL_LEN + 1];
	char		sealed[2 * PT_HASH_LEN + 1];
	pt_buf		erased;			/* JSON array of the erased names */
	bool		owes;			/* a Kafka message (core/store_due.h): */
	char	   *due[4];			/* schema, table, key before the erasure, row now (NULL: a tombstone) */
	int			due_version;
} redaction;

typedef struct eraser
{
	const pt_erase_opts *o;
	PGconn	   *conn;
	char	   *qschema;
	scope		s;
	pt_store_writer *w;
	pt_chain   *chain;			/* hashing only: checks and commitments */
	pt_redacted red;
	pt_erasure_record rec;		/* the part being filled */
	pt_buf	   *parts;			/* the finished parts' records, one erasure event each */
	int			nparts;
	int64_t		events;			/* in all parts */
	int64_t		values;
	redaction	chunk[CHUNK];
	int			nchunk;
	bool		kafka;			/* a Kafka sink reads the store: messages are owed (core/store_due.h) */
	pt_due_last *last;			/* the events in scope that are the last of their key (sorted) */
	int			nlast;
} eraser;

/* ---- the options ---- */

/* Add hint to err; false, for "return fail_hint(...)". */
static bool
fail_hint(pt_err *err, const char *hint)
{
	pt_err_hint(err, "%s", hint);
	return false;
}

static char *
dup_span(const char *s, size_t len)
{
	char	   *out = pt_malloc(len + 1);

	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

/* "schema.table" (and ".column" when column is wanted) into s. */
static bool
split_name(const char *what, const char *name, bool with_column, scope *s, pt_err *err)
{
	const char *dot = strchr(name, '.');
	const char *last = strrchr(name, '.');

	if (dot == NULL || dot == name || (with_column && (last == dot || last[1] == '\0')) ||
		(!with_column && dot[1] == '\0'))
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s \"%s\" is not %s", what, name,
				   with_column ? "schema.table.column" : "schema.table");
		return fail_hint(err, with_column ? "name the column with its table: --column shop.customers.email" :
						   "name the table with its schema: --table shop.customers");
	}
	s->schema_name = dup_span(name, (size_t) (dot - name));
	if (!with_column)
		s->table_name = pt_strdup(dot + 1);
	else
	{
		s->table_name = dup_span(dot + 1, (size_t) (last - dot - 1));
		s->column = pt_strdup(last + 1);
	}
	return true;
}

static bool
parse_scope(const pt_erase_opts *o, scope *s, pt_err *err)
{
	int			n = (o->key[0] != '\0') + (o->column[0] != '\0') + (o->event[0] != '\0');
	char	   *end;

	memset(s, 0, sizeof(*s));
	if (n != 1 || (o->key[0] && !o->table[0]) || (!o->key[0] && o->table[0]))
	{
		pt_err_set(err, PT_ERR_CONFIG, "say what to erase: --table with --key, or --column, or --event");
		return fail_hint(err, "pgtrail-erase --table shop.customers --key '{\"id\": 42}' --reason ... --request ...");
	}
	if (!o->reason[0] || !o->request[0])
	{
		pt_err_set(err, PT_ERR_CONFIG, "an erasure needs --reason and --request");
		return fail_hint(err, "they go on the record: --reason 'GDPR art. 17' --request GDPR-17");
	}
	if (o->event[0])
	{
		s->kind = BY_EVENT;
		s->event_id = strtoll(o->event, &end, 10);
		if (*end != '\0' || s->event_id <= 0)
			return pt_err_set(err, PT_ERR_CONFIG, "--event \"%s\" is not an event id", o->event);
		return true;
	}
	s->kind = o->key[0] ? BY_KEY : BY_COLUMN;
	return s->kind == BY_KEY ? split_name("--table", o->table, false, s, err) :
		split_name("--column", o->column, true, s, err);
}

static void
scope_free(scope *s)
{
	free(s->schema_name);
	free(s->table_name);
	free(s->column);
}

/* The key as JSON: an object of the key columns. */
static bool
check_key(const char *key, pt_err *err)
{
	pt_jsonobj	o;
	bool		ok;

	pt_jsonobj_init(&o);
	ok = pt_jsonobj_parse(&o, key, strlen(key), err) && o.n > 0;
	pt_jsonobj_free(&o);
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "--key \"%s\" is not a JSON object of key columns", key);
		pt_err_hint(err, "give the row's primary key, e.g. --key '{\"id\": 42}'");
	}
	return ok;
}

/* ---- finding the events ---- */

static bool
table_known(eraser *e, pt_err *err)
{
	const char *params[2] = {e->s.schema_name, e->s.table_name};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	bool		known;

	pt_buf_printf(&sql, "SELECT 1 FROM %s.schemas WHERE schema_name = $1 AND table_name = $2 LIMIT 1", e->qschema);
	res = pt_pq_exec_params(e->conn, sql.data, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	known = PQntuples(res) == 1;
	PQclear(res);
	if (!known)
	{
		pt_err_set(err, PT_ERR_CONFIG, "table \"%s\".\"%s\" is not in the event store", e->s.schema_name,
				   e->s.table_name);
		pt_err_hint(err, "name a captured table: SELECT DISTINCT schema_name, table_name FROM %s.schemas",
					e->qschema);
	}
	return known;
}

/*
 * Does some version of the table have each column named (the --column, or
 * the members of --key)? A misspelt name would match nothing and erase
 * nothing, quietly: it is a usage error instead.
 */
static bool
columns_known(eraser *e, pt_err *err)
{
	const char *names = e->s.kind == BY_KEY ? e->o->key : NULL;
	pt_buf		list = PT_BUF_INIT, sql = PT_BUF_INIT;
	const char *params[3] = {e->s.schema_name, e->s.table_name, NULL};
	PGresult   *res;
	bool		ok;

	if (names == NULL)
	{
		pt_buf_putc(&list, '[');
		pt_json_put_cstring(&list, e->s.column);
		pt_buf_putc(&list, ']');
	}
	params[2] = names ? names : list.data;
	pt_buf_printf(&sql, "SELECT string_agg(n, ', ') FROM (SELECT json_array_elements_text($3::json) n "
				  " WHERE json_typeof($3::json) = 'array' UNION ALL SELECT json_object_keys($3::json) "
				  " WHERE json_typeof($3::json) = 'object') w WHERE NOT EXISTS (SELECT 1 FROM %s.schemas s, "
				  " json_array_elements(s.columns) c WHERE s.schema_name = $1 AND s.table_name = $2 AND c->>'name' = w.n)",
				  e->qschema);
	res = pt_pq_exec_params(e->conn, sql.data, 3, params, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	pt_buf_free(&list);
	if (res == NULL)
		return false;
	ok = PQgetisnull(res, 0, 0);
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "table \"%s\".\"%s\" has no column %s in any version the event store knows",
				   e->s.schema_name, e->s.table_name, PQgetvalue(res, 0, 0));
		pt_err_hint(err, "name its columns as the source does: SELECT columns FROM %s.schemas WHERE table_name = '%s'",
					e->qschema, e->s.table_name);
	}
	PQclear(res);
	return ok;
}

/* The ids of the events in scope, in order, into *ids (malloc'd; the caller frees). */
static bool
find_ids(eraser *e, int64_t **ids, int *n, pt_err *err)
{
	char		id[24];
	const char *params[3] = {e->s.schema_name, e->s.table_name,
	e->s.kind == BY_KEY ? e->o->key : e->s.column};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	if (e->s.kind == BY_EVENT)
	{
		snprintf(id, sizeof(id), "%lld", (long long) e->s.event_id);
		params[0] = id;
		pt_buf_printf(&sql, "SELECT id FROM %s.events WHERE id = $1 AND (" ROW_OPS " OR op = 'message')",
					  e->qschema);
	}
	else if (e->s.kind == BY_COLUMN)
		pt_buf_printf(&sql, "SELECT id FROM %s.events WHERE schema_name = $1 AND table_name = $2 AND " ROW_OPS
					  " AND (key::jsonb ? $3 OR row::jsonb ? $3 OR old::jsonb ? $3) ORDER BY id", e->qschema);
	else
		pt_buf_printf(&sql, "SELECT id FROM %s.events, (SELECT jsonb_object_agg(k, v #>> '{}') AS want "
					  " FROM jsonb_each($3::jsonb) AS j(k, v)) w WHERE schema_name = $1 AND table_name = $2 AND "
					  ROW_OPS " AND (key::jsonb @> w.want OR old::jsonb @> w.want) ORDER BY id", e->qschema);
	res = pt_pq_exec_params(e->conn, sql.data, e->s.kind == BY_EVENT ? 1 : 3, params, PGRES_TUPLES_OK,
							PT_PQ_ANY, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*n = PQntuples(res);
	*ids = pt_calloc((size_t) *n + 1, sizeof(int64_t));
	for (int i = 0; i < *n; i++)
		(*ids)[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	PQclear(res);
	return true;
}

/* ---- redacting ---- */

/* Is ev as its hash says, and sealed (format 2)? */
static bool
check_event(eraser *e, const pt_event *ev, pt_err *err)
{
	uint8_t		hash[PT_HASH_LEN];

	if (ev->seal == NULL)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld has no seal", (long long) ev->id);
		return fail_hint(err, "run pgtrail-verify --full: a format 2 store seals every event");
	}
	pt_chain_hash(e->chain, ev->prev_hash, ev, hash);
	if (memcmp(hash, ev->hash, PT_HASH_LEN) != 0)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld does not match its hash; nothing was erased", (long long) ev->id);
		return fail_hint(err, "the log was altered: run pgtrail-verify --full and investigate before erasing");
	}
	return true;
}

static void
keep_text(redaction *rd, int part, const pt_redacted *red)
{
	rd->text[part] = red->isnull[part] ? NULL : dup_span(red->text[part].data, red->text[part].len);
}

/* Did this redaction remove (part of) ev's key? */
static bool
key_erased(const pt_event *ev, const pt_redacted *red)
{
	return ev->key.ptr != NULL &&
		(red->isnull[0] || red->text[0].len != ev->key.len || memcmp(red->text[0].data, ev->key.ptr, ev->key.len) != 0);
}

static int
cmp_last(const void *a, const void *b)
{
	int64_t		x = ((const pt_due_last *) a)->id,
				y = ((const pt_due_last *) b)->id;

	return (x > y) - (x < y);
}

/*
 * With a Kafka sink, for the last event of a key: a tombstone owed when
 * the key went (or a truncate took the row since), else (not a delete) an
 * update with the row as it is now.
 */
static void
keep_due(eraser *e, redaction *rd, const pt_event *ev)
{
	pt_due_last want = {ev->id, false};
	const pt_due_last *last = e->kafka ?
		bsearch(&want, e->last, (size_t) e->nlast, sizeof(pt_due_last), cmp_last) : NULL;
	bool		gone = last != NULL && (key_erased(ev, &e->red) || last->truncated);

	memset(rd->due, 0, sizeof(rd->due));
	rd->owes = last != NULL && ev->key.ptr != NULL && (gone || (ev->op != PT_OP_DELETE && !e->red.isnull[1]));
	if (!rd->owes)
		return;
	rd->due[0] = dup_span(ev->schema_name.ptr, ev->schema_name.len);
	rd->due[1] = dup_span(ev->table_name.ptr, ev->table_name.len);
	rd->due[2] = dup_span(ev->key.ptr, ev->key.len);
	rd->due[3] = gone ? NULL : dup_span(e->red.text[1].data, e->red.text[1].len);
	rd->due_version = ev->schema_version;
}

static void
scope_json(const eraser *e, pt_buf *out);

/* The part filled so far as a record of its own (an erasure of many events is several erasure events). */
static void
finish_part(eraser *e)
{
	pt_buf		scope_text = PT_BUF_INIT;

	if (e->rec.nevents == 0)
		return;
	e->parts = pt_realloc(e->parts, (size_t) (e->nparts + 1) * sizeof(pt_buf));
	pt_buf_init(&e->parts[e->nparts]);
	scope_json(e, &scope_text);
	pt_record_finish(&e->rec, e->o->request, e->o->reason, scope_text.data, &e->parts[e->nparts++]);
	e->events += e->rec.nevents;
	e->values += e->rec.values;
	pt_record_free(&e->rec);
	pt_record_init(&e->rec);
	pt_buf_free(&scope_text);
}

/* ev redacted into the next slot of the chunk, and onto the record. */
static void
keep_redaction(eraser *e, const pt_event *ev)
{
	redaction  *rd = &e->chunk[e->nchunk++];
	uint8_t		seal[PT_SEAL_LEN], values[PT_HASH_LEN], redacted[PT_HASH_LEN];
	pt_text		items[64 * 3];
	pt_text	   *erased = e->red.erased.n <= 64 * 3 ? items : pt_calloc((size_t) e->red.erased.n, sizeof(pt_text));
	pt_event	after = *ev;

	if (ev->sealed)
		memcpy(values, ev->sealed, PT_HASH_LEN);
	else
		pt_chain_values(e->chain, ev, ev->seal, false, values);
	if (RAND_bytes(seal, PT_SEAL_LEN) != 1)
		abort();
	pt_redacted_apply(&e->red, &after, erased);
	pt_chain_values(e->chain, &after, seal, true, redacted);
	rd->id = ev->id;
	for (int p = 0; p < 3; p++)
		keep_text(rd, p, &e->red);
	keep_due(e, rd, ev);
	pt_hex_encode(seal, PT_SEAL_LEN, rd->seal);
	pt_hex_encode(values, PT_HASH_LEN, rd->sealed);
	pt_buf_init(&rd->erased);
	pt_buf_putc(&rd->erased, '[');
	for (int i = 0; i < e->red.erased.n; i++)
	{
		if (i)
			pt_buf_putc(&rd->erased, ',');
		pt_json_put_cstring(&rd->erased, e->red.erased.items[i]);
	}
	pt_buf_putc(&rd->erased, ']');
	pt_record_add(&e->rec, ev->id, &e->red.erased, e->red.values, redacted);
	if (e->rec.nevents == PART_EVENTS || e->rec.events.len >= PART_BYTES)
		finish_part(e);
	if (erased != items)
		free(erased);
}

static void
redaction_free(redaction *rd)
{
	for (int p = 0; p < 3; p++)
		free(rd->text[p]);
	for (int p = 0; p < 4; p++)
		free(rd->due[p]);
	pt_buf_free(&rd->erased);
}

static bool
write_due(eraser *e, const redaction *rd, pt_err *err)
{
	pt_event	ev;

	if (!rd->owes)
		return true;
	memset(&ev, 0, sizeof(ev));
	ev.id = rd->id;
	ev.schema_name = pt_text_c(rd->due[0]);
	ev.table_name = pt_text_c(rd->due[1]);
	ev.key = pt_text_c(rd->due[2]);
	ev.schema_version = rd->due_version;
	return pt_due_add(e->conn, e->o->schema, &ev, rd->due[3], err);
}

/* Write the chunk's redactions back (the reader is closed by now). */
static bool
write_chunk(eraser *e, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = true;

	pt_buf_printf(&sql, "UPDATE %s.events SET key = $2::json, row = $3::json, old = $4::json, "
				  "seal = decode($5, 'hex'), sealed = decode($6, 'hex'), "
				  "erased = ARRAY(SELECT json_array_elements_text($7::json)) WHERE id = $1", e->qschema);
	for (int i = 0; i < e->nchunk && ok; i++)
	{
		redaction  *rd = &e->chunk[i];
		char		id[24];
		const char *params[7] = {id, rd->text[0], rd->text[1], rd->text[2], rd->seal, rd->sealed, rd->erased.data};
		PGresult   *res;

		snprintf(id, sizeof(id), "%lld", (long long) rd->id);
		res = pt_pq_exec_params(e->conn, sql.data, 7, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
		ok = res != NULL && strcmp(PQcmdTuples(res), "1") == 0;
		if (res != NULL && !ok)
			pt_err_set(err, PT_ERR_RUNTIME, "event %lld vanished while it was being erased", (long long) rd->id);
		PQclear(res);
		ok = ok && write_due(e, rd, err);
	}
	for (int i = 0; i < e->nchunk; i++)
		redaction_free(&e->chunk[i]);
	e->nchunk = 0;
	pt_buf_free(&sql);
	return ok;
}

/* Read, check and redact ids[0..n), then write them back. */
static bool
erase_chunk(eraser *e, const int64_t *ids, int n, pt_err *err)
{
	pt_store_reader *reader = pt_store_reader_open_ids(e->conn, e->o->schema, ids, n, err);
	pt_event	ev;
	bool		done = false,
				ok = reader != NULL;

	while (ok && (ok = pt_store_reader_next(reader, &ev, &done, err)) && !done)
	{
		ok = check_event(e, &ev, err) &&
			pt_redact_event(&e->red, &ev, (const char *const *) &e->s.column, e->s.kind == BY_COLUMN, err);
		if (ok && e->red.values > 0)
			keep_redaction(e, &ev);
	}
	pt_store_reader_close(reader);
	if (!ok)
	{
		for (int i = 0; i < e->nchunk; i++)
			redaction_free(&e->chunk[i]);
		e->nchunk = 0;
		return false;
	}
	return write_chunk(e, err);
}

/* ---- the erasure event ---- */

static void
scope_json(const eraser *e, pt_buf *out)
{
	pt_buf		name = PT_BUF_INIT;

	if (e->s.kind == BY_EVENT)
	{
		pt_buf_puts(out, "{\"by\":\"event\"}");
		return;
	}
	pt_buf_printf(&name, "%s.%s", e->s.schema_name, e->s.table_name);
	pt_buf_printf(out, "{\"by\":\"%s\",\"table\":", e->s.kind == BY_KEY ? "key" : "column");
	pt_json_put_cstring(out, name.data);
	if (e->s.kind == BY_COLUMN)
	{
		pt_buf_puts(out, ",\"column\":");
		pt_json_put_cstring(out, e->s.column);
	}
	pt_buf_putc(out, '}');
	pt_buf_free(&name);
}

/* Who erases: --by, or the event store role. */
static bool
who(eraser *e, pt_buf *out, pt_err *err)
{
	PGresult   *res;

	if (e->o->by[0])
	{
		pt_buf_puts(out, e->o->by);
		return true;
	}
	if ((res = pt_pq_exec(e->conn, "SELECT session_user", PGRES_TUPLES_OK, 1, 1, err)) == NULL)
		return false;
	pt_buf_puts(out, PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* Part i as an erasure event after prev_hash (signed when a key is given). */
static bool
append_part(eraser *e, const pt_signing_key *key, int i, const uint8_t *prev_hash, const pt_buf *actor,
			int64_t now_us, pt_event *ev, pt_err *err)
{
	const pt_store_state *st = pt_store_writer_state(e->w);
	pt_buf		meta = PT_BUF_INIT;
	bool		ok;

	memset(ev, 0, sizeof(*ev));
	ok = key == NULL || pt_record_sign(key, prev_hash, &e->parts[i], &meta, err);
	if (ok)
	{
		ev->lsn = ev->commit_lsn = st->confirmed_lsn;
		ev->committed_at = now_us;	/* the same in every part: verify tells an erasure's parts so */
		ev->schema_name = pt_text_c(e->s.schema_name);
		ev->table_name = pt_text_c(e->s.table_name);
		ev->op = PT_OP_ERASURE;
		ev->row = (pt_text) {e->parts[i].data, e->parts[i].len};
		ev->actor = (pt_text) {actor->data, actor->len};
		ev->action = pt_text_c("erase");
		ev->metadata = key ? (pt_text) {meta.data, meta.len} : (pt_text) {NULL, 0};
		ok = pt_store_writer_add(e->w, ev, err);
	}
	pt_buf_free(&meta);
	return ok;
}

/*
 * The erasure events, one per part, and commit. What the erasure owes
 * Kafka (core/store_due.h) goes with its last part: the next ids are the
 * parts' (the lock holds the chain's end), and the writer COPYs from its
 * join on.
 */
static bool
append_erasure(eraser *e, const pt_signing_key *key, pt_erase_result *result, pt_err *err)
{
	const pt_store_state *st = pt_store_writer_state(e->w);
	pt_buf		actor = PT_BUF_INIT;
	uint8_t		prev[PT_HASH_LEN];
	int64_t		now_us = pt_now_us();
	pt_event	ev;
	bool		ok;

	memcpy(prev, st->last_hash, PT_HASH_LEN);
	ok = who(e, &actor, err) &&
		(!e->kafka || pt_due_assign(e->conn, e->o->schema, st->last_event_id + e->nparts, err)) &&
		pt_store_writer_join(e->w, err);
	for (int i = 0; ok && i < e->nparts; i++)
	{
		ok = append_part(e, key, i, prev, &actor, now_us, &ev, err);
		memcpy(prev, ev.hash, PT_HASH_LEN);
		if (i == 0)
			result->erasure_id = ev.id;
		result->erasure_last = ev.id;
	}
	ok = ok && pt_store_writer_commit(e->w, st->confirmed_lsn, err);
	pt_buf_free(&actor);
	return ok;
}

/* ---- the run ---- */

static bool
check_format(eraser *e, pt_err *err)
{
	int			version;

	if (!pt_store_format(e->conn, e->o->schema, &version, err))
		return false;
	if (version >= 2)
		return true;
	pt_err_set(err, PT_ERR_CONFIG, "the event store in schema \"%s\" is format version %d; erasure needs format 2",
			   e->o->schema, version);
	return fail_hint(err, "a format 1 chain hashes values in the clear, so a value cannot leave it without breaking "
					   "it; start capture on a new store schema ([sink] schema) to get format 2 (docs/OPERATIONS.md)");
}

static bool
erase_in_transaction(eraser *e, const pt_signing_key *key, pt_erase_result *result, pt_err *err)
{
	pt_buf		lock = PT_BUF_INIT;
	int64_t    *ids = NULL;
	int			n = 0;
	bool		ok;

	pt_buf_printf(&lock, "LOCK TABLE %s.events IN SHARE ROW EXCLUSIVE MODE", e->qschema);
	ok = pt_pq_command(e->conn, "BEGIN", err) && pt_pq_command(e->conn, lock.data, err) &&
		(e->w = pt_store_writer_new(e->conn, e->o->schema, e->o->slot, err)) != NULL &&
		(key == NULL || pt_store_writer_set_checkpoints(e->w, key, 1, 0, err)) &&
		pt_due_wanted(e->conn, e->o->schema, &e->kafka, err) && find_ids(e, &ids, &n, err) &&
		(!e->kafka || pt_due_last_of_keys(e->conn, e->o->schema, ids, n, &e->last, &e->nlast, err));
	pt_buf_free(&lock);
	for (int i = 0; ok && i < n; i += CHUNK)
		ok = erase_chunk(e, ids + i, n - i < CHUNK ? n - i : CHUNK, err);
	free(ids);
	finish_part(e);
	result->events = e->events;
	result->values = e->values;
	if (ok && e->values > 0)
		return append_erasure(e, key, result, err);
	PQclear(PQexec(e->conn, "ROLLBACK"));
	return ok;
}

bool
pt_erase_run(const pt_erase_opts *o, pt_log *log, pt_erase_result *result, pt_err *err)
{
	eraser		e;
	pt_signing_key *key = NULL;
	bool		ok;

	memset(&e, 0, sizeof(e));
	memset(result, 0, sizeof(*result));
	e.o = o;
	if (!parse_scope(o, &e.s, err) || (o->key[0] && !check_key(o->key, err)) ||
		(o->signing_key[0] && (key = pt_signing_key_load(o->signing_key, err)) == NULL))
	{
		scope_free(&e.s);
		return false;
	}
	pt_redacted_init(&e.red);
	pt_record_init(&e.rec);
	e.chain = pt_chain_new(0, NULL);
	ok = (e.conn = pt_pq_connect(o->events_dsn, "pgtrail-erase", err)) != NULL &&
		(e.qschema = pt_pq_ident(e.conn, o->schema, err)) != NULL && check_format(&e, err) &&
		(e.s.kind == BY_EVENT || (table_known(&e, err) && columns_known(&e, err))) &&
		erase_in_transaction(&e, key, result, err);
	if (ok && result->values == 0)
		pt_log_info(log, "nothing to erase: no value in scope is left in the event store");
	pt_store_writer_free(e.w);
	free(e.last);
	pt_chain_free(e.chain);
	pt_record_free(&e.rec);
	for (int i = 0; i < e.nparts; i++)
		pt_buf_free(&e.parts[i]);
	free(e.parts);
	pt_redacted_free(&e.red);
	scope_free(&e.s);
	PQfreemem(e.qschema);
	pt_pq_close(e.conn);
	pt_signing_key_free(key);
	return ok;
}
