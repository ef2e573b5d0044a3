/*
 * capture/slot.h — the source's readiness and the replication slot's state.
 */
#ifndef PGTRAIL_CAPTURE_SLOT_H
#define PGTRAIL_CAPTURE_SLOT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "capture/stream.h"
#include "core/err.h"
#include "core/log.h"
#include "core/lsn.h"

typedef struct pt_slot_info
{
	bool		exists;
	char		plugin[64];
	bool		same_database;
	bool		active;
	int			active_pid;
	char		wal_status[16];	/* reserved, extended, unreserved, lost */
	pt_lsn		confirmed_flush;
	bool		failover;		/* a failover slot (PostgreSQL 17+; false before) */
} pt_slot_info;

/* wal_level must be logical (PT_ERR_CONFIG with the fix otherwise). */
bool		pt_slot_check_source(PGconn *conn, pt_err *err);

/*
 * Take the session advisory lock that makes one pgtrail-capture the only one
 * using the slot, for as long as conn stays open (the server lets go of it
 * when the connection ends, also after kill -9). A holder that is going away
 * (the session of a capture just killed) is waited for up to wait_ms. Held
 * by a capture that runs: PT_ERR_RUNTIME with SQLSTATE 55006 object_in_use
 * (exit 3: the slot may be free later), naming the holder's session.
 */
bool		pt_slot_lock(PGconn *conn, const char *slot, int wait_ms, pt_err *err);

/* Read the slot's row from pg_replication_slots (info->exists false if none). */
bool		pt_slot_lookup(PGconn *conn, const char *slot, pt_slot_info *info, pt_err *err);

/*
 * While the slot is active, look again every 200 ms for up to wait_ms: the
 * walsender of a capture that was just killed lets go of it within moments.
 */
bool		pt_slot_wait_inactive(PGconn *conn, const char *slot, pt_slot_info *info, int wait_ms, pt_err *err);

/* An existing slot is ours, free and not lost; else a one-line error with the fix. */
bool		pt_slot_usable(const char *slot, const char *plugin, const pt_slot_info *info, pt_err *err);

/* Drop a slot (a lost one, before --resnapshot creates it anew). */
bool		pt_slot_drop(PGconn *conn, const char *slot, pt_err *err);

/*
 * Create the slot for plugin (wal2json or pgoutput), exporting a snapshot; server refusals get their
 * fix as hint. A slot of that name created meanwhile by another process
 * (42710 duplicate_object) is PT_ERR_RUNTIME with SQLSTATE 55006, like a
 * slot in use.
 */
bool		pt_slot_create(pt_stream *stream, const char *slot, const char *plugin, bool failover, pt_lsn *consistent,
						   char **snapshot, pt_err *err);

/* [capture] failover_slot on a server before 17: PT_ERR_CONFIG with the fix. */
bool		pt_slot_check_failover(PGconn *conn, bool wanted, pt_err *err);

/* An existing slot that is not a failover slot becomes one (logged). */
bool		pt_slot_keep_failover(pt_stream *stream, const char *slot, const pt_slot_info *info,
								  pt_log *log, pt_err *err);

#endif
