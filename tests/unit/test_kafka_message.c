/*
 * test_kafka_message.c — an event as a Kafka message (capture/kafka_message.c):
 * topics from templates, keys, native and Debezium values byte for byte,
 * headers. Every value is also checked to be one well-formed JSON object
 * (jsmn, strict), so a consumer's JSON parser will take it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "capture/kafka_message.h"
#include "core/buf.h"
#include "core/lsn.h"
#include "core/version.h"

#define COMMITTED_AT INT64_C(1795514400123456)	/* 2026-11-24 10:00:00.123456+00 */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define HASH "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
static const pt_text unchanged_cols[] = {{"notes", 5}, {"blob", 4}};

/* public.orders, event 42, in transaction 771 at 0/16B3748; op and JSON set by each test */
static pt_event
order_event(pt_op op, const char *key, const char *row, const char *old)
{
	pt_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 42;
	ev.lsn = 0x16B3748;
	ev.commit_lsn = 0x16B3780;
	ev.has_xid = true;
	ev.xid = 771;
	ev.committed_at = COMMITTED_AT;
	ev.schema_name = pt_text_c("public");
	ev.table_name = pt_text_c("orders");
	ev.has_schema_version = true;
	ev.schema_version = 2;
	ev.op = op;
	ev.key = pt_text_c(key);
	ev.row = pt_text_c(row);
	ev.old = pt_text_c(old);
	for (int i = 0; i < PT_HASH_LEN; i++)
		ev.hash[i] = (uint8_t) i;
	return ev;
}

/*
 * One JSON object and nothing else: jsmn (strict) takes it, its first
 * token spans the whole text, every member has a key with a value, no
 * comma is out of place (jsmn does not check) and no raw control byte is
 * left (pgtrail writes no whitespace between tokens).
 */
static void
assert_json(const char *s, size_t len)
{
	jsmn_parser p;
	jsmntok_t	t[512];
	int			ntok;

	jsmn_init(&p);
	ntok = jsmn_parse(&p, s, len, t, 512);
	if (ntok <= 0 || t[0].type != JSMN_OBJECT || t[0].start != 0 || (size_t) t[0].end != len)
		fail_msg("not one JSON object (jsmn %d): %.*s", ntok, (int) len, s);
	for (int i = 1; i < ntok; i++)
	{
		if (t[i].parent >= 0 && t[t[i].parent].type == JSMN_OBJECT &&
			(t[i].type != JSMN_STRING || t[i].size != 1))
			fail_msg("member without key or value at %d: %.*s", t[i].start, (int) len, s);
	}
	for (size_t i = 0; i < len; i++)
	{
		if ((unsigned char) s[i] < 0x20)
			fail_msg("raw control byte at %zu: %.*s", i, (int) len, s);
	}
	/* jsmn lets a stray comma through ({"a":1,}, {,"a":1}): look for one */
	{
		bool		in_string = false;
		char		prev = 0;

		for (size_t i = 0; i < len; i++)
		{
			char		c = s[i];

			if (in_string)
			{
				if (c == '\\')
					i++;
				else if (c == '"')
					in_string = false;
				continue;
			}
			if (c == ' ')
				continue;
			if ((c == ',' && (prev == ',' || prev == '{' || prev == '[' || prev == ':')) ||
				((c == '}' || c == ']') && (prev == ',' || prev == ':')))
				fail_msg("misplaced '%c' at %zu: %.*s", c, i, (int) len, s);
			in_string = c == '"';
			prev = c;
		}
	}
}

/* The value of ev is exactly expected, and valid JSON. */
static void
assert_value(const pt_event *ev, const char *expected)
{
	pt_buf		out = PT_BUF_INIT;

	pt_kafka_value(ev, &out);
	assert_string_equal(out.data, expected);
	assert_int_equal(out.len, strlen(expected));
	assert_json(out.data, out.len);
	pt_buf_free(&out);
}

static void
test_format_parse(void **state)
{
	pt_kafka_format fmt = PT_KAFKA_DEBEZIUM;

	(void) state;
	assert_true(pt_kafka_format_parse("native", &fmt));
	assert_int_equal(fmt, PT_KAFKA_NATIVE);
	assert_true(pt_kafka_format_parse("debezium", &fmt));
	assert_int_equal(fmt, PT_KAFKA_DEBEZIUM);
	assert_false(pt_kafka_format_parse("Debezium", &fmt));
	assert_false(pt_kafka_format_parse("avro", &fmt));
	assert_false(pt_kafka_format_parse("", &fmt));
	assert_false(pt_kafka_format_parse(NULL, &fmt));
	assert_int_equal(fmt, PT_KAFKA_DEBEZIUM);
}

/* An update with unchanged TOAST columns and context, as the event table holds it. */
static void
test_native_update(void **state)
{
	pt_event	ev = order_event(PT_OP_UPDATE, "{\"id\":\"7\"}",
								 "{\"id\":\"7\",\"total\":\"1.500\",\"status\":\"paid\"}",
								 "{\"id\":\"7\"}");

	(void) state;
	ev.unchanged = unchanged_cols;
	ev.nunchanged = 2;
	ev.actor = pt_text_c("alice");
	ev.action = pt_text_c("refund");
	ev.metadata = pt_text_c("{\"ticket\": 12, \"ticket\": 1.50}");	/* verbatim, duplicates and all */
	assert_value(&ev,
				 "{\"id\":42,\"lsn\":\"0/16B3748\",\"commit_lsn\":\"0/16B3780\",\"xid\":771,"
				 "\"committed_at\":\"2026-11-24 10:00:00.123456+00\",\"schema_name\":\"public\","
				 "\"table_name\":\"orders\",\"schema_version\":2,\"op\":\"update\","
				 "\"key\":{\"id\":\"7\"},\"row\":{\"id\":\"7\",\"total\":\"1.500\",\"status\":\"paid\"},"
				 "\"old\":{\"id\":\"7\"},\"unchanged\":[\"notes\",\"blob\"],\"actor\":\"alice\","
				 "\"action\":\"refund\",\"metadata\":{\"ticket\": 12, \"ticket\": 1.50},"
				 "\"prev_hash\":\"" ZERO_HASH "\",\"hash\":\"" HASH "\"}");
}

/* NULL xid and version, escapes and UTF-8 in names and context, no unchanged. */
static void
test_native_escapes(void **state)
{
	pt_event	ev = order_event(PT_OP_SNAPSHOT, "{\"n\\u00b0\":\"1\"}",
								 "{\"n\\u00b0\":\"1\",\"l\xc3\xadnea\":\"a\\\"b\\\\c\"}", NULL);
	static const pt_text odd[] = {{"we\"ird\tcol", 10}};

	(void) state;
	ev.id = 1;
	ev.has_xid = false;
	ev.has_schema_version = false;
	ev.schema_name = pt_text_c("Billing Dept");
	ev.table_name = pt_text_c("Invoice \"Lines\"");
	ev.actor = pt_text_c("J\xc3\xbcrgen \xe2\x82\xac");
	ev.action = pt_text_c("a\\b\x01");
	ev.unchanged = odd;
	ev.nunchanged = 1;
	memset(ev.prev_hash, 0xff, PT_HASH_LEN);
	assert_value(&ev,
				 "{\"id\":1,\"lsn\":\"0/16B3748\",\"commit_lsn\":\"0/16B3780\",\"xid\":null,"
				 "\"committed_at\":\"2026-11-24 10:00:00.123456+00\",\"schema_name\":\"Billing Dept\","
				 "\"table_name\":\"Invoice \\\"Lines\\\"\",\"schema_version\":null,\"op\":\"snapshot\","
				 "\"key\":{\"n\\u00b0\":\"1\"},\"row\":{\"n\\u00b0\":\"1\",\"l\xc3\xadnea\":\"a\\\"b\\\\c\"},"
				 "\"old\":null,\"unchanged\":[\"we\\\"ird\\tcol\"],\"actor\":\"J\xc3\xbcrgen \xe2\x82\xac\","
				 "\"action\":\"a\\\\b\\u0001\",\"metadata\":null,"
				 "\"prev_hash\":\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\","
				 "\"hash\":\"" HASH "\"}");
}

/* A gap: no table, no xid, metadata only. */
static void
test_native_gap(void **state)
{
	pt_event	ev = order_event(PT_OP_GAP, NULL, NULL, NULL);
	const char *expected =
		"{\"id\":42,\"lsn\":\"0/16B3748\",\"commit_lsn\":\"0/16B3780\",\"xid\":null,"
		"\"committed_at\":\"2026-11-24 10:00:00.123456+00\",\"schema_name\":null,"
		"\"table_name\":null,\"schema_version\":null,\"op\":\"gap\",\"key\":null,\"row\":null,"
		"\"old\":null,\"unchanged\":[],\"actor\":null,\"action\":null,"
		"\"metadata\":{\"reason\":\"slot lost\"},\"prev_hash\":\"" ZERO_HASH "\",\"hash\":\"" HASH "\"}";

	(void) state;
	ev.has_xid = false;
	ev.has_schema_version = false;
	ev.schema_name.ptr = NULL;
	ev.table_name.ptr = NULL;
	ev.metadata = pt_text_c("{\"reason\":\"slot lost\"}");
	assert_value(&ev, expected);
}

/* Once the buffer has grown, formatting the next event does not reallocate. */
static void
test_buffer_reuse(void **state)
{
	pt_event	ev = order_event(PT_OP_UPDATE, "{\"id\":\"7\"}", "{\"id\":\"7\"}", "{\"id\":\"7\"}");
	pt_buf		out = PT_BUF_INIT;
	char	   *data;
	size_t		cap;

	(void) state;
	ev.unchanged = unchanged_cols;
	ev.nunchanged = 2;
	pt_kafka_value(&ev, &out);
	data = out.data;
	cap = out.cap;
	for (int i = 0; i < 100; i++)
	{
		pt_buf_reset(&out);
		pt_kafka_value(&ev, &out);
	}
	assert_ptr_equal(out.data, data);
	assert_int_equal(out.cap, cap);
	pt_buf_free(&out);
}

/* Only what Kafka accepts in a topic name: [A-Za-z0-9._-], at most 249 bytes. */
static void
assert_topic(const pt_buf *topic, const char *expected)
{
	assert_string_equal(topic->data, expected);
	assert_true(topic->len > 0 && topic->len <= 249);
	for (size_t i = 0; i < topic->len; i++)
	{
		char		c = topic->data[i];

		assert_true((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
					c == '.' || c == '_' || c == '-');
	}
}

static void
test_topic(void **state)
{
	pt_event	ev = order_event(PT_OP_INSERT, NULL, NULL, NULL);
	pt_buf		topic = PT_BUF_INIT;

	(void) state;
	pt_kafka_topic("pgtrail.{schema}.{table}", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "pgtrail.public.orders");

	/* appends, does not reset */
	pt_kafka_topic("-{table}", "x", &ev, &topic);
	assert_topic(&topic, "pgtrail.public.orders-orders");

	pt_buf_reset(&topic);
	pt_kafka_topic("all-changes", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "all-changes");

	pt_buf_reset(&topic);
	pt_kafka_topic("{table}_{table}.{x}{schema}", "o", &ev, &topic);
	assert_string_equal(topic.data, "orders_orders.{x}public");

	/* names Kafka would refuse: one '_' per character, UTF-8 counted as one */
	ev.schema_name = pt_text_c("Billing Dept");
	ev.table_name = pt_text_c("Invoice \"Lines\"");
	pt_buf_reset(&topic);
	pt_kafka_topic("pgtrail.{schema}.{table}", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "pgtrail.Billing_Dept.Invoice__Lines_");

	ev.schema_name = pt_text_c("m\xc3\xbcnchen");
	ev.table_name = pt_text_c("Gr\xc3\xb6\xc3\x9f" "e/\xe2\x82\xac\xf0\x9f\x98\x80");
	pt_buf_reset(&topic);
	pt_kafka_topic("pgtrail.{schema}.{table}", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "pgtrail.m_nchen.Gr__e___");

	/* events of no table */
	ev.op = PT_OP_MESSAGE;
	ev.schema_name.ptr = NULL;
	ev.table_name.ptr = NULL;
	pt_buf_reset(&topic);
	pt_kafka_topic("pgtrail.{schema}.{table}", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "pgtrail._other");
	ev.op = PT_OP_GAP;
	pt_buf_reset(&topic);
	pt_kafka_topic("all-changes", "pgtrail._other", &ev, &topic);
	assert_topic(&topic, "pgtrail._other");

	pt_buf_free(&topic);
}

static void
test_key(void **state)
{
	pt_event	ev = order_event(PT_OP_INSERT, "{\"id\":\"7\"}", "{\"id\":\"7\"}", NULL);
	size_t		len = 99;
	const pt_op with_key[] = {PT_OP_INSERT, PT_OP_UPDATE, PT_OP_DELETE, PT_OP_SNAPSHOT};
	const pt_op without[] = {PT_OP_TRUNCATE, PT_OP_MESSAGE, PT_OP_DDL, PT_OP_GAP};

	(void) state;
	for (size_t i = 0; i < 4; i++)
	{
		ev.op = with_key[i];
		assert_ptr_equal(pt_kafka_key(&ev, &len), ev.key.ptr);
		assert_int_equal(len, 10);
	}
	for (size_t i = 0; i < 4; i++)
	{
		len = 99;
		ev.op = without[i];
		assert_null(pt_kafka_key(&ev, &len));
		assert_int_equal(len, 0);
	}
	/* a table without a key */
	ev.op = PT_OP_INSERT;
	ev.key.ptr = NULL;
	len = 99;
	assert_null(pt_kafka_key(&ev, &len));
	assert_int_equal(len, 0);
}

static void
assert_header(const char *name, const char *value, size_t len, const char *exp_name, const char *exp_value)
{
	assert_string_equal(name, exp_name);
	assert_int_equal(len, strlen(exp_value));
	assert_memory_equal(value, exp_value, len);
	assert_int_equal(value[len], '\0');
}

static void
test_headers(void **state)
{
	pt_event	ev = order_event(PT_OP_UPDATE, "{\"id\":\"7\"}", "{\"id\":\"7\"}", NULL);
	pt_buf		scratch = PT_BUF_INIT;
	const char *names[PT_KAFKA_MAX_HEADERS];
	const char *values[PT_KAFKA_MAX_HEADERS];
	size_t		lens[PT_KAFKA_MAX_HEADERS];
	int			n;

	(void) state;
	ev.id = INT64_C(9007199254740993);
	ev.xid = INT64_C(4294967296);
	pt_buf_puts(&scratch, "left over from before");
	n = pt_kafka_headers(&ev, &scratch, names, values, lens);
	assert_int_equal(n, 5);
	assert_header(names[0], values[0], lens[0], "pgtrail.event_id", "9007199254740993");
	assert_header(names[1], values[1], lens[1], "pgtrail.lsn", "0/16B3748");
	assert_header(names[2], values[2], lens[2], "pgtrail.xid", "4294967296");
	assert_header(names[3], values[3], lens[3], "pgtrail.hash", HASH);
	assert_header(names[4], values[4], lens[4], "pgtrail.schema_version", "2");

	/* no xid, no version: omitted */
	ev.op = PT_OP_GAP;
	ev.has_xid = false;
	ev.has_schema_version = false;
	ev.lsn = ev.commit_lsn = UINT64_C(0x16B374D848);
	n = pt_kafka_headers(&ev, &scratch, names, values, lens);
	assert_int_equal(n, 3);
	assert_header(names[0], values[0], lens[0], "pgtrail.event_id", "9007199254740993");
	assert_header(names[1], values[1], lens[1], "pgtrail.lsn", "16/B374D848");
	assert_header(names[2], values[2], lens[2], "pgtrail.hash", HASH);
	pt_buf_free(&scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_native_update),
		cmocka_unit_test(test_native_escapes),
		cmocka_unit_test(test_native_gap),
		cmocka_unit_test(test_buffer_reuse),
		cmocka_unit_test(test_topic),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
