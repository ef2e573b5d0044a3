/*
 * tests/unit/test_core.c — the small pieces of core/: LSN and timestamp text,
 * the JSON string escaper, COPY text escaping and array literals, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/copytext.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/lsn.h"
#include "core/pgtime.h"
#include "core/utf8.h"

static void
test_lsn(void **state)
{
	pt_lsn		lsn;
	char		buf[PT_LSN_BUFLEN];

	(void) state;
	assert_true(pt_lsn_parse("16/B374D848", 11, &lsn));
	assert_int_equal(lsn, UINT64_C(0x16B374D848));
	pt_lsn_format(lsn, buf);
	assert_string_equal(buf, "16/B374D848");
	assert_true(pt_lsn_parse("ffffffff/ffffffff", 17, &lsn));
	pt_lsn_format(lsn, buf);
	assert_string_equal(buf, "FFFFFFFF/FFFFFFFF");
	pt_lsn_format(0, buf);
	assert_string_equal(buf, "0/0");
	assert_false(pt_lsn_parse("", 0, &lsn));
	assert_false(pt_lsn_parse("1/", 2, &lsn));
	assert_false(pt_lsn_parse("/1", 2, &lsn));
	assert_false(pt_lsn_parse("1/2/3", 5, &lsn));
	assert_false(pt_lsn_parse("123456789/1", 11, &lsn));
	assert_false(pt_lsn_parse("g/1", 3, &lsn));
}

static void
check_time(const char *text, int64_t expect)
{
	int64_t		us;

	if (!pt_time_parse(text, strlen(text), &us))
		fail_msg("did not parse \"%s\"", text);
	assert_int_equal(us, expect);
}

static void
test_time(void **state)
{
	char		buf[PT_TIME_BUFLEN];
	int64_t		us;

	(void) state;
	check_time("1970-01-01 00:00:00+00", 0);
	check_time("1970-01-01 00:00:00.000001+00", 1);
	check_time("1969-12-31 23:59:59.999999+00", -1);
	check_time("2026-11-23 23:35:23.658633+00", INT64_C(1795476923658633));
	check_time("2026-11-23 23:35:23.65+00", INT64_C(1795476923650000));
	check_time("2026-11-24 05:05:23.658633+05:30", INT64_C(1795476923658633));
	check_time("2026-11-23 23:35:23.658633-00:00:07", INT64_C(1795476930658633));
	check_time("2000-02-29 12:00:00+00", INT64_C(951825600000000));
	check_time("0001-01-01 00:00:00+00", INT64_C(-62135596800000000));
	pt_time_format(INT64_C(1795476923658633), buf);
	assert_string_equal(buf, "2026-11-23 23:35:23.658633+00");
	pt_time_format(-1, buf);
	assert_string_equal(buf, "1969-12-31 23:59:59.999999+00");
	pt_time_format(INT64_C(951825600000000), buf);
	assert_string_equal(buf, "2000-02-29 12:00:00.000000+00");
	assert_false(pt_time_parse("2026-11-23", 10, &us));
	assert_false(pt_time_parse("2026-13-01 00:00:00+00", 22, &us));
	assert_false(pt_time_parse("2026-11-23 00:00:00", 19, &us));
	assert_false(pt_time_parse("2026-11-23 00:00:00.+00", 23, &us));
	assert_false(pt_time_parse("2026-11-23 00:00:00+00 BC", 25, &us));
}

static void
test_json_escaping(void **state)
{
	pt_buf		b = PT_BUF_INIT;
	const char	in[] = "a\"b\\c\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9";

	(void) state;
	pt_json_put_string(&b, in, sizeof(in) - 1);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\xc3\xa9\"");
	pt_buf_free(&b);
}

/* Content that is not text: PostgreSQL's bytea hex as a JSON string (FORMAT.md). */
static void
test_bytes_not_text(void **state)
{
	pt_buf		b = PT_BUF_INIT;

	(void) state;
	assert_true(pt_utf8_is_text("", 0));
	assert_true(pt_utf8_is_text("plain \xc3\xa9", 8));
	assert_false(pt_utf8_is_text("A\xc3", 2));
	assert_false(pt_utf8_is_text("a\0b", 3));
	assert_false(pt_utf8_is_text("\xed\xa0\x80", 3));	/* a surrogate */
	pt_json_put_bytea(&b, "A\xc3\0\xff", 4);
	assert_string_equal(b.data, "\"\\\\x41c300ff\"");
	pt_buf_reset(&b);
	pt_json_put_bytea(&b, "", 0);
	assert_string_equal(b.data, "\"\\\\x\"");
	pt_buf_free(&b);
}

static void
test_copy_roundtrip(void **state)
{
	pt_buf		b = PT_BUF_INIT;
	pt_text		f[4];
	pt_text		names[] = {{"a", 1}, {"b \"c\",d\\e", 10}, {"NULL", 4}, {"tab\there", 8}};
	pt_text    *items = NULL;
	int			cap = 0,
				n;
	char	   *arr;

	(void) state;
	pt_copy_put_field(&b, "x\ty\\z\nw\r", 9);
	pt_buf_putc(&b, '\t');
	pt_copy_put_null(&b);
	pt_buf_putc(&b, '\t');
	pt_copy_put_field(&b, "", 0);
	pt_buf_putc(&b, '\t');
	pt_copy_put_text_array(&b, names, 4);
	assert_true(pt_copy_split_row(b.data, b.len, f, 4));
	assert_int_equal(f[0].len, 9);
	assert_memory_equal(f[0].ptr, "x\ty\\z\nw\r", 9);
	assert_null(f[1].ptr);
	assert_non_null(f[2].ptr);
	assert_int_equal(f[2].len, 0);
	/* the array literal, after COPY unescaping, splits back into the names */
	arr = (char *) f[3].ptr;
	assert_true(pt_copy_split_array(arr, f[3].len, &items, &cap, &n));
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++)
	{
		assert_int_equal(items[i].len, names[i].len);
		assert_memory_equal(items[i].ptr, names[i].ptr, names[i].len);
	}
	/* PostgreSQL's own output forms */
	{
		char		lit1[] = "{}";
		char		lit2[] = "{big,\"a b\",\"q\\\"x\"}";
		char		lit3[] = "{a,NULL}";
		char		lit4[] = "{\"a";

		assert_true(pt_copy_split_array(lit1, 2, &items, &cap, &n));
		assert_int_equal(n, 0);
		assert_true(pt_copy_split_array(lit2, strlen(lit2), &items, &cap, &n));
		assert_int_equal(n, 3);
		assert_memory_equal(items[2].ptr, "q\"x", 3);
		assert_false(pt_copy_split_array(lit3, strlen(lit3), &items, &cap, &n));
		assert_false(pt_copy_split_array(lit4, strlen(lit4), &items, &cap, &n));
	}
	/* wrong field count */
	{
		char		row[] = "a\tb";

		assert_false(pt_copy_split_row(row, 3, f, 3));
	}
	free(items);
	pt_buf_free(&b);
}

/* Hex digits either case; anything else refused, wherever it stands. */
static void
test_hex(void **state)
{
	uint8_t		out[4];
	char		bad[9];

	(void) state;
	assert_true(pt_hex_decode("00ffA5c3", 4, out));
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], 0xa5);
	assert_int_equal(out[3], 0xc3);
	for (int at = 0; at < 8; at++)
		for (const char *c = "gG/:@` \\xz"; *c; c++)
		{
			memcpy(bad, "00ffa5c3", 9);
			bad[at] = *c;
			assert_false(pt_hex_decode(bad, 4, out));
		}
	assert_int_equal(pt_hex_digit('7'), 7);
	assert_int_equal(pt_hex_digit('F'), 15);
	assert_int_equal(pt_hex_digit('g'), -1);
	assert_int_equal(pt_hex_digit('\0'), -1);
	assert_true(pt_hex_decode_bytea("\\x0a0B", 2, out));
	assert_int_equal(out[1], 0x0b);
	assert_false(pt_hex_decode_bytea("\\x0a0", 2, out));
}

static void
test_err(void **state)
{
	pt_err		err;

	(void) state;
	assert_false(pt_err_set(&err, PT_ERR_RUNTIME, "could not %s", "connect"));
	pt_err_hint(&err, "check %d", 1);
	pt_err_prefix(&err, "capture");
	assert_string_equal(err.message, "capture: could not connect");
	assert_string_equal(err.hint, "check 1");
	assert_int_equal(pt_err_exit_code(&err), 3);
	err.kind = PT_ERR_CONFIG;
	assert_int_equal(pt_err_exit_code(&err), 2);
	err.kind = PT_ERR_INTEGRITY;
	assert_int_equal(pt_err_exit_code(&err), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_bytes_not_text),
		cmocka_unit_test(test_copy_roundtrip),
		cmocka_unit_test(test_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
