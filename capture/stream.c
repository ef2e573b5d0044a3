/*
 * capture/stream.c — logical replication over libpq (see stream.h).
 *
 * The loop follows pg_recvlogical: async PQgetCopyData; when nothing is
 * buffered, poll() the socket until the next status deadline; a timeout or
 * EINTR just goes round again; 'k' keepalives asking for a reply get one at
 * once; 'w' XLogData carries one wal2json line. Positions sent to the server
 * are big-endian int64, times microseconds since 2000-01-01.
 */
#include "capture/stream.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/conninfo.h"
#include "core/mem.h"
#include "core/pq.h"

/* The settings that shape wal2json's text output, pinned for the walsender. */
#define PINNED_OPTIONS "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres " \
	"-c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C"

#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

struct pt_stream
{
	PGconn	   *conn;
	char	   *copybuf;		/* last message from PQgetCopyData */
	bool		streaming;
	int			status_interval_ms;
	int64_t		last_status_us;
	pt_lsn		received;		/* highest LSN seen */
	pt_lsn		confirmed;		/* highest LSN the sinks committed */
};

static uint64_t
get_u64(const char *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

static void
put_u64(char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
	{
		p[i] = (char) (v & 0xFF);
		v >>= 8;
	}
}

/* The user's own "options" (if any) followed by ours. */
static char *
merged_options(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", NULL);
	pt_buf		b = PT_BUF_INIT;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val && o->val[0])
			pt_buf_printf(&b, "%s ", o->val);
	PQconninfoFree(opts);
	pt_buf_puts(&b, PINNED_OPTIONS);
	return b.data;
}

pt_stream *
pt_stream_open(const char *conninfo, const char *application_name, pt_err *err)
{
	char	   *options;
	const char *keys[] = {"dbname", "replication", "options", "fallback_application_name", NULL};
	const char *vals[] = {conninfo ? conninfo : "", "database", NULL, application_name, NULL};
	PGconn	   *conn;
	pt_stream  *s;
	char	   *shown;

	if (!pt_conninfo_check(conninfo, NULL, err))
		return NULL;			/* (libpq's own message would quote it) */
	vals[2] = options = merged_options(conninfo);
	conn = PQconnectdbParams(keys, vals, 1);
	free(options);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "%s", conn ? PQerrorMessage(conn) : "out of memory");
		msg[strcspn(msg, "\n")] = '\0';
		pt_err_set(err, PT_ERR_RUNTIME, "could not open a replication connection to the source: %s", msg);
		shown = pt_conninfo_redact(conninfo);
		pt_err_detail(err, "connection: %s", shown);
		free(shown);
		if (strstr(msg, "replication") != NULL)
			pt_err_hint(err, "the role needs the REPLICATION attribute (ALTER ROLE name REPLICATION) "
						"and a pg_hba.conf line that allows its connection");
		else
			pt_err_hint(err, "check [source] dsn and that the server accepts connections");
		if (err)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "08001");
		PQfinish(conn);
		return NULL;
	}
	s = pt_calloc(1, sizeof(*s));
	s->conn = conn;
	return s;
}

void
pt_stream_close(pt_stream *s)
{
	if (s == NULL)
		return;
	if (s->copybuf)
		PQfreemem(s->copybuf);
	PQfinish(s->conn);
	free(s);
}

int
pt_stream_socket(const pt_stream *s)
{
	return PQsocket(s->conn);
}

/* A quoted identifier for a replication command. */
static bool
put_ident(pt_stream *s, pt_buf *b, const char *name, pt_err *err)
{
	char	   *q = pt_pq_ident(s->conn, name, err);

	if (q == NULL)
		return false;
	pt_buf_puts(b, q);
	PQfreemem(q);
	return true;
}

bool
pt_stream_create_slot(pt_stream *s, const char *slot, const char *plugin, bool failover, pt_lsn *consistent,
					  char **snapshot, pt_err *err)
{
	pt_buf		cmd = PT_BUF_INIT;
	PGresult   *res = NULL;
	const char *lsn;
	bool		ok = false;

	pt_buf_puts(&cmd, "CREATE_REPLICATION_SLOT ");
	if (!put_ident(s, &cmd, slot, err))
		goto done;
	pt_buf_puts(&cmd, " LOGICAL ");
	if (!put_ident(s, &cmd, plugin, err))
		goto done;
	pt_buf_puts(&cmd, failover ? " (SNAPSHOT 'export', FAILOVER)" : " (SNAPSHOT 'export')");
	res = pt_pq_exec(s->conn, cmd.data, PGRES_TUPLES_OK, 1, 4, err);
	if (res == NULL)
		goto done;
	lsn = PQgetvalue(res, 0, 1);
	if (!pt_lsn_parse(lsn, strlen(lsn), consistent))
	{
		pt_err_set(err, PT_ERR_RUNTIME, "server sent an invalid consistent point \"%s\"", lsn);
		goto done;
	}
	*snapshot = pt_strdup(PQgetvalue(res, 0, 2));
	ok = true;
done:
	PQclear(res);
	pt_buf_free(&cmd);
	return ok;
}

bool
pt_stream_set_failover(pt_stream *s, const char *slot, pt_err *err)
{
	pt_buf		cmd = PT_BUF_INIT;
	PGresult   *res = NULL;

	pt_buf_puts(&cmd, "ALTER_REPLICATION_SLOT ");
	if (put_ident(s, &cmd, slot, err))
	{
		pt_buf_puts(&cmd, " (FAILOVER)");
		res = pt_pq_exec(s->conn, cmd.data, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	}
	PQclear(res);
	pt_buf_free(&cmd);
	return res != NULL;
}

static bool
put_literal(pt_stream *s, pt_buf *b, const char *value, pt_err *err)
{
	size_t		len = strlen(value);
	char	   *esc = pt_malloc(2 * len + 1);
	int			error = 0;

	PQescapeStringConn(s->conn, esc, value, len, &error);
	if (error)
	{
		free(esc);
		return pt_pq_error(s->conn, NULL, "could not quote a replication option", err);
	}
	pt_buf_printf(b, "'%s'", esc);
	free(esc);
	return true;
}

bool
pt_stream_start(pt_stream *s, const char *slot, pt_lsn startpos, const char *const *options,
				int status_interval_ms, pt_err *err)
{
	pt_buf		cmd = PT_BUF_INIT;
	char		lsn[PT_LSN_BUFLEN];
	PGresult   *res;
	bool		ok = true;

	pt_lsn_format(startpos, lsn);
	pt_buf_puts(&cmd, "START_REPLICATION SLOT ");
	ok = put_ident(s, &cmd, slot, err);
	pt_buf_printf(&cmd, " LOGICAL %s", lsn);
	for (int i = 0; ok && options && options[i]; i += 2)
	{
		pt_buf_puts(&cmd, i == 0 ? " (" : ", ");
		ok = put_ident(s, &cmd, options[i], err) && (pt_buf_putc(&cmd, ' '), true) &&
			put_literal(s, &cmd, options[i + 1], err);
	}
	if (ok && options && options[0])
		pt_buf_putc(&cmd, ')');
	if (ok && (res = pt_pq_exec(s->conn, cmd.data, PGRES_COPY_BOTH, PT_PQ_ANY, PT_PQ_ANY, err)) != NULL)
	{
		PQclear(res);
		s->streaming = true;
		s->status_interval_ms = status_interval_ms;
		s->last_status_us = pt_now_us();
		s->received = s->confirmed = startpos;
	}
	else
		ok = false;
	pt_buf_free(&cmd);
	return ok;
}

void
pt_stream_confirm(pt_stream *s, pt_lsn lsn)
{
	if (lsn > s->confirmed)
		s->confirmed = lsn;
}

bool
pt_stream_send_status(pt_stream *s, bool reply_requested, pt_err *err)
{
	char		msg[1 + 8 + 8 + 8 + 8 + 1];
	int64_t		now = pt_now_us();

	if (!s->streaming)
		return true;			/* not started yet: the position goes out with the first update */
	msg[0] = 'r';
	put_u64(msg + 1, s->received);		/* written: received, not yet durable */
	put_u64(msg + 9, s->confirmed);		/* flushed: what the sinks committed */
	put_u64(msg + 17, s->confirmed);	/* applied */
	put_u64(msg + 25, (uint64_t) (now - PG_EPOCH_OFFSET_US));
	msg[33] = reply_requested ? 1 : 0;
	if (PQputCopyData(s->conn, msg, sizeof(msg)) != 1 || PQflush(s->conn) != 0)
		return pt_pq_error(s->conn, NULL, "could not send a status update to the source", err);
	s->last_status_us = now;
	return true;
}

/* Milliseconds until the next status update is due (at least 0). */
static int
ms_to_deadline(const pt_stream *s, int timeout_ms)
{
	int64_t		due = s->last_status_us + (int64_t) s->status_interval_ms * 1000 - pt_now_us();
	int			ms = due <= 0 ? 0 : (int) (due / 1000) + 1;

	return ms < timeout_ms ? ms : timeout_ms;
}

static bool
wait_for_data(pt_stream *s, int timeout_ms, pt_err *err)
{
	struct pollfd pfd = {PQsocket(s->conn), POLLIN, 0};
	int			r = poll(&pfd, 1, ms_to_deadline(s, timeout_ms));

	if (r < 0 && errno != EINTR)
		return pt_err_set(err, PT_ERR_RUNTIME, "poll() on the replication connection failed: %s",
						  strerror(errno));
	if (r > 0 && PQconsumeInput(s->conn) == 0)
		return pt_pq_error(s->conn, NULL, "lost the replication connection", err);
	return true;
}

static bool
stream_ended(pt_stream *s, pt_stream_msg *msg, pt_err *err)
{
	PGresult   *res = PQgetResult(s->conn);
	bool		ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		pt_pq_error(s->conn, res, "the replication stream ended", err);
	PQclear(res);
	s->streaming = false;
	msg->kind = PT_STREAM_END;
	return ok;
}

/* Handle one CopyData message of r bytes in s->copybuf. */
static bool
handle_message(pt_stream *s, int r, pt_stream_msg *msg, pt_err *err)
{
	const char *buf = s->copybuf;

	if (buf[0] == 'k' && r >= 1 + 8 + 8 + 1)
	{
		msg->kind = PT_STREAM_IDLE;
		msg->wal_end = get_u64(buf + 1);
		return buf[17] == 0 || pt_stream_send_status(s, false, err);
	}
	if (buf[0] == 'w' && r >= 1 + 8 + 8 + 8)
	{
		msg->kind = PT_STREAM_DATA;
		msg->lsn = get_u64(buf + 1);
		msg->wal_end = get_u64(buf + 9);
		msg->data = buf + 25;
		msg->len = (size_t) r - 25;
		if (msg->lsn > s->received)
			s->received = msg->lsn;
		return true;
	}
	return pt_err_set(err, PT_ERR_RUNTIME, "unexpected message \"%c\" (%d bytes) in the replication stream",
					  buf[0], r);
}

bool
pt_stream_next(pt_stream *s, int timeout_ms, pt_stream_msg *msg, pt_err *err)
{
	bool		waited = false;

	memset(msg, 0, sizeof(*msg));
	msg->kind = PT_STREAM_IDLE;
	if (s->copybuf)
	{
		PQfreemem(s->copybuf);
		s->copybuf = NULL;
	}
	for (;;)
	{
		int			r;

		if (pt_now_us() >= s->last_status_us + (int64_t) s->status_interval_ms * 1000 &&
			!pt_stream_send_status(s, false, err))
			return false;
		r = PQgetCopyData(s->conn, &s->copybuf, 1);
		if (r > 0)
			return handle_message(s, r, msg, err);
		if (r == -1)
			return stream_ended(s, msg, err);
		if (r == -2)
			return pt_pq_error(s->conn, NULL, "lost the replication connection", err);
		/* nothing whole buffered: wait once, never past the status deadline */
		if (waited || timeout_ms <= 0)
			return true;
		if (!wait_for_data(s, timeout_ms, err))
			return false;
		waited = true;
	}
}

bool
pt_stream_stop(pt_stream *s, pt_err *err)
{
	PGresult   *res;
	char	   *buf;
	bool		ok = true;

	if (!s->streaming)
		return true;
	if (!pt_stream_send_status(s, false, err) || PQputCopyEnd(s->conn, NULL) != 1 || PQflush(s->conn) != 0)
		ok = false;
	/* drain what the server still sends until it answers our CopyDone */
	while (ok && PQgetCopyData(s->conn, &buf, 0) >= 0)
		PQfreemem(buf);
	while ((res = PQgetResult(s->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_COPY_OUT && ok)
			ok = pt_pq_error(s->conn, res, "could not end the replication stream", err);
		PQclear(res);
	}
	s->streaming = false;
	return ok;
}
