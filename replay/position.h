/*
 * replay/position.h — replay's position, kept in the target itself.
 *
 * The target's own schema (default pgtrail_replay) holds, per event store,
 * the last event applied and its hash, written in the same target
 * transaction as the rows it covers: the next run continues exactly there
 * (and checks that the log still chains from that hash), so a target can
 * follow the source across runs. With --create-tables it also records the
 * schema version each replayed table is at, so later runs evolve it.
 *
 * With --jobs, a window's tables are also written by other connections,
 * each committing its tables in a transaction of its own with their own
 * positions (table_positions: every event of that target table up to
 * last_event_id is in the target). Until the main position passes them,
 * a run skips those tables' events up to there: a kill -9 between the
 * lanes' commits applies nothing twice.
 */
#ifndef PGTRAIL_REPLAY_POSITION_H
#define PGTRAIL_REPLAY_POSITION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"

#define PT_POSITION_TABLES_MAX 1024

typedef struct pt_position
{
	int64_t		event_id;		/* 0: nothing applied yet */
	uint8_t		hash[PT_HASH_LEN];
	char		tables[PT_POSITION_TABLES_MAX];	/* the --tables it covers ("" = every table) */
	bool		tables_known;	/* false: written by a replay that did not record them */
} pt_position;

/*
 * Take the target for store, for as long as conn lives (a session advisory
 * lock): *taken is false when another replay of the same store holds it.
 */
bool		pt_position_lock(PGconn *conn, const char *store, bool *taken, pt_err *err);

/* Create the schema and its tables if missing (idempotent; adds what older versions lack). */
bool		pt_position_install(PGconn *conn, const char *state_schema, pt_err *err);

/* The position for store (zeros when none). */
bool		pt_position_load(PGconn *conn, const char *state_schema, const char *store,
							 pt_position *pos, pt_err *err);

/* SQL that saves a position: parameters $1 store, $2 event id, $3 hash
 * (\x hex). The caller runs it inside the batch's transaction. */
char	   *pt_position_save_sql(PGconn *conn, const char *state_schema, pt_err *err);

/* Forget the position, table versions and table positions of store (--clean). */
bool		pt_position_reset(PGconn *conn, const char *state_schema, const char *store, pt_err *err);

/* The version a replayed table is at (0 = dropped / unknown). */
bool		pt_position_save_table(PGconn *conn, const char *state_schema, const char *store,
								   const char *schema, const char *table, int version, pt_err *err);

/* Every recorded table version of store; the caller PQclear()s the result
 * (columns: schema_name, table_name, version). */
PGresult   *pt_position_tables(PGconn *conn, const char *state_schema, const char *store, pt_err *err);

/* SQL that saves a table's own position (--jobs): $1 store, $2 schema, $3 table (in the target), $4 event id. */
char	   *pt_position_table_save_sql(PGconn *conn, const char *state_schema, pt_err *err);

/* The tables of store whose own position is past event `after`; the caller
 * PQclear()s the result (columns: schema_name, table_name, last_event_id). */
PGresult   *pt_position_table_positions(PGconn *conn, const char *state_schema, const char *store, int64_t after,
										pt_err *err);

#endif
