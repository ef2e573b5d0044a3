/*
 * capture/capture.c — the capture loop (see capture.h).
 *
 * Connections: the sink (event store), the source for SQL checks (the same
 * connection when the store lives in the source), and the replication
 * stream. Batches: a sink transaction holds whole source transactions; it
 * is committed at a COMMIT once it has batch_size events or is
 * batch_interval_ms old, and only then is the slot confirmed up to that
 * commit's end. A source transaction of any size streams through: its rows
 * go on to the sink's COPY as they arrive, nothing is held in memory.
 */
#include "capture/capture.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/anchor.h"
#include "capture/context.h"
#include "capture/ddl.h"
#include "capture/decode.h"
#include "capture/losses.h"
#include "capture/publication.h"
#include "core/filter.h"
#include "capture/schema.h"
#include "capture/sink.h"
#include "capture/sink_kafka.h"
#include "capture/sink_table.h"
#include "capture/slot.h"
#include "capture/slot_claim.h"
#include "capture/snapshot.h"
#include "capture/stream.h"
#include "core/build.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pgcaps.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/utf8.h"
#include "core/wal2json.h"

#define MAX_SINKS 4

typedef struct capture
{
	const pt_capture_opts *opts;
	pt_log	   *log;
	volatile sig_atomic_t *stop;	/* set by SIGTERM/SIGINT (borrowed) */
	PGconn	   *sink_conn;
	PGconn	   *source_conn;	/* == sink_conn when the store is in the source */
	pt_stream  *stream;
	pt_sink		sinks[MAX_SINKS];
	int			nsinks;
	pt_decode  *decode;			/* wal2json or pgoutput into changes */
	pt_builder *builder;
	pt_filter  *filter;
	pt_schemas *schemas;
	pt_dbz_catalog dbz_catalog;	/* the Kafka sink's way to the source's catalog (debezium) */
	pt_ddl	   *ddl;			/* parses DDL capture's messages */
	pt_losses  *losses;			/* known losses, said and counted */
	int64_t		tables_checked_us;	/* when the catalog was last asked for lossy tables */

	/* the source transaction being read */
	bool		in_txn;
	bool		skip_txn;		/* already in the store (resent after a restart) */
	pt_txn		txn;
	pt_context	ctx;			/* application context of this transaction */
	pt_buf		message_row;	/* a message event's row JSON */
	bool		warned_bytea_message;	/* a message's content was not text */
	pt_w2j_change key_change;	/* a change given its version's key (with_known_key) */
	pt_w2j_column *key_items;
	int			key_cap;

	/* the open sink batch */
	bool		batch_open;
	int64_t		batch_events;
	int64_t		batch_started_us;
	int64_t		batch_commit_at;	/* source commit time of its last event */
	int64_t		source_polled_us;	/* --metrics: when the source's position was last asked */
	pt_lsn		batch_end;		/* end LSN of the last whole transaction in it */

	pt_lsn		stored;			/* everything up to here is in the store */
	char		origin_oid[16];	/* replication origin of the sink session, "" = none */
	int64_t		last_data_us;	/* when the stream last carried a change */
	bool		done;			/* endpos reached */
	int64_t		events_total;	/* added to batches */
	int64_t		events_committed;	/* in batches the sinks committed */
} capture;

/* ---- sinks ---- */

/*
 * Let the slot advance to lsn, but not past what a sink delivering in the
 * background (Kafka) has made durable: the slot is confirmed only up to
 * what every sink acknowledged.
 */
static void
confirm(capture *c, pt_lsn lsn)
{
	for (int i = 0; i < c->nsinks; i++)
	{
		if (c->sinks[i].ops->durable != NULL)
		{
			pt_lsn		durable = c->sinks[i].ops->durable(c->sinks[i].state, lsn);

			if (durable < lsn)
				lsn = durable;
		}
	}
	pt_stream_confirm(c->stream, lsn);
}

/* Serve the background sinks' callbacks; false on a delivery that failed for good. */
static bool
sinks_poll(capture *c, int timeout_ms, pt_err *err)
{
	for (int i = 0; i < c->nsinks; i++)
		if (c->sinks[i].ops->poll != NULL && !c->sinks[i].ops->poll(c->sinks[i].state, timeout_ms, err))
			return false;
	confirm(c, c->stored);
	return true;
}

static bool
sinks_busy(capture *c)
{
	for (int i = 0; i < c->nsinks; i++)
		if (c->sinks[i].ops->busy != NULL && c->sinks[i].ops->busy(c->sinks[i].state))
			return true;
	return false;
}

/* A checkpoint the event table just committed goes to the sinks that publish them. */
static bool
sinks_checkpoint(capture *c, pt_err *err)
{
	const pt_checkpoint *cp = pt_sink_table_new_checkpoint(&c->sinks[0]);

	for (int i = 1; cp != NULL && i < c->nsinks; i++)
		if (c->sinks[i].ops->checkpoint != NULL && !c->sinks[i].ops->checkpoint(c->sinks[i].state, cp, err))
			return false;
	return true;
}

static bool
batch_open(capture *c, pt_err *err)
{
	if (c->batch_open)
		return true;
	for (int i = 0; i < c->nsinks; i++)
		if (!c->sinks[i].ops->begin(c->sinks[i].state, err))
			return false;
	c->batch_open = true;
	c->batch_events = 0;
	c->batch_started_us = pt_monotonic_us();
	return true;
}

static bool
batch_add(capture *c, pt_event *ev, pt_err *err)
{
	if (!batch_open(c, err))
		return false;
	for (int i = 0; i < c->nsinks; i++)
		if (!c->sinks[i].ops->add(c->sinks[i].state, ev, err))
			return false;
	if (c->batch_events == 0)
		pt_metrics_pending(c->opts->metrics, ev->committed_at);
	c->batch_events++;
	c->events_total++;
	c->batch_commit_at = ev->committed_at;
	pt_metrics_event(c->opts->metrics, ev);
	return true;
}

/*
 * --metrics: positions (what is stored, how far the source is) and the
 * background sinks' figures. Cheap (atomic stores): called for every
 * message of the stream.
 */
static void
report(capture *c, pt_lsn source)
{
	pt_metrics *m = c->opts->metrics;

	if (m == NULL)
		return;
	pt_metrics_position(m, c->stored, source);
	for (int i = 0; i < c->nsinks; i++)
	{
		pt_kafka_figures figures;

		if (c->sinks[i].ops->figures == NULL)
			continue;
		c->sinks[i].ops->figures(c->sinks[i].state, &figures);
		pt_metrics_kafka(m, &figures);
	}
}

/* Commit the batch on every sink, then let the slot advance to its end. */
static bool
batch_commit(capture *c, pt_err *err)
{
	if (!c->batch_open)
		return true;
	for (int i = 0; i < c->nsinks; i++)
	{
		if (!c->sinks[i].ops->commit(c->sinks[i].state, c->batch_end, err))
		{
			pt_err_prefix(err, "%s", c->sinks[i].ops->name);
			return false;
		}
	}
	c->batch_open = false;
	c->events_committed += c->batch_events;
	c->stored = c->batch_end;
	confirm(c, c->batch_end);
	pt_metrics_batch(c->opts->metrics, c->batch_end, pt_monotonic_us() - c->batch_started_us, c->batch_commit_at);
	pt_log_debug(c->log, "committed %lld events up to %X/%X", (long long) c->batch_events,
				 (unsigned) (c->batch_end >> 32), (unsigned) c->batch_end);
	return sinks_checkpoint(c, err) && pt_stream_send_status(c->stream, false, err);
}

static void
batch_abort(capture *c)
{
	if (!c->batch_open)
		return;
	for (int i = 0; i < c->nsinks; i++)
		c->sinks[i].ops->abort(c->sinks[i].state);
	c->batch_open = false;
}

static bool
batch_due(const capture *c)
{
	return c->batch_open && (c->batch_events >= c->opts->batch_size ||
							 pt_monotonic_us() - c->batch_started_us >= (int64_t) c->opts->batch_interval_ms * 1000);
}

/* Heartbeats: logical messages capture writes on an idle source (see heartbeat()). */
#define HEARTBEAT_PREFIX "pgtrail.heartbeat"

/* ---- one change ---- */

static bool
on_begin(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	if (!pt_builder_begin(&c->txn, ch, err))
		return false;
	if (c->opts->has_endpos && ch->lsn > c->opts->endpos)
	{
		c->done = true;
		return true;
	}
	c->in_txn = true;
	pt_context_reset(&c->ctx);
	/* a transaction that ends where the store already is was captured before
	 * (pgoutput's Begin has no end: its commit record then starts before) */
	c->skip_txn = ch->has_nextlsn ? ch->nextlsn <= c->stored : ch->lsn < c->stored;
	return true;
}

static bool
on_commit(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	pt_lsn		end = ch->has_nextlsn ? ch->nextlsn : ch->lsn;

	c->in_txn = false;
	if (c->skip_txn)
		return true;
	if (c->batch_open)
	{
		c->batch_end = end;
		return !batch_due(c) || batch_commit(c, err);
	}
	/* nothing of it was captured: nothing to store, the slot may move on */
	c->stored = end;
	confirm(c, end);
	return true;
}

/* A new version of a table's column set goes to the sinks that keep them. */
static bool
record_version(capture *c, const pt_table_version *tv, const char *columns, const char *details, pt_err *err)
{
	PGconn	   *catalog;

	if (!batch_open(c, err))
		return false;
	for (int i = 0; i < c->nsinks; i++)
		if (c->sinks[i].ops->schema_version &&
			!c->sinks[i].ops->schema_version(c->sinks[i].state, tv->schema_name, tv->table_name, tv->version,
											 columns, (const char *const *) tv->pk, tv->npk, details, err))
			return false;
	/* the catalog is read outside the sink's open batch (which may be on the source) */
	catalog = pt_schemas_catalog(c->schemas, err);
	return catalog != NULL && pt_losses_version(c->losses, catalog, tv->schema_name, tv->table_name, tv->npk,
												 details, err);
}

/*
 * wal2json was seen (rarely, under DDL capture, right after CREATE TABLE)
 * to send an empty "pk" for a table whose primary key the version knows
 * (from the DDL event or the catalog). The key would then be lost from the
 * event: the version's key is used instead. A table without a primary key
 * is keyed by its replica identity index (docs/FORMAT.md), which wal2json
 * never names as "pk": its columns, read from the catalog, are the key, so
 * an INSERT has a key and an UPDATE's key is the new row's. A copy of the
 * change carries it; the copy's key list lives in the capture and is reused.
 */
static const pt_w2j_change *
with_known_key(capture *c, const pt_w2j_change *ch, const pt_table_version *tv)
{
	int			nkey = tv->npk > 0 ? tv->npk : tv->nident;
	char	  **key = tv->npk > 0 ? tv->pk : tv->ident;

	if ((ch->pk.present && ch->pk.count > 0) || nkey == 0 || ch->action == 'T')
		return ch;
	if (c->key_cap < nkey)
	{
		c->key_cap = nkey;
		c->key_items = pt_realloc(c->key_items, sizeof(pt_w2j_column) * (size_t) c->key_cap);
	}
	memset(c->key_items, 0, sizeof(pt_w2j_column) * (size_t) nkey);
	for (int i = 0; i < nkey; i++)
	{
		c->key_items[i].name.ptr = key[i];
		c->key_items[i].name.len = strlen(key[i]);
	}
	c->key_change = *ch;
	c->key_change.pk = (pt_w2j_columns) {c->key_items, nkey, true};
	return &c->key_change;
}

static bool
on_row(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	pt_event	ev;
	const pt_table_version *tv;
	const char *columns = NULL,
			   *details = NULL;
	bool		opened;

	if (c->skip_txn || !pt_filter_match(c->filter, ch->schema.ptr, ch->schema.len, ch->table.ptr, ch->table.len))
		return true;
	if (!pt_schemas_observe(c->schemas, &ch, &tv, &opened, &columns, &details, err))
		return false;
	if (opened && !record_version(c, tv, columns, details, err))
		return false;
	if ((ch->action == 'I' || ch->action == 'U') && !pt_decode_exact_values(c->decode) &&
		!pt_losses_row(c->losses, ch, err))
		return false;
	if (tv->nunsent_stored > 0 && !pt_losses_unsent(c->losses, ch, tv, err))
		return false;
	ch = with_known_key(c, ch, tv);
	if (!pt_builder_row_event(c->builder, &c->txn, ch, tv->event_names, tv->nevent, &ev, err))
		return false;
	ev.has_schema_version = true;
	ev.schema_version = tv->version;
	pt_context_apply(&c->ctx, &ev);
	return batch_add(c, &ev, err);
}

/*
 * A DDL capture message that is not what the event trigger writes (someone
 * else used the prefix): said, not stored, and never a reason to stop.
 */
static void
warn_not_ddl(capture *c, const pt_w2j_change *ch, const pt_err *bad)
{
	pt_lsn		lsn = ch->has_lsn ? ch->lsn : c->txn.commit_lsn;

	pt_log_warning(c->log, "logical message \"%s\" at %X/%X is not from pgtrail's DDL capture (%s); ignored",
				   ch->prefix.ptr, (unsigned) (lsn >> 32), (unsigned) lsn, bad->message);
}

/* The message's content after a valid seal; without one, warned about (false). */
static bool
unsealed(capture *c, const pt_w2j_change *ch, const char **body, size_t *body_len)
{
	pt_err		bad;

	if (pt_ddl_unseal(c->ddl, ch->content.ptr, ch->content.len, body, body_len))
		return true;
	pt_err_set(&bad, PT_ERR_INTEGRITY, "no valid seal");
	warn_not_ddl(c, ch, &bad);
	return false;
}

/*
 * A "pgtrail.ddl" message: a new schema version for each captured table it
 * describes (recorded first, so the ddl event is each version's first
 * event), then the ddl event itself, carrying the message as the server
 * wrote it. The event names the message's first table (or dropped table)
 * when that one is captured.
 */
static bool
on_ddl(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	pt_ddl_msg	m;
	pt_event	ev;
	pt_err		bad;
	const pt_ddl_table *head = NULL;
	const pt_table_version *tv;
	const char *body;
	size_t		body_len;

	if (!unsealed(c, ch, &body, &body_len))
		return true;
	if (!pt_ddl_parse(c->ddl, body, body_len, &m, &bad))
	{
		warn_not_ddl(c, ch, &bad);
		return true;
	}
	memset(&ev, 0, sizeof(ev));
	for (int i = 0; i < m.ntables; i++)
	{
		const pt_ddl_table *t = &m.tables[i];

		if (!pt_filter_match(c->filter, t->schema.ptr, t->schema.len, t->table.ptr, t->table.len))
			continue;
		pt_schemas_define(c->schemas, t->schema.ptr, t->table.ptr, t->oid, t->names, t->types, t->typeoids,
						  t->virtuals, t->storeds, t->ncols, t->pk, t->npk, &tv);
		pt_schemas_set_identity(c->schemas, t->schema.ptr, t->table.ptr, t->replident, t->ident, t->nident);
		if (!record_version(c, tv, pt_ddl_columns_json(c->ddl, t), t->details.ptr, err))
			return false;
		if (i == 0)
		{
			head = t;
			ev.has_schema_version = true;
			ev.schema_version = tv->version;
		}
	}
	if (m.ntables == 0 && m.ndropped > 0 &&
		pt_filter_match(c->filter, m.dropped[0].schema.ptr, m.dropped[0].schema.len,
						m.dropped[0].table.ptr, m.dropped[0].table.len))
		head = &m.dropped[0];
	ev.op = PT_OP_DDL;
	ev.lsn = ch->has_lsn ? ch->lsn : c->txn.commit_lsn;
	ev.commit_lsn = c->txn.commit_lsn;
	ev.has_xid = c->txn.has_xid;
	ev.xid = c->txn.xid;
	ev.committed_at = c->txn.committed_at;
	if (head)
	{
		ev.schema_name = head->schema;
		ev.table_name = head->table;
	}
	ev.row.ptr = body;
	ev.row.len = body_len;
	pt_context_apply(&c->ctx, &ev);
	return batch_add(c, &ev, err);
}

/*
 * A "pgtrail.row" message: one row of a table a DDL command rewrote, as a
 * snapshot event of the table's current version. The ddl event before it
 * says "rewrite": its snapshot events replace the table's content.
 * Tables that are not captured are skipped.
 */
static bool
on_ddl_row(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	pt_ddl_row	row;
	pt_event	ev;
	pt_err		bad;
	const pt_table_version *tv;
	const char *columns = NULL,
			   *details = NULL;
	bool		opened;
	const char *body;
	size_t		body_len;

	if (!unsealed(c, ch, &body, &body_len))
		return true;
	if (!pt_ddl_parse_row(c->ddl, body, body_len, &row, &bad))
	{
		warn_not_ddl(c, ch, &bad);
		return true;
	}
	if (!pt_filter_match(c->filter, row.schema.ptr, row.schema.len, row.table.ptr, row.table.len))
		return true;
	if (!pt_schemas_for_snapshot(c->schemas, row.schema.ptr, row.table.ptr, &tv, &opened,
								 &columns, &details, err))
		return false;
	if (opened && !record_version(c, tv, columns, details, err))
		return false;
	pt_ddl_row_event(c->ddl, c->builder, &c->txn, &row, tv, &ev);
	ev.lsn = ch->has_lsn ? ch->lsn : c->txn.commit_lsn;
	ev.has_schema_version = true;
	ev.schema_version = tv->version;
	pt_context_apply(&c->ctx, &ev);
	return batch_add(c, &ev, err);
}

/*
 * A message event's row: {"prefix":..,"content":..}. Content that is not
 * text (bytes that are not UTF-8: any client may write them) is kept
 * exactly, as PostgreSQL's bytea hex, and the row says so with
 * "encoding":"bytea" (docs/FORMAT.md).
 */
static void
message_row(capture *c, const pt_w2j_change *ch)
{
	bool		text = pt_utf8_is_text(ch->content.ptr, ch->content.len);

	pt_buf_reset(&c->message_row);
	pt_buf_puts(&c->message_row, "{\"prefix\":");
	pt_json_put_string(&c->message_row, ch->prefix.ptr, ch->prefix.len);
	pt_buf_puts(&c->message_row, ",\"content\":");
	if (text)
		pt_json_put_string(&c->message_row, ch->content.ptr, ch->content.len);
	else
		pt_json_put_bytea(&c->message_row, ch->content.ptr, ch->content.len);
	if (!text)
		pt_buf_puts(&c->message_row, ",\"encoding\":\"bytea\"");
	pt_buf_putc(&c->message_row, '}');
	if (!text && !c->warned_bytea_message)
		pt_log_warning(c->log, "logical message \"%s\" holds bytes that are not UTF-8 text; kept exactly as "
					   "bytea hex with \"encoding\":\"bytea\" (said once)", ch->prefix.ptr);
	c->warned_bytea_message |= !text;
}

/*
 * A logical message: context conventions update the context; any other
 * transactional message becomes a "message" event when [capture] messages
 * is on. Non-transactional messages belong to no transaction and no row:
 * they are not events, but said and counted as a loss.
 */
static bool
on_message(capture *c, const pt_w2j_change *ch, pt_err *err)
{
	bool		handled;
	pt_event	ev;

	if (!ch->transactional)
		return pt_losses_nontx_message(c->losses, ch->prefix.ptr, ch->has_lsn ? ch->lsn : 0, err);
	/* heartbeats (pgoutput sends them; wal2json drops them by prefix) */
	if (!c->in_txn || c->skip_txn || strcmp(ch->prefix.ptr, HEARTBEAT_PREFIX) == 0)
		return true;
	/* DDL capture's own: never context, never message events */
	if (strcmp(ch->prefix.ptr, PT_DDL_PREFIX) == 0)
		return !c->opts->ddl || on_ddl(c, ch, err);
	if (strcmp(ch->prefix.ptr, PT_DDL_ROW_PREFIX) == 0)
		return !c->opts->ddl || on_ddl_row(c, ch, err);
	pt_context_message(&c->ctx, ch->prefix.ptr, ch->content.ptr, ch->content.len, &handled, c->log);
	if (handled || !c->opts->messages)
		return true;
	memset(&ev, 0, sizeof(ev));
	ev.op = PT_OP_MESSAGE;
	ev.lsn = ch->has_lsn ? ch->lsn : c->txn.commit_lsn;
	ev.commit_lsn = c->txn.commit_lsn;
	ev.has_xid = c->txn.has_xid;
	ev.xid = c->txn.xid;
	ev.committed_at = c->txn.committed_at;
	message_row(c, ch);
	ev.row.ptr = c->message_row.data;
	ev.row.len = c->message_row.len;
	pt_context_apply(&c->ctx, &ev);
	return batch_add(c, &ev, err);
}

static bool
on_change(capture *c, const pt_w2j_change *ch, pt_lsn lsn, pt_err *err)
{
	switch (ch->action)
	{
		case 'B':
			return on_begin(c, ch, err);
		case 'C':
			return on_commit(c, ch, err);
		case 'I':
		case 'U':
		case 'D':
		case 'T':
			if (!c->in_txn)
				return pt_err_set(err, PT_ERR_RUNTIME, "row change outside a transaction at %X/%X",
								  (unsigned) (lsn >> 32), (unsigned) lsn);
			return on_row(c, ch, err);
		case 'M':
			return on_message(c, ch, err);
		default:
			return true;
	}
}

/* One message of the slot: a wal2json line, or a pgoutput message (none, one or several changes). */
static bool
on_line(capture *c, const char *data, size_t len, pt_lsn lsn, pt_err *err)
{
	const pt_w2j_change *changes;
	int			n;

	if (!pt_decode_message(c->decode, data, len, lsn, &changes, &n, err))
		return false;
	for (int i = 0; i < n; i++)
		if (!on_change(c, &changes[i], lsn, err))
			return false;
	return true;
}

/* ---- the loop ---- */

/*
 * An idle source: write a tiny transactional logical message, so WAL moves
 * past what the slot holds and the keepalive that follows can confirm it
 * (non-transactional messages were seen not to free WAL). wal2json drops it
 * by prefix (filter-msg-prefixes). Not while a sink batch holds the
 * connection, when the store lives in the source.
 */
static bool
heartbeat(capture *c, pt_err *err)
{
	PGresult   *res;

	if (c->opts->heartbeat_interval_ms <= 0 || c->batch_open ||
		pt_now_us() - c->last_data_us < (int64_t) c->opts->heartbeat_interval_ms * 1000)
		return true;
	c->last_data_us = pt_now_us();
	res = pt_pq_exec(c->source_conn, "SELECT pg_logical_emit_message(true, '" HEARTBEAT_PREFIX "', '')",
					 PGRES_TUPLES_OK, 1, 1, err);
	PQclear(res);
	pt_log_debug(c->log, "heartbeat");
	return res != NULL;
}

static bool source_position(capture *c, pt_err *err);

#define TABLES_CHECK_INTERVAL_US (30 * 1000000LL)

/*
 * Tables that lose changes (unlogged, no replica identity) show nothing in
 * the stream: the catalog is asked at start and then at the heartbeat's
 * pace (every 30 s when heartbeats are off), when no batch holds the
 * connection. Said once per table; a catalog that cannot be read is said,
 * not a reason to stop.
 */
static bool
check_tables(capture *c, bool now, pt_err *err)
{
	pt_err		bad;
	int64_t		every = c->opts->heartbeat_interval_ms > 0 ?
		(int64_t) c->opts->heartbeat_interval_ms * 1000 : TABLES_CHECK_INTERVAL_US;

	if (c->batch_open || (!now && pt_monotonic_us() - c->tables_checked_us < every))
		return true;
	c->tables_checked_us = pt_monotonic_us();
	if (pt_losses_check_tables(c->losses, c->source_conn, c->filter, &bad))
		return true;
	if (PQstatus(c->source_conn) != CONNECTION_OK)
	{
		*err = bad;
		return false;
	}
	pt_log_warning(c->log, "could not look for unlogged tables and tables without a replica identity: %s",
				   bad.message);
	return true;
}

/* Nothing open on our side: a keepalive's WAL end is safe to confirm. */
static bool
on_idle(capture *c, pt_lsn wal_end, pt_err *err)
{
	if (c->in_txn)
		return true;
	if (batch_due(c) && !batch_commit(c, err))
		return false;
	if (!c->batch_open && wal_end > c->stored)
	{
		c->stored = wal_end;
		confirm(c, wal_end);
	}
	if (c->opts->has_endpos && wal_end >= c->opts->endpos)
		c->done = true;
	return heartbeat(c, err) && check_tables(c, false, err);
}

static bool
stream_loop(capture *c, volatile sig_atomic_t *stop, pt_err *err)
{
	pt_stream_msg msg;

	while (!c->done && !(*stop && !c->in_txn))
	{
		int			timeout = c->batch_open && !c->in_txn ? 50 : 1000;

		if (!sinks_poll(c, 0, err))
			return false;
		if (sinks_busy(c))
		{
			/* Kafka is behind (brokers down?): leave the WAL in the slot, stay in touch */
			if (*stop)
				break;			/* the transaction half read is rolled back below */
			if (!sinks_poll(c, 100, err) || !pt_stream_send_status(c->stream, false, err) ||
				!source_position(c, err))
				return false;
			continue;
		}
		if (!pt_stream_next(c->stream, timeout, &msg, err))
			return false;
		if (msg.kind == PT_STREAM_END)
		{
			/* we did not ask for it: the server is going away (shutdown, failover) */
			batch_abort(c);
			pt_err_set(err, PT_ERR_RUNTIME, "the source ended the replication stream");
			snprintf(err->sqlstate, sizeof(err->sqlstate), "57P01");
			return false;
		}
		if (msg.kind == PT_STREAM_DATA)
		{
			c->last_data_us = pt_now_us();
			if (!on_line(c, msg.data, msg.len, msg.lsn, err))
				return false;
		}
		if (msg.kind == PT_STREAM_IDLE && !on_idle(c, msg.wal_end, err))
			return false;
		report(c, msg.wal_end);
		if (!source_position(c, err))
			return false;
	}
	if (c->in_txn)
		batch_abort(c);			/* only when the stream ended mid-transaction */
	return batch_commit(c, err);
}

/* ---- setup ---- */

/* DDL capture is off, but its event triggers (from an earlier run) still
 * write messages into WAL: say so, since they are ignored now. */
static void
warn_ddl_left_on(capture *c)
{
	pt_err		err;
	bool		installed = false;

	if (!pt_ddl_installed(c->source_conn, c->opts->schema, &installed, &err))
		pt_log_debug(c->log, "could not look for DDL capture's event triggers: %s", err.message);
	else if (installed)
	{
		pt_log_warning(c->log, "DDL capture is off, but its event triggers in schema \"%s\" are installed: "
					   "the DDL they record is ignored", c->opts->schema);
		pt_log_warning(c->log, "hint: run with --ddl on, or drop them: DROP EVENT TRIGGER %s_ddl_command_end, "
					   "%s_ddl_sql_drop, %s_ddl_table_rewrite", c->opts->schema, c->opts->schema, c->opts->schema);
	}
}

static bool
open_connections(capture *c, pt_err *err)
{
	const pt_capture_opts *o = c->opts;
	bool		separate_sink = o->sink_dsn && o->sink_dsn[0] && strcmp(o->sink_dsn, o->source_dsn) != 0;

	c->source_conn = pt_pq_connect(o->source_dsn, "pgtrail-capture", err);
	if (c->source_conn == NULL)
		return false;
	/* first of all, before the store is installed or the slot looked at: one capture per slot */
	if (!pt_slot_check_source(c->source_conn, err) || !pt_slot_lock(c->source_conn, o->slot, 5000, err))
		return false;
	c->sink_conn = separate_sink ? pt_pq_connect(o->sink_dsn, "pgtrail-capture", err) : c->source_conn;
	if (c->sink_conn == NULL)
		return false;
	if (!pt_store_install(c->sink_conn, o->schema, err) ||
		(o->point_query_indexes && !pt_store_install_indexes(c->sink_conn, o->schema, err)))
		return false;
	if (!pt_context_install(c->source_conn, o->schema, err))
	{
		pt_log_err(c->log, PT_LOG_WARNING, err);
		pt_log_warning(c->log, "capturing without %s.set_context(): changes will carry no actor", o->schema);
		pt_err_clear(err);
	}
	if (o->ddl && (!pt_ddl_install(c->source_conn, o->schema, err) ||
				   !pt_ddl_load_seal(c->ddl, c->source_conn, o->schema, err)))
		return false;
	if (!o->ddl)
		warn_ddl_left_on(c);
	c->stream = pt_stream_open(o->source_dsn, "pgtrail-capture", err);
	return c->stream != NULL;
}

/*
 * When the event store lives in the source, its writes would come back
 * through decoding. Tagging the sink session with a replication origin lets
 * wal2json's filter-origins drop them before they are decoded (measured
 * faster than decoding them and dropping them by table: bench/run_capture.sh).
 * It needs superuser or EXECUTE on pg_replication_origin_*; without it,
 * filter-tables (always on as well) does the job.
 */
/*
 * Each replication origin that was ever set up keeps one of the server's
 * replication states (max_replication_slots of them before 18,
 * max_active_replication_origins from 18) until it is dropped. An origin
 * "pgtrail_SLOT" whose slot is gone (dropped, or a store that moved to
 * another slot) would keep its state for ever, and after enough of them the
 * next capture could not set up its own. Dropped here, each on its own: one
 * in use (another capture starting on a slot it has not created yet)
 * refuses and is left alone.
 */
static void
reclaim_origins(capture *c, const char *keep)
{
	const char *params[1] = {keep};
	PGresult   *res;
	pt_err		err;

	res = pt_pq_exec_params(c->sink_conn, "SELECT roname FROM pg_replication_origin o "
							"WHERE roname LIKE 'pgtrail\\_%' AND roname <> $1 AND NOT EXISTS "
							"(SELECT 1 FROM pg_replication_slots s WHERE 'pgtrail_' || s.slot_name = o.roname)",
							1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, &err);
	if (res == NULL)
	{
		pt_log_debug(c->log, "could not look for stale replication origins: %s", err.message);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *name[1] = {PQgetvalue(res, i, 0)};
		PGresult   *drop = pt_pq_exec_params(c->sink_conn, "SELECT pg_replication_origin_drop($1)", 1, name,
											 PGRES_TUPLES_OK, 1, 1, &err);

		if (drop != NULL)
			pt_log_info(c->log, "dropped replication origin \"%s\": its slot is gone", name[0]);
		else
			pt_log_debug(c->log, "replication origin \"%s\" left: %s", name[0], err.message);
		PQclear(drop);
	}
	PQclear(res);
}

static void
setup_origin(capture *c)
{
	char		name[128];
	const char *params[1] = {name};
	PGresult   *res;
	pt_err		err;

	if (!c->opts->origin_filter || c->sink_conn != c->source_conn)
		return;
	snprintf(name, sizeof(name), "pgtrail_%s", c->opts->slot);
	reclaim_origins(c, name);
	res = pt_pq_exec_params(c->sink_conn, "SELECT coalesce(pg_replication_origin_oid($1), "
							"pg_replication_origin_create($1))::text", 1, params, PGRES_TUPLES_OK, 1, 1, &err);
	if (res != NULL)
	{
		snprintf(c->origin_oid, sizeof(c->origin_oid), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = pt_pq_exec_params(c->sink_conn, "SELECT pg_replication_origin_session_setup($1)", 1, params,
								PGRES_TUPLES_OK, 1, 1, &err);
	}
	if (res == NULL)
	{
		c->origin_oid[0] = '\0';
		if (strncmp(err.sqlstate, "53", 2) != 0)
		{
			pt_log_info(c->log, "own writes filtered by table, not by replication origin (%s)", err.message);
			return;
		}
		pt_log_warning(c->log, "own writes filtered by table, not by replication origin: %s", err.message);
		pt_log_warning(c->log, "hint: raise max_replication_slots (max_active_replication_origins from "
					   "PostgreSQL 18), or drop origins nothing uses: SELECT pg_replication_origin_drop(roname) "
					   "FROM pg_replication_origin");
		return;
	}
	PQclear(res);
	pt_log_debug(c->log, "own writes carry replication origin %s (%s)", name, c->origin_oid);
}

/* The source's catalog connection, for the Kafka sink's Debezium types. */
static PGconn *
source_catalog(void *ctx, pt_err *err)
{
	capture    *c = ctx;

	if (c->schemas == NULL)
		return pt_err_set(err, PT_ERR_RUNTIME, "internal error: the catalog is not open yet"), NULL;
	return pt_schemas_catalog(c->schemas, err);
}

/* The event table first: it numbers and hashes the events. */
static bool
open_sinks(capture *c, pt_err *err)
{
	if (!pt_sink_table_open(&c->sinks[0], c->sink_conn, c->opts->schema, c->opts->slot,
							&c->opts->checkpoints, err))
		return false;
	c->nsinks = 1;
	if (!pt_sink_table_withhold(&c->sinks[0], c->opts->withhold, err))
		return false;
	if (c->opts->kafka)
	{
		c->dbz_catalog = (pt_dbz_catalog) {source_catalog, c};
		if (!pt_sink_kafka_open(&c->sinks[1], &c->opts->kafka_opts, PQdb(c->source_conn), c->sink_conn,
								c->opts->schema, &c->dbz_catalog, c->stop, c->log, err))
			return false;
		c->nsinks = 2;
		pt_sink_table_keep_seal_keys(&c->sinks[0], true);
	}
	setup_origin(c);
	c->schemas = pt_schemas_new(c->sink_conn, c->opts->schema, c->opts->source_dsn, pt_pgcaps_of(c->source_conn),
								c->log, err);
	c->losses = pt_losses_new(c->log, c->opts->metrics, &c->sinks[0], c->sink_conn, c->opts->schema);
	return c->schemas != NULL && pt_losses_start(c->losses, err) && check_tables(c, true, err);
}

/* wal2json filter-tables syntax: backslash before . , * \ and spaces */
static char *
filter_tables_option(const char *schema)
{
	pt_buf		b = PT_BUF_INIT;

	for (const char *p = schema; *p; p++)
	{
		if (strchr(".,*\\ \t", *p))
			pt_buf_putc(&b, '\\');
		pt_buf_putc(&b, *p);
	}
	pt_buf_puts(&b, ".*");
	return b.data;
}

static bool
emit_snapshot_event(void *arg, pt_event *ev, pt_err *err)
{
	capture    *c = arg;
	const pt_table_version *tv;
	const char *columns = NULL,
			   *details = NULL;
	bool		opened;

	if (!pt_schemas_for_snapshot(c->schemas, ev->schema_name.ptr, ev->table_name.ptr, &tv, &opened,
								 &columns, &details, err))
		return false;
	if (opened && !record_version(c, tv, columns, details, err))
		return false;
	ev->has_schema_version = true;
	ev->schema_version = tv->version;
	return batch_add(c, ev, err);
}

/* The hole a lost or vanished slot left, as an event in the chain. */
static bool
add_gap_event(capture *c, const char *why, pt_lsn consistent, pt_err *err)
{
	const pt_store_state *state = pt_sink_table_state(&c->sinks[0]);
	pt_buf		meta = PT_BUF_INIT;
	pt_event	ev;
	bool		ok;

	pt_buf_puts(&meta, "{\"reason\":");
	pt_json_put_cstring(&meta, why);
	pt_buf_printf(&meta, ",\"slot\":");
	pt_json_put_cstring(&meta, c->opts->slot);
	pt_buf_printf(&meta, ",\"last_captured_lsn\":\"%X/%X\",\"resumed_at_lsn\":\"%X/%X\"}",
				  (unsigned) (state->confirmed_lsn >> 32), (unsigned) state->confirmed_lsn,
				  (unsigned) (consistent >> 32), (unsigned) consistent);
	memset(&ev, 0, sizeof(ev));
	ev.op = PT_OP_GAP;
	ev.lsn = ev.commit_lsn = consistent;
	ev.committed_at = pt_now_us();
	ev.metadata.ptr = meta.data;
	ev.metadata.len = meta.len;
	ok = batch_add(c, &ev, err);
	pt_buf_free(&meta);
	return ok;
}

/* Sinks that deliver in the background send again what the slot had not confirmed. */
static bool
sinks_resume(capture *c, pt_lsn slot_confirmed, pt_err *err)
{
	for (int i = 1; i < c->nsinks; i++)
		if (c->sinks[i].ops->resume != NULL && !c->sinks[i].ops->resume(c->sinks[i].state, slot_confirmed, err))
			return false;
	return true;
}

/*
 * The first batch failed before its commit (a table capture may not read,
 * say): nothing refers to the slot just created, and its snapshot cannot be
 * taken again. Dropping it lets the start after the fix begin afresh instead
 * of refusing a slot without a snapshot.
 */
static void
drop_new_slot(capture *c)
{
	pt_err		drop_err;

	batch_abort(c);
	if (pt_slot_drop(c->source_conn, c->opts->slot, &drop_err))
		pt_log_info(c->log, "dropped the new replication slot \"%s\": its first batch failed", c->opts->slot);
	else
		pt_log_warning(c->log, "%s (drop it before the next start)", drop_err.message);
}

/*
 * The first sink transaction on a new slot: the gap event (--resnapshot),
 * the snapshot's rows (when asked for), and the state row, so that the
 * store remembers the slot even with nothing copied. It goes to the event
 * table alone; the other sinks (Kafka) get it from the table once it is
 * committed. A snapshot that fails half-way must reach nobody: the next one
 * comes from a new slot, at another point, and numbers other rows the same.
 */
static bool
first_batch(capture *c, const char *snapshot, pt_lsn consistent, const char *gap, pt_err *err)
{
	int64_t		rows = 0;
	bool		copy = gap != NULL || c->opts->snapshot == PT_SNAPSHOT_INITIAL;
	int			nsinks = c->nsinks;
	bool		ok;

	c->stored = consistent;
	c->nsinks = 1;
	if (!batch_open(c, err))
	{
		c->nsinks = nsinks;
		return false;
	}
	if ((gap && !add_gap_event(c, gap, consistent, err)) ||
		(copy && !pt_snapshot_copy(c->opts->source_dsn, snapshot, consistent, c->filter,
								   emit_snapshot_event, c, c->log, c->opts->metrics, &rows, err)))
	{
		drop_new_slot(c);
		c->nsinks = nsinks;
		return false;
	}
	c->batch_end = consistent;
	ok = batch_commit(c, err);
	c->nsinks = nsinks;
	if (!ok)
		return false;
	if (copy)
		pt_log_info(c->log, "snapshot: %lld rows", (long long) rows);
	/* the batch's events, then its checkpoint (if it made one) */
	return sinks_resume(c, consistent, err) && sinks_checkpoint(c, err);
}

/* --resnapshot: only to recover from a lost or vanished slot. */
static bool
check_resnapshot(capture *c, const pt_slot_info *info, const char **gap, pt_err *err)
{
	const pt_capture_opts *o = c->opts;
	bool		lost = info->exists && strcmp(info->wal_status, "lost") == 0;

	if (!pt_sink_table_state(&c->sinks[0])->found || (info->exists && !lost))
	{
		pt_err_set(err, PT_ERR_CONFIG, "--resnapshot is for a lost or vanished slot, and slot \"%s\" %s",
				   o->slot, info->exists ? "is healthy" : "was never captured from");
		pt_err_hint(err, "run without --resnapshot");
		return false;
	}
	*gap = lost ? "replication slot was lost: the server removed WAL it still needed" :
		"replication slot vanished (failover, or it was dropped)";
	pt_log_warning(c->log, "%s; recording a gap event and copying the tables anew", *gap);
	return !lost || pt_slot_drop(c->source_conn, o->slot, err);
}

/* At a clean stop: the last checkpoint, everything delivered, the slot told. */
static bool
sinks_finish(capture *c, volatile sig_atomic_t *stop, pt_err *err)
{
	if (!pt_sink_table_checkpoint(&c->sinks[0], err) || !sinks_checkpoint(c, err))
		return false;
	for (int i = 1; i < c->nsinks; i++)
		if (c->sinks[i].ops->drain != NULL && !c->sinks[i].ops->drain(c->sinks[i].state, stop, err))
			return false;
	confirm(c, c->stored);
	return true;
}

/*
 * The slot exists, but the store has no state for it: no snapshot from it
 * and no event of it was ever committed (with no state row, the store's
 * event table is empty: pt_store_writer_new refuses one that is not). Its
 * exported snapshot is gone with the session that created it. If capture
 * created it (the store's claim, and the slot has not moved since), it was
 * a first start that died before its snapshot was committed: drop it and
 * start over. Otherwise the operator decides.
 */
static bool
start_over(capture *c, pt_slot_info *info, pt_err *err)
{
	const char *slot = c->opts->slot;
	bool		ours;

	if (!pt_slot_claim_matches(c->sink_conn, c->opts->schema, slot, info, 0, &ours, err))
		return false;
	if (!ours)
	{
		pt_err_set(err, PT_ERR_CONFIG, "replication slot \"%s\" exists but the event store has no "
				   "snapshot taken from it", slot);
		pt_err_detail(err, "the slot was not created by pgtrail-capture for this event store, and the snapshot "
					  "exported when a slot is created cannot be taken again later");
		pt_err_hint(err, "drop the slot (SELECT pg_drop_replication_slot('%s')) to start over with a snapshot, "
					"or run with --snapshot never to capture from the slot's position on", slot);
		return false;
	}
	pt_log_warning(c->log, "replication slot \"%s\" was created by a capture that stopped before its snapshot "
				   "was committed; dropping it and starting over with a new slot and snapshot", slot);
	if (!pt_slot_drop(c->source_conn, slot, err))
		return false;
	info->exists = false;
	return true;
}

/*
 * The store has state, and the slot is one capture created after the
 * store's last position and never used: a --resnapshot (after a lost or
 * vanished slot) died before its gap event and snapshot were committed.
 * Resuming from it would jump from the store's position to the new slot's
 * without a gap event, silently. With --resnapshot again, the unused slot
 * is dropped and the recovery starts over (the slot then counts as
 * vanished); without, capture refuses.
 */
static bool
check_unfinished_resnapshot(capture *c, pt_slot_info *info, pt_err *err)
{
	const pt_store_state *state = pt_sink_table_state(&c->sinks[0]);
	const char *slot = c->opts->slot;
	bool		unfinished;

	if (!pt_slot_claim_matches(c->sink_conn, c->opts->schema, slot, info, state->confirmed_lsn,
							   &unfinished, err))
		return false;
	if (!unfinished)
		return true;
	if (!c->opts->resnapshot)
	{
		pt_err_set(err, PT_ERR_RUNTIME, "a --resnapshot of replication slot \"%s\" stopped before its snapshot "
				   "was committed", slot);
		pt_err_detail(err, "the event store has captured up to %X/%X; the slot was created anew later, and "
					  "the changes in between cannot be read any more", (unsigned) (state->confirmed_lsn >> 32),
					  (unsigned) state->confirmed_lsn);
		pt_err_hint(err, "run with --resnapshot again to record the hole as a gap event and copy the tables anew");
		return false;
	}
	pt_log_warning(c->log, "replication slot \"%s\" was created by a --resnapshot that stopped before its "
				   "snapshot was committed; dropping it and starting the recovery over", slot);
	if (!pt_slot_drop(c->source_conn, slot, err))
		return false;
	info->exists = false;
	return true;
}

/* Decide where to start: resume, create the slot, or refuse. */
static bool
find_start(capture *c, pt_lsn *start, pt_err *err)
{
	const pt_capture_opts *o = c->opts;
	const pt_store_state *state = pt_sink_table_state(&c->sinks[0]);
	pt_slot_info info;
	char	   *snapshot = NULL;
	bool		ok;

	const char *gap = NULL;

	if (!pt_slot_check_failover(c->source_conn, o->failover_slot, err) ||
		!pt_slot_lookup(c->source_conn, o->slot, &info, err) ||
		!pt_slot_wait_inactive(c->source_conn, o->slot, &info, 5000, err))
		return false;
	if (info.exists && state->found && !check_unfinished_resnapshot(c, &info, err))
		return false;
	if (o->resnapshot)
	{
		if (!check_resnapshot(c, &info, &gap, err))
			return false;
		info.exists = false;
	}
	else if (info.exists && !pt_slot_usable(o->slot, o->decoder, &info, err))
		return false;
	if (!info.exists && state->found && gap == NULL)
	{
		pt_err_set(err, PT_ERR_RUNTIME, "replication slot \"%s\" has vanished, but the event store "
				   "has captured from it up to %X/%X", o->slot,
				   (unsigned) (state->confirmed_lsn >> 32), (unsigned) state->confirmed_lsn);
		pt_err_detail(err, "changes since then cannot be read any more (failover, or the slot was dropped)");
		pt_err_hint(err, "restart with --resnapshot to record the hole as a gap event and copy the tables anew");
		return false;
	}
	if (info.exists && !state->found && o->snapshot == PT_SNAPSHOT_INITIAL &&
		!start_over(c, &info, err))
		return false;
	if (info.exists && o->failover_slot && !pt_slot_keep_failover(c->stream, o->slot, &info, c->log, err))
		return false;
	if (info.exists)
	{
		*start = state->found ? state->confirmed_lsn : info.confirmed_flush;
		c->stored = *start;
		pt_log_info(c->log, "resuming slot \"%s\" at %X/%X (event %lld)", o->slot,
					(unsigned) (*start >> 32), (unsigned) *start, (long long) state->last_event_id);
		return sinks_resume(c, info.confirmed_flush, err);
	}
	if (!pt_slot_claim(c->sink_conn, c->source_conn, o->schema, o->slot, err) ||
		!pt_slot_create(c->stream, o->slot, o->decoder, o->failover_slot, start, &snapshot, err))
		return false;
	pt_log_info(c->log, "created replication slot \"%s\" at %X/%X", o->slot,
				(unsigned) (*start >> 32), (unsigned) *start);
	if (!pt_slot_claim_created(c->sink_conn, o->schema, o->slot, *start, err))
	{
		free(snapshot);
		drop_new_slot(c);
		return false;
	}
	ok = first_batch(c, snapshot, *start, gap, err);
	free(snapshot);
	return ok;
}

/*
 * --metrics: where the source's WAL is, asked of the server: at start, so
 * lag is known before the first keepalive, then about once a second, so a
 * stream that stalls (a walsender stuck, a slow network) shows as lag. Not
 * while a batch holds the connection, when the store lives in the source.
 */
static bool
source_position(capture *c, pt_err *err)
{
	PGresult   *res;
	pt_lsn		source = 0;

	if (c->opts->metrics == NULL || (c->batch_open && c->sink_conn == c->source_conn) ||
		pt_monotonic_us() - c->source_polled_us < 1000000)
		return true;
	c->source_polled_us = pt_monotonic_us();
	res = pt_pq_exec(c->source_conn, "SELECT pg_current_wal_flush_lsn()::text", PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	if (pt_lsn_parse(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0), &source))
		pt_metrics_source_polled(c->opts->metrics, source);
	PQclear(res);
	return true;
}

/*
 * pgoutput: the newest protocol version the server speaks, without
 * streaming of transactions in progress and without two-phase (options
 * left off: whole transactions at commit, as wal2json gives them, in the
 * messages of version 1), text values, logical messages. The publication
 * must exist before the slot: pgoutput looks it up as of the WAL it
 * decodes.
 */
static bool
start_pgoutput(capture *c, pt_err *err)
{
	pt_lsn		start = 0;
	char	   *publication = pt_publication_option(c->opts->publication);
	char		proto[12];
	bool		stored_generated;
	const char *options[] = {
		"proto_version", proto, "publication_names", publication, "messages", "true", NULL
	};
	bool		ok;

	snprintf(proto, sizeof(proto), "%d", pt_pgcaps_of(c->source_conn).pgoutput_proto);
	ok = pt_publication_ensure(c->source_conn, c->opts->publication, c->filter, &stored_generated, c->log,
							   err);
	if (ok)
		pt_schemas_omitting(c->schemas, !stored_generated);
	ok = ok && find_start(c, &start, err) && source_position(c, err) &&
		pt_stream_start(c->stream, c->opts->slot, start, options, c->opts->status_interval_ms, err);

	free(publication);
	return ok;
}

/* wal2json: format-version 2 with what the event builder needs; the store and heartbeats filtered out. */
static bool
start_wal2json(capture *c, pt_err *err)
{
	pt_lsn		start = 0;
	char	   *filter = filter_tables_option(c->opts->schema);
	const char *options[] = {
		"format-version", "2", "include-xids", "1", "include-timestamp", "1", "include-lsn", "1",
		"include-pk", "1", "include-transaction", "1", "include-type-oids", "1", "include-typmod", "1",
		"include-not-null", "1",
		"filter-tables", filter, "filter-msg-prefixes", HEARTBEAT_PREFIX,
		c->origin_oid[0] ? "filter-origins" : NULL, c->origin_oid, NULL
	};
	bool		ok = find_start(c, &start, err) && source_position(c, err) &&
		pt_stream_start(c->stream, c->opts->slot, start, options, c->opts->status_interval_ms, err);

	free(filter);
	return ok;
}

static bool
start_stream(capture *c, pt_err *err)
{
	return strcmp(c->opts->decoder, "pgoutput") == 0 ? start_pgoutput(c, err) : start_wal2json(c, err);
}

static void
cleanup(capture *c)
{
	batch_abort(c);
	for (int i = 0; i < c->nsinks; i++)
		c->sinks[i].ops->close(c->sinks[i].state);
	pt_stream_close(c->stream);
	if (c->sink_conn != c->source_conn)
		pt_pq_close(c->sink_conn);
	pt_pq_close(c->source_conn);
	pt_decode_free(c->decode);
	pt_builder_free(c->builder);
	pt_filter_free(c->filter);
	pt_schemas_free(c->schemas);
	pt_ddl_free(c->ddl);
	pt_losses_free(c->losses);
	pt_context_free(&c->ctx);
	pt_buf_free(&c->message_row);
	free(c->key_items);
}

/*
 * One connected session: from connecting to stopping, or to an error.
 * *events grows by the events the sinks committed (not those only read:
 * a sink that fails every commit makes no progress).
 */
static bool
run_session(const pt_capture_opts *opts, pt_log *log, volatile sig_atomic_t *stop,
			int64_t *events, bool *started, pt_err *err)
{
	capture		c;
	bool		ok;

	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.log = log;
	c.stop = stop;
	c.decode = pt_decode_new(opts->decoder, &c.schemas);
	c.builder = pt_builder_new();
	c.ddl = pt_ddl_new();
	pt_context_init(&c.ctx);
	pt_buf_init(&c.message_row);
	c.filter = pt_filter_new(opts->tables, opts->exclude_tables, opts->schema, err);
	ok = c.filter != NULL && open_connections(&c, err) && open_sinks(&c, err) &&
		start_stream(&c, err);
	if (ok)
	{
		*started = true;
		pt_metrics_streaming(opts->metrics, true);
		ok = stream_loop(&c, stop, err);
		pt_metrics_streaming(opts->metrics, false);
	}
	if (ok)
	{
		pt_log_info(log, "stopped after %lld events; slot \"%s\" confirmed up to %X/%X",
					(long long) c.events_total, opts->slot, (unsigned) (c.stored >> 32), (unsigned) c.stored);
		ok = sinks_finish(&c, stop, err) && pt_stream_stop(c.stream, err);
	}
	*events += c.events_committed;
	cleanup(&c);
	return ok;
}

/*
 * Worth another try, once capture has been running: the connection broke
 * (SQLSTATE class 08, which pt_pq also sets when libpq loses the socket),
 * the server is shutting down or out of resources, the slot is still
 * held by our own previous walsender, or pgtrail-erase appended to the
 * chain under the writer (40001, core/store_writer.c). At start-up every error is final
 * (a wrong password should not loop), and configuration and integrity
 * errors always are.
 */
static bool
retryable(const pt_err *err)
{
	return err->kind == PT_ERR_RUNTIME &&
		(strncmp(err->sqlstate, "08", 2) == 0 || strncmp(err->sqlstate, "57P", 3) == 0 ||
		 strncmp(err->sqlstate, "53", 2) == 0 || strcmp(err->sqlstate, PT_SQLSTATE_OBJECT_IN_USE) == 0 ||
		 strcmp(err->sqlstate, PT_SQLSTATE_SERIALIZATION) == 0);
}

/* Sleep up to ms, waking early when asked to stop. */
static void
backoff_sleep(int ms, volatile sig_atomic_t *stop)
{
	for (int slept = 0; slept < ms && !*stop; slept += 100)
	{
		struct timespec ts = {0, 100 * 1000000L};

		nanosleep(&ts, NULL);
	}
}

bool
pt_capture_run(const pt_capture_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_err *err)
{
	int			delay_ms = 500;
	int64_t		events = 0;
	bool		started = false;
	const char *anchor = opts->checkpoints.anchor_file;

	/* before anything is written (the store, the slot): a bad anchor file is a setting to fix */
	if (anchor != NULL && anchor[0] != '\0' && !pt_anchor_check(anchor, err))
		return false;
	for (;;)
	{
		int64_t		before = events;

		pt_err_clear(err);
		if (run_session(opts, log, stop, &events, &started, err))
			return true;
		if (*stop && strcmp(err->sqlstate, PT_SQLSTATE_QUERY_CANCELED) == 0 && err->kind == PT_ERR_RUNTIME)
		{
			/* a sink's wait gave up after stop_timeout_s: nothing was confirmed past it */
			pt_log_warning(log, "%s (asked to stop); nothing is lost: the slot was not confirmed past what "
						   "the event table and Kafka hold, the next start goes on from there", err->message);
			pt_err_clear(err);
			return true;
		}
		if (*stop || !started || !retryable(err))
			return false;
		/*
		 * It was working (a batch committed): start the backoff over. Events
		 * read but not committed do not count: a sink that fails every
		 * commit (its disk full, SQLSTATE 53100) would be retried every
		 * 0.5 s for ever.
		 */
		if (events > before)
			delay_ms = 500;
		pt_log_err(log, PT_LOG_WARNING, err);
		pt_metrics_reconnect(opts->metrics);
		pt_log_warning(log, "reconnecting in %.1f s; nothing is lost (the slot resends "
					   "everything after the last committed batch)", delay_ms / 1000.0);
		backoff_sleep(delay_ms, stop);
		if (*stop)
			return true;
		delay_ms = delay_ms * 2 > 30000 ? 30000 : delay_ms * 2;
	}
}
