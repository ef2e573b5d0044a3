/*
 * core/store_writer.c — the batched event writer (see store.h).
 *
 * One batch = one sink transaction: BEGIN, COPY events FROM STDIN, the
 * state row, COMMIT. Rows are formatted into one reused buffer and sent in
 * chunks, so adding an event allocates nothing once the buffer has grown.
 * The hash chain belongs to the writer: it numbers the events and links
 * them, and on abort it steps back to the last committed position.
 */
#include "core/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/clock.h"
#include "core/copytext.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/store_losses.h"
#include "core/store_seals.h"
#include "core/withhold.h"
#include "core/erasure.h"
#include "core/pq.h"
#include "core/schema_event.h"

/*
 * Rows go to the server in small chunks so that it parses one while we
 * format the next: with 256 KB chunks the two took turns and the writer ran
 * at 0.68 of plain COPY; with 32 KB they overlap and it runs at 1.0
 * (bench/run.sh).
 */
#define SEND_CHUNK (32 * 1024)

struct pt_store_writer
{
	PGconn	   *conn;			/* borrowed */
	char	   *schema;
	char	   *slot;
	char	   *copy_sql;
	char	   *state_sql;
	char	   *begin_sql;		/* BEGIN, the table's lock, and where the state says the chain ends */
	char	   *schema_sql;
	pt_chain   *chain;
	pt_store_state committed;	/* position after the last COMMIT */
	int64_t		pending;
	bool		in_batch;
	bool		in_copy;
	pt_buf		rows;			/* COPY data not sent yet */
	pt_version_queue versions;	/* recorded in the batch, not yet in the chain */
	pt_event	last;			/* position and time of the last event added (no spans) */
	bool		batch_has_event;	/* the open batch has an event besides schema events */
	pt_lsn		last_commit_lsn;	/* of the last event added */
	pt_lsn		committed_commit_lsn;	/* of the last event committed */
	char	   *qschema;		/* quoted, for the losses table */
	pt_loss_queue losses;		/* counted in the batch, written at its commit */
	int			format;			/* the store's format version: 2 seals every event */
	pt_seals   *seals;			/* format 2: each batch's seal key (store_seals.h) */
	uint8_t		seal[PT_SEAL_LEN];	/* the seal of the event being added */
	pt_withhold *withhold;		/* [capture] withhold (withhold.h), NULL: none */

	/* checkpoints (pt_store_writer_set_checkpoints) */
	bool		checkpoints;
	const pt_signing_key *key;	/* borrowed; NULL: unsigned */
	int64_t		cp_every_events;
	int64_t		cp_every_us;
	char	   *cp_sql;
	int64_t		cp_last_id;		/* event id of the last checkpoint written */
	int64_t		cp_last_us;		/* when it was written */
	pt_checkpoint cp;			/* the one the last commit wrote */
	bool		cp_new;
};

static bool
check_table_end(pt_store_writer *w, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	int64_t		max_id;

	pt_buf_printf(&sql, "SELECT coalesce(max(id), 0) FROM %s.events", qschema);
	res = pt_pq_exec(w->conn, sql.data, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	max_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (max_id > 0 && !w->committed.found)
	{
		pt_err_set(err, PT_ERR_CONFIG, "event store in schema \"%s\" already holds the chain of another slot", w->schema);
		pt_err_detail(err, "one event store holds one hash chain, written from one slot; slot \"%s\" has no state there",
					  w->slot);
		pt_err_hint(err, "give slot \"%s\" its own event store with --schema, or use the slot that wrote this one",
					w->slot);
		return false;
	}
	if (max_id != w->committed.last_event_id)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event table ends at id %lld but the state of slot \"%s\" says %lld",
				   (long long) max_id, w->slot, (long long) w->committed.last_event_id);
		pt_err_hint(err, "another writer or a manual change touched %s.events; run pgtrail-verify", w->schema);
		return false;
	}
	return true;
}

/*
 * A batch is confirmed to the slot once its COMMIT returned: that COMMIT
 * must be durable. A server or role with synchronous_commit = off would
 * lose confirmed batches (and name anchored checkpoints the table lacks)
 * after a crash; raise it for this session. Other levels are kept.
 */
static bool write_versions(pt_store_writer *w, const pt_event *at, pt_lsn confirmed_lsn, pt_err *err);

static bool
durable_commits(PGconn *conn, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn, "SELECT set_config('synchronous_commit', 'on', false) "
								 "WHERE current_setting('synchronous_commit') = 'off'",
								 PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);

	PQclear(res);
	return res != NULL;
}

pt_store_writer *
pt_store_writer_new(PGconn *conn, const char *schema, const char *slot, pt_err *err)
{
	pt_store_writer *w = pt_calloc(1, sizeof(*w));
	char	   *qschema = NULL;
	char	   *literal;
	pt_buf		sql = PT_BUF_INIT;

	w->conn = conn;
	w->schema = pt_strdup(schema);
	w->slot = pt_strdup(slot);
	pt_buf_init(&w->rows);
	if ((qschema = pt_pq_ident(conn, schema, err)) == NULL || !durable_commits(conn, err) ||
		!pt_store_format(conn, schema, &w->format, err) ||
		!pt_store_load_state(conn, schema, slot, &w->committed, err) ||
		!check_table_end(w, qschema, err))
		goto error;
	pt_buf_printf(&sql, "COPY %s.events (id, lsn, commit_lsn, xid, committed_at, schema_name, "
				  "table_name, schema_version, op, key, row, old, unchanged, actor, action, "
				  "metadata, prev_hash, hash%s) FROM STDIN", qschema,
				  w->format >= 2 ? ", seal, sealed, erased" : "");
	w->copy_sql = sql.data;
	pt_buf_init(&sql);
	pt_buf_printf(&sql, "INSERT INTO %s.state AS s (slot, confirmed_lsn, last_event_id, last_hash, updated_at) "
				  "VALUES ($1, $2, $3, decode($4, 'hex'), now()) ON CONFLICT (slot) DO UPDATE SET "
				  "confirmed_lsn = excluded.confirmed_lsn, last_event_id = excluded.last_event_id, "
				  "last_hash = excluded.last_hash, updated_at = excluded.updated_at", qschema);
	w->state_sql = sql.data;
	pt_buf_init(&sql);
	if ((literal = PQescapeLiteral(conn, slot, strlen(slot))) == NULL)
	{
		pt_pq_error(conn, NULL, "could not quote the slot name", err);
		goto error;
	}
	pt_buf_printf(&sql, "BEGIN; LOCK TABLE %s.events IN ROW EXCLUSIVE MODE; "
				  "SELECT last_event_id FROM %s.state WHERE slot = %s", qschema, qschema, literal);
	PQfreemem(literal);
	w->begin_sql = sql.data;
	pt_buf_init(&sql);
	pt_buf_printf(&sql, "INSERT INTO %s.schemas (schema_name, table_name, version, columns, primary_key, "
				  "first_event_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7)", qschema);
	w->schema_sql = sql.data;
	if ((w->seals = pt_seals_new(conn, qschema, slot, err)) == NULL)
		goto error;
	w->chain = pt_chain_new(w->committed.last_event_id,
							w->committed.found ? w->committed.last_hash : NULL);
	w->qschema = pt_strdup(qschema);
	PQfreemem(qschema);
	return w;

error:
	PQfreemem(qschema);
	pt_store_writer_free(w);
	return NULL;
}

void
pt_store_writer_free(pt_store_writer *w)
{
	if (w == NULL)
		return;
	if (w->in_batch)
		pt_store_writer_abort(w);
	free(w->schema);
	free(w->slot);
	free(w->copy_sql);
	free(w->state_sql);
	free(w->begin_sql);
	free(w->schema_sql);
	free(w->cp_sql);
	free(w->qschema);
	pt_loss_queue_free(&w->losses);
	pt_chain_free(w->chain);
	pt_seals_free(w->seals);
	pt_withhold_free(w->withhold);
	pt_buf_free(&w->rows);
	pt_version_queue_free(&w->versions);
	free(w);
}

/* COPY ... FROM STDIN, in the open transaction. */
static bool
start_copy(pt_store_writer *w, pt_err *err)
{
	PGresult   *res;

	w->in_batch = true;
	res = pt_pq_exec(w->conn, w->copy_sql, PGRES_COPY_IN, PT_PQ_ANY, PT_PQ_ANY, err);
	if (res == NULL)
		return false;
	PQclear(res);
	w->in_copy = true;
	w->pending = 0;
	w->batch_has_event = false;
	pt_buf_reset(&w->rows);
	return true;
}

/*
 * The chain moved on under the writer: pgtrail-erase appended an erasure
 * event (erase/erase.h). Nothing of the batch is in; the writer must start
 * again from the store's state, which a new session does: a retryable
 * error, not a broken store (were it one, the new session's check of the
 * table's end says so).
 */
static void
moved_on_to(pt_err *err, int64_t last)
{
	pt_err_set(err, PT_ERR_RUNTIME, "the event table moved on under capture: another writer (pgtrail-erase) "
			   "appended to the chain%s", last ? "" : " (or the state row is gone)");
	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_SERIALIZATION);
}

/* An event id taken already: the same, found by the COPY (a writer that did not begin here). */
static void
moved_on(pt_err *err)
{
	if (strcmp(err->sqlstate, PT_SQLSTATE_UNIQUE_VIOLATION) == 0)
		moved_on_to(err, 1);
}

/*
 * Start a batch only where the chain ends: pgtrail-erase may have appended
 * an erasure event since our last commit (erase/erase.h). The lock waits
 * for an erasure in progress; a chain that moved on is a retryable error
 * before any event of the batch went anywhere (Kafka included).
 */
bool
pt_store_writer_begin(pt_store_writer *w, pt_err *err)
{
	PGresult   *res;
	int64_t		last = 0;

	if (w->format >= 2 && !pt_seals_batch(w->seals, w->committed.last_event_id + 1, err))
		return false;
	res = pt_pq_exec(w->conn, w->begin_sql, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
	{
		PQclear(PQexec(w->conn, "ROLLBACK"));
		return false;
	}
	if (PQntuples(res) == 1)
		last = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	w->in_batch = true;
	if (last != w->committed.last_event_id)
	{
		moved_on_to(err, last);
		return false;
	}
	return start_copy(w, err);
}

bool
pt_store_writer_join(pt_store_writer *w, pt_err *err)
{
	pt_seals_random(w->seals);
	return start_copy(w, err);
}

static bool
send_rows(pt_store_writer *w, pt_err *err)
{
	if (w->rows.len == 0)
		return true;
	if (PQputCopyData(w->conn, w->rows.data, (int) w->rows.len) != 1)
		return pt_pq_error(w->conn, NULL, "could not send events", err);
	pt_buf_reset(&w->rows);
	return true;
}

static void
put_int_field(pt_buf *b, bool present, int64_t v)
{
	if (present)
		pt_buf_put_i64(b, v);
	else
		pt_copy_put_null(b);
	pt_buf_putc(b, '\t');
}

static void
put_hash(pt_buf *b, const uint8_t *hash)
{
	char		hex[2 * PT_HASH_LEN + 1];

	pt_hex_encode(hash, PT_HASH_LEN, hex);
	pt_buf_append(b, "\\\\x", 3);
	pt_buf_append(b, hex, 2 * PT_HASH_LEN);
}

/* Format 2: ev's seal (store_seals.h), valid until the next event. */
static void
seal_event(pt_store_writer *w, pt_event *ev)
{
	ev->seal = NULL;
	ev->sealed = NULL;
	if (w->format < 2)
		return;
	memcpy(w->seal, pt_seals_of(w->seals, pt_chain_last_id(w->chain) + 1), PT_SEAL_LEN);
	ev->seal = w->seal;
}

/* [capture] withhold: the values of withheld columns leave ev before it is hashed (withhold.h). */
static bool
withhold_event(pt_store_writer *w, pt_event *ev, pt_err *err)
{
	ev->id = pt_chain_last_id(w->chain) + 1;
	/* its second seal: the same key, the id negated (never an event's own) */
	return pt_withhold_event(w->withhold, w->chain, ev, pt_seals_of(w->seals, -ev->id), err);
}

/* Format 2's seal, sealed and erased ([capture] withhold gives an event the last two). */
static void
put_seal(pt_buf *b, const pt_event *ev)
{
	char		hex[2 * PT_HASH_LEN + 1];

	pt_buf_putc(b, '\t');
	pt_hex_encode(ev->seal, PT_SEAL_LEN, hex);
	pt_buf_append(b, "\\\\x", 3);
	pt_buf_append(b, hex, 2 * PT_SEAL_LEN);
	pt_buf_putc(b, '\t');
	if (ev->sealed)
		put_hash(b, ev->sealed);
	else
		pt_copy_put_null(b);
	pt_buf_putc(b, '\t');
	pt_copy_put_text_array(b, ev->erased, ev->nerased);
}

static void
format_row(pt_buf *b, const pt_event *ev)
{
	char		tmp[PT_TIME_BUFLEN];
	int			n;

	put_int_field(b, true, ev->id);
	n = pt_lsn_format(ev->lsn, tmp);
	pt_buf_append(b, tmp, (size_t) n);
	pt_buf_putc(b, '\t');
	n = pt_lsn_format(ev->commit_lsn, tmp);
	pt_buf_append(b, tmp, (size_t) n);
	pt_buf_putc(b, '\t');
	put_int_field(b, ev->has_xid, ev->xid);
	n = pt_time_format(ev->committed_at, tmp);
	pt_buf_append(b, tmp, (size_t) n);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->schema_name);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->table_name);
	pt_buf_putc(b, '\t');
	put_int_field(b, ev->has_schema_version, ev->schema_version);
	pt_buf_puts(b, pt_op_name(ev->op));
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->key);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->row);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->old);
	pt_buf_putc(b, '\t');
	pt_copy_put_text_array(b, ev->unchanged, ev->nunchanged);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->actor);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->action);
	pt_buf_putc(b, '\t');
	pt_copy_put_text(b, ev->metadata);
	pt_buf_putc(b, '\t');
	put_hash(b, ev->prev_hash);
	pt_buf_putc(b, '\t');
	put_hash(b, ev->hash);
	if (ev->seal)
		put_seal(b, ev);
	pt_buf_putc(b, '\n');
}

bool
pt_store_writer_add(pt_store_writer *w, pt_event *ev, pt_err *err)
{
	if (!w->in_copy)
		return pt_err_set(err, PT_ERR_RUNTIME, "internal error: event added outside a batch");
	if (w->versions.n > 0 && !write_versions(w, ev, 0, err))
		return false;
	seal_event(w, ev);
	if (w->withhold != NULL && ev->seal != NULL && !withhold_event(w, ev, err))
		return false;
	pt_chain_append(w->chain, ev);
	w->last_commit_lsn = ev->commit_lsn;
	w->last.lsn = ev->lsn;
	w->last.commit_lsn = ev->commit_lsn;
	w->last.has_xid = ev->has_xid;
	w->last.xid = ev->xid;
	w->last.committed_at = ev->committed_at;
	w->batch_has_event = true;
	format_row(&w->rows, ev);
	w->pending++;
	return w->rows.len < SEND_CHUNK || send_rows(w, err);
}

static bool
end_copy(pt_store_writer *w, pt_err *err)
{
	PGresult   *res;

	if (!send_rows(w, err))
		return false;
	w->in_copy = false;
	if (PQputCopyEnd(w->conn, NULL) != 1)
		return pt_pq_error(w->conn, NULL, "could not end COPY of events", err);
	res = PQgetResult(w->conn);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		pt_pq_error(w->conn, res, "could not write events", err);
		moved_on(err);
		PQclear(res);
		while ((res = PQgetResult(w->conn)) != NULL)
			PQclear(res);
		return false;
	}
	PQclear(res);
	while ((res = PQgetResult(w->conn)) != NULL)
		PQclear(res);
	return true;
}

static bool
write_state(pt_store_writer *w, pt_lsn confirmed_lsn, pt_err *err)
{
	char		lsn[PT_LSN_BUFLEN];
	char		id[24];
	char		hash[2 * PT_HASH_LEN + 1];
	const char *params[4] = {w->slot, lsn, id, hash};
	PGresult   *res;

	pt_lsn_format(confirmed_lsn, lsn);
	snprintf(id, sizeof(id), "%lld", (long long) pt_chain_last_id(w->chain));
	pt_hex_encode(pt_chain_last_hash(w->chain), PT_HASH_LEN, hash);
	res = pt_pq_exec_params(w->conn, w->state_sql, 4, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(res);
	return res != NULL;
}

bool
pt_store_writer_add_schema(pt_store_writer *w, const char *schema_name, const char *table_name,
						   int version, const char *columns, const char *const *primary_key,
						   int npk, const char *details, pt_err *err)
{
	if (!w->in_batch)
		return pt_err_set(err, PT_ERR_RUNTIME, "internal error: schema version outside a batch");
	pt_version_queue_add(&w->versions, schema_name, table_name, version, columns, primary_key, npk, details);
	return true;
}

/* The schema event of a queued version, dated as the event it opens at. */
static void
add_schema_event(pt_store_writer *w, const pt_pending_version *pv, const pt_event *at)
{
	pt_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.lsn = at->lsn;
	ev.commit_lsn = at->commit_lsn;
	ev.has_xid = at->has_xid;
	ev.xid = at->xid;
	ev.committed_at = at->committed_at;
	ev.schema_name = pt_text_c(pv->schema_name);
	ev.table_name = pt_text_c(pv->table_name);
	ev.has_schema_version = true;
	ev.schema_version = pv->version;
	ev.op = PT_OP_SCHEMA;
	ev.row.ptr = pv->doc.data;
	ev.row.len = pv->doc.len;
	seal_event(w, &ev);
	pt_chain_append(w->chain, &ev);
	format_row(&w->rows, &ev);
	w->pending++;
}

/*
 * The erasure event naming the batch's events whose values were withheld
 * ([capture] withhold), dated as the batch's last event, signed with the
 * checkpoint key when there is one.
 */
static bool
add_withhold_erasure(pt_store_writer *w, pt_err *err)
{
	pt_buf		row = PT_BUF_INIT, meta = PT_BUF_INIT;
	pt_event	ev;
	bool		ok;

	memset(&ev, 0, sizeof(ev));
	pt_withhold_record(w->withhold, &row);
	ok = w->key == NULL || pt_record_sign(w->key, pt_chain_last_hash(w->chain), &row, &meta, err);
	if (ok)
	{
		ev.lsn = w->last.lsn;
		ev.commit_lsn = w->last.commit_lsn;
		ev.committed_at = w->last.committed_at;
		ev.op = PT_OP_ERASURE;
		ev.row = (pt_text) {row.data, row.len};
		ev.actor = pt_text_c("pgtrail-capture");
		ev.action = pt_text_c("withhold");
		ev.metadata = w->key ? (pt_text) {meta.data, meta.len} : (pt_text) {NULL, 0};
		seal_event(w, &ev);
		pt_chain_append(w->chain, &ev);
		format_row(&w->rows, &ev);
		w->pending++;
	}
	pt_buf_free(&row);
	pt_buf_free(&meta);
	return ok;
}

/* The schemas rows of the queued versions, opening at the next event. */
static bool
insert_versions(pt_store_writer *w, pt_err *err)
{
	char		ver[16];
	char		first[24];
	const char *params[7];
	PGresult   *res;

	snprintf(first, sizeof(first), "%lld", (long long) pt_chain_last_id(w->chain) + 1);
	for (int i = 0; i < w->versions.n; i++)
	{
		const pt_pending_version *pv = &w->versions.items[i];

		snprintf(ver, sizeof(ver), "%d", pv->version);
		params[0] = pv->schema_name;
		params[1] = pv->table_name;
		params[2] = ver;
		params[3] = pv->columns;
		params[4] = pv->primary_key;
		params[5] = first;
		params[6] = pv->details;
		res = pt_pq_exec_params(w->conn, w->schema_sql, 7, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
		PQclear(res);
		if (res == NULL)
			return false;
	}
	return true;
}

/*
 * Versions queued in the batch go into the chain just before the event
 * they open at (at: NULL at commit, when none followed: a snapshot of an
 * empty table; they are then dated as the batch's last event, part of its
 * transaction, or, in a batch of no event, at its confirmed LSN and now).
 * COPY is left for the schemas rows, in the same transaction, and taken
 * up again when an event follows.
 */
static bool
write_versions(pt_store_writer *w, const pt_event *at, pt_lsn confirmed_lsn, pt_err *err)
{
	pt_event	now;
	PGresult   *res;

	if (w->versions.n == 0)
		return true;
	if (at == NULL)
	{
		memset(&now, 0, sizeof(now));
		now.lsn = now.commit_lsn = confirmed_lsn;
		now.committed_at = pt_now_us();
		if (w->batch_has_event)
			now = w->last;
		at = &now;
	}
	for (int i = 0; i < w->versions.n; i++)
		add_schema_event(w, &w->versions.items[i], at);
	if (!end_copy(w, err) || !insert_versions(w, err))
		return false;
	pt_version_queue_clear(&w->versions);
	if (at == &now)
		return true;
	if ((res = pt_pq_exec(w->conn, w->copy_sql, PGRES_COPY_IN, PT_PQ_ANY, PT_PQ_ANY, err)) == NULL)
		return false;
	PQclear(res);
	w->in_copy = true;
	return true;
}

bool
pt_store_writer_set_checkpoints(pt_store_writer *w, const pt_signing_key *key, int64_t every_events,
								int64_t every_us, pt_err *err)
{
	char	   *qschema = pt_pq_ident(w->conn, w->schema, err);
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	if (qschema == NULL)
		return false;
	/* the last checkpoint, and the commit LSN of the last event (a checkpoint at it needs one) */
	pt_buf_printf(&sql, "SELECT coalesce(max(event_id), 0), (SELECT commit_lsn::text FROM %s.events "
				  "ORDER BY id DESC LIMIT 1) FROM %s.checkpoints", qschema, qschema);
	res = pt_pq_exec(w->conn, sql.data, PGRES_TUPLES_OK, 1, 2, err);
	pt_buf_reset(&sql);
	if (res != NULL)
	{
		const char *lsn = PQgetvalue(res, 0, 1);

		w->cp_last_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (!PQgetisnull(res, 0, 1))
			pt_lsn_parse(lsn, strlen(lsn), &w->last_commit_lsn);
		w->committed_commit_lsn = w->last_commit_lsn;
		PQclear(res);
		pt_buf_printf(&sql, "INSERT INTO %s.checkpoints (event_id, hash, lsn, created_at, signature, key_id) "
					  "VALUES ($1, decode($2, 'hex'), $3, $4, decode($5, 'hex'), $6)", qschema);
		free(w->cp_sql);
		w->cp_sql = sql.data;
		w->checkpoints = true;
		w->key = key;
		w->cp_every_events = every_events;
		w->cp_every_us = every_us;
		w->cp_last_us = pt_now_us();
	}
	else
		pt_buf_free(&sql);
	PQfreemem(qschema);
	return res != NULL;
}

/* Is a checkpoint due at the chain's end? */
static bool
checkpoint_due(const pt_store_writer *w, int64_t now_us)
{
	int64_t		since = pt_chain_last_id(w->chain) - w->cp_last_id;

	if (!w->checkpoints || since <= 0)
		return false;
	return (w->cp_every_events > 0 && since >= w->cp_every_events) ||
		(w->cp_every_us > 0 && now_us - w->cp_last_us >= w->cp_every_us);
}

/* INSERT a checkpoint at the chain's end, in the open transaction, into w->cp. */
static bool
write_checkpoint(pt_store_writer *w, int64_t now_us, pt_err *err)
{
	pt_checkpoint *cp = &w->cp;
	char		id[24], hash[2 * PT_HASH_LEN + 1], lsn[PT_LSN_BUFLEN], when[PT_TIME_BUFLEN];
	char		sig[2 * PT_SIG_LEN + 1];
	const char *params[6] = {id, hash, lsn, when, NULL, NULL};
	PGresult   *res;

	memset(cp, 0, sizeof(*cp));
	cp->event_id = pt_chain_last_id(w->chain);
	memcpy(cp->hash, pt_chain_last_hash(w->chain), PT_HASH_LEN);
	cp->lsn = w->last_commit_lsn;
	cp->created_at = now_us;
	if (w->key != NULL && !pt_checkpoint_sign(w->key, cp, err))
		return false;
	snprintf(id, sizeof(id), "%lld", (long long) cp->event_id);
	pt_hex_encode(cp->hash, PT_HASH_LEN, hash);
	pt_lsn_format(cp->lsn, lsn);
	pt_time_format(cp->created_at, when);
	if (cp->signed_)
	{
		pt_hex_encode(cp->signature, PT_SIG_LEN, sig);
		params[4] = sig;
		params[5] = cp->key_id;
	}
	res = pt_pq_exec_params(w->conn, w->cp_sql, 6, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(res);
	return res != NULL;
}

/* After a COMMIT that wrote w->cp (or not): move the checkpoint position. */
static void
checkpoint_committed(pt_store_writer *w, bool wrote)
{
	w->cp_new = wrote;
	if (wrote)
	{
		w->cp_last_id = w->cp.event_id;
		w->cp_last_us = w->cp.created_at;
	}
}

bool
pt_store_writer_commit(pt_store_writer *w, pt_lsn confirmed_lsn, pt_err *err)
{
	int64_t		now_us = pt_now_us();
	bool		cp_due;

	if (!w->in_batch)
		return pt_err_set(err, PT_ERR_RUNTIME, "internal error: commit outside a batch");
	cp_due = checkpoint_due(w, now_us);
	if ((w->withhold != NULL && pt_withhold_pending(w->withhold) && !add_withhold_erasure(w, err)) ||
		!write_versions(w, NULL, confirmed_lsn, err) || (w->in_copy && !end_copy(w, err)) ||
		!write_state(w, confirmed_lsn, err) || !pt_loss_queue_write(&w->losses, w->conn, w->qschema, err) ||
		!pt_seals_committing(w->seals, err) ||
		(cp_due && !write_checkpoint(w, now_us, err)) ||
		!pt_pq_command(w->conn, "COMMIT", err))
		return false;
	w->in_batch = false;
	w->pending = 0;
	w->committed.found = true;
	w->committed.confirmed_lsn = confirmed_lsn;
	w->committed.last_event_id = pt_chain_last_id(w->chain);
	memcpy(w->committed.last_hash, pt_chain_last_hash(w->chain), PT_HASH_LEN);
	w->committed_commit_lsn = w->last_commit_lsn;
	checkpoint_committed(w, cp_due);
	return true;
}

bool
pt_store_writer_checkpoint(pt_store_writer *w, pt_err *err)
{
	int64_t		now_us = pt_now_us();

	w->cp_new = false;
	if (!w->checkpoints || w->in_batch || w->committed.last_event_id <= w->cp_last_id)
		return true;
	if (!pt_pq_command(w->conn, "BEGIN", err))
		return false;
	if (!write_checkpoint(w, now_us, err) || !pt_pq_command(w->conn, "COMMIT", err))
	{
		PQclear(PQexec(w->conn, "ROLLBACK"));
		return false;
	}
	checkpoint_committed(w, true);
	return true;
}

const pt_checkpoint *
pt_store_writer_new_checkpoint(const pt_store_writer *w)
{
	return w->cp_new ? &w->cp : NULL;
}

void
pt_store_writer_abort(pt_store_writer *w)
{
	PGresult   *res;

	if (w->in_copy && PQstatus(w->conn) == CONNECTION_OK)
	{
		PQputCopyEnd(w->conn, "batch aborted by pgtrail");
		while ((res = PQgetResult(w->conn)) != NULL)
			PQclear(res);
	}
	if (w->in_batch && PQstatus(w->conn) == CONNECTION_OK)
	{
		res = PQexec(w->conn, "ROLLBACK");
		PQclear(res);
	}
	w->in_copy = w->in_batch = false;
	w->pending = 0;
	pt_version_queue_clear(&w->versions);
	pt_loss_queue_clear(&w->losses);
	if (w->withhold != NULL)
		pt_withhold_reset(w->withhold);
	w->last_commit_lsn = w->committed_commit_lsn;
	pt_buf_reset(&w->rows);
	pt_chain_reset(w->chain, w->committed.last_event_id,
				   w->committed.found ? w->committed.last_hash : NULL);
}

bool
pt_store_writer_loss(pt_store_writer *w, const char *schema_name, const char *table_name, const char *kind,
					 const char *detail, int64_t count, pt_lsn lsn, pt_err *err)
{
	pt_loss_queue_add(&w->losses, schema_name, table_name, kind, detail, count, lsn);
	return w->in_batch || pt_loss_queue_write(&w->losses, w->conn, w->qschema, err);
}

bool
pt_store_writer_withhold(pt_store_writer *w, const char *columns, pt_err *err)
{
	if (columns == NULL || columns[0] == '\0')
		return true;
	if (w->format < 2)
	{
		pt_err_set(err, PT_ERR_CONFIG, "[capture] withhold needs an event store of format 2; schema \"%s\" is "
				   "format %d", w->schema, w->format);
		pt_err_hint(err, "a format 1 chain hashes values in the clear: start capture on a new store schema ([sink] schema)");
		return false;
	}
	pt_withhold_free(w->withhold);
	return (w->withhold = pt_withhold_new(columns, err)) != NULL;
}

void
pt_store_writer_keep_seal_keys(pt_store_writer *w, bool on)
{
	pt_seals_keep(w->seals, on);
}

const pt_store_state *
pt_store_writer_state(const pt_store_writer *w)
{
	return &w->committed;
}

int64_t
pt_store_writer_pending(const pt_store_writer *w)
{
	return w->pending;
}
