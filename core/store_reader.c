/*
 * core/store_reader.c — streaming events in id order (see store.h).
 *
 * COPY (SELECT ... ORDER BY id) TO STDOUT: the server sends rows as the
 * index scan produces them and libpq hands us one row at a time, so memory
 * stays at one row however long the log. Fields are unescaped in place in
 * the row libpq gave us; the event's spans point there until the next row.
 */
#include "core/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/copytext.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"

#define NFIELDS 21

struct pt_store_reader
{
	PGconn	   *conn;			/* borrowed */
	char	   *row;			/* current row from PQgetCopyData */
	bool		done;
	pt_text		fields[NFIELDS];
	pt_text    *unchanged;
	int			unchanged_cap;
	pt_text    *erased;
	int			erased_cap;
	uint8_t		seal[PT_SEAL_LEN];
	uint8_t		sealed[PT_HASH_LEN];
};

/*
 * COPY the events matching where (SQL we format from integers, never
 * outside text: COPY takes no parameters). A store made before format 2
 * has no seal columns: they read as NULL and an empty erased list.
 */
static pt_store_reader *
open_where(PGconn *conn, const char *schema, const char *where, pt_err *err)
{
	char	   *qschema = pt_pq_ident(conn, schema, err);
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	pt_store_reader *r;
	bool		has_seal;

	if (qschema == NULL)
		return NULL;
	if (!pt_store_has_seal(conn, schema, &has_seal, err))
	{
		PQfreemem(qschema);
		return NULL;
	}
	pt_buf_printf(&sql, "COPY (SELECT id, lsn, commit_lsn, xid, committed_at, schema_name, table_name, "
				  "schema_version, op, key, row, old, unchanged, actor, action, metadata, "
				  "prev_hash, hash, %s FROM %s.events WHERE %s ORDER BY id) TO STDOUT",
				  has_seal ? "seal, sealed, erased" : "NULL::bytea, NULL::bytea, '{}'::text[]",
				  qschema, where);
	PQfreemem(qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_COPY_OUT, PT_PQ_ANY, PT_PQ_ANY, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return NULL;
	PQclear(res);
	r = pt_calloc(1, sizeof(*r));
	r->conn = conn;
	return r;
}

pt_store_reader *
pt_store_reader_open(PGconn *conn, const char *schema, int64_t after_id, pt_err *err)
{
	char		where[48];

	snprintf(where, sizeof(where), "id > %lld", (long long) after_id);
	return open_where(conn, schema, where, err);
}

pt_store_reader *
pt_store_reader_open_ids(PGconn *conn, const char *schema, const int64_t *ids, int n, pt_err *err)
{
	pt_buf		where = PT_BUF_INIT;
	pt_store_reader *r;

	pt_buf_puts(&where, "id = ANY ('{");
	for (int i = 0; i < n; i++)
		pt_buf_printf(&where, "%s%lld", i ? "," : "", (long long) ids[i]);
	pt_buf_puts(&where, "}'::bigint[])");
	r = open_where(conn, schema, where.data, err);
	pt_buf_free(&where);
	return r;
}

pt_store_reader *
pt_store_reader_open_erased(PGconn *conn, const char *schema, pt_err *err)
{
	return open_where(conn, schema, "sealed IS NOT NULL", err);
}

static bool
bad_row(pt_err *err, const char *what, const pt_text *id)
{
	return pt_err_set(err, PT_ERR_INTEGRITY, "event %s: %s",
					  id->ptr ? id->ptr : "?", what);
}

static bool
parse_int(pt_text t, int64_t *v)
{
	char	   *end;

	if (t.ptr == NULL || t.len == 0)
		return false;
	*v = strtoll(t.ptr, &end, 10);
	return end == t.ptr + t.len;
}

/* bytea of exactly n bytes, in its hex form. */
static bool
parse_bytes(pt_text t, size_t n, uint8_t *out)
{
	return t.ptr != NULL && t.len == 2 + 2 * n && t.ptr[0] == '\\' && t.ptr[1] == 'x' &&
		pt_hex_decode(t.ptr + 2, n, out);
}

static bool
parse_hash(pt_text t, uint8_t *out)
{
	return parse_bytes(t, PT_HASH_LEN, out);
}

/* Format 2's seal, sealed and erased (fields 18 to 20). */
static bool
fill_seal(pt_store_reader *r, pt_event *ev, pt_err *err)
{
	pt_text    *f = r->fields;

	if (f[18].ptr != NULL && !parse_bytes(f[18], PT_SEAL_LEN, r->seal))
		return bad_row(err, "seal is not 16 bytes", &f[0]);
	if (f[19].ptr != NULL && !parse_hash(f[19], r->sealed))
		return bad_row(err, "sealed is not 32 bytes", &f[0]);
	ev->seal = f[18].ptr ? r->seal : NULL;
	ev->sealed = f[19].ptr ? r->sealed : NULL;
	if (f[20].ptr == NULL ||
		!pt_copy_split_array((char *) f[20].ptr, f[20].len, &r->erased, &r->erased_cap, &ev->nerased))
		return bad_row(err, "bad erased", &f[0]);
	ev->erased = r->erased;
	return true;
}

static bool
fill_event(pt_store_reader *r, pt_event *ev, pt_err *err)
{
	pt_text    *f = r->fields;
	int64_t		v;

	memset(ev, 0, sizeof(*ev));
	if (!parse_int(f[0], &ev->id))
		return bad_row(err, "bad id", &f[0]);
	if (f[1].ptr == NULL || !pt_lsn_parse(f[1].ptr, f[1].len, &ev->lsn) ||
		f[2].ptr == NULL || !pt_lsn_parse(f[2].ptr, f[2].len, &ev->commit_lsn))
		return bad_row(err, "bad lsn", &f[0]);
	if ((ev->has_xid = f[3].ptr != NULL) && !parse_int(f[3], &ev->xid))
		return bad_row(err, "bad xid", &f[0]);
	if (f[4].ptr == NULL || !pt_time_parse(f[4].ptr, f[4].len, &ev->committed_at))
		return bad_row(err, "bad committed_at", &f[0]);
	ev->schema_name = f[5];
	ev->table_name = f[6];
	if ((ev->has_schema_version = f[7].ptr != NULL))
	{
		if (!parse_int(f[7], &v))
			return bad_row(err, "bad schema_version", &f[0]);
		ev->schema_version = (int32_t) v;
	}
	if (f[8].ptr == NULL || !pt_op_parse(f[8].ptr, f[8].len, &ev->op))
		return bad_row(err, "bad op", &f[0]);
	ev->key = f[9];
	ev->row = f[10];
	ev->old = f[11];
	if (f[12].ptr == NULL ||
		!pt_copy_split_array((char *) f[12].ptr, f[12].len, &r->unchanged, &r->unchanged_cap, &ev->nunchanged))
		return bad_row(err, "bad unchanged", &f[0]);
	ev->unchanged = r->unchanged;
	ev->actor = f[13];
	ev->action = f[14];
	ev->metadata = f[15];
	if (!parse_hash(f[16], ev->prev_hash) || !parse_hash(f[17], ev->hash))
		return bad_row(err, "prev_hash or hash is not 32 bytes", &f[0]);
	return fill_seal(r, ev, err);
}

static bool
finish(pt_store_reader *r, pt_err *err)
{
	PGresult   *res = PQgetResult(r->conn);
	bool		ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		pt_pq_error(r->conn, res, "could not read events", err);
	PQclear(res);
	while ((res = PQgetResult(r->conn)) != NULL)
		PQclear(res);
	r->done = true;
	return ok;
}

bool
pt_store_reader_next(pt_store_reader *r, pt_event *ev, bool *done, pt_err *err)
{
	int			len;

	*done = false;
	if (r->row)
	{
		PQfreemem(r->row);
		r->row = NULL;
	}
	if (r->done)
	{
		*done = true;
		return true;
	}
	len = PQgetCopyData(r->conn, &r->row, 0);
	if (len == -1)
	{
		*done = true;
		return finish(r, err);
	}
	if (len < 0)
	{
		r->done = true;
		return pt_pq_error(r->conn, NULL, "could not read events", err);
	}
	if (len == 0 || r->row[len - 1] != '\n' ||
		!pt_copy_split_row(r->row, (size_t) len - 1, r->fields, NFIELDS))
		return pt_err_set(err, PT_ERR_INTEGRITY, "malformed event row from COPY");
	return fill_event(r, ev, err);
}

void
pt_store_reader_close(pt_store_reader *r)
{
	if (r == NULL)
		return;
	if (r->row)
		PQfreemem(r->row);
	if (!r->done)
	{
		/* stop the server's COPY, then drain what is in flight */
		PGcancel   *cancel = PQgetCancel(r->conn);
		char		errbuf[256];
		char	   *row;
		PGresult   *res;

		if (cancel)
		{
			PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
		while (PQgetCopyData(r->conn, &row, 0) > 0)
			PQfreemem(row);
		while ((res = PQgetResult(r->conn)) != NULL)
			PQclear(res);
	}
	free(r->unchanged);
	free(r->erased);
	free(r);
}
