/*
 * tests/integration/test_store.c — the core library end to end against a
 * real PostgreSQL with wal2json (run by tests/harness/with_pg.sh, which
 * starts a throwaway cluster and exports PGTRAIL_TEST_DSN).
 *
 * Changes made in SQL are read back with pg_logical_slot_get_changes
 * (format-version 2), parsed, turned into events, written by the store
 * writer, read back by the reader and checked as a chain, by the C code and
 * by the independent Python checker; then one byte is changed and both
 * must notice. Values are compared with the source table's own text output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/build.h"
#include "core/chain.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/wal2json.h"

#define SCHEMA "pgtrail"
#define SLOT "test_slot"

static PGconn *conn;

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

static long long
scalar(const char *stmt)
{
	PGresult   *res = query(stmt);
	long long	v;

	assert_int_equal(PQntuples(res), 1);
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
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

/* Source tables, slot, and a workload with the values that must survive. */
static void
make_workload(void)
{
	sql("CREATE SCHEMA app; CREATE SCHEMA \"Other Schema\"");
	sql("CREATE TABLE app.src (id int PRIMARY KEY, n numeric, n40 numeric, f float8, b bigint, by bytea, "
		"tx text, j json, ok boolean, arr int[], ts timestamptz, u text, big text)");
	sql("ALTER TABLE app.src ALTER big SET STORAGE EXTERNAL");
	sql("CREATE TABLE \"Other Schema\".\"Odd \"\"Tab\"\"\" (k text PRIMARY KEY, \"weird col\" text)");
	PQclear(query("SELECT 'ok' FROM pg_create_logical_replication_slot('" SLOT "', 'wal2json')"));
	sql("INSERT INTO app.src VALUES (1, 1.500, 1234567890123456789012345678901234567.890, '-0', "
		"9007199254740993, (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex') "
		"FROM generate_series(0, 255) g), E'tab\\there\\nnew\\\\ \"q\" \\u00e9\\u2603\\U0001F600', "
		"'{\"a\": 1, \"a\": 2}', true, '{1,NULL,3}', '2026-11-23 10:00:00.123456+00', "
		"'Zoë 日本 😀', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 65536) g))");
	sql("INSERT INTO app.src (id, n, f) VALUES (2, 'NaN', 'Infinity'), (3, NULL, NULL)");
	/* 2 MB text left unchanged while another column changes */
	sql("UPDATE app.src SET tx = 'changed' WHERE id = 1");
	sql("UPDATE app.src SET id = 10 WHERE id = 3");
	sql("BEGIN; INSERT INTO app.src (id, tx) VALUES (99, 'aborted'); ROLLBACK");
	sql("INSERT INTO \"Other Schema\".\"Odd \"\"Tab\"\"\" VALUES ('k\"1', 'v,1')");
	/* a bulk of rows so the chain has over 1,000 events, in several transactions */
	sql("INSERT INTO app.src (id, n, tx, f) SELECT g, g / 7.0, 'row ' || g, g / 3.0 FROM generate_series(100, 699) g");
	sql("UPDATE app.src SET n = n * 2, j = '{\"x\":[1,2,3]}' WHERE id BETWEEN 100 AND 599");
	sql("DELETE FROM app.src WHERE id BETWEEN 600 AND 649");
	sql("TRUNCATE \"Other Schema\".\"Odd \"\"Tab\"\"\"");
}

/* The table's columns, for listing unchanged TOAST columns. */
static int
table_columns(const char *schema, const char *table, pt_text *cols, char names[][64], int max)
{
	const char *params[2] = {schema, table};
	pt_err		err;
	PGresult   *res = pt_pq_exec_params(conn,
										"SELECT attname FROM pg_attribute WHERE attrelid = "
										"(quote_ident($1) || '.' || quote_ident($2))::regclass "
										"AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
										2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, &err);
	int			n;

	assert_non_null(res);
	n = PQntuples(res) < max ? PQntuples(res) : max;
	for (int i = 0; i < n; i++)
	{
		snprintf(names[i], 64, "%s", PQgetvalue(res, i, 0));
		cols[i] = pt_text_c(names[i]);
	}
	PQclear(res);
	return n;
}

/* Decode the slot, build and write events in batches; returns the count. */
static long
capture_into_store(void)
{
	pt_err		err;
	PGresult   *res = query("SELECT data FROM pg_logical_slot_get_changes('" SLOT "', NULL, NULL, "
							"'format-version', '2', 'include-xids', '1', 'include-timestamp', '1', "
							"'include-lsn', '1', 'include-pk', '1', 'include-transaction', '1', "
							"'include-type-oids', '1', 'include-typmod', '1', 'filter-tables', 'pgtrail.*')");
	pt_w2j_parser *parser = pt_w2j_parser_new();
	pt_builder *builder = pt_builder_new();
	pt_store_writer *w = pt_store_writer_new(conn, SCHEMA, SLOT, &err);
	pt_text		src_cols[32];
	char		names[32][64];
	int			nsrc = table_columns("app", "src", src_cols, names, 32);
	pt_txn		txn = {0};
	long		written = 0;

	assert_non_null(w);
	assert_true(PQntuples(res) > 1000);
	assert_true(pt_store_writer_begin(w, &err));
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *line = PQgetvalue(res, i, 0);
		pt_w2j_change ch;
		pt_event	ev;
		bool		is_src;

		if (!pt_w2j_parse(parser, line, strlen(line), &ch, &err))
			fail_msg("line %d: %s\n%s", i, err.message, line);
		if (ch.action == 'B')
		{
			assert_true(pt_builder_begin(&txn, &ch, &err));
			continue;
		}
		if (ch.action == 'C')
		{
			/* a batch every few transactions, with the commit LSN confirmed */
			if (pt_store_writer_pending(w) >= 300)
			{
				assert_true(pt_store_writer_commit(w, ch.lsn, &err));
				assert_true(pt_store_writer_begin(w, &err));
			}
			continue;
		}
		assert_int_not_equal(ch.action, 'M');
		is_src = strcmp(ch.table.ptr, "src") == 0;
		if (!pt_builder_row_event(builder, &txn, &ch, is_src ? src_cols : NULL, is_src ? nsrc : 0, &ev, &err))
			fail_msg("%s", err.message);
		ev.has_schema_version = true;
		ev.schema_version = 1;
		if (strcmp(ch.table.ptr, "Odd \"Tab\"") == 0)
		{
			ev.actor = pt_text_c("alice");
			ev.metadata = pt_text_c("{\"req\": 1, \"req\": 2}");
		}
		assert_true(pt_store_writer_add(w, &ev, &err));
		written++;
	}
	assert_true(pt_store_writer_commit(w, txn.commit_lsn, &err));
	assert_int_equal(pt_store_writer_state(w)->last_event_id, written);
	pt_store_writer_free(w);
	pt_builder_free(builder);
	pt_w2j_parser_free(parser);
	PQclear(res);
	return written;
}

/* Read the whole log back with the reader and check the chain; returns count. */
static long
check_chain(int64_t *bad_id)
{
	pt_err		err;
	pt_store_reader *r = pt_store_reader_open(conn, SCHEMA, 0, &err);
	pt_chain   *chain = pt_chain_new(0, NULL);
	pt_event	ev;
	bool		done = false;
	long		n = 0;

	assert_non_null(r);
	*bad_id = 0;
	for (;;)
	{
		if (!pt_store_reader_next(r, &ev, &done, &err))
		{
			/* a row the reader cannot even parse: "event N: ..." */
			assert_int_equal(err.kind, PT_ERR_INTEGRITY);
			*bad_id = strtoll(err.message + strlen("event "), NULL, 10);
			break;
		}
		if (done)
			break;
		if (!pt_chain_check(chain, &ev, &err))
		{
			*bad_id = ev.id;
			break;
		}
		n++;
	}
	pt_store_reader_close(r);
	pt_chain_free(chain);
	return n;
}

static int
run_checker(void)
{
	char		cmd[4096];
	int			rc;

	snprintf(cmd, sizeof(cmd), "python3 %s/tests/checker/pgtrail_check.py --schema " SCHEMA,
			 getenv("PGTRAIL_TEST_SOURCE_DIR"));
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void
test_install_is_idempotent(void **state)
{
	pt_err		err;

	(void) state;
	assert_true(pt_store_install(conn, SCHEMA, &err));
	assert_true(pt_store_install(conn, SCHEMA, &err));
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.meta"), 1);
	/* meta, events, schemas, state, checkpoints, verified, sink_positions, slot_claims, losses, seal_keys,
	 * erasure_due */
	assert_int_equal(scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'pgtrail'"), 11);
	/* a store from a future pgtrail is refused */
	sql("CREATE SCHEMA future; CREATE TABLE future.meta (key text PRIMARY KEY, value text NOT NULL); "
		"INSERT INTO future.meta VALUES ('format_version', '3')");
	assert_false(pt_store_install(conn, "future", &err));
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_non_null(strstr(err.message, "format version 3"));
}

static void
test_capture_store_read_verify(void **state)
{
	long		written;
	int64_t		bad_id;

	(void) state;
	make_workload();
	written = capture_into_store();
	assert_true(written >= 1000);
	assert_int_equal(check_chain(&bad_id), written);
	assert_int_equal(bad_id, 0);
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events"), written);
	/* the aborted transaction left nothing */
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE row->>'tx' = 'aborted'"), 0);
	/* state row written with the events */
	assert_int_equal(scalar("SELECT last_event_id FROM pgtrail.state WHERE slot = '" SLOT "'"), written);
}

/* Every column of the first insert equals the source's own text output. */
static void
test_values_byte_for_byte(void **state)
{
	/* boolean is left out: its ::text cast says "true", its output function "t" */
	static const char *const cols[] = {"n", "n40", "f", "b", "by", "j", "arr", "ts", "u", "big"};
	char		q[1024];

	(void) state;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
	{
		snprintf(q, sizeof(q),
				 "SELECT count(*) FROM pgtrail.events e, app.src s WHERE e.op = 'insert' "
				 "AND e.row->>'id' = '1' AND s.id = 1 AND e.row->>'%s' = s.%s::text "
				 "AND e.xid = (SELECT min(xid) FROM pgtrail.events)", cols[i], cols[i]);
		if (scalar(q) != 1)
			fail_msg("column %s differs from the source's text output", cols[i]);
	}
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'insert' AND row->>'b' = '9007199254740993' "
							"AND row->>'f' = '-0' AND row->>'n' = '1.500' AND row->>'ok' = 't'"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events e, app.src s WHERE s.id = 1 "
							"AND e.row->>'id' = '1' AND e.op = 'insert' AND (e.row->>'by')::bytea = s.by "
							"AND length((e.row->>'by')::bytea) = 256"), 1);
	/* control characters, backslash, quotes, BMP and astral unicode */
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'insert' AND row->>'tx' = "
							"E'tab\\there\\nnew\\\\ \"q\" \\u00e9\\u2603\\U0001F600'"), 1);
	/* json with duplicate keys kept as text, unchanged */
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'insert' "
							"AND row->>'j' = '{\"a\": 1, \"a\": 2}'"), 1);
	/* NaN/Infinity arrive as null (wal2json 2.5), genuine NULL too */
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'insert' AND row->>'id' = '2' "
							"AND json_typeof(row->'n') = 'null' AND json_typeof(row->'f') = 'null'"), 1);
}

static void
test_update_shapes(void **state)
{
	PGresult   *res;

	(void) state;
	/* the 2 MB column not sent by the update is listed, not nulled */
	res = query("SELECT unchanged::text, row ? 'big' FROM (SELECT unchanged, row::jsonb AS row "
				"FROM pgtrail.events WHERE op = 'update' AND row->>'tx' = 'changed') x");
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 0), "{big}");
	assert_string_equal(PQgetvalue(res, 0, 1), "f");
	PQclear(res);
	/* primary key change: key is the new key, old the old one */
	res = query("SELECT key::text, old->>'id' FROM pgtrail.events WHERE op = 'update' AND row->>'id' = '10'");
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 0), "{\"id\":\"10\"}");
	assert_string_equal(PQgetvalue(res, 0, 1), "3");
	PQclear(res);
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'delete' AND key->>'id' = old->>'id'"), 50);
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events WHERE op = 'truncate' "
							"AND schema_name = 'Other Schema' AND table_name = 'Odd \"Tab\"'"), 1);
	/* commit order: ids follow commit LSNs, a transaction's events are contiguous */
	assert_int_equal(scalar("SELECT count(*) FROM (SELECT commit_lsn, lag(commit_lsn) OVER (ORDER BY id) AS prev "
							"FROM pgtrail.events) x WHERE commit_lsn < prev"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM (SELECT xid, count(*) AS runs FROM (SELECT xid, "
							"xid IS DISTINCT FROM lag(xid) OVER (ORDER BY id) AS starts FROM pgtrail.events) x "
							"WHERE starts GROUP BY xid HAVING count(*) > 1) y"), 0);
}

static void
test_independent_checker_agrees(void **state)
{
	int64_t		bad_id;

	(void) state;
	assert_int_equal(run_checker(), 0);
	/* change one byte of one row: both checkers name that event */
	sql("UPDATE pgtrail.events SET row = replace(row::text, 'row 123', 'row 1z3')::json "
		"WHERE row->>'tx' = 'row 123' AND op = 'insert'");
	assert_int_equal(run_checker(), 1);
	check_chain(&bad_id);
	assert_int_equal(bad_id, scalar("SELECT id FROM pgtrail.events WHERE row->>'tx' = 'row 1z3' AND op = 'insert'"));
	sql("UPDATE pgtrail.events SET row = replace(row::text, 'row 1z3', 'row 123')::json "
		"WHERE row->>'tx' = 'row 1z3' AND op = 'insert'");
	assert_int_equal(run_checker(), 0);
}

static void
test_writer_abort_and_mismatch(void **state)
{
	pt_err		err;
	pt_store_writer *w = pt_store_writer_new(conn, SCHEMA, SLOT, &err);
	long long	before = scalar("SELECT count(*) FROM pgtrail.events");
	pt_event	ev;
	int64_t		bad_id;

	(void) state;
	assert_non_null(w);
	memset(&ev, 0, sizeof(ev));
	ev.op = PT_OP_MESSAGE;
	ev.lsn = ev.commit_lsn = 1;
	ev.metadata = pt_text_c("{}");
	assert_true(pt_store_writer_begin(w, &err));
	assert_true(pt_store_writer_add(w, &ev, &err));
	assert_int_equal(ev.id, before + 1);
	pt_store_writer_abort(w);
	assert_int_equal(scalar("SELECT count(*) FROM pgtrail.events"), before);
	/* after an abort the chain continues from the committed position */
	assert_true(pt_store_writer_begin(w, &err));
	assert_true(pt_store_writer_add(w, &ev, &err));
	assert_int_equal(ev.id, before + 1);
	assert_true(pt_store_writer_commit(w, 2, &err));
	pt_store_writer_free(w);
	assert_int_equal(check_chain(&bad_id), before + 1);
	assert_int_equal(bad_id, 0);

	/* a row nobody accounted for: the writer refuses to continue */
	sql("INSERT INTO pgtrail.events (id, lsn, commit_lsn, committed_at, op, prev_hash, hash) "
		"SELECT max(id) + 1, '0/0', '0/0', now(), 'gap', '\\x00', '\\x00' FROM pgtrail.events");
	assert_null(pt_store_writer_new(conn, SCHEMA, SLOT, &err));
	assert_int_equal(err.kind, PT_ERR_INTEGRITY);
	assert_non_null(strstr(err.message, "event table ends at id"));
	assert_int_equal(check_chain(&bad_id), before + 1);
	assert_int_equal(bad_id, before + 2);
	sql("DELETE FROM pgtrail.events WHERE id = (SELECT max(id) FROM pgtrail.events)");
}

/* Reading from a position, and stopping a reader half way, leave the connection usable. */
static void
test_reader_positions(void **state)
{
	pt_err		err;
	pt_store_reader *r = pt_store_reader_open(conn, SCHEMA, 500, &err);
	pt_event	ev;
	bool		done;

	(void) state;
	assert_non_null(r);
	assert_true(pt_store_reader_next(r, &ev, &done, &err));
	assert_false(done);
	assert_int_equal(ev.id, 501);
	pt_store_reader_close(r);
	assert_int_equal(scalar("SELECT 1"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_is_idempotent),
		cmocka_unit_test(test_capture_store_read_verify),
		cmocka_unit_test(test_values_byte_for_byte),
		cmocka_unit_test(test_update_shapes),
		cmocka_unit_test(test_independent_checker_agrees),
		cmocka_unit_test(test_writer_abort_and_mismatch),
		cmocka_unit_test(test_reader_positions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
