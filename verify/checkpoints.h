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

/* What an anchor file is checked against. */
typedef struct pt_anchor_check
{
	PGconn	   *conn;			/* in the snapshot's transaction */
	const char *schema;
	const pt_cp_table *table;
	const char *path;
	off_t		size;			/* lines within it were there before the snapshot */
	const pt_keyring *ring;		/* NULL: signatures not checked */
	int64_t		log_end;
	pt_report  *rep;
} pt_anchor_check;

/*
 * Every line of the anchor file's first size bytes (what was there before
 * the snapshot was taken): the chain still passes through that checkpoint
 * (its event has the anchored hash). A torn write (the start of the next
 * line, or a cut last line: a crash in capture's append) is a note; any
 * other line that is not a checkpoint is a finding, and so is a file
 * without a checkpoint while the table holds some. False with err when
 * the file cannot be read, or is no anchor file at all (lines, but not
 * one checkpoint: PT_ERR_CONFIG). Lines are quoted escaped.
 */
bool		pt_verify_anchor(const pt_anchor_check *ac, pt_err *err);

/* The state rows: the newest ends where the log ends; each names its event's hash. */
bool		pt_verify_state(PGconn *conn, const char *schema, int64_t log_end, pt_report *rep, pt_err *err);

#endif
