/*
 * core/store.h — the event store: its tables, the batched writer, the reader.
 *
 * The store lives in one schema (default "pgtrail") of the sink database.
 * pt_store_install() creates or checks it (idempotent, versioned through the
 * meta table). The writer appends events with COPY inside one transaction
 * per batch and writes the state row (slot, confirmed LSN, last id, last
 * hash) in that same transaction, so a batch is in the table entirely or
 * not at all, and the chain position can never disagree with the table.
 * The reader streams events in id order through COPY TO STDOUT: one row in
 * memory at a time, however long the log.
 *
 * Connections passed in must come from pt_pq_connect() (which pins the
 * session settings the text forms depend on); they are borrowed, never
 * closed here.
 */
#ifndef PGTRAIL_CORE_STORE_H
#define PGTRAIL_CORE_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/checkpoint.h"
#include "core/err.h"
#include "core/event.h"
#include "core/lsn.h"

/* The newest format this pgtrail writes in a new store; it reads 1 and 2. */
#define PT_STORE_FORMAT_VERSION 2

typedef struct pt_store_state
{
	bool		found;			/* false: no state row yet (first start) */
	pt_lsn		confirmed_lsn;	/* source position fully in the store */
	int64_t		last_event_id;
	uint8_t		last_hash[PT_HASH_LEN];
} pt_store_state;

/* Create the schema and tables if missing; check the format version. */
bool		pt_store_install(PGconn *conn, const char *schema, pt_err *err);

/*
 * Create, if missing, the indexes replay's point queries (--as-of,
 * --history) use: they cost writes (measured: about 28 % of the writer's
 * throughput), so capture makes them only when [sink] point_query_indexes
 * is on. Point queries work without them, scanning the log.
 */
bool		pt_store_install_indexes(PGconn *conn, const char *schema, pt_err *err);

/* The store's format version (meta), 0 when it has none yet. */
bool		pt_store_format(PGconn *conn, const char *schema, int *version, pt_err *err);

/* Does the event table have format 2's columns (seal, sealed, erased)? */
bool		pt_store_has_seal(PGconn *conn, const char *schema, bool *has, pt_err *err);

/* Read the state row of a slot (state->found false when there is none). */
bool		pt_store_load_state(PGconn *conn, const char *schema, const char *slot,
								pt_store_state *state, pt_err *err);

/* ---- writer ---- */

typedef struct pt_store_writer pt_store_writer;

/*
 * A writer for slot's chain. Loads the state row, checks that the event
 * table ends where the state says it does, and positions the hash chain
 * there. Free with pt_store_writer_free (conn is borrowed).
 */
pt_store_writer *pt_store_writer_new(PGconn *conn, const char *schema, const char *slot, pt_err *err);
void		pt_store_writer_free(pt_store_writer *w);

/* Start a batch: BEGIN and COPY ... FROM STDIN. */
bool		pt_store_writer_begin(pt_store_writer *w, pt_err *err);

/*
 * [capture] withhold: "schema.table.column, ...", the columns whose values
 * never enter the log (core/withhold.h). PT_ERR_CONFIG when malformed or the
 * store is format 1.
 */
bool		pt_store_writer_withhold(pt_store_writer *w, const char *columns, pt_err *err);

/*
 * Keep each batch's seal key in the store until the batch commits, so a
 * batch written again after a crash gives its events the same seals and
 * hashes (core/store_seals.h): for capture with a sink that sends events
 * before their batch commits (Kafka).
 */
void		pt_store_writer_keep_seal_keys(pt_store_writer *w, bool on);

/*
 * Start a batch inside the caller's open transaction (pgtrail-erase: its
 * changes and the erasure event commit together); commit ends it as usual.
 */
bool		pt_store_writer_join(pt_store_writer *w, pt_err *err);

/*
 * Append one event to the batch. Sets ev->id, ev->prev_hash and ev->hash
 * (and, in a format 2 store, a fresh ev->seal)
 * (the chain is the writer's), formats the COPY row into a reused buffer and
 * sends it when the buffer is full. The event's spans are not kept.
 */
bool		pt_store_writer_add(pt_store_writer *w, pt_event *ev, pt_err *err);

/*
 * End the batch: finish COPY, write the state row with confirmed_lsn and the
 * chain's last id and hash, COMMIT. After true, everything added is durable.
 * After false, call pt_store_writer_abort.
 */
bool		pt_store_writer_commit(pt_store_writer *w, pt_lsn confirmed_lsn, pt_err *err);

/*
 * Record a new version of a table's column set, in the open batch: it
 * applies from the next event added, just before which the writer puts the
 * version's schema event into the chain and its row into the schemas table
 * (first_event_id: that next event; core/schema_event.h). columns and
 * details are JSON texts (details may be NULL); primary_key holds npk
 * column names. Everything is copied.
 */
bool		pt_store_writer_add_schema(pt_store_writer *w, const char *schema_name, const char *table_name,
									   int version, const char *columns, const char *const *primary_key,
									   int npk, const char *details, pt_err *err);

/*
 * Write checkpoints from now on: at a commit, when every_events events
 * (0: no count) or every_us microseconds (0: no timer) have passed since
 * the last one, a checkpoint of the chain's end goes into the checkpoints
 * table in the batch's own transaction, signed when key is not NULL (key
 * is borrowed and must outlive the writer).
 */
bool		pt_store_writer_set_checkpoints(pt_store_writer *w, const pt_signing_key *key,
											int64_t every_events, int64_t every_us, pt_err *err);

/* Checkpoint the last committed event now, unless it already is (at shutdown). */
bool		pt_store_writer_checkpoint(pt_store_writer *w, pt_err *err);

/* The checkpoint the last commit (or _checkpoint) wrote, or NULL. */
const pt_checkpoint *pt_store_writer_new_checkpoint(const pt_store_writer *w);

/*
 * Count a known loss (core/store_losses.h): in the open batch, added to the
 * losses table at its commit (and forgotten if it rolls back); outside a
 * batch, at once.
 */
bool		pt_store_writer_loss(pt_store_writer *w, const char *schema_name, const char *table_name,
								 const char *kind, const char *detail, int64_t count, pt_lsn lsn,
								 pt_err *err);

/* Roll the batch back and move the chain back to the last commit. */
void		pt_store_writer_abort(pt_store_writer *w);

/* The last committed position (id and hash) and events pending in the batch. */
const pt_store_state *pt_store_writer_state(const pt_store_writer *w);
int64_t		pt_store_writer_pending(const pt_store_writer *w);

/* ---- reader ---- */

typedef struct pt_store_reader pt_store_reader;

/* Stream the events with id > after_id in id order. Close with _close. */
pt_store_reader *pt_store_reader_open(PGconn *conn, const char *schema, int64_t after_id, pt_err *err);

/* The same over the events with these ids (in id order). */
pt_store_reader *pt_store_reader_open_ids(PGconn *conn, const char *schema, const int64_t *ids, int n,
										  pt_err *err);

/* The same over the events whose values were erased (sealed set), in id order. */
pt_store_reader *pt_store_reader_open_erased(PGconn *conn, const char *schema, pt_err *err);

/*
 * The next event, or *done = true at the end. The event's spans point into
 * the reader and stay valid until the next call. A row that cannot be
 * parsed is an error (kind PT_ERR_INTEGRITY), never skipped.
 */
bool		pt_store_reader_next(pt_store_reader *r, pt_event *ev, bool *done, pt_err *err);

/* Stop (cancelling the COPY if it has not ended) and free. */
void		pt_store_reader_close(pt_store_reader *r);

#endif
