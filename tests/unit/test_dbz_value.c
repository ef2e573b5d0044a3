/*
 * tests/unit/test_dbz_value.c — column values as Debezium's PostgreSQL
 * connector writes them, type by type and mode by mode.
 *
 * Every expectation is Debezium's own: the per-type expected values of its
 * connector's tests (AbstractRecordsProducerTest's schemasAndValuesFor*
 * lists, RecordsStreamProducerIT, PostgresTemporalPrecisionHandlingIT,
 * the DDL in postgres_create_tables.ddl), restated here as the JSON
 * Kafka Connect's JsonConverter writes for them. The input is the text
 * PostgreSQL prints for the fixture's literal in capture's session
 * (DateStyle ISO, TimeZone UTC, IntervalStyle postgres, lc_monetary C).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture/dbz_value.h"

static pt_dbz_scratch scratch;

/* A type by built-in OID and its format_type name. */
static pt_dbz_type
builtin(uint32_t oid, const char *name)
{
	pt_dbz_type t;

	assert_true(pt_dbz_type_builtin(oid, name, &t));
	return t;
}

static void
expect_in(const pt_dbz_type *t, const pt_dbz_modes *m, const char *text, const char *json)
{
	pt_buf		out = PT_BUF_INIT;

	if (!pt_dbz_put_value(&out, t, m, text, strlen(text), &scratch))
		fail_msg("refused: %s", text);
	pt_buf_putc(&out, '\0');
	assert_string_equal(out.data, json);
	pt_buf_free(&out);
}

/* The value under Debezium's default settings. */
static void
expect(uint32_t oid, const char *name, const char *text, const char *json)
{
	pt_dbz_modes m;
	pt_dbz_type t = builtin(oid, name);

	pt_dbz_modes_default(&m);
	expect_in(&t, &m, text, json);
}

/* The value with one setting changed. */
static void
expect_mode(const char *setting, const char *value, uint32_t oid, const char *name, const char *text,
			const char *json)
{
	pt_dbz_modes m;
	pt_dbz_type t = builtin(oid, name);

	pt_dbz_modes_default(&m);
	assert_true(pt_dbz_modes_set(&m, setting, value));
	expect_in(&t, &m, text, json);
}

static void
refused(uint32_t oid, const char *name, const char *text)
{
	pt_dbz_modes m;
	pt_dbz_type t = builtin(oid, name);
	pt_buf		out = PT_BUF_INIT;

	pt_dbz_modes_default(&m);
	assert_false(pt_dbz_put_value(&out, &t, &m, text, strlen(text), &scratch));
	assert_int_equal(out.len, 0);
	pt_buf_free(&out);
}

/* schemasAndValuesForNumericType: numeric_table */
static void
test_integers_and_bool(void **state)
{
	(void) state;
	expect(21, "smallint", "1", "1");
	expect(23, "integer", "123456", "123456");
	expect(20, "bigint", "1234567890123", "1234567890123");
	expect(20, "bigint", "-9223372036854775808", "-9223372036854775808");
	expect(16, "boolean", "t", "true");
	expect(16, "boolean", "f", "false");
	expect(26, "oid", "4000000000", "4000000000");
}

/* float_table and RecordsStreamProducerIT's float columns: Java's toString */
static void
test_floats(void **state)
{
	(void) state;
	expect(700, "real", "3.3", "3.3");
	expect(701, "double precision", "4.44", "4.44");
	expect(701, "double precision", "3", "3.0");
	expect(701, "double precision", "1e+20", "1.0E20");
	expect(701, "double precision", "NaN", "\"NaN\"");
	expect(701, "double precision", "-Infinity", "\"-Infinity\"");
}

/* schemasAndValuesForBigDecimalEncodedNumericTypes and the string/double lists */
static void
test_numeric(void **state)
{
	(void) state;
	expect(1700, "numeric(3,2)", "1.10", "\"bg==\"");
	expect(1700, "numeric(4,0)", "10", "\"Cg==\"");
	expect(1700, "numeric", "10.1111", "{\"scale\":4,\"value\":\"AYr3\"}");
	expect(1700, "numeric(3,2)", "3.30", "\"AUo=\"");
	expect(1700, "numeric(6,4)", "22.2200", "\"A2P4\"");
	expect(1700, "numeric(4,0)", "22", "\"Fg==\"");
	expect(1700, "numeric", "22.2222", "{\"scale\":4,\"value\":\"A2QO\"}");
	expect(1700, "numeric(3,2)", "1.00", "\"ZA==\"");
	expect(1700, "numeric", "10", "{\"scale\":0,\"value\":\"Cg==\"}");
	expect(1700, "numeric(6,4)", "22.0000", "\"A1tg\"");
	expect(1700, "numeric", "22.000", "{\"scale\":0,\"value\":\"Fg==\"}");
	expect(1700, "numeric", "10.1000", "{\"scale\":1,\"value\":\"ZQ==\"}");
	expect(1231, "numeric(10,2)[]", "{1.20,3.40,5.60}", "[\"eA==\",\"AVQ=\",\"AjA=\"]");
	expect(1231, "numeric[]", "{1.1,2.22,3.333}",
		   "[{\"scale\":1,\"value\":\"Cw==\"},{\"scale\":2,\"value\":\"AN4=\"},{\"scale\":3,\"value\":\"DQU=\"}]");
	/* precise cannot carry NaN: Debezium fails, pgtrail writes null and counts it */
	refused(1700, "numeric", "NaN");

	expect_mode("decimal.handling.mode", "string", 1700, "numeric(3,2)", "1.10", "\"1.10\"");
	expect_mode("decimal.handling.mode", "string", 1700, "numeric", "10.1111", "\"10.1111\"");
	expect_mode("decimal.handling.mode", "string", 1700, "numeric", "NaN", "\"NAN\"");
	expect_mode("decimal.handling.mode", "string", 1700, "numeric", "Infinity", "\"POSITIVE_INFINITY\"");
	expect_mode("decimal.handling.mode", "string", 1700, "numeric", "-Infinity", "\"NEGATIVE_INFINITY\"");
	expect_mode("decimal.handling.mode", "double", 1700, "numeric(3,2)", "1.10", "1.1");
	expect_mode("decimal.handling.mode", "double", 1700, "numeric(4,0)", "10", "10.0");
	expect_mode("decimal.handling.mode", "double", 1700, "numeric", "22.2222", "22.2222");
	expect_mode("decimal.handling.mode", "double", 1700, "numeric", "NaN", "\"NaN\"");
}

/* cash_table */
static void
test_money(void **state)
{
	pt_dbz_modes m;
	pt_dbz_type t = builtin(790, "money");

	(void) state;
	expect(790, "money", "$1,234.11", "\"AeIT\"");
	expect(790, "money", "-$1,234.11", "\"/h3t\"");
	expect(790, "money", "-$92,233,720,368,547,758.08", "\"gAAAAAAAAAA=\"");
	expect_mode("decimal.handling.mode", "string", 790, "money", "$123.45", "\"123.45\"");
	expect_mode("decimal.handling.mode", "double", 790, "money", "$123.45", "123.45");
	/* money.fraction.digits = 1: 123.46 rounds half up to 123.5 */
	pt_dbz_modes_default(&m);
	m.money_digits = 1;
	expect_in(&t, &m, "$123.46", "\"BNM=\"");
	m.money_digits = 0;
	expect_in(&t, &m, "$999.50", "\"A+g=\"");	/* 1000 */
}

/* string_table, text_table, network and range types, arrays of strings */
static void
test_strings(void **state)
{
	(void) state;
	expect(1043, "character varying(2)", "\xC5\xBE\xC5\xA1", "\"\xC5\xBE\xC5\xA1\"");
	expect(1042, "character(4)", "cdef", "\"cdef\"");
	expect(25, "text", "some text", "\"some text\"");
	expect(114, "json", "{\"bar\": \"baz\"}", "\"{\\\"bar\\\": \\\"baz\\\"}\"");
	expect(142, "xml", "<foo>bar</foo><foo>bar</foo>", "\"<foo>bar</foo><foo>bar</foo>\"");
	expect(2950, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
	expect(869, "inet", "192.168.2.0/12", "\"192.168.2.0/12\"");
	expect(829, "macaddr", "08:00:2b:01:02:03", "\"08:00:2b:01:02:03\"");
	expect(3908, "tsrange", "[\"2019-03-31 15:30:00\",infinity)", "\"[\\\"2019-03-31 15:30:00\\\",infinity)\"");
	expect(3614, "tsvector", "'direct':6 'insert':8", "\"'direct':6 'insert':8\"");
	/* Jackson's escapes: upper-case hex for other control characters */
	expect(25, "text", "a\x01\tb\\\"", "\"a\\u0001\\tb\\\\\\\"\"");
	expect(1014, "character(10)[]", "{\"cone      \",\"ctwo      \",\"cthree    \"}",
		   "[\"cone      \",\"ctwo      \",\"cthree    \"]");
	expect(1009, "text[]", "{one,two,\"with \\\"quote\\\"\",NULL}", "[\"one\",\"two\",\"with \\\"quote\\\"\",null]");
	expect(1007, "integer[]", "{1,2,3}", "[1,2,3]");
	expect(1016, "bigint[]", "{1550166368505037572}", "[1550166368505037572]");
	expect(1028, "oid[]", "{3,4000000000}", "[3,4000000000]");
	expect(1007, "integer[]", "{}", "[]");
	expect(199, "json[]", "{\"{\\\"bar\\\": \\\"baz\\\"}\",\"{\\\"foo\\\": \\\"qux\\\"}\"}",
		   "[\"{\\\"bar\\\": \\\"baz\\\"}\",\"{\\\"foo\\\": \\\"qux\\\"}\"]");
}

/* bytea_binmode_table and bitbin_table */
static void
test_binary_and_bits(void **state)
{
	(void) state;
	expect(17, "bytea", "\\x010203", "\"AQID\"");
	expect(17, "bytea", "\\x000102", "\"AAEC\"");
	expect(17, "bytea", "\\x", "\"\"");
	expect(1001, "bytea[]", "{\"\\\\x000102\",\"\\\\x030405\"}", "[\"AAEC\",\"AwQF\"]");
	expect_mode("binary.handling.mode", "base64", 17, "bytea", "\\x010203", "\"AQID\"");
	expect_mode("binary.handling.mode", "hex", 17, "bytea", "\\x010203", "\"010203\"");
	expect_mode("binary.handling.mode", "hex", 1001, "bytea[]", "{\"\\\\x000102\",\"\\\\x030405\"}",
				"[\"000102\",\"030405\"]");

	expect(1560, "bit(1)", "0", "false");
	expect(1560, "bit(1)", "1", "true");
	expect(1560, "bit(2)", "11", "\"Aw==\"");
	expect(1560, "bit(7)", "1000000", "\"QA==\"");
	expect(1562, "bit varying(1)", "1", "true");
	expect(1562, "bit varying(2)", "00", "\"\"");
	expect(1562, "bit varying(24)", "000000110000001000000001", "\"AQID\"");
	expect(1562, "bit varying(64)",
		   "1000000000000000000000000000000000000000000000000000000000000000", "\"AAAAAAAAAIA=\"");
	expect(1562, "bit varying", "101", "\"BQ==\"");
	expect(1562, "bit varying", "111011010001000110000001000000001", "\"AQIj2gE=\"");
}

/* time_table under adaptive (the default) */
static void
test_dates_and_times(void **state)
{
	(void) state;
	expect(1082, "date", "2016-11-04", "17109");
	expect(1082, "date", "infinity", "-2147472692");
	expect(1082, "date", "-infinity", "-2147472691");
	expect(1182, "date[]", "{2016-11-04,2016-11-05,2016-11-06}", "[17109,17110,17111]");
	expect(1083, "time without time zone", "13:51:30", "49890000000");
	expect(1083, "time(3) without time zone", "13:51:30.123", "49890123");
	expect(1083, "time without time zone", "24:00:00", "86400000000");
	expect(1183, "time without time zone[]", "{00:01:02,01:02:03}", "[62000000,3723000000]");
	expect(1183, "time without time zone[]", "{00:01:02.123456}", "[62123000]");
	expect(1266, "time with time zone", "13:51:30.123789+02", "\"11:51:30.123789Z\"");
	expect(1266, "time(3) with time zone", "13:51:30.123+02", "\"11:51:30.123Z\"");
	expect(1266, "time with time zone", "04:05:11-08", "\"12:05:11Z\"");
	expect(1266, "time(0) with time zone", "24:00:00+00", "\"24:00:00Z\"");
	expect(1266, "time with time zone", "01:02:03.123789+00", "\"01:02:03.123789Z\"");
	expect(1270, "time with time zone[]", "{13:51:02+02,14:51:03+02}", "[\"11:51:02Z\",\"12:51:03Z\"]");

	expect(1114, "timestamp without time zone", "2016-11-04 13:51:30.123456", "1478267490123456");
	expect(1114, "timestamp(6) without time zone", "1936-10-25 22:10:12.608", "-1047174587392000");
	expect(1114, "timestamp(3) without time zone", "2016-11-04 13:51:30.123", "1478267490123");
	expect(1114, "timestamp without time zone", "21016-11-04 13:51:30.123456", "601060312290123456");
	expect(1114, "timestamp(3) without time zone", "21016-11-04 13:51:30.124", "601060312290124");
	expect(1114, "timestamp(6) without time zone", "294247-01-01 23:59:59.999999", "9223371331199999999");
	expect(1114, "timestamp(6) without time zone", "4713-12-31 23:59:59.999999 BC", "-210831897600000001");
	expect(1114, "timestamp(6) without time zone", "infinity", "9223372036825200000");
	/* PostgreSQL's last years are past int64 microseconds since 1970: no value, counted */
	refused(1114, "timestamp(6) without time zone", "294276-12-31 23:59:59.999999");
	expect(1114, "timestamp(6) without time zone", "-infinity", "-9223372036832400000");
	expect(1115, "timestamp without time zone[]", "{\"2020-04-01 00:01:02\",\"2020-04-01 01:02:03\"}",
		   "[1585699262000000,1585702923000000]");

	expect(1184, "timestamp with time zone", "2016-11-04 11:51:30.123456+00", "\"2016-11-04T11:51:30.123456Z\"");
	expect(1184, "timestamp with time zone", "21016-11-04 06:51:30.123456+00", "\"+21016-11-04T06:51:30.123456Z\"");
	expect(1184, "timestamp with time zone", "21016-11-04 06:51:30+00", "\"+21016-11-04T06:51:30.000000Z\"");
	expect(1184, "timestamp with time zone", "294247-01-01 23:59:59.999999+00", "\"+294247-01-01T23:59:59.999999Z\"");
	expect(1184, "timestamp with time zone", "4714-12-31 23:59:59.999999+00 BC", "\"-4713-12-31T23:59:59.999999Z\"");
	expect(1184, "timestamp with time zone", "infinity", "\"infinity\"");
	expect(1184, "timestamp with time zone", "-infinity", "\"-infinity\"");
	expect(1184, "timestamp with time zone", "2019-07-09 01:28:10.123456+00", "\"2019-07-09T01:28:10.123456Z\"");
	expect(1185, "timestamp with time zone[]", "{\"2020-04-01 11:51:02+00\",\"2020-04-01 12:51:03+00\"}",
		   "[\"2020-04-01T11:51:02.000000Z\",\"2020-04-01T12:51:03.000000Z\"]");
}

/* the other time.precision.mode values (schemaAndValuesForDateTimeTypesAdaptiveTimeMicroseconds, TPH) */
static void
test_time_modes(void **state)
{
	const char *mode = "time.precision.mode";

	(void) state;
	expect_mode(mode, "adaptive_time_microseconds", 1083, "time without time zone", "13:51:30", "49890000000");
	expect_mode(mode, "adaptive_time_microseconds", 1083, "time(3) without time zone", "13:51:30.123", "49890123000");
	expect_mode(mode, "adaptive_time_microseconds", 1114, "timestamp(3) without time zone",
				"2016-11-04 13:51:30.123", "1478267490123");

	expect_mode(mode, "connect", 1114, "timestamp without time zone", "2016-11-04 13:51:30.123456", "1478267490123");
	expect_mode(mode, "connect", 1082, "date", "2016-11-04", "17109");
	expect_mode(mode, "connect", 1083, "time without time zone", "13:51:30", "49890000");
	expect_mode(mode, "connect", 1083, "time(3) without time zone", "13:51:30.123", "49890123");
	expect_mode(mode, "connect", 1083, "time without time zone", "24:00:00", "86400000");

	expect_mode(mode, "isostring", 1082, "date", "2017-09-15", "\"2017-09-15Z\"");
	expect_mode(mode, "isostring", 1082, "date", "0044-03-15 BC", "\"-0043-03-15Z\"");
	expect_mode(mode, "isostring", 1082, "date", "infinity", "\"-5877611-06-21Z\"");
	expect_mode(mode, "isostring", 1082, "date", "-infinity", "\"-5877611-06-22Z\"");
	expect_mode(mode, "isostring", 1083, "time without time zone", "04:05:11.789", "\"04:05:11.789Z\"");
	expect_mode(mode, "isostring", 1083, "time without time zone", "24:00:00", "\"00:00:00Z\"");
	expect_mode(mode, "isostring", 1114, "timestamp(0) without time zone", "2019-07-09 02:28:57", "\"2019-07-09T02:28:57Z\"");
	expect_mode(mode, "isostring", 1114, "timestamp(1) without time zone", "2019-07-09 02:28:57.1", "\"2019-07-09T02:28:57.1Z\"");
	expect_mode(mode, "isostring", 1114, "timestamp(4) without time zone", "2019-07-09 02:28:57.1234",
				"\"2019-07-09T02:28:57.1234Z\"");
	expect_mode(mode, "isostring", 1114, "timestamp(6) without time zone", "infinity", "\"+294247-01-10T04:00:25.2Z\"");
	expect_mode(mode, "isostring", 1114, "timestamp(6) without time zone", "-infinity", "\"-290308-12-21T19:59:27.6Z\"");
	/* timestamptz and timetz do not follow the mode */
	expect_mode(mode, "isostring", 1184, "timestamp with time zone", "2019-07-09 01:28:10.123456+00",
				"\"2019-07-09T01:28:10.123456Z\"");
}

/* intervals: ARPT 'P1Y2M3DT4H5M6.78S', TPH and RSP's test_interval */
static void
test_intervals(void **state)
{
	const char *mode = "interval.handling.mode";

	(void) state;
	expect(1186, "interval", "1 year 2 mons 3 days 04:05:06.78", "37091106780000");
	expect(1186, "interval", "1 year", "31557600000000");
	expect(1186, "interval", "10 days", "864000000000");
	expect(1186, "interval", "1 year 2 mons 3 days 04:05:06", "37091106000000");
	expect(1186, "interval", "2 mons 3 days", "5518800000000");
	expect(1186, "interval", "60 days", "5184000000000");
	expect(1186, "interval", "00:00:00", "0");
	expect(1186, "interval", "-1 days +02:03:00", "-79020000000");
	expect(1186, "interval", "-04:05:06", "-14706000000");
	/* PostgreSQL 17's infinite intervals (Debezium's pgjdbc reads them as 0): refused, counted */
	refused(1186, "interval", "infinity");
	refused(1186, "interval", "-infinity");
	expect_mode(mode, "string", 1186, "interval", "1 year 2 mons 3 days 04:05:06.78", "\"P1Y2M3DT4H5M6.78S\"");
	expect_mode(mode, "string", 1186, "interval", "1 year", "\"P1Y0M0DT0H0M0S\"");
	expect_mode(mode, "string", 1186, "interval", "10 days", "\"P0Y0M10DT0H0M0S\"");
	expect_mode(mode, "string", 1186, "interval", "2 mons 3 days", "\"P0Y2M3DT0H0M0S\"");
	expect_mode(mode, "string", 1186, "interval", "-1 days +02:03:00", "\"P0Y0M-1DT2H3M0S\"");
	expect_mode(mode, "string", 1186, "interval", "-04:05:06", "\"P0Y0M0DT-4H-5M-6S\"");
	expect_mode(mode, "string", 1186, "interval", "00:00:00.000001", "\"P0Y0M0DT0H0M0.000001S\"");
	expect_mode(mode, "string", 1186, "interval", "100:00:00", "\"P0Y0M0DT100H0M0S\"");
}

/* hstore_table*: the JSON-mode strings pin HashMap order (key5 before key4) */
static void
test_hstore(void **state)
{
	pt_dbz_modes m;
	pt_dbz_type t = {.kind = PT_DBZ_HSTORE, .length = -1, .scale = -1};

	(void) state;
	pt_dbz_modes_default(&m);
	expect_in(&t, &m, "\"key\"=>\"val\"", "\"{\\\"key\\\":\\\"val\\\"}\"");
	expect_in(&t, &m, "\"key1\"=>\"val1\", \"key2\"=>\"val2\", \"key3\"=>\"val3\"",
			  "\"{\\\"key1\\\":\\\"val1\\\",\\\"key2\\\":\\\"val2\\\",\\\"key3\\\":\\\"val3\\\"}\"");
	expect_in(&t, &m, "\"key4\"=>\"val4\", \"key5\"=>NULL", "\"{\\\"key5\\\":null,\\\"key4\\\":\\\"val4\\\"}\"");
	expect_in(&t, &m, "\"key 2\"=>\" ##123 78\", \"key_#1\"=>\"val 1\"",
			  "\"{\\\"key_#1\\\":\\\"val 1\\\",\\\"key 2\\\":\\\" ##123 78\\\"}\"");
	expect_in(&t, &m, "", "\"{}\"");
	assert_true(pt_dbz_modes_set(&m, "hstore.handling.mode", "map"));
	expect_in(&t, &m, "\"key1\"=>\"val1\", \"key2\"=>NULL", "{\"key1\":\"val1\",\"key2\":null}");
	expect_in(&t, &m, "\"key4\"=>\"val4\", \"key5\"=>NULL", "{\"key5\":null,\"key4\":\"val4\"}");
	t.array = true;
	pt_dbz_modes_default(&m);
	expect_in(&t, &m, "{\"\\\"key4\\\"=>\\\"val4\\\", \\\"key5\\\"=>NULL\",\"\\\"key6\\\"=>\\\"val6\\\"\"}",
			  "[\"{\\\"key5\\\":null,\\\"key4\\\":\\\"val4\\\"}\",\"{\\\"key6\\\":\\\"val6\\\"}\"]");
}

/* geom_table and the geometric domains of RecordsStreamProducerIT (PostgreSQL's text of each literal) */
static void
test_geometry(void **state)
{
	(void) state;
	expect(600, "point", "(1,1)", "{\"x\":1.0,\"y\":1.0,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAPA/\",\"srid\":null}");
	expect(603, "box", "(1,1),(0,0)",
		   "{\"wkb\":\"AQMAAAABAAAABQAAAAAAAAAAAPA/AAAAAAAA8D8AAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8"
		   "AAAAAAADwPwAAAAAAAPA/\",\"srid\":null,\"extensions\":{\"type\":\"box\"}}");
	expect(601, "lseg", "[(0,0),(0,1)]", "{\"wkb\":\"AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8=\","
		   "\"srid\":null,\"extensions\":{\"type\":\"lseg\"}}");
	expect(602, "path", "((0,0),(0,1),(0,2))", "{\"wkb\":\"AQIAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAABA\","
		   "\"srid\":null,\"extensions\":{\"type\":\"path\",\"closed\":\"true\"}}");
	/* the ring (0,0),(0,1),(1,0),(0,0): 01, type 3, 1 ring of 4 points, 8 doubles */
	expect(604, "polygon", "((0,0),(0,1),(1,0),(0,0))",
		   "{\"wkb\":\"AQMAAAABAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
		   "\"srid\":null,\"extensions\":{\"type\":\"polygon\"}}");
	expect(718, "circle", "<(10,4),10>",
		   "{\"center\":{\"x\":10.0,\"y\":4.0,\"wkb\":\"AQEAAAAAAAAAAAAkQAAAAAAAABBA\",\"srid\":null},\"radius\":10.0}");
	expect(628, "line", "{-1,0,0}", "{\"a\":-1.0,\"b\":0.0,\"c\":0.0}");
	refused(600, "point", "(1,x)");
}

/* postgis_table: geometry 'SRID=3187;POINT(174.9479 -36.7208)', geography 'MULTILINESTRING(...)' (PostGIS's hex EWKB) */
static void
test_postgis(void **state)
{
	pt_dbz_modes m;
	pt_dbz_type geometry = {0},
				geography = {0};
	pt_buf		out = PT_BUF_INIT;

	(void) state;
	pt_dbz_modes_default(&m);
	assert_true(pt_dbz_type_extension("geometry", &geometry));
	assert_true(pt_dbz_type_extension("geography", &geography));
	expect_in(&geometry, &m, "0101000020730C00001C7C613255DE6540787AA52C435C42C0",
			  "{\"wkb\":\"AQEAACBzDAAAHHxhMlXeZUB4eqUsQ1xCwA==\",\"srid\":3187,\"extensions\":null}");
	expect_in(&geography, &m, "0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0"
			  "C66D3480B7FC6440C3D32B65195246C0",
			  "{\"wkb\":\"AQUAACDmEAAAAQAAAAECAAAAAgAAAKd5xyk6JGVAC0YldQJaRsDGbTSAt/xkQMPTK2UZUkbA\",\"srid\":4326}");
	expect_in(&geometry, &m, "010700000000000000", "{\"wkb\":\"AQcAAAAAAAAA\",\"srid\":null,\"extensions\":null}");
	assert_false(pt_dbz_put_value(&out, &geometry, &m, "01ZZ", 4, &scratch));
	pt_buf_free(&out);
}

/* types Debezium leaves out, fallbacks of NOT NULL columns without data, TOAST placeholders */
static void
test_omitted_fallback_unavailable(void **state)
{
	pt_dbz_modes m;
	pt_dbz_type t;
	pt_buf		out = PT_BUF_INIT;

	(void) state;
	pt_dbz_modes_default(&m);
	assert_int_equal(builtin(791, "money[]").kind, PT_DBZ_OMITTED);
	assert_int_equal(builtin(1187, "interval[]").kind, PT_DBZ_OMITTED);
	assert_int_equal(builtin(3615, "tsquery").kind, PT_DBZ_OMITTED);
	assert_false(pt_dbz_type_builtin(16385, "public.mood", &t));

	t = builtin(1700, "numeric(3,2)");
	pt_dbz_put_fallback(&out, &t, &m);
	t = builtin(25, "text");
	pt_buf_putc(&out, ',');
	pt_dbz_put_fallback(&out, &t, &m);
	t = builtin(1007, "integer[]");
	pt_buf_putc(&out, ',');
	pt_dbz_put_fallback(&out, &t, &m);
	pt_buf_putc(&out, ',');
	assert_true(pt_dbz_put_unavailable(&out, &t, &m));
	t = builtin(25, "text");
	pt_buf_putc(&out, ',');
	assert_true(pt_dbz_put_unavailable(&out, &t, &m));
	t = builtin(17, "bytea");
	pt_buf_putc(&out, ',');
	assert_true(pt_dbz_put_unavailable(&out, &t, &m));
	t = builtin(1700, "numeric");
	assert_false(pt_dbz_put_unavailable(&out, &t, &m));
	pt_buf_putc(&out, '\0');
	assert_string_equal(out.data, "\"AA==\",\"\",[],"
						"[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101],"
						"\"__debezium_unavailable_value\",\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"");
	pt_buf_free(&out);
}

static int
teardown(void **state)
{
	(void) state;
	pt_dbz_scratch_free(&scratch);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers_and_bool),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_binary_and_bits),
		cmocka_unit_test(test_dates_and_times),
		cmocka_unit_test(test_time_modes),
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_hstore),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_postgis),
		cmocka_unit_test(test_omitted_fallback_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
