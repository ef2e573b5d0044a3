/*
 * verify/checkpoints.h — the checks that hold even against someone who can
 * rewrite the whole event table: signed checkpoints, the anchor file, and
 * the state rows.
 *
 * A recomputed chain is internally valid; what gives it away is a
 * checkpoint it no longer passes through (and a signature that does not
 * verify if the checkpoint was rewritten too), or an anchored checkpoint
 * the table no longer holds (a cut tail, a rewritten history).
 */
#ifndef PGTRAIL_VERIFY_CHECKPOINTS_H
#define PGTRAIL_VERIFY_CHECKPOINTS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/checkpoint.h"
#include "core/err.h"
#include "verify/report.h"

/* The checkpoints table, each row with the hash its event has now. */
typedef struct pt_cp_table pt_cp_table;

/* Load it in conn's open transaction. Free with pt_cp_table_free. */
pt_cp_table *pt_cp_table_load(PGconn *conn, const char *schema, pt_err *err);
void		pt_cp_table_free(pt_cp_table *t);

/*
 * Every checkpoint: well-formed, signed by a key of ring (when ring is not
 * NULL), its event still there with the checkpoint's hash. log_end is the
 * log's last event id.
 */
void		pt_verify_checkpoints(const pt_cp_table *t, const pt_keyring *ring, int64_t log_end,
								  pt_report *rep);

/*
 * Every line of the anchor file's first size bytes (what was there before
 * the snapshot was taken): the table still holds that checkpoint, with
 * that hash, and its event. False with err when the file cannot be read
 * or a line is not an anchor line.
 */
bool		pt_verify_anchor(const pt_cp_table *t, const char *path, off_t size, const pt_keyring *ring,
							 int64_t log_end, pt_report *rep, pt_err *err);

/* The state rows: each slot's last event is in the log, with its hash. */
bool		pt_verify_state(PGconn *conn, const char *schema, int64_t log_end, pt_report *rep, pt_err *err);

#endif
