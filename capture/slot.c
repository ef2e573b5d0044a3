/*
 * capture/slot.c — checking the source and deciding where the stream starts.
 *
 * Before streaming: is wal_level logical, does the slot exist, is it ours
 * (wal2json), is it free, was it lost; and does the event store remember
 * capturing from it. The four combinations of "slot exists" and "store has
 * state" each have one safe answer, and none of them silently re-creates a
 * slot that vanished under a running capture.
 *
 * Two captures started at once on one slot would otherwise race through all
 * of this (installing the store, creating the slot, taking the snapshot) and
 * trip over each other: a session advisory lock on the source, taken before
 * anything else, lets one of them in and tells the other who holds it.
 */
#include "capture/slot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/pgcaps.h"
#include "core/pq.h"

bool
pt_slot_check_source(PGconn *conn, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn, "SELECT current_setting('wal_level'), current_user, "
								 "(SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)",
								 PGRES_TUPLES_OK, 1, 3, err);
	bool		ok;

	if (res == NULL)
		return false;
	ok = strcmp(PQgetvalue(res, 0, 0), "logical") == 0;
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "the source has wal_level \"%s\", logical decoding needs \"logical\"",
				   PQgetvalue(res, 0, 0));
		pt_err_hint(err, "set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) "
					"and restart the server");
	}
	else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "role \"%s\" may not use logical replication",
						PQgetvalue(res, 0, 1));
		pt_err_hint(err, "give it the REPLICATION attribute: ALTER ROLE \"%s\" REPLICATION "
					"(docs/OPERATIONS.md lists the grants capture needs)", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return ok;
}

/*
 * The lock's key: one per slot name in the source database, in the
 * two-integer key space (pg_locks.objsubid 2), apart from the store's
 * install lock (one bigint key).
 */
#define LOCK_KEY_SQL "hashtext('pgtrail.slot'), hashtext($1)"

/* Say which session holds the slot's lock (it may have let go meanwhile). */
static void
explain_lock_holder(PGconn *conn, const char *slot, pt_err *err)
{
	const char *params[1] = {slot};
	PGresult   *res;
	pt_err		ignored;

	res = pt_pq_exec_params(conn,
							"SELECT l.pid, coalesce(a.application_name, '') "
							"FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
							"WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
							"AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
							"AND l.classid = hashtext('pgtrail.slot')::oid AND l.objid = hashtext($1)::oid LIMIT 1",
							1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, &ignored);
	pt_err_set(err, PT_ERR_RUNTIME, "replication slot \"%s\" is held by another pgtrail-capture", slot);
	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_OBJECT_IN_USE);
	if (res != NULL && PQntuples(res) == 1)
		pt_err_detail(err, "its session on the source has server pid %s (application \"%s\"; "
					  "pg_stat_activity says from where)", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	pt_err_hint(err, "run one pgtrail-capture per slot; give a second capture its own --slot and --schema");
	PQclear(res);
}

bool
pt_slot_lock(PGconn *conn, const char *slot, int wait_ms, pt_err *err)
{
	const char *params[1] = {slot};

	for (int waited = 0;; waited += 200)
	{
		PGresult   *res = pt_pq_exec_params(conn, "SELECT pg_try_advisory_lock(" LOCK_KEY_SQL ")", 1, params,
											PGRES_TUPLES_OK, 1, 1, err);
		bool		locked;
		struct timespec ts = {0, 200 * 1000000L};

		if (res == NULL)
			return false;
		locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (locked)
			return true;
		if (waited >= wait_ms)
			break;
		nanosleep(&ts, NULL);
	}
	explain_lock_holder(conn, slot, err);
	return false;
}

#define LOOKUP_SQL(failover) \
	"SELECT plugin, database = current_database(), active, active_pid, " \
	"wal_status, confirmed_flush_lsn::text" failover " FROM pg_replication_slots WHERE slot_name = $1"

bool
pt_slot_lookup(PGconn *conn, const char *slot, pt_slot_info *info, pt_err *err)
{
	const char *params[1] = {slot};
	PGresult   *res;
	const char *lsn;

	memset(info, 0, sizeof(*info));
	res = pt_pq_exec_params(conn, pt_pgcaps_of(conn).failover_slots ? LOOKUP_SQL(", failover")
							: LOOKUP_SQL(", false"), 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 7, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		info->exists = true;
		snprintf(info->plugin, sizeof(info->plugin), "%s", PQgetvalue(res, 0, 0));
		info->same_database = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		info->active = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		info->active_pid = atoi(PQgetvalue(res, 0, 3));
		snprintf(info->wal_status, sizeof(info->wal_status), "%s", PQgetvalue(res, 0, 4));
		lsn = PQgetvalue(res, 0, 5);
		if (!PQgetisnull(res, 0, 5))
			pt_lsn_parse(lsn, strlen(lsn), &info->confirmed_flush);
		info->failover = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	}
	PQclear(res);
	return true;
}

bool
pt_slot_wait_inactive(PGconn *conn, const char *slot, pt_slot_info *info, int wait_ms, pt_err *err)
{
	for (int waited = 0; info->exists && info->active && waited < wait_ms; waited += 200)
	{
		struct timespec ts = {0, 200 * 1000000L};

		nanosleep(&ts, NULL);
		if (!pt_slot_lookup(conn, slot, info, err))
			return false;
	}
	return true;
}

bool
pt_slot_usable(const char *slot, const char *plugin, const pt_slot_info *info, pt_err *err)
{
	if (strcmp(info->plugin, plugin) != 0 || !info->same_database)
	{
		pt_err_set(err, PT_ERR_CONFIG, "replication slot \"%s\" is not a %s slot of this database", slot, plugin);
		pt_err_detail(err, "its plugin is \"%s\"", info->plugin);
		pt_err_hint(err, "choose another slot name with --slot, set [capture] decoder to the slot's plugin, "
					"or drop the slot if it is unused");
		return false;
	}
	if (info->active)
	{
		pt_err_set(err, PT_ERR_RUNTIME, "replication slot \"%s\" is active in another process (pid %d)",
				   slot, info->active_pid);
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_OBJECT_IN_USE);
		pt_err_hint(err, "stop the other pgtrail-capture (or pg_recvlogical) using it, or use another --slot");
		return false;
	}
	if (strcmp(info->wal_status, "lost") == 0)
	{
		pt_err_set(err, PT_ERR_RUNTIME, "replication slot \"%s\" is lost: the server removed WAL it still needed",
				   slot);
		pt_err_detail(err, "changes made while capture was behind cannot be read any more");
		pt_err_hint(err, "raise max_slot_wal_keep_size; then drop the slot and restart capture with "
					"--resnapshot, which records the hole as a gap event");
		return false;
	}
	return true;
}

/* Turn the server's refusal to create a wal2json slot into the fix. */
static void
explain_create_failure(pt_err *err)
{
	if (strcmp(err->sqlstate, "58P01") == 0)
		pt_err_hint(err, "install wal2json on the source server (Debian/Ubuntu: apt-get install "
					"postgresql-MAJOR-wal2json for the server's major version, e.g. postgresql-17-wal2json)");
	else if (strcmp(err->sqlstate, "42501") == 0)
		/* the REPLICATION attribute was checked before: this is output_plugin_libraries */
		pt_err_hint(err, "add wal2json to output_plugin_libraries in postgresql.conf, e.g. "
					"output_plugin_libraries = 'pgoutput, test_decoding, wal2json', and reload");
	else if (strcmp(err->sqlstate, "53400") == 0)
		pt_err_hint(err, "raise max_replication_slots on the source and restart it, or drop unused slots");
	else if (strcmp(err->sqlstate, "55000") == 0)
		pt_err_hint(err, "set wal_level = logical on the source and restart it");
}

bool
pt_slot_drop(PGconn *conn, const char *slot, pt_err *err)
{
	const char *params[1] = {slot};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT pg_drop_replication_slot($1)", 1, params,
										PGRES_TUPLES_OK, 1, 1, err);

	PQclear(res);
	if (res == NULL)
		pt_err_prefix(err, "could not drop replication slot \"%s\"", slot);
	return res != NULL;
}

bool
pt_slot_check_failover(PGconn *conn, bool wanted, pt_err *err)
{
	pt_pgcaps	caps = pt_pgcaps_of(conn);

	if (!wanted || caps.failover_slots)
		return true;
	pt_err_set(err, PT_ERR_CONFIG, "failover slots need PostgreSQL 17 or later, the source runs %d.%d",
			   caps.version_num / 10000, caps.version_num % 10000);
	pt_err_hint(err, "set [capture] failover_slot = off (PGTRAIL_CAPTURE_FAILOVER_SLOT=off); before 17, "
				"a slot does not survive a switchover and capture then stops with \"slot vanished\"");
	return false;
}

bool
pt_slot_keep_failover(pt_stream *stream, const char *slot, const pt_slot_info *info, pt_log *log, pt_err *err)
{
	if (info->failover)
		return true;
	if (!pt_stream_set_failover(stream, slot, err))
	{
		pt_err_prefix(err, "could not make replication slot \"%s\" a failover slot", slot);
		return false;
	}
	pt_log_info(log, "replication slot \"%s\" is now a failover slot", slot);
	return true;
}

bool
pt_slot_create(pt_stream *stream, const char *slot, const char *plugin, bool failover, pt_lsn *consistent,
			   char **snapshot, pt_err *err)
{
	if (pt_stream_create_slot(stream, slot, plugin, failover, consistent, snapshot, err))
		return true;
	if (strcmp(err->sqlstate, PT_SQLSTATE_DUPLICATE_OBJECT) == 0)
	{
		/* created by someone else (not a pgtrail-capture: that one holds the lock) since the lookup */
		pt_err_prefix(err, "could not create replication slot \"%s\"", slot);
		err->kind = PT_ERR_RUNTIME;
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_OBJECT_IN_USE);
		pt_err_hint(err, "another program created the slot at the same moment; stop it, or use another --slot");
		return false;
	}
	explain_create_failure(err);
	pt_err_prefix(err, "could not create replication slot \"%s\"", slot);
	if (err->sqlstate[0] && strncmp(err->sqlstate, "08", 2) != 0 && err->kind == PT_ERR_RUNTIME &&
		strcmp(err->sqlstate, "53400") != 0)
		err->kind = PT_ERR_CONFIG;
	return false;
}
