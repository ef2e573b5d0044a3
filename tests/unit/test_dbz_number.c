/*
 * tests/unit/test_dbz_number.c — numbers as Debezium's records hold them:
 * Decimal's unscaled bytes as java.math.BigInteger.toByteArray gives them,
 * in base64 as JsonConverter writes them, and floats as Java prints them.
 * The expected texts are Java's (BigInteger, Double.toString,
 * Float.toString), worked out by hand from their documented rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture/dbz_number.h"
#include "core/base64.h"

static void
assert_unscaled(const char *text, int scale, const char *base64, int want_scale)
{
	pt_buf		bytes = PT_BUF_INIT;
	pt_buf		b64 = PT_BUF_INIT;
	int			got_scale = -99;

	assert_true(pt_dbz_unscaled(text, strlen(text), scale, &bytes, &got_scale));
	pt_base64_put(&b64, (const uint8_t *) bytes.data, bytes.len);
	pt_buf_putc(&b64, '\0');
	assert_string_equal(b64.data, base64);
	assert_int_equal(got_scale, want_scale);
	pt_buf_free(&bytes);
	pt_buf_free(&b64);
}

static void
test_unscaled(void **state)
{
	(void) state;
	assert_unscaled("0", -1, "AA==", 0);			/* [00] */
	assert_unscaled("1", -1, "AQ==", 0);			/* [01] */
	assert_unscaled("127", -1, "fw==", 0);			/* [7f] */
	assert_unscaled("128", -1, "AIA=", 0);			/* [00 80]: the sign bit stays clear */
	assert_unscaled("-1", -1, "/w==", 0);			/* [ff] */
	assert_unscaled("-128", -1, "gA==", 0);			/* [80] */
	assert_unscaled("-129", -1, "/38=", 0);			/* [ff 7f] */
	assert_unscaled("1.500", -1, "Bdw=", 3);		/* 1500 = [05 dc] */
	assert_unscaled("-0.00", -1, "AA==", 2);		/* a negative zero is zero */
	assert_unscaled("1.5", 3, "Bdw=", 3);			/* rescaled to 1500 */
	assert_unscaled("$1,234.56", 2, "AeJA", 2);		/* money: 123456 = [01 e2 40] */
	assert_unscaled("-$0.10", 2, "9g==", 2);		/* -10 = [f6] */
	/* 2^64 = 18446744073709551616 = [01 00 00 00 00 00 00 00 00] */
	assert_unscaled("18446744073709551616", -1, "AQAAAAAAAAAA", 0);
	/* -2^63 = [80 00 00 00 00 00 00 00] */
	assert_unscaled("-9223372036854775808", -1, "gAAAAAAAAAA=", 0);
}

static void
test_unscaled_refused(void **state)
{
	pt_buf		bytes = PT_BUF_INIT;
	int			scale;

	(void) state;
	assert_false(pt_dbz_unscaled("NaN", 3, -1, &bytes, &scale));
	assert_false(pt_dbz_unscaled("", 0, -1, &bytes, &scale));
	assert_false(pt_dbz_unscaled("1.234", 5, 2, &bytes, &scale));	/* more digits than the scale */
	assert_false(pt_dbz_unscaled("1e5", 3, -1, &bytes, &scale));
	pt_buf_free(&bytes);
}

static void
assert_java(const char *pg, const char *java)
{
	pt_buf		out = PT_BUF_INIT;

	assert_true(pt_dbz_java_float(pg, strlen(pg), &out));
	pt_buf_putc(&out, '\0');
	assert_string_equal(out.data, java);
	pt_buf_free(&out);
}

static void
test_java_float(void **state)
{
	(void) state;
	assert_java("0", "0.0");
	assert_java("-0", "-0.0");
	assert_java("1", "1.0");
	assert_java("1.5", "1.5");
	assert_java("100", "100.0");
	assert_java("0.001", "0.001");
	assert_java("0.0001", "1.0E-4");
	assert_java("1e-05", "1.0E-5");
	assert_java("1234567", "1234567.0");
	assert_java("12345678", "1.2345678E7");
	assert_java("1e+100", "1.0E100");
	assert_java("1.7976931348623157e+308", "1.7976931348623157E308");
	assert_java("-3.14", "-3.14");
	assert_java("0.30000000000000004", "0.30000000000000004");
	assert_java("1.2345e-07", "1.2345E-7");
	assert_java("9999999", "9999999.0");
	assert_java("10000000", "1.0E7");
	assert_java("NaN", "\"NaN\"");
	assert_java("Infinity", "\"Infinity\"");
	assert_java("-Infinity", "\"-Infinity\"");
}

static void
assert_double(const char *decimal, const char *java)
{
	pt_buf		out = PT_BUF_INIT;

	assert_true(pt_dbz_decimal_as_double(decimal, strlen(decimal), &out));
	pt_buf_putc(&out, '\0');
	assert_string_equal(out.data, java);
	pt_buf_free(&out);
}

static void
test_decimal_as_double(void **state)
{
	(void) state;
	assert_double("1.10", "1.1");
	assert_double("123456789.123456789", "1.2345678912345679E8");
	assert_double("0.1", "0.1");
	assert_double("-5", "-5.0");
	assert_double("NaN", "\"NaN\"");
}

static void
test_base64(void **state)
{
	pt_buf		out = PT_BUF_INIT;

	(void) state;
	pt_base64_put(&out, (const uint8_t *) "\xde\xad\xbe\xef", 4);
	pt_base64_put(&out, (const uint8_t *) "", 0);
	pt_buf_putc(&out, '|');
	pt_base64_put(&out, (const uint8_t *) "Man", 3);
	pt_buf_putc(&out, '\0');
	assert_string_equal(out.data, "3q2+7w==|TWFu");
	pt_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unscaled),
		cmocka_unit_test(test_unscaled_refused),
		cmocka_unit_test(test_java_float),
		cmocka_unit_test(test_decimal_as_double),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
