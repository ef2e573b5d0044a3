/*
 * tests/unit/test_replay.c — the pure parts of replay: reading every member
 * of an event's JSON objects (escapes, nulls, nested values kept as bytes,
 * arrays), and the mapping rules (parsing, version ranges, quoted names,
 * every malformed rule a clear error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/jsonobj.h"
#include "replay/mapping.h"

static void
assert_span(pt_text t, const char *expected)
{
	assert_non_null(t.ptr);
	assert_int_equal(t.len, strlen(expected));
	assert_memory_equal(t.ptr, expected, t.len);
}

static void
test_object_members(void **state)
{
	const char *json = "{\"id\":\"1\",\"b\":\"\\\\x00ff\",\"q\\\"x\":\"a\\nb\\u00e9\\ud83d\\ude00\","
		"\"n\":null,\"o\":{\"k\": [1, 2]},\"num\":-0.0,\"e\":\"\"}";
	pt_jsonobj	o;
	pt_err		err;

	(void) state;
	pt_jsonobj_init(&o);
	for (int round = 0; round < 2; round++)	/* reused: the second parse must not see the first */
	{
		assert_true(pt_jsonobj_parse(&o, json, strlen(json), &err));
		assert_int_equal(o.n, 7);
		assert_span(o.names[0], "id");
		assert_span(o.values[0], "1");
		assert_span(o.values[1], "\\x00ff");
		assert_span(o.names[2], "q\"x");
		assert_span(o.values[2], "a\nb\xc3\xa9\xf0\x9f\x98\x80");
		assert_null(o.values[3].ptr);
		assert_int_equal(o.kinds[3], PT_JSON_NULL);
		assert_span(o.values[4], "{\"k\": [1, 2]}");
		assert_int_equal(o.kinds[4], PT_JSON_RAW);
		assert_span(o.values[5], "-0.0");
		assert_span(o.values[6], "");
		assert_int_equal(pt_jsonobj_find(&o, "q\"x", 3), 2);
		assert_int_equal(pt_jsonobj_find(&o, "missing", 7), -1);
	}
	assert_false(pt_jsonobj_parse(&o, "[1]", 3, &err));
	assert_false(pt_jsonobj_parse(&o, "{\"a\":", 5, &err));
	assert_false(pt_jsonobj_parse(&o, "{\"a\":\"\\u0000\"}", 14, &err));
	pt_jsonobj_free(&o);
}

static void
test_many_escaped_members(void **state)
{
	/* enough escaped strings to make the arena move while parsing */
	char		json[20000];
	size_t		at = 0;
	pt_jsonobj	o;
	pt_err		err;

	(void) state;
	json[at++] = '{';
	for (int i = 0; i < 300; i++)
		at += (size_t) snprintf(json + at, sizeof(json) - at, "%s\"c%d\":\"v\\\\%d\\\\\"", i ? "," : "", i, i);
	json[at++] = '}';
	pt_jsonobj_init(&o);
	assert_true(pt_jsonobj_parse(&o, json, at, &err));
	assert_int_equal(o.n, 300);
	for (int i = 0; i < 300; i++)
	{
		char		expected[32];

		snprintf(expected, sizeof(expected), "v\\%d\\", i);
		assert_span(o.values[i], expected);
	}
	pt_jsonobj_free(&o);
}

static void
test_array_items(void **state)
{
	const char *json = "[{\"schema\":\"a\",\"table\":\"t\"}, \"s\", 3, [1,[2]], null]";
	pt_text    *items = NULL;
	int			cap = 0,
				n;
	pt_err		err;

	(void) state;
	assert_true(pt_json_array_items(json, strlen(json), &items, &cap, &n, &err));
	assert_int_equal(n, 5);
	assert_span(items[0], "{\"schema\":\"a\",\"table\":\"t\"}");
	assert_span(items[1], "\"s\"");
	assert_span(items[2], "3");
	assert_span(items[3], "[1,[2]]");
	assert_span(items[4], "null");
	assert_false(pt_json_array_items("{}", 2, &items, &cap, &n, &err));
	free(items);
}

static void
test_mapping_rules(void **state)
{
	pt_err		err;
	pt_mapping *m = pt_mapping_parse("table app.posts = app.articles; column app.posts.title = name @1;"
									 " drop app.posts.legacy @2-3 ; column \"My S\".\"T;x\".\"a.b\" = \"c d\"", &err);
	const char *s,
			   *t,
			   *renamed;
	bool		dropped;

	(void) state;
	assert_non_null(m);
	assert_int_equal(pt_mapping_count(m), 4);
	pt_mapping_table(m, "app", "posts", 7, &s, &t);
	assert_string_equal(s, "app");
	assert_string_equal(t, "articles");
	pt_mapping_table(m, "app", "other", 1, &s, &t);
	assert_string_equal(t, "other");
	pt_mapping_column(m, "app", "posts", 1, "title", 5, &renamed, &dropped);
	assert_string_equal(renamed, "name");
	pt_mapping_column(m, "app", "posts", 2, "title", 5, &renamed, &dropped);
	assert_null(renamed);
	assert_false(dropped);
	pt_mapping_column(m, "app", "posts", 3, "legacy", 6, &renamed, &dropped);
	assert_true(dropped);
	pt_mapping_column(m, "app", "posts", 4, "legacy", 6, &renamed, &dropped);
	assert_false(dropped);
	pt_mapping_column(m, "My S", "T;x", 9, "a.b", 3, &renamed, &dropped);
	assert_string_equal(renamed, "c d");
	pt_mapping_free(m);

	m = pt_mapping_parse("", &err);
	assert_int_equal(pt_mapping_count(m), 0);
	pt_mapping_free(m);
}

static void
test_mapping_errors(void **state)
{
	const char *bad[] = {
		"rename a.b = c.d", "table a = b.c", "table a.b c.d", "column a.b = c", "drop a.b",
		"table a.b = c.d @0", "table a.b = c.d @3-2", "table a.b = c.d trailing", "column a.b.\"c = d",
	};
	pt_err		err;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		pt_err_clear(&err);
		assert_null(pt_mapping_parse(bad[i], &err));
		assert_int_equal(err.kind, PT_ERR_CONFIG);
		assert_non_null(strstr(err.message, "[replay] map"));
		assert_non_null(strstr(err.hint, "table S.T = S.NEW"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_members),
		cmocka_unit_test(test_many_escaped_members),
		cmocka_unit_test(test_array_items),
		cmocka_unit_test(test_mapping_rules),
		cmocka_unit_test(test_mapping_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
