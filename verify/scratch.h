/*
 * verify/scratch.h — the drift check's scratch database, where replay
 * rebuilds the log's state.
 *
 * Either a temporary database made in the source's cluster (named
 * pgtrail_drift_<pid>_<time>, reached with the source's conninfo with its
 * dbname replaced; needs CREATEDB) and dropped at the end, or a given
 * database that must hold no user relations and is emptied again at the
 * end (only what the run made there goes: schemas that were not there
 * before, tables, replay's state). Closing does this on every path; a
 * failure to clean up is a warning and a note in the report, never an
 * error, so the drift found stands.
 */
#ifndef PGTRAIL_VERIFY_SCRATCH_H
#define PGTRAIL_VERIFY_SCRATCH_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/log.h"
#include "verify/report.h"

/* The schema replay keeps its position in, in the scratch database. */
#define PT_SCRATCH_STATE_SCHEMA "pgtrail_replay"

typedef struct pt_scratch pt_scratch;

/*
 * Get the scratch database: given_dsn, checked empty, or when it is ""
 * a temporary database made on source (borrowed) in its cluster.
 * source_dsn and log are borrowed for the scratch's lifetime. *out is set
 * in any case, also on false (a database may have been made): close it
 * with pt_scratch_close in any case.
 */
bool		pt_scratch_open(PGconn *source, const char *source_dsn, const char *given_dsn, pt_log *log,
							pt_scratch **out, pt_err *err);

/* The connection to the scratch database (owned by scratch). */
PGconn	   *pt_scratch_conn(const pt_scratch *scratch);

/* Its conninfo, for replay (owned by scratch). */
const char *pt_scratch_dsn(const pt_scratch *scratch);

/*
 * The tables replay made there (plain tables and leaves, not its state's),
 * as rows of schema, name and oid ordered by schema and name. The caller
 * PQclears the result; NULL with err.
 */
PGresult   *pt_scratch_tables(pt_scratch *scratch, pt_err *err);

/*
 * Drop the temporary database (on *source, reconnected with source_dsn
 * when it broke: the caller still owns and closes *source) or empty the
 * given one, then free scratch. Accepts NULL.
 */
void		pt_scratch_close(pt_scratch *scratch, PGconn **source, pt_report *rep);

#endif
