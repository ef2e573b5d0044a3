/*
 * capture/slot_claim.c — the store's record of slots capture created (see
 * slot_claim.h).
 *
 * A first start creates the slot, then copies the tables in one sink
 * transaction that also writes the state row: until that commit, nothing
 * in the store refers to the slot, and a start after a kill found a slot
 * "without a snapshot" and refused to go on. The slot_claims row, committed
 * before the slot is created, is what lets the next start prove that the
 * slot is capture's own, unused, and safe to drop and create anew.
 */
#include "capture/slot_claim.h"

#include <string.h>

#include "core/buf.h"
#include "core/pq.h"

bool
pt_slot_claim(PGconn *sink_conn, PGconn *source_conn, const char *schema, const char *slot, pt_err *err)
{
	PGresult   *res = pt_pq_exec(source_conn, "SELECT pg_current_wal_lsn()::text", PGRES_TUPLES_OK, 1, 1, err);
	const char *params[2] = {slot, NULL};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *ins = NULL;

	if (res == NULL)
		return false;
	params[1] = PQgetvalue(res, 0, 0);
	if (pt_pq_sql_with_ident(sink_conn, "INSERT INTO %1$s.slot_claims AS c (slot, claimed_lsn, created_lsn, claimed_at) "
							 "VALUES ($1, $2, NULL, now()) ON CONFLICT (slot) DO UPDATE SET "
							 "claimed_lsn = excluded.claimed_lsn, created_lsn = NULL, claimed_at = now()",
							 schema, &sql, err))
		ins = pt_pq_exec_params(sink_conn, sql.data, 2, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(ins);
	PQclear(res);
	pt_buf_free(&sql);
	return ins != NULL;
}

bool
pt_slot_claim_created(PGconn *sink_conn, const char *schema, const char *slot, pt_lsn created, pt_err *err)
{
	char		lsn[PT_LSN_BUFLEN];
	const char *params[2] = {slot, lsn};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;

	pt_lsn_format(created, lsn);
	if (pt_pq_sql_with_ident(sink_conn, "UPDATE %1$s.slot_claims SET created_lsn = $2 WHERE slot = $1",
							 schema, &sql, err))
		res = pt_pq_exec_params(sink_conn, sql.data, 2, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(res);
	pt_buf_free(&sql);
	return res != NULL;
}

bool
pt_slot_claim_matches(PGconn *sink_conn, const char *schema, const char *slot, const pt_slot_info *info,
					  pt_lsn after, bool *ours, pt_err *err)
{
	char		lsn[PT_LSN_BUFLEN];
	char		after_lsn[PT_LSN_BUFLEN];
	const char *params[3] = {slot, lsn, after_lsn};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;

	*ours = false;
	if (info->confirmed_flush == 0)
		return true;			/* no position to compare: not provably ours */
	pt_lsn_format(info->confirmed_flush, lsn);
	pt_lsn_format(after, after_lsn);
	if (pt_pq_sql_with_ident(sink_conn, "SELECT coalesce(created_lsn = $2::pg_lsn, claimed_lsn <= $2::pg_lsn) "
							 "AND claimed_lsn > $3::pg_lsn FROM %1$s.slot_claims WHERE slot = $1",
							 schema, &sql, err))
		res = pt_pq_exec_params(sink_conn, sql.data, 3, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*ours = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}
