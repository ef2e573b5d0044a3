/*
 * tests/integration/test_pgoutput_decode.c — the pgoutput decoder
 * (core/pgoutput.c) against wal2json on the same WAL, on a real server
 * (tests/harness/with_pg.sh exports PGTRAIL_TEST_DSN).
 *
 * Two slots are made at the same point, one per plugin; a workload runs
 * (types that need quoting or lose values in wal2json, unchanged TOAST,
 * every replica identity, key changes, a TRUNCATE of two tables, logical
 * messages); both slots are read through the SQL interface, each message
 * decoded by its own parser into the shared change model, and each change
 * printed as one canonical line. The lines must be equal, except exactly
 * where wal2json sends null for a NaN or an infinity (pgoutput sends the
 * value); wal2json names a primary key for every table, pgoutput only
 * under REPLICA IDENTITY DEFAULT; Begin, which carries no end LSN in
 * pgoutput, is compared without it. Type names must be the catalog's
 * format_type of the OID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pgoutput.h"
#include "core/pq.h"
#include "core/wal2json.h"

#define MAX_LINES 4096

static PGconn *conn;
static char types_of_t[1024];	/* public.t's column names and types, as pgoutput's decoder gives them */

/* Canonical lines of one decoder's output. */
typedef struct lines
{
	char	   *at[MAX_LINES];
	int			n;
} lines;

static void
sql(const char *stmt)
{
	pt_err		err;

	if (!pt_pq_command(conn, stmt, &err))
		fail_msg("%s\n%s", stmt, err.message);
}

static PGresult *
query(const char *stmt)
{
	pt_err		err;
	PGresult   *res = pt_pq_exec(conn, stmt, PGRES_TUPLES_OK, PT_PQ_ANY, PT_PQ_ANY, &err);

	if (res == NULL)
		fail_msg("%s\n%s", stmt, err.message);
	return res;
}

/* The decoder's type names: format_type under search_path = pg_catalog, as capture/types.c. */
static bool
type_name(void *arg, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	static char buf[256];
	char		o[16], t[16];
	const char *params[2] = {o, t};
	PGresult   *res;

	(void) arg;
	snprintf(o, sizeof o, "%u", oid);
	snprintf(t, sizeof t, "%d", typmod);
	res = pt_pq_exec_params(conn, "SELECT format_type($1::oid, $2::int)", 2, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	snprintf(buf, sizeof buf, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	*name = buf;
	return true;
}

static void
put_columns(pt_buf *b, const char *label, const pt_w2j_columns *cols, bool values)
{
	if (!cols->present)
		return;
	pt_buf_printf(b, " %s[", label);
	for (int i = 0; i < cols->count; i++)
	{
		const pt_w2j_column *c = &cols->items[i];

		pt_buf_printf(b, "%s%s:%u", i ? "," : "", c->name.ptr, c->typeoid);
		if (values && c->value.ptr)
			pt_buf_printf(b, "=<%.*s>", (int) c->value.len, c->value.ptr);
		else if (values)
			pt_buf_puts(b, "=NULL");
	}
	pt_buf_putc(b, ']');
}

/* One change as a line; what one decoder cannot know is left out of both. */
static char *
canonical(const pt_w2j_change *ch, bool with_pk)
{
	pt_buf		b = PT_BUF_INIT;
	char	   *hex;

	pt_buf_printf(&b, "%c lsn=%X/%X", ch->action, (unsigned) (ch->lsn >> 32), (unsigned) ch->lsn);
	if (ch->action == 'C')
		pt_buf_printf(&b, " next=%X/%X", (unsigned) (ch->nextlsn >> 32), (unsigned) ch->nextlsn);
	if (ch->action == 'B' || ch->action == 'C')
		pt_buf_printf(&b, " xid=%u at=%lld", ch->xid, (long long) ch->commit_time);
	if (ch->schema.ptr)
		pt_buf_printf(&b, " %s.%s", ch->schema.ptr, ch->table.ptr);
	put_columns(&b, "new", &ch->columns, true);
	put_columns(&b, "old", &ch->identity, true);
	if (with_pk)
		put_columns(&b, "pk", &ch->pk, false);
	if (ch->action == 'M')
	{
		hex = pt_malloc(2 * ch->content.len + 1);
		pt_hex_encode((const uint8_t *) ch->content.ptr, ch->content.len, hex);
		pt_buf_printf(&b, " %s prefix=%s content=%s", ch->transactional ? "tx" : "nontx", ch->prefix.ptr, hex);
		free(hex);
	}
	return b.data;
}

static void
add_line(lines *out, char *line)
{
	assert_true(out->n < MAX_LINES);
	out->at[out->n++] = line;
}

static void
read_wal2json(lines *out)
{
	PGresult   *res = query("SELECT lsn, data FROM pg_logical_slot_peek_changes('w', NULL, NULL, "
							"'format-version', '2', 'include-xids', '1', 'include-timestamp', '1', "
							"'include-lsn', '1', 'include-pk', '1', 'include-transaction', '1', "
							"'include-type-oids', '1', 'include-typmod', '1')");
	pt_w2j_parser *p = pt_w2j_parser_new();
	pt_w2j_change ch;
	pt_err		err;

	for (int i = 0; i < PQntuples(res); i++)
	{
		if (!pt_w2j_parse(p, PQgetvalue(res, i, 1), (size_t) PQgetlength(res, i, 1), &ch, &err))
			fail_msg("wal2json line %d: %s", i, err.message);
		add_line(out, canonical(&ch, ch.pk.present));
	}
	pt_w2j_parser_free(p);
	PQclear(res);
}

static void
note_types(const pt_w2j_columns *cols)
{
	size_t		at = 0;

	for (int i = 0; i < cols->count; i++)
		at += (size_t) snprintf(types_of_t + at, sizeof types_of_t - at, "%s%s %s", i ? "," : "",
								cols->items[i].name.ptr, cols->items[i].type.ptr);
}

static void
read_pgoutput(lines *out, pt_pgo_decoder *d, const char *opts)
{
	char		stmt[512];
	PGresult   *res;
	const pt_w2j_change *ch;
	int			n;
	pt_err		err;

	snprintf(stmt, sizeof stmt, "SELECT lsn::text, encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes("
			 "'o', NULL, NULL, 'proto_version', '1', 'publication_names', 'p'%s)", opts);
	res = query(stmt);
	for (int i = 0; i < PQntuples(res); i++)
	{
		size_t		len = (size_t) PQgetlength(res, i, 1) / 2;
		uint8_t    *msg = pt_malloc(len + 1);
		pt_lsn		lsn;

		assert_true(pt_hex_decode(PQgetvalue(res, i, 1), len, msg));
		assert_true(pt_lsn_parse(PQgetvalue(res, i, 0), (size_t) PQgetlength(res, i, 0), &lsn));
		if (!pt_pgo_decode(d, (const char *) msg, len, lsn, &ch, &n, &err))
			fail_msg("pgoutput message %d ('%c'): %s", i, msg[0], err.message);
		for (int k = 0; k < n; k++)
		{
			add_line(out, canonical(&ch[k], ch[k].pk.present));
			if (ch[k].action == 'I' && strcmp(ch[k].table.ptr, "t") == 0 && types_of_t[0] == '\0')
				note_types(&ch[k].columns);
		}
		free(msg);
	}
	PQclear(res);
}

static int
group_setup(void **state)
{
	pt_err		err;

	(void) state;
	conn = pt_pq_connect(getenv("PGTRAIL_TEST_DSN"), "pgtrail-test", &err);
	if (conn == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	pt_pq_close(conn);
	return 0;
}

static void
make_workload(void)
{
	sql("SET DateStyle = ISO; SET TimeZone = 'UTC'; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
		"SET bytea_output = hex; SET lc_monetary = 'C'");
	sql("CREATE SCHEMA \"Odd Schema\"; CREATE TYPE \"Odd Schema\".\"Mood\" AS ENUM ('ok', 'sad')");
	sql("CREATE TABLE t (id int PRIMARY KEY, n numeric(10,2), f float8, r real, c \"char\", "
		"m \"Odd Schema\".\"Mood\"[], v varchar(5), b bytea, ok boolean, j jsonb, ts timestamptz, big text)");
	sql("ALTER TABLE t ALTER big SET STORAGE EXTERNAL");
	sql("CREATE TABLE \"Odd Schema\".full_t (a int, b text); ALTER TABLE \"Odd Schema\".full_t REPLICA IDENTITY FULL");
	sql("CREATE TABLE ri (a int NOT NULL, b text, k int PRIMARY KEY); CREATE UNIQUE INDEX ri_a ON ri (a); "
		"ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_a");
	sql("CREATE TABLE two (x int, y int, z text, PRIMARY KEY (y, x))");
	sql("CREATE PUBLICATION p FOR ALL TABLES");
	PQclear(query("SELECT 'ok' FROM pg_create_logical_replication_slot('w', 'wal2json')"));
	PQclear(query("SELECT 'ok' FROM pg_create_logical_replication_slot('o', 'pgoutput')"));
	sql("INSERT INTO t VALUES (1, 1.50, '-0', 'Infinity', 'x', '{ok,sad}', 'héllo', '\\x00ff', true, "
		"'{\"a\": [1, 2.50]}', '2026-12-05 10:00:00.123456+00', repeat(md5('x'), 5000))");
	sql("INSERT INTO t (id, n, f, r) VALUES (2, 'NaN', '-Infinity', 'NaN'), (3, NULL, 1e-300, '-0')");
	sql("UPDATE t SET v = 'b' WHERE id = 1");	/* big stays: unchanged TOAST */
	sql("UPDATE t SET id = 4 WHERE id = 3");
	sql("DELETE FROM t WHERE id = 2");
	sql("INSERT INTO \"Odd Schema\".full_t VALUES (1, 'x'), (1, 'x'), (2, NULL)");
	sql("UPDATE \"Odd Schema\".full_t SET b = 'y' WHERE a = 2");
	sql("DELETE FROM \"Odd Schema\".full_t WHERE a = 1");
	sql("INSERT INTO ri VALUES (1, 'one', 10); UPDATE ri SET b = 'uno'; UPDATE ri SET a = 2; DELETE FROM ri");
	sql("INSERT INTO two VALUES (1, 2, 'z'); UPDATE two SET x = 5; UPDATE two SET z = NULL");
	sql("BEGIN; INSERT INTO two VALUES (9, 9, 'gone'); ROLLBACK");
	sql("BEGIN; INSERT INTO two VALUES (7, 7, 'a'); SELECT pg_logical_emit_message(true, 'pfx', 'plain text'); "
		"SELECT pg_logical_emit_message(true, 'pfx', '\\x41c3'::bytea); DELETE FROM two WHERE x = 7; COMMIT");
	sql("TRUNCATE \"Odd Schema\".full_t, two");
}

/*
 * The pgoutput line as wal2json 2.5 would send it: NaN and infinities as
 * null. *lost counts the values put back to null.
 */
static char *
as_wal2json(const char *o, int *lost)
{
	static const char *values[] = {"=<NaN>", "=<Infinity>", "=<-Infinity>"};
	pt_buf		b = PT_BUF_INIT;

	*lost = 0;
	while (*o)
	{
		size_t		i = 0;

		while (i < 3 && strncmp(o, values[i], strlen(values[i])) != 0)
			i++;
		if (i < 3)
		{
			pt_buf_puts(&b, "=NULL");
			o += strlen(values[i]);
			(*lost)++;
		}
		else
			pt_buf_putc(&b, *o++);
	}
	return b.data;
}

/* wal2json names the primary key for every table; pgoutput only under REPLICA IDENTITY DEFAULT. */
static void
drop_pk_unsaid(char *w, const char *o)
{
	char	   *pk = strstr(w, " pk[");

	if (pk != NULL && strstr(o, " pk[") == NULL)
		*pk = '\0';
}

static void
test_same_changes_as_wal2json(void **state)
{
	lines		w = {0}, o = {0};
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);
	int			lost_values = 0;

	(void) state;
	make_workload();
	read_wal2json(&w);
	read_pgoutput(&o, d, ", 'messages', 'true'");
	assert_int_equal(w.n, o.n);
	for (int i = 0; i < w.n; i++)
	{
		int			lost;
		char	   *seen = as_wal2json(o.at[i], &lost);

		drop_pk_unsaid(w.at[i], o.at[i]);
		if (strcmp(w.at[i], seen) != 0)
			fail_msg("change %d differs:\nwal2json: %s\npgoutput: %s", i, w.at[i], o.at[i]);
		lost_values += lost;
		free(seen);
	}
	/* row 1's real Infinity (insert, and again in its update); row 2's NaN, -Infinity, NaN */
	assert_int_equal(lost_values, 5);
	assert_string_equal(types_of_t, "id integer,n numeric(10,2),f double precision,r real,c \"char\","
						"m \"Odd Schema\".\"Mood\"[],v character varying(5),b bytea,ok boolean,j jsonb,"
						"ts timestamp with time zone,big text");
	for (int i = 0; i < w.n; i++)
		free(w.at[i]), free(o.at[i]);
	pt_pgo_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_changes_as_wal2json),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
