/*
 * capture/slot.h — the source's readiness and the replication slot's state.
 */
#ifndef PGTRAIL_CAPTURE_SLOT_H
#define PGTRAIL_CAPTURE_SLOT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "capture/stream.h"
#include "core/err.h"
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
} pt_slot_info;

/* wal_level must be logical (PT_ERR_CONFIG with the fix otherwise). */
bool		pt_slot_check_source(PGconn *conn, pt_err *err);

/* Read the slot's row from pg_replication_slots (info->exists false if none). */
bool		pt_slot_lookup(PGconn *conn, const char *slot, pt_slot_info *info, pt_err *err);

/*
 * While the slot is active, look again every 200 ms for up to wait_ms: the
 * walsender of a capture that was just killed lets go of it within moments.
 */
bool		pt_slot_wait_inactive(PGconn *conn, const char *slot, pt_slot_info *info, int wait_ms, pt_err *err);

/* An existing slot is ours, free and not lost; else a one-line error with the fix. */
bool		pt_slot_usable(const char *slot, const pt_slot_info *info, pt_err *err);

/* Drop a slot (a lost one, before --resnapshot creates it anew). */
bool		pt_slot_drop(PGconn *conn, const char *slot, pt_err *err);

/* Create the wal2json slot, exporting a snapshot; server refusals get their fix as hint. */
bool		pt_slot_create(pt_stream *stream, const char *slot, pt_lsn *consistent,
						   char **snapshot, pt_err *err);

#endif
