/*
 * capture/dbz_number.h — PostgreSQL's number texts as Debezium's records
 * hold them, without ever passing a value through a double.
 *
 * Decimal: Kafka Connect's Decimal (and Debezium's VariableScaleDecimal)
 * carry a java.math.BigDecimal as its unscaled value, the two's-complement
 * big-endian bytes BigInteger.toByteArray gives (the fewest bytes that
 * keep the sign: 0 is one byte 00, 128 is 00 80, -1 is ff), and a scale.
 * They are computed here from the digits of numeric's (or money's) text.
 *
 * Floats: JsonConverter writes a float32 or float64 through Jackson, that
 * is as Java's Float.toString / Double.toString print it: the shortest
 * digits that give the value back (JDK 19 and later), in plain notation
 * ("100.0", "0.001") from 10^-3 up to 10^7 and as "1.0E7" / "1.234E-5"
 * outside. PostgreSQL (extra_float_digits = 3, as capture pins it) prints
 * the same shortest digits, so only the notation changes. Java's own
 * rule picks a closer two-digit form where the shortest has one digit and
 * a two-digit decimal lies nearer the value (only among the smallest
 * subnormals, e.g. 4.9E-324): that case keeps PostgreSQL's digit.
 * NaN and the infinities are JSON strings ("NaN", "Infinity",
 * "-Infinity"), as Jackson writes them.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_NUMBER_H
#define PGTRAIL_CAPTURE_DBZ_NUMBER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/*
 * The unscaled value of a decimal text ("-1234.5600", "0.5", "$1,234.56",
 * "-$0.10"; '$' and ',' are skipped) at scale (the number of fraction
 * digits it stands for; -1: as many as the text has), as
 * BigInteger.toByteArray bytes appended to bytes. *out_scale gets the
 * scale used. False when s is not such a number (NaN, Infinity, empty), or
 * when it has more fraction digits than scale (not a value of that scale).
 */
bool		pt_dbz_unscaled(const char *s, size_t len, int scale, pt_buf *bytes, int *out_scale);

/*
 * PostgreSQL's float4 / float8 text as Jackson writes that Java float or
 * double into JSON, appended to out. False when s is not a float text.
 */
bool		pt_dbz_java_float(const char *s, size_t len, pt_buf *out);

/*
 * A decimal text as a Java double prints (decimal.handling.mode = double):
 * rounded to the nearest double by strtod on its own text (locale-free:
 * the text has no separators). False when it is not a number.
 */
bool		pt_dbz_decimal_as_double(const char *s, size_t len, pt_buf *out);

#endif
