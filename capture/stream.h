/*
 * capture/stream.h — the logical replication client (pg_recvlogical's part).
 *
 * One replication=database connection to the source: IDENTIFY_SYSTEM,
 * CREATE_REPLICATION_SLOT with an exported snapshot, START_REPLICATION with
 * wal2json's options, then the CopyBoth stream. pt_stream_next() waits for
 * the next message no longer than the next status deadline, answers a
 * keepalive that asks for a reply at once, and sends standby status updates
 * whose flush position is only what the caller confirmed with
 * pt_stream_confirm() — i.e. what the sinks have durably committed.
 *
 * The connection pins the settings that shape wal2json's text output
 * (DateStyle, TimeZone, IntervalStyle, extra_float_digits, bytea_output,
 * lc_monetary) through the startup "options", so the log never depends on
 * the server's defaults.
 */
#ifndef PGTRAIL_CAPTURE_STREAM_H
#define PGTRAIL_CAPTURE_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/lsn.h"

typedef struct pt_stream pt_stream;

typedef enum pt_stream_kind
{
	PT_STREAM_DATA,				/* one wal2json line in data/len */
	PT_STREAM_IDLE,				/* nothing before the deadline (or a keepalive) */
	PT_STREAM_END				/* the server ended the stream */
} pt_stream_kind;

typedef struct pt_stream_msg
{
	pt_stream_kind kind;
	const char *data;			/* valid until the next pt_stream_next */
	size_t		len;
	pt_lsn		lsn;			/* XLogData dataStart */
	pt_lsn		wal_end;		/* the server's WAL end (data and keepalives) */
} pt_stream_msg;

/* Connect in replication mode. NULL and err on failure (as pt_pq_connect:
 * PT_ERR_CONFIG when conninfo does not parse, else PT_ERR_RUNTIME). */
pt_stream  *pt_stream_open(const char *conninfo, const char *application_name, pt_err *err);
void		pt_stream_close(pt_stream *s);

/*
 * Create a wal2json slot, exporting a snapshot; a failover slot when asked
 * (PostgreSQL 17+). *snapshot (caller frees) is usable with SET TRANSACTION
 * SNAPSHOT until the next command on this stream. *consistent is the LSN
 * from which the stream continues it.
 */
bool		pt_stream_create_slot(pt_stream *s, const char *slot, const char *plugin, bool failover, pt_lsn *consistent,
								  char **snapshot, pt_err *err);

/* Make an existing, inactive slot a failover slot (PostgreSQL 17+). */
bool		pt_stream_set_failover(pt_stream *s, const char *slot, pt_err *err);

/*
 * START_REPLICATION SLOT slot LOGICAL startpos (options...). options is a
 * NULL-terminated list of name, value pairs passed to wal2json as literals.
 */
bool		pt_stream_start(pt_stream *s, const char *slot, pt_lsn startpos,
							const char *const *options, int status_interval_ms, pt_err *err);

/* Wait up to timeout_ms (and not past the status deadline) for a message. */
bool		pt_stream_next(pt_stream *s, int timeout_ms, pt_stream_msg *msg, pt_err *err);

/* Everything up to lsn is durably committed by the sinks: report it. */
void		pt_stream_confirm(pt_stream *s, pt_lsn lsn);

/* Send a status update now (after a confirm, so the slot advances promptly). */
bool		pt_stream_send_status(pt_stream *s, bool reply_requested, pt_err *err);

/* End the stream cleanly: status update, CopyDone, drain to the final result. */
bool		pt_stream_stop(pt_stream *s, pt_err *err);

/* The socket, for callers that wait on more than one thing. */
int			pt_stream_socket(const pt_stream *s);

#endif
