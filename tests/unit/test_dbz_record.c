/*
 * tests/unit/test_dbz_record.c — whole records as Debezium's PostgreSQL
 * connector sends them: key, value and schema, byte for byte.
 *
 * The expectations restate Debezium's: its connector's source (the
 * envelope and source schemas, SourceInfoTest.schemaIsCorrect, the record
 * shapes of RecordsStreamProducerIT: key changes, tombstones, truncate,
 * messages) and Kafka Connect's JsonConverter, for a table
 * public.t (id int PRIMARY KEY, v text) and fixture columns of
 * AbstractRecordsProducerTest (serial keys with default 0, NOT NULL
 * columns, enums). Two things differ on purpose and are put in here as
 * pgtrail writes them: source.version is pgtrail's version, and the
 * envelope's ts_ns has microsecond precision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture/dbz_record.h"
#include "core/version.h"

#define T_COLUMNS "[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23},{\"name\":\"v\",\"type\":\"text\",\"typeoid\":25}]"
#define T_DETAILS "{\"oid\":16390,\"columns\":[{\"name\":\"id\",\"not_null\":true,\"default\":null}," \
	"{\"name\":\"v\",\"not_null\":false,\"default\":null}]}"

#define ROW_SCHEMA(field) "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}," \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"v\"}],\"optional\":true,\"name\":\"dbserver1.public.t.Value\"," \
	"\"field\":\"" field "\"}"

#define ENVELOPE_SCHEMA "{\"type\":\"struct\",\"fields\":[" ROW_SCHEMA("before") "," ROW_SCHEMA("after") "," \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"},{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}],\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,\"field\":\"source\"}," \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],\"optional\":false,\"name\":\"dbserver1.public.t.Envelope\",\"version\":2}"

#define KEY_SCHEMA "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],\"optional\":false,\"name\":\"dbserver1.public.t.Key\"}"

#define SOURCE(snapshot, lsn) "{\"version\":\"" PGTRAIL_VERSION "\",\"connector\":\"postgresql\",\"name\":\"dbserver1\"," \
	"\"ts_ms\":1717171717123,\"snapshot\":\"" snapshot "\",\"db\":\"postgres\",\"sequence\":\"[\\\"24023119\\\",\\\"" lsn "\\\"]\"," \
	"\"ts_us\":1717171717123456,\"ts_ns\":1717171717123456000,\"schema\":\"public\",\"table\":\"t\",\"txId\":767," \
	"\"lsn\":" lsn ",\"xmin\":null,\"origin\":null,\"origin_lsn\":null}"

#define TIMES ",\"ts_ms\":1717171717200,\"ts_us\":1717171717200123,\"ts_ns\":1717171717200123000}"

static const char *const t_pk[] = {"id"};

typedef struct fixture
{
	pt_dbz_settings set;
	pt_dbz_writer w;
	pt_dbz_table tab;
} fixture;

static void
setup_table(fixture *f, const char *columns, const char *const *pk, int npk, const char *details)
{
	pt_dbz_version_in in = {"public", "t", 1, columns, pk, npk, details};
	pt_err		err = {0};

	assert_true(pt_dbz_table_compile(&f->tab, &in, "dbserver1", &f->set.modes, NULL, NULL, &err));
	pt_dbz_writer_init(&f->w, &f->set);
}

static int
setup(void **state)
{
	static fixture f;

	memset(&f, 0, sizeof(f));
	pt_dbz_modes_default(&f.set.modes);
	f.set.prefix = "dbserver1";
	f.set.db = "postgres";
	f.set.key_schemas = f.set.value_schemas = false;
	f.set.tombstones = true;
	assert_true(pt_dbz_parse_skipped("t", f.set.skip));
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	fixture    *f = *state;

	pt_dbz_table_free(&f->tab);
	pt_dbz_writer_free(&f->w);
	return 0;
}

/* The event of §7 of our notes: xid 767, LSN 24023128, after a commit at 24023119. */
static pt_event
event(pt_op op, const char *key, const char *row, const char *old)
{
	pt_event	ev = {0};

	ev.op = op;
	ev.lsn = 24023128;
	ev.commit_lsn = 24023200;
	ev.has_xid = true;
	ev.xid = 767;
	ev.committed_at = INT64_C(1717171717123456);
	ev.schema_name = pt_text_c("public");
	ev.table_name = pt_text_c("t");
	ev.key = pt_text_c(key);
	ev.row = pt_text_c(row);
	ev.old = pt_text_c(old);
	return ev;
}

/* Write ev after an event of the transaction before (committed at 24023119). */
static int
write(fixture *f, const pt_event *ev)
{
	pt_event	before = {0};
	pt_err		err = {0};
	int			n;

	before.op = PT_OP_DDL;
	before.commit_lsn = 24023119;
	assert_true(pt_dbz_write(&f->w, NULL, &before, 0, &n, &err));
	assert_true(pt_dbz_write(&f->w, &f->tab, ev, INT64_C(1717171717200123), &n, &err));
	return n;
}

static void
assert_buf(const pt_buf *b, const char *want)
{
	pt_buf		copy = PT_BUF_INIT;

	pt_buf_append(&copy, b->data, b->len);
	pt_buf_putc(&copy, '\0');
	assert_string_equal(copy.data, want);
	pt_buf_free(&copy);
}

static void
test_insert_without_schemas(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_INSERT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"hello\"}", NULL);

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 1);
	assert_true(f->w.msgs[0].has_key);
	assert_buf(&f->w.msgs[0].key, "{\"id\":1}");
	assert_buf(&f->w.msgs[0].value, "{\"before\":null,\"after\":{\"id\":1,\"v\":\"hello\"},\"source\":"
			   SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"c\"" TIMES);
}

static void
test_insert_with_schemas(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_INSERT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"hello\"}", NULL);

	f->set.key_schemas = f->set.value_schemas = true;
	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 1);
	assert_buf(&f->w.msgs[0].key, "{\"schema\":" KEY_SCHEMA ",\"payload\":{\"id\":1}}");
	assert_buf(&f->w.msgs[0].value, "{\"schema\":" ENVELOPE_SCHEMA ",\"payload\":{\"before\":null,\"after\":"
			   "{\"id\":1,\"v\":\"hello\"},\"source\":" SOURCE("false", "24023128")
			   ",\"transaction\":null,\"op\":\"c\"" TIMES "}");
}

/* DEFAULT identity: no before for an update; FULL: the old row. */
static void
test_update(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_UPDATE, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"x\"}", "{\"id\":\"1\"}");
	pt_event	full = event(PT_OP_UPDATE, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"x\"}",
							 "{\"id\":\"1\",\"v\":\"hello\"}");

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 1);
	assert_buf(&f->w.msgs[0].value, "{\"before\":null,\"after\":{\"id\":1,\"v\":\"x\"},\"source\":"
			   SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"u\"" TIMES);
	assert_int_equal(write(f, &full), 1);
	assert_buf(&f->w.msgs[0].value, "{\"before\":{\"id\":1,\"v\":\"hello\"},\"after\":{\"id\":1,\"v\":\"x\"},"
			   "\"source\":" SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"u\"" TIMES);
}

/* A delete under DEFAULT: the old key, other columns null; then a tombstone with the same key. */
static void
test_delete_and_tombstone(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_DELETE, "{\"id\":\"1\"}", NULL, "{\"id\":\"1\"}");

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 2);
	assert_buf(&f->w.msgs[0].key, "{\"id\":1}");
	assert_buf(&f->w.msgs[0].value, "{\"before\":{\"id\":1,\"v\":null},\"after\":null,\"source\":"
			   SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"d\"" TIMES);
	assert_true(f->w.msgs[1].has_key);
	assert_false(f->w.msgs[1].has_value);
	assert_buf(&f->w.msgs[1].key, "{\"id\":1}");

	f->set.tombstones = false;
	assert_int_equal(write(f, &ev), 1);
}

/* UPDATE t SET id = 2 WHERE id = 1: delete, tombstone, create, with the key headers. */
static void
test_key_change(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_UPDATE, "{\"id\":\"2\"}", "{\"id\":\"2\",\"v\":\"hello\"}", "{\"id\":\"1\"}");

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 3);
	assert_buf(&f->w.msgs[0].key, "{\"id\":1}");
	assert_buf(&f->w.msgs[0].value, "{\"before\":{\"id\":1,\"v\":null},\"after\":null,\"source\":"
			   SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"d\"" TIMES);
	assert_string_equal(f->w.msgs[0].header, "__debezium.newkey");
	assert_buf(&f->w.msgs[0].header_value, "{\"id\":2}");
	assert_false(f->w.msgs[1].has_value);
	assert_buf(&f->w.msgs[1].key, "{\"id\":1}");
	assert_string_equal(f->w.msgs[1].header, "__debezium.newkey");
	assert_buf(&f->w.msgs[2].key, "{\"id\":2}");
	assert_buf(&f->w.msgs[2].value, "{\"before\":null,\"after\":{\"id\":2,\"v\":\"hello\"},\"source\":"
			   SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"c\"" TIMES);
	assert_string_equal(f->w.msgs[2].header, "__debezium.oldkey");
	assert_buf(&f->w.msgs[2].header_value, "{\"id\":1}");
}

/* Truncate: skipped by default; with skipped.operations=none one record, null key. */
static void
test_truncate(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_TRUNCATE, NULL, NULL, NULL);

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_int_equal(write(f, &ev), 0);
	assert_true(pt_dbz_parse_skipped("none", f->set.skip));
	assert_int_equal(write(f, &ev), 1);
	assert_false(f->w.msgs[0].has_key);
	assert_buf(&f->w.msgs[0].value, "{\"before\":null,\"after\":null,\"source\":" SOURCE("false", "24023128")
			   ",\"transaction\":null,\"op\":\"t\"" TIMES);
	assert_false(pt_dbz_parse_skipped("x", f->set.skip));
	assert_true(pt_dbz_parse_skipped("c,u", f->set.skip));
	assert_true(f->set.skip[0] && f->set.skip[1] && !f->set.skip[2] && !f->set.skip[3]);
}

/* No primary key: a null key. Unchanged TOAST: the placeholder. */
static void
test_keyless_and_toast(void **state)
{
	fixture    *f = *state;
	pt_text		unchanged[] = {{"v", 1}};
	pt_event	ev = event(PT_OP_UPDATE, NULL, "{\"id\":\"1\"}", NULL);

	ev.unchanged = unchanged;
	ev.nunchanged = 1;
	setup_table(f, T_COLUMNS, NULL, 0, T_DETAILS);
	assert_int_equal(write(f, &ev), 1);
	assert_false(f->w.msgs[0].has_key);
	assert_buf(&f->w.msgs[0].value, "{\"before\":null,\"after\":{\"id\":1,\"v\":\"__debezium_unavailable_value\"},"
			   "\"source\":" SOURCE("false", "24023128") ",\"transaction\":null,\"op\":\"u\"" TIMES);
}

/*
 * numeric_table's pk SERIAL, ss SMALLSERIAL and NOT NULL columns: the
 * schema carries "default":0; a key-only delete writes the NOT NULL
 * column's fallback and the nullable one's default (replace.null.with.default).
 */
static void
test_defaults_and_fallbacks(void **state)
{
	fixture    *f = *state;
	static const char *const pk[] = {"pk"};
	pt_event	ev = event(PT_OP_DELETE, "{\"pk\":\"7\"}", NULL, "{\"pk\":\"7\"}");

	f->set.value_schemas = true;
	setup_table(f, "[{\"name\":\"pk\",\"type\":\"integer\",\"typeoid\":23},"
				"{\"name\":\"ss\",\"type\":\"smallint\",\"typeoid\":21},"
				"{\"name\":\"nn\",\"type\":\"text\",\"typeoid\":25},"
				"{\"name\":\"st\",\"type\":\"text\",\"typeoid\":25},"
				"{\"name\":\"tsq\",\"type\":\"tsquery\",\"typeoid\":3615}]", pk, 1,
				"{\"columns\":[{\"name\":\"pk\",\"not_null\":true,\"default\":\"nextval('t_pk_seq'::regclass)\"},"
				"{\"name\":\"ss\",\"not_null\":true,\"default\":\"nextval('t_ss_seq'::regclass)\"},"
				"{\"name\":\"nn\",\"not_null\":true,\"default\":null},"
				"{\"name\":\"st\",\"not_null\":false,\"default\":\"'new'::text\"},"
				"{\"name\":\"tsq\",\"not_null\":false,\"default\":null}]}");
	assert_string_equal(f->tab.omitted, "tsq");
	assert_buf(&f->tab.key_schema, "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
			   "\"default\":0,\"field\":\"pk\"}],\"optional\":false,\"name\":\"dbserver1.public.t.Key\"}");
	assert_int_equal(write(f, &ev), 2);
	assert_non_null(strstr(f->w.msgs[0].value.data, "{\"type\":\"int16\",\"optional\":false,\"default\":0,\"field\":\"ss\"},"
						   "{\"type\":\"string\",\"optional\":false,\"field\":\"nn\"},"
						   "{\"type\":\"string\",\"optional\":true,\"default\":\"new\",\"field\":\"st\"}],"));
	assert_non_null(strstr(f->w.msgs[0].value.data, "\"payload\":{\"before\":{\"pk\":7,\"ss\":0,\"nn\":\"\",\"st\":\"new\"},"));
}

/* An enum (RecordsStreamProducerIT.shouldStreamEnumAsKnownType) and a value Debezium cannot carry. */
static bool
resolve_enum(void *ctx, uint32_t oid, pt_dbz_type *out, pt_err *err)
{
	(void) ctx;
	(void) err;
	assert_int_equal(oid, 16385);
	out->kind = PT_DBZ_ENUM;
	out->length = out->scale = -1;
	out->enum_allowed = strdup("V1,V2");
	return true;
}

static void
test_enum_and_unwritable(void **state)
{
	fixture    *f = *state;
	pt_dbz_version_in in = {"public", "t", 1,
		"[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23},{\"name\":\"e\",\"type\":\"test_type\",\"typeoid\":16385},"
		"{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700}]", t_pk, 1,
	"{\"columns\":[{\"name\":\"e\",\"not_null\":true,\"default\":\"'V2'::test_type\"}]}"};
	pt_event	ev = event(PT_OP_INSERT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"e\":\"V1\",\"n\":\"NaN\"}", NULL);
	pt_err		err = {0};
	int			n;

	f->set.value_schemas = true;
	assert_true(pt_dbz_table_compile(&f->tab, &in, "dbserver1", &f->set.modes, resolve_enum, NULL, &err));
	pt_dbz_writer_init(&f->w, &f->set);
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_non_null(strstr(f->w.msgs[0].value.data, "{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Enum\","
						   "\"version\":1,\"parameters\":{\"allowed\":\"V1,V2\"},\"default\":\"V2\",\"field\":\"e\"}"));
	assert_non_null(strstr(f->w.msgs[0].value.data, "\"after\":{\"id\":1,\"e\":\"V1\",\"n\":null}"));
	assert_int_equal(f->w.unwritable, 1);
	assert_string_equal(f->w.unwritable_column, "n");
}

/* PostGIS columns (postgis_table): Geometry version 2 (optional always), Geography version 1. */
static bool
resolve_postgis(void *ctx, uint32_t oid, pt_dbz_type *out, pt_err *err)
{
	(void) ctx;
	(void) err;
	return pt_dbz_type_extension(oid == 20000 ? "geometry" : "geography", out);
}

static void
test_postgis_schemas(void **state)
{
	fixture    *f = *state;
	pt_dbz_version_in in = {"public", "t", 1,
		"[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23},{\"name\":\"p\",\"type\":\"geometry\",\"typeoid\":20000},"
		"{\"name\":\"ml\",\"type\":\"geography\",\"typeoid\":20001}]", t_pk, 1,
	"{\"columns\":[{\"name\":\"p\",\"not_null\":true,\"default\":null},{\"name\":\"ml\",\"not_null\":true,\"default\":null}]}"};
	pt_err		err = {0};

	assert_true(pt_dbz_table_compile(&f->tab, &in, "dbserver1", &f->set.modes, resolve_postgis, NULL, &err));
	assert_non_null(strstr(f->tab.envelope_schema.data,
						   "{\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
						   "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"},{\"type\":\"map\",\"keys\":"
						   "{\"type\":\"string\",\"optional\":false},\"values\":{\"type\":\"string\",\"optional\":false},"
						   "\"optional\":true,\"field\":\"extensions\"}],\"optional\":true,"
						   "\"name\":\"io.debezium.data.geometry.Geometry\",\"version\":2,\"doc\":\"Geometry\",\"field\":\"p\"}"));
	assert_non_null(strstr(f->tab.envelope_schema.data,
						   "{\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
						   "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],\"optional\":false,"
						   "\"name\":\"io.debezium.data.geometry.Geography\",\"version\":1,\"doc\":\"Geography\",\"field\":\"ml\"}"));
	pt_dbz_writer_init(&f->w, &f->set);
}

/* pg_logical_emit_message(true, 'audit', 'hello'): <prefix>.message, key {"prefix":...}. */
static void
test_message(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_MESSAGE, NULL, "{\"prefix\":\"audit\",\"content\":\"hello\"}", NULL);
	pt_err		err = {0};
	int			n;

	ev.schema_name = ev.table_name = (pt_text) {NULL, 0};
	pt_dbz_writer_init(&f->w, &f->set);
	assert_true(pt_dbz_write(&f->w, NULL, &ev, INT64_C(1717171717300000), &n, &err));
	assert_int_equal(n, 1);
	assert_int_equal(f->w.msgs[0].topic, PT_DBZ_TOPIC_MESSAGE);
	assert_buf(&f->w.msgs[0].key, "{\"prefix\":\"audit\"}");
	assert_non_null(strstr(f->w.msgs[0].value.data, "{\"op\":\"m\",\"ts_ms\":1717171717300,\"source\":{"));
	assert_non_null(strstr(f->w.msgs[0].value.data, "\"schema\":\"\",\"table\":\"\",\"txId\":767,"));
	assert_non_null(strstr(f->w.msgs[0].value.data, ",\"transaction\":null,\"message\":{\"prefix\":\"audit\",\"content\":\"aGVsbG8=\"}}"));
}

/*
 * Snapshot markers (SnapshotMarkerResolver, the buffering receiver): each
 * record is held until the next event says what it is.
 */
static const char *
marker_of(const pt_dbz_message *m)
{
	static char	got[32];
	const char *at = strstr(m->value.data, "\"snapshot\":\"");
	const char *end;

	assert_non_null(at);
	at += 12;
	end = strchr(at, '"');
	snprintf(got, sizeof(got), "%.*s", (int) (end - at), at);
	return got;
}

static void
test_snapshot_markers(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_SNAPSHOT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"a\"}", NULL);
	pt_event	insert = event(PT_OP_INSERT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"a\"}", NULL);
	pt_err		err = {0};
	int			n;

	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	ev.id = 1;
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_int_equal(n, 0);		/* held */
	ev.id = 2;
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_int_equal(n, 1);
	assert_string_equal(marker_of(&f->w.msgs[0]), "first");
	assert_non_null(strstr(f->w.msgs[0].value.data, "\"op\":\"r\""));
	assert_int_equal(f->w.msgs[0].event->id, 1);	/* its own event's headers */
	ev.table_name = pt_text_c("u");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_string_equal(marker_of(&f->w.msgs[0]), "last_in_data_collection");
	/* its own table (for its topic), not the next record's */
	assert_int_equal(f->w.msgs[0].event->table_name.len, 1);
	assert_memory_equal(f->w.msgs[0].event->table_name.ptr, "t", 1);
	assert_memory_equal(f->w.msgs[0].event->schema_name.ptr, "public", 6);
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_string_equal(marker_of(&f->w.msgs[0]), "first_in_data_collection");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_string_equal(marker_of(&f->w.msgs[0]), "true");
	assert_true(pt_dbz_write(&f->w, &f->tab, &insert, 0, &n, &err));
	assert_int_equal(n, 2);
	assert_string_equal(marker_of(&f->w.msgs[0]), "last");
	assert_string_equal(marker_of(&f->w.msgs[1]), "false");
	assert_null(f->w.msgs[1].event);

	/* tables of the same name in two schemas are two data collections */
	ev.schema_name = pt_text_c("s1");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	ev.schema_name = pt_text_c("s2");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_string_equal(marker_of(&f->w.msgs[0]), "last_in_data_collection");
	pt_dbz_finish(&f->w, &n);
	assert_string_equal(marker_of(&f->w.msgs[0]), "last");

	/* a snapshot of one row, ended by the batch: last */
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_int_equal(n, 0);
	pt_dbz_finish(&f->w, &n);
	assert_int_equal(n, 1);
	assert_string_equal(marker_of(&f->w.msgs[0]), "last");
	pt_dbz_finish(&f->w, &n);
	assert_int_equal(n, 0);
}

/*
 * provide.transaction.metadata: BEGIN before the transaction's first
 * record, each record's block (id "<xid>:<its lsn>", total and per-table
 * order), END at the next transaction (or the batch's end) with the
 * counts per table (TransactionMonitor, PostgresTransactionMonitor).
 */
static void
test_transaction_metadata(void **state)
{
	fixture    *f = *state;
	pt_event	ev = event(PT_OP_INSERT, "{\"id\":\"1\"}", "{\"id\":\"1\",\"v\":\"a\"}", NULL);
	pt_err		err = {0};
	int			n;

	f->set.tx_metadata = true;
	setup_table(f, T_COLUMNS, t_pk, 1, T_DETAILS);
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, INT64_C(1717171717200123), &n, &err));
	assert_int_equal(n, 2);
	assert_int_equal(f->w.msgs[0].topic, PT_DBZ_TOPIC_TRANSACTION);
	assert_buf(&f->w.msgs[0].key, "{\"id\":\"767:24023128\"}");
	assert_buf(&f->w.msgs[0].value, "{\"status\":\"BEGIN\",\"id\":\"767:24023128\",\"event_count\":null,"
			   "\"data_collections\":null,\"ts_ms\":1717171717123}");
	assert_non_null(strstr(f->w.msgs[1].value.data, ",\"transaction\":{\"id\":\"767:24023128\",\"total_order\":1,"
						   "\"data_collection_order\":1},\"op\":\"c\""));
	ev.lsn = 24023300;
	ev.table_name = pt_text_c("m");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_int_equal(n, 1);
	assert_non_null(strstr(f->w.msgs[0].value.data, "{\"id\":\"767:24023300\",\"total_order\":2,\"data_collection_order\":1}"));
	ev.table_name = pt_text_c("t");
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_non_null(strstr(f->w.msgs[0].value.data, "\"total_order\":3,\"data_collection_order\":2}"));

	/* the next transaction: END of this one first, then BEGIN */
	ev.xid = 768;
	ev.commit_lsn = 24024000;
	ev.lsn = 24023900;
	assert_true(pt_dbz_write(&f->w, &f->tab, &ev, 0, &n, &err));
	assert_int_equal(n, 3);
	assert_buf(&f->w.msgs[0].key, "{\"id\":\"767:24023200\"}");
	/* HashMap order, not arrival order: "public.m" (bucket 2) before "public.t" (bucket 5) */
	assert_buf(&f->w.msgs[0].value, "{\"status\":\"END\",\"id\":\"767:24023200\",\"event_count\":3,"
			   "\"data_collections\":[{\"data_collection\":\"public.m\",\"event_count\":1},"
			   "{\"data_collection\":\"public.t\",\"event_count\":2}],\"ts_ms\":1717171717123}");
	assert_buf(&f->w.msgs[1].key, "{\"id\":\"768:24023900\"}");
	/* a message outside any transaction ends the open one (Debezium's monitor does so) */
	{
		pt_event	msg = event(PT_OP_MESSAGE, NULL, "{\"prefix\":\"p\",\"content\":\"x\"}", NULL);

		msg.has_xid = false;
		assert_true(pt_dbz_write(&f->w, NULL, &msg, 0, &n, &err));
		assert_int_equal(n, 2);
		assert_int_equal(f->w.msgs[0].topic, PT_DBZ_TOPIC_TRANSACTION);
		assert_non_null(strstr(f->w.msgs[0].value.data, "\"status\":\"END\",\"id\":\"768:24024000\",\"event_count\":1,"));
		assert_int_equal(f->w.msgs[1].topic, PT_DBZ_TOPIC_MESSAGE);
		assert_non_null(strstr(f->w.msgs[1].value.data, "\"transaction\":null"));
	}
	pt_dbz_finish(&f->w, &n);
	assert_int_equal(n, 0);
}

/* HeartbeatImpl's record: ServerNameKey and Heartbeat, version 1 each. */
static void
test_heartbeat(void **state)
{
	fixture    *f = *state;

	pt_dbz_writer_init(&f->w, &f->set);
	pt_dbz_heartbeat(&f->w, INT64_C(1717171717300999));
	assert_buf(&f->w.msgs[0].key, "{\"serverName\":\"dbserver1\"}");
	assert_buf(&f->w.msgs[0].value, "{\"ts_ms\":1717171717300}");
	f->set.key_schemas = f->set.value_schemas = true;
	pt_dbz_heartbeat(&f->w, INT64_C(1717171717300999));
	assert_buf(&f->w.msgs[0].key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
			   "\"field\":\"serverName\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\","
			   "\"version\":1},\"payload\":{\"serverName\":\"dbserver1\"}}");
	assert_buf(&f->w.msgs[0].value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
			   "\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\","
			   "\"version\":1},\"payload\":{\"ts_ms\":1717171717300}}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_without_schemas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_with_schemas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_tombstone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyless_and_toast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_and_fallbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enum_and_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postgis_schemas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_metadata, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
