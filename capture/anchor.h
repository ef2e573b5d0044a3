/*
 * capture/anchor.h — the anchor file: every checkpoint, one JSON line each,
 * appended outside the database.
 *
 * Whoever can rewrite the event table cannot reach a file on another disk,
 * host or bucket (an append-only mount, a log shipper): pgtrail-verify
 * --anchor checks that the table still holds every anchored checkpoint.
 * A line is appended and fsynced after the checkpoint's transaction
 * committed (durably: the sink session never commits asynchronously), so
 * the file never names a checkpoint the table lacks. When capture opens
 * the file it ends a half-written last line (a crash in the middle of a
 * write) with a newline, never truncating, so an append-only file works,
 * and appends the checkpoints committed after the file's last whole line
 * (a crash between commit and append).
 */
#ifndef PGTRAIL_CAPTURE_ANCHOR_H
#define PGTRAIL_CAPTURE_ANCHOR_H

#include <libpq-fe.h>

#include "core/checkpoint.h"
#include "core/err.h"

typedef struct pt_anchor pt_anchor;

/*
 * Can capture use path as its anchor file: an existing regular file it may
 * read and append to, or a new one in a directory that exists and that it
 * may write to? Creates nothing; for start-up, before anything is written.
 * PT_ERR_CONFIG (exit 2) with a hint when not.
 */
bool		pt_anchor_check(const char *path, pt_err *err);

/* Open (create) path for appending and catch up from schema's checkpoints table. */
pt_anchor  *pt_anchor_open(const char *path, PGconn *conn, const char *schema, pt_err *err);

/* Append cp's line and fsync. */
bool		pt_anchor_append(pt_anchor *a, const pt_checkpoint *cp, pt_err *err);

void		pt_anchor_close(pt_anchor *a);

#endif
