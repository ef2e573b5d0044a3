/*
 * tests/unit/test_wal2json.c — the wal2json format-version 2 parser.
 *
 * Every action with every option pgtrail asks for (lines as wal2json 2.5
 * really writes them, taken from a live server), values that must come
 * through byte for byte, and malformed lines that must give an error value,
 * never a crash (the fuzz target covers the rest).
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
#include "core/wal2json.h"

typedef struct fixture
{
	pt_w2j_parser *p;
	pt_w2j_change ch;
	pt_err		err;
} fixture;

static int
setup(void **state)
{
	fixture    *f = calloc(1, sizeof(*f));

	f->p = pt_w2j_parser_new();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture    *f = *state;

	pt_w2j_parser_free(f->p);
	free(f);
	return 0;
}

static bool
parse(fixture *f, const char *line)
{
	return pt_w2j_parse(f->p, line, strlen(line), &f->ch, &f->err);
}

static void
assert_str(pt_w2j_str s, const char *expect)
{
	assert_non_null(s.ptr);
	assert_int_equal(s.len, strlen(expect));
	assert_memory_equal(s.ptr, expect, s.len);
	assert_int_equal(s.ptr[s.len], '\0');
}

static const pt_w2j_column *
col(const pt_w2j_columns *cols, const char *name)
{
	for (int i = 0; i < cols->count; i++)
		if (strcmp(cols->items[i].name.ptr, name) == 0)
			return &cols->items[i];
	fail_msg("no column \"%s\"", name);
	return NULL;
}

static void
test_begin_commit(void **state)
{
	fixture    *f = *state;

	assert_true(parse(f, "{\"action\":\"B\",\"xid\":727,\"timestamp\":\"2026-11-23 23:35:23.658633+00\","
					  "\"lsn\":\"0/151EF88\",\"nextlsn\":\"0/151EFB8\"}"));
	assert_int_equal(f->ch.action, 'B');
	assert_true(f->ch.has_xid);
	assert_int_equal(f->ch.xid, 727);
	assert_str(f->ch.timestamp, "2026-11-23 23:35:23.658633+00");
	assert_true(f->ch.has_commit_time);
	assert_int_equal(f->ch.commit_time, INT64_C(1795476923658633));
	assert_true(f->ch.has_lsn);
	assert_int_equal(f->ch.lsn, UINT64_C(0x151EF88));
	assert_true(f->ch.has_nextlsn);
	assert_int_equal(f->ch.nextlsn, UINT64_C(0x151EFB8));

	assert_true(parse(f, "{\"action\":\"C\",\"xid\":4294967295,\"timestamp\":\"2026-11-23 23:35:23.65939+05:30\","
					  "\"origin\":7,\"lsn\":\"1A/0\",\"nextlsn\":\"1A/30\"}"));
	assert_int_equal(f->ch.action, 'C');
	assert_int_equal(f->ch.xid, UINT32_C(4294967295));
	assert_int_equal(f->ch.commit_time, INT64_C(1795476923659390) - INT64_C(19800000000));
	assert_true(f->ch.has_origin);
	assert_int_equal(f->ch.origin, 7);
	assert_int_equal(f->ch.lsn, UINT64_C(0x1A00000000));
}

static const char insert_line[] =
	"{\"action\":\"I\",\"xid\":727,\"timestamp\":\"2026-11-23 23:35:23.658633+00\",\"lsn\":\"0/151EE50\","
	"\"schema\":\"public\",\"table\":\"t\",\"columns\":["
	"{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1},"
	"{\"name\":\"n\",\"type\":\"numeric(10,3)\",\"typeoid\":1700,\"value\":1.500},"
	"{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":-0},"
	"{\"name\":\"b\",\"type\":\"bigint\",\"typeoid\":20,\"value\":9007199254740993},"
	"{\"name\":\"by\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"00ff\"},"
	"{\"name\":\"tx\",\"type\":\"text\",\"typeoid\":25,\"value\":\"a\\tb\xc3\xa9\"},"
	"{\"name\":\"j\",\"type\":\"json\",\"typeoid\":114,\"value\":\"{\\\"a\\\":1,\\\"a\\\":2}\"},"
	"{\"name\":\"ok\",\"type\":\"boolean\",\"typeoid\":16,\"value\":true},"
	"{\"name\":\"no\",\"type\":\"boolean\",\"typeoid\":16,\"value\":false},"
	"{\"name\":\"arr\",\"type\":\"integer[]\",\"typeoid\":1007,\"value\":\"{1,2}\"},"
	"{\"name\":\"e\",\"type\":\"double precision\",\"typeoid\":701,\"value\":1.5e-300},"
	"{\"name\":\"nan\",\"type\":\"numeric\",\"typeoid\":1700,\"value\":null},"
	"{\"name\":\"weird col\",\"type\":\"character varying(20)\",\"typeoid\":1043,\"value\":\"q\\\"x\"}"
	"],\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}";

static void
test_insert_values_exact(void **state)
{
	fixture    *f = *state;
	const pt_w2j_columns *c = &f->ch.columns;

	assert_true(parse(f, insert_line));
	assert_int_equal(f->ch.action, 'I');
	assert_str(f->ch.schema, "public");
	assert_str(f->ch.table, "t");
	assert_int_equal(c->count, 13);
	assert_str(col(c, "id")->value, "1");
	assert_str(col(c, "n")->value, "1.500");
	assert_str(col(c, "n")->type, "numeric(10,3)");
	assert_int_equal(col(c, "n")->typeoid, 1700);
	assert_str(col(c, "f")->value, "-0");
	assert_str(col(c, "b")->value, "9007199254740993");
	assert_str(col(c, "by")->value, "\\x00ff");
	assert_str(col(c, "tx")->value, "a\tb\xc3\xa9");
	assert_str(col(c, "j")->value, "{\"a\":1,\"a\":2}");
	assert_str(col(c, "ok")->value, "t");
	assert_str(col(c, "no")->value, "f");
	assert_str(col(c, "arr")->value, "{1,2}");
	assert_str(col(c, "e")->value, "1.5e-300");
	assert_true(col(c, "nan")->isnull);
	assert_null(col(c, "nan")->value.ptr);
	assert_false(col(c, "id")->isnull);
	assert_str(col(c, "weird col")->value, "q\"x");
	assert_true(f->ch.pk.present);
	assert_int_equal(f->ch.pk.count, 1);
	assert_str(f->ch.pk.items[0].name, "id");
	assert_false(f->ch.identity.present);
}

static void
test_update_delete_truncate(void **state)
{
	fixture    *f = *state;

	assert_true(parse(f, "{\"action\":\"U\",\"xid\":728,\"lsn\":\"0/151EFB8\",\"schema\":\"s\",\"table\":\"Odd \\\"Tab\\\"\","
					  "\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],"
					  "\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1}],"
					  "\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}"));
	assert_int_equal(f->ch.action, 'U');
	assert_str(f->ch.table, "Odd \"Tab\"");
	assert_str(f->ch.columns.items[0].value, "2");
	assert_true(f->ch.identity.present);
	assert_str(f->ch.identity.items[0].value, "1");

	assert_true(parse(f, "{\"action\":\"D\",\"xid\":730,\"lsn\":\"0/151F1B8\",\"schema\":\"public\",\"table\":\"t\","
					  "\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],\"pk\":[]}"));
	assert_int_equal(f->ch.action, 'D');
	assert_false(f->ch.columns.present);
	assert_int_equal(f->ch.identity.count, 1);
	assert_true(f->ch.pk.present);
	assert_int_equal(f->ch.pk.count, 0);

	assert_true(parse(f, "{\"action\":\"T\",\"xid\":735,\"timestamp\":\"2026-11-23 23:35:19.628557+00\","
					  "\"lsn\":\"0/1520B58\",\"schema\":\"public\",\"table\":\"t\"}"));
	assert_int_equal(f->ch.action, 'T');
	assert_str(f->ch.table, "t");
}

static void
test_messages(void **state)
{
	fixture    *f = *state;

	assert_true(parse(f, "{\"action\":\"M\",\"xid\":736,\"timestamp\":\"2026-11-23 23:35:19.630767+00\","
					  "\"lsn\":\"0/1520E70\",\"transactional\":true,\"prefix\":\"pgtrail\","
					  "\"content\":\"{\\\"actor\\\":\\\"x\\\"}\"}"));
	assert_int_equal(f->ch.action, 'M');
	assert_true(f->ch.transactional);
	assert_str(f->ch.prefix, "pgtrail");
	assert_str(f->ch.content, "{\"actor\":\"x\"}");

	assert_true(parse(f, "{\"action\":\"M\",\"xid\":null,\"timestamp\":null,\"lsn\":\"0/1520FC8\","
					  "\"transactional\":false,\"prefix\":\"nt\",\"content\":\"hello\"}"));
	assert_false(f->ch.transactional);
	assert_false(f->ch.has_xid);
	assert_false(f->ch.has_commit_time);
	assert_str(f->ch.content, "hello");

	/* content is a client's bytes, copied unchecked by wal2json: kept, not refused */
	assert_true(parse(f, "{\"action\":\"M\",\"xid\":737,\"timestamp\":\"2026-11-23 23:35:19.630767+00\","
					  "\"lsn\":\"0/1520E70\",\"transactional\":true,\"prefix\":\"x\","
					  "\"content\":\"A\xc3\\u0001\xff\"}"));
	assert_int_equal(f->ch.content.len, 4);
	assert_memory_equal(f->ch.content.ptr, "A\xc3\x01\xff", 4);
}

static void
test_optional_column_fields(void **state)
{
	fixture    *f = *state;
	const pt_w2j_column *c;

	assert_true(parse(f, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
					  "{\"name\":\"id\",\"type\":\"integer\",\"value\":1,\"optional\":false,\"position\":1,"
					  "\"default\":\"nextval('t_id_seq'::regclass)\"},"
					  "{\"name\":\"by\",\"type\":\"bytea\",\"value\":\"\",\"optional\":true,\"position\":3,\"default\":null}],"
					  "\"some_future_key\":{\"x\":[1,2,{\"y\":null}]}}"));
	c = &f->ch.columns.items[0];
	assert_int_equal(c->optional, 0);
	assert_int_equal(c->position, 1);
	assert_str(c->default_expr, "nextval('t_id_seq'::regclass)");
	c = &f->ch.columns.items[1];
	assert_int_equal(c->optional, 1);
	assert_int_equal(c->position, 3);
	assert_null(c->default_expr.ptr);
	/* bytea recognised by type name when no oid is sent; empty bytea is "\x" */
	assert_str(c->value, "\\x");
	assert_false(f->ch.has_xid);
}

/* A numeric of 20,000 digits goes through as its exact text. */
static void
test_huge_numeric(void **state)
{
	fixture    *f = *state;
	pt_buf		line = PT_BUF_INIT;
	pt_buf		digits = PT_BUF_INIT;

	pt_buf_putc(&digits, '-');
	for (int i = 0; i < 20000; i++)
		pt_buf_putc(&digits, (char) ('0' + (i * 7 + 1) % 10));
	pt_buf_puts(&digits, ".000100");
	pt_buf_printf(&line, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
				  "{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,\"value\":%s}]}", digits.data);
	assert_true(pt_w2j_parse(f->p, line.data, line.len, &f->ch, &f->err));
	assert_str(f->ch.columns.items[0].value, digits.data);
	pt_buf_free(&line);
	pt_buf_free(&digits);
}

/* Text with every control character (as wal2json escapes them) and \u escapes. */
static void
test_control_chars_and_escapes(void **state)
{
	fixture    *f = *state;
	pt_buf		line = PT_BUF_INIT;
	pt_buf		expect = PT_BUF_INIT;
	static const char *const esc[32] = {
		NULL, "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
		"\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000F",
		"\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
		"\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"
	};

	pt_buf_puts(&line, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
				"{\"name\":\"tx\",\"type\":\"text\",\"typeoid\":25,\"value\":\"");
	for (int c = 1; c < 32; c++)
	{
		pt_buf_puts(&line, esc[c]);
		pt_buf_putc(&expect, (char) c);
	}
	/* \" \\ \/ , a BMP escape, a surrogate pair, raw UTF-8 and DEL */
	pt_buf_puts(&line, "\\\"\\\\\\/\\u00e9\\ud83d\\ude00\xe2\x82\xac\x7f\"}]}");
	pt_buf_puts(&expect, "\"\\/\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac\x7f");
	assert_true(pt_w2j_parse(f->p, line.data, line.len, &f->ch, &f->err));
	assert_int_equal(f->ch.columns.items[0].value.len, expect.len);
	assert_memory_equal(f->ch.columns.items[0].value.ptr, expect.data, expect.len);
	pt_buf_free(&line);
	pt_buf_free(&expect);
}

/* bytea with every byte value: bare hex in, "\x" + the same hex out. */
static void
test_bytea_all_bytes(void **state)
{
	fixture    *f = *state;
	pt_buf		hex = PT_BUF_INIT;
	pt_buf		line = PT_BUF_INIT;

	for (int b = 0; b < 256; b++)
		pt_buf_printf(&hex, "%02x", b);
	pt_buf_printf(&line, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
				  "{\"name\":\"by\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"%s\"}]}", hex.data);
	assert_true(pt_w2j_parse(f->p, line.data, line.len, &f->ch, &f->err));
	assert_int_equal(f->ch.columns.items[0].value.len, 2 + 512);
	assert_memory_equal(f->ch.columns.items[0].value.ptr, "\\x", 2);
	assert_memory_equal(f->ch.columns.items[0].value.ptr + 2, hex.data, 512);
	pt_buf_free(&hex);
	pt_buf_free(&line);
}

/* A domain over bytea keeps "\x" (wal2json only strips it for bytea itself). */
static void
test_domain_over_bytea(void **state)
{
	fixture    *f = *state;

	assert_true(parse(f, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
					  "{\"name\":\"d\",\"type\":\"mybytes\",\"typeoid\":16390,\"value\":\"\\\\x0a\"}]}"));
	assert_str(f->ch.columns.items[0].value, "\\x0a");
}

static void
expect_error(fixture *f, const char *line, size_t len, const char *fragment)
{
	pt_err_clear(&f->err);
	if (pt_w2j_parse(f->p, line, len, &f->ch, &f->err))
		fail_msg("accepted malformed line: %.*s", (int) (len > 200 ? 200 : len), line);
	assert_int_equal(f->err.kind, PT_ERR_CONFIG);
	if (strstr(f->err.message, fragment) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", f->err.message, fragment);
}

#define BAD(line, fragment) expect_error(f, (line), sizeof(line) - 1, (fragment))
#define ROW(cols) "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[" cols "]}"

static void
test_malformed(void **state)
{
	fixture    *f = *state;
	static const char nul_line[] = "{\"action\":\"B\"}\0{}";

	BAD("", "truncated");
	BAD("   ", "truncated");
	BAD("{\"action\":\"B\"", "truncated");
	BAD("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"value\":\"abc", "truncated");
	BAD("[1,2]", "expected a JSON object");
	BAD("\"B\"", "expected a JSON object");
	BAD("{\"action\":\"B\"} {}", "after the JSON object");
	expect_error(f, nul_line, sizeof(nul_line) - 1, "after the JSON object");
	BAD("{}", "no \"action\"");
	BAD("{\"action\":\"X\"}", "unknown \"action\"");
	BAD("{\"action\":\"BC\"}", "bad \"action\"");
	BAD("{\"action\":1}", "bad \"action\"");
	/* wrong types */
	BAD("{\"action\":\"B\",\"xid\":\"12\"}", "expected a number");
	BAD("{\"action\":\"B\",\"xid\":-1}", "unsigned 32-bit");
	BAD("{\"action\":\"B\",\"xid\":4294967296}", "out of range");
	BAD("{\"action\":\"B\",\"xid\":1.5}", "unsigned 32-bit");
	BAD("{\"action\":\"B\",\"lsn\":\"zz/1\"}", "invalid LSN");
	BAD("{\"action\":\"B\",\"lsn\":7}", "expected a string");
	BAD("{\"action\":\"B\",\"timestamp\":\"yesterday\"}", "invalid timestamp");
	BAD("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":{}}", "expected an array");
	BAD("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[1]}", "column object");
	BAD(ROW("{\"value\":1}"), "without \"name\"");
	BAD(ROW("{\"name\":\"a\"}"), "without \"value\"");
	BAD(ROW("{\"name\":\"a\",\"value\":[1]}"), "expected a number");
	BAD(ROW("{\"name\":\"a\",\"value\":{}}"), "expected a number");
	BAD(ROW("{\"name\":7,\"value\":1}"), "expected a string");
	BAD(ROW("{\"name\":\"a\",\"type\":\"bytea\",\"value\":\"0g\"}"), "not hex");
	BAD(ROW("{\"name\":\"a\",\"type\":\"bytea\",\"value\":\"abc\"}"), "odd number");
	BAD("{\"action\":\"I\",\"table\":\"t\",\"columns\":[]}", "\"schema\" and \"table\"");
	BAD("{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\"}", "without \"columns\"");
	BAD("{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\"}", "without \"identity\"");
	BAD("{\"action\":\"M\",\"transactional\":1,\"prefix\":\"p\",\"content\":\"c\"}", "true or false");
	BAD("{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\"}", "\"prefix\" and \"content\"");
	BAD("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[],\"columns\":[]}", "duplicate");
	/* bad literals and numbers */
	BAD(ROW("{\"name\":\"a\",\"value\":tru}"), "invalid JSON literal");
	BAD(ROW("{\"name\":\"a\",\"value\":01}"), "invalid JSON literal");
	BAD(ROW("{\"name\":\"a\",\"value\":1.}"), "invalid JSON literal");
	BAD(ROW("{\"name\":\"a\",\"value\":-}"), "invalid JSON literal");
	BAD(ROW("{\"name\":\"a\",\"value\":1e}"), "invalid JSON literal");
	BAD(ROW("{\"name\":\"a\",\"value\":+1}"), "invalid JSON");
	BAD(ROW("{\"name\":\"a\",\"value\":NaN}"), "invalid JSON");
	/* structure */
	BAD("{\"action\":\"B\",\"xid\" 1}", "invalid JSON");
	BAD("{\"action\":\"B\",\"xid\":\"a\":\"b\"}", "expected a key");
	BAD("{\"action\":\"B\",]", "invalid JSON");
	BAD("{1:2}", "invalid JSON");
	/* strings: invalid UTF-8, surrogates, controls, escapes */
	BAD(ROW("{\"name\":\"a\",\"value\":\"\xff\"}"), "invalid UTF-8");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\xc3\"}"), "invalid UTF-8");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\xc0\xaf\"}"), "invalid UTF-8");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\xed\xa0\x80\"}"), "invalid UTF-8");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\xf4\x90\x80\x80\"}"), "invalid UTF-8");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\ud800\"}"), "lone high surrogate");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\ud800\\u0041\"}"), "lone high surrogate");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\udc00\"}"), "lone low surrogate");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\u0000\"}"), "\\u0000");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\u12\"}"), "invalid JSON");
	BAD(ROW("{\"name\":\"a\",\"value\":\"\\x41\"}"), "invalid JSON");
	BAD(ROW("{\"name\":\"a\",\"value\":\"a\tb\"}"), "control character");
}

static void
test_deep_nesting(void **state)
{
	fixture    *f = *state;
	pt_buf		line = PT_BUF_INIT;

	/* 30,000 levels in an unknown key: skipped without recursion */
	pt_buf_puts(&line, "{\"action\":\"B\",\"deep\":");
	for (int i = 0; i < 30000; i++)
		pt_buf_putc(&line, '[');
	for (int i = 0; i < 30000; i++)
		pt_buf_putc(&line, ']');
	pt_buf_putc(&line, '}');
	assert_true(pt_w2j_parse(f->p, line.data, line.len, &f->ch, &f->err));
	assert_int_equal(f->ch.action, 'B');
	/* the same depth where a column value belongs is an error */
	pt_buf_reset(&line);
	pt_buf_puts(&line, ROW("{\"name\":\"a\",\"value\":"));
	line.len -= 2;
	for (int i = 0; i < 30000; i++)
		pt_buf_putc(&line, '[');
	for (int i = 0; i < 30000; i++)
		pt_buf_putc(&line, ']');
	pt_buf_puts(&line, "}]}");
	expect_error(f, line.data, line.len, "expected a number");
	/* unbalanced: truncated */
	pt_buf_reset(&line);
	pt_buf_puts(&line, "{\"action\":\"B\",\"deep\":");
	for (int i = 0; i < 30000; i++)
		pt_buf_putc(&line, '{');
	expect_error(f, line.data, line.len, "JSON");
	pt_buf_free(&line);
}

/* Every truncation of a valid line is an error, never a crash or a read past the end. */
static void
test_every_truncation(void **state)
{
	fixture    *f = *state;
	size_t		len = strlen(insert_line);

	for (size_t n = 0; n < len; n++)
	{
		char	   *copy = malloc(n ? n : 1);

		memcpy(copy, insert_line, n);
		if (pt_w2j_parse(f->p, copy, n, &f->ch, &f->err))
			fail_msg("accepted a truncation to %zu bytes", n);
		free(copy);
	}
	/* and the parser still works afterwards */
	assert_true(parse(f, insert_line));
	assert_str(f->ch.columns.items[3].value, "9007199254740993");
}

/*
 * wal2json 2.5 writes a type name that format_type() quotes without JSON
 * escaping ("type":"Odd Schema"."Mood"): the line is mended, the type keeps
 * format_type()'s text, and nothing else changes. A line broken some other
 * way is still refused.
 */
static void
test_unescaped_type_names(void **state)
{
	fixture    *f = *state;
	const pt_w2j_columns *c = &f->ch.columns;

	assert_true(parse(f, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
					  "{\"name\":\"a\",\"type\":\"Odd Schema\".\"Mood\",\"typeoid\":16386,\"value\":\"ok\"},"
					  "{\"name\":\"b\",\"type\":\"Mood2\",\"typeoid\":16390,\"value\":\"a\\\",\\\"type\\\":\\\"\"},"
					  "{\"name\":\"c\",\"type\":\"x\\\\y\".\"z\",\"typeoid\":16391,\"value\":null}],"
					  "\"pk\":[{\"name\":\"a\",\"type\":\"Odd Schema\".\"Mood\",\"typeoid\":16386}]}"));
	assert_int_equal(c->count, 3);
	assert_str(col(c, "a")->type, "\"Odd Schema\".\"Mood\"");
	assert_int_equal(col(c, "a")->typeoid, 16386);
	assert_str(col(c, "a")->value, "ok");
	assert_str(col(c, "b")->type, "Mood2");
	assert_str(col(c, "b")->value, "a\",\"type\":\"");
	assert_str(col(c, "c")->type, "\"x\\\\y\".\"z\"");
	assert_int_equal(f->ch.pk.count, 1);
	assert_str(f->ch.pk.items[0].type, "\"Odd Schema\".\"Mood\"");
	assert_false(parse(f, "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
					   "{\"name\":\"a\",\"type\":\"int\",\"typeoid\":23,\"value\":1 2}]}"));
}

/*
 * wal2json 2.5 writes a type name format_type() quoted without quoting it
 * for JSON: "char" and "Mood" still read as strings (char, Mood), but a type
 * in a schema whose name needs quotes makes a line that is not JSON (taken
 * from a live server). The parser mends the name into a JSON string.
 */
static void
test_bare_type_names(void **state)
{
	fixture    *f = *state;
	const char *line =
		"{\"action\":\"I\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
		"{\"name\":\"c\",\"type\":\"char\",\"typeoid\":18,\"value\":\"x\"},"
		"{\"name\":\"m\",\"type\":\"My Schema\".\"Mood\",\"typeoid\":16386,\"value\":\"ok\"},"
		"{\"name\":\"q\",\"type\":\"a\"\"b\",\"typeoid\":16390,\"value\":\"\\\"type\\\":\"},"
		"{\"name\":\"ma\",\"type\":\"\\\"My Schema\\\".\\\"Mood\\\"[]\",\"typeoid\":16385,\"value\":\"{ok,sad}\"}],"
		"\"pk\":[{\"name\":\"m\",\"type\":\"My Schema\".\"Mood\",\"typeoid\":16386}]}";

	assert_true(parse(f, line));
	assert_int_equal(f->ch.columns.count, 4);
	assert_str(f->ch.columns.items[0].type, "char");
	assert_str(f->ch.columns.items[1].type, "\"My Schema\".\"Mood\"");
	assert_int_equal(f->ch.columns.items[1].typeoid, 16386);
	assert_str(f->ch.columns.items[1].value, "ok");
	assert_str(f->ch.columns.items[2].type, "\"a\"\"b\"");
	assert_str(f->ch.columns.items[2].value, "\"type\":");
	assert_str(f->ch.columns.items[3].type, "\"My Schema\".\"Mood\"[]");
	assert_int_equal(f->ch.pk.count, 1);
	assert_str(f->ch.pk.items[0].type, "\"My Schema\".\"Mood\"");
	/* a line that is not JSON for another reason still fails */
	assert_false(parse(f, "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"type\":\"x\".y,\"value\":1}]}"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_begin_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_values_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_delete_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_column_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_numeric, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unescaped_type_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_chars_and_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytea_all_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_over_bytea, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bare_type_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
