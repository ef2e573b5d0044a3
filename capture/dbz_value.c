/*
 * capture/dbz_value.c — a column value as Debezium writes it (see
 * dbz_value.h).
 *
 * One function per kind of value, chosen by put_scalar; arrays split
 * PostgreSQL's array text into elements and render each as a scalar.
 * The rules are Debezium's PostgresValueConverter's and Kafka's
 * JsonConverter's, restated from their behaviour.
 */
#include "capture/dbz_value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/dbz_geometry.h"
#include "capture/dbz_hstore.h"
#include "capture/dbz_number.h"
#include "capture/dbz_time.h"
#include "core/base64.h"
#include "core/hex.h"

#define UNAVAILABLE "__debezium_unavailable_value"

/* PGStatement's infinities, as Debezium's timestamps carry them (microseconds) */
#define TS_PLUS_INFINITY_US INT64_C(9223372036825200000)
#define TS_MINUS_INFINITY_US (-INT64_C(9223372036832400000))
/* LocalDate -5877611-06-21 and -22, Debezium's date infinities */
#define DATE_PLUS_INFINITY (-INT64_C(2147472692))
#define DATE_MINUS_INFINITY (-INT64_C(2147472691))

#define PUT_LIT(buf, lit) pt_buf_append((buf), (lit), sizeof(lit) - 1)

void
pt_dbz_scratch_free(pt_dbz_scratch *s)
{
	pt_buf_free(&s->element);
	pt_buf_free(&s->bytes);
	pt_buf_free(&s->text);
	free(s->pairs);
	s->pairs = NULL;
	s->pairs_cap = 0;
}

void
pt_dbz_put_string(pt_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		run = 0;

	pt_buf_putc(out, '"');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[6] = {'\\', 0};
		size_t		n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c)
		{
			case '"': esc[1] = '"'; break;
			case '\\': esc[1] = '\\'; break;
			case '\b': esc[1] = 'b'; break;
			case '\t': esc[1] = 't'; break;
			case '\n': esc[1] = 'n'; break;
			case '\f': esc[1] = 'f'; break;
			case '\r': esc[1] = 'r'; break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				n = 6;
		}
		pt_buf_append(out, s + run, i - run);
		pt_buf_append(out, esc, n);
		run = i + 1;
	}
	pt_buf_append(out, s + run, len - run);
	pt_buf_putc(out, '"');
}

static bool
text_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static void
put_base64_string(pt_buf *out, const uint8_t *bytes, size_t len)
{
	pt_buf_putc(out, '"');
	pt_base64_put(out, bytes, len);
	pt_buf_putc(out, '"');
}

/* ---- numbers ---- */

static bool
put_integer(pt_buf *out, const char *s, size_t len)
{
	size_t		i = (len > 0 && s[0] == '-') ? 1 : 0;

	if (i == len)
		return false;
	for (size_t k = i; k < len; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	pt_buf_append(out, s, len);
	return true;
}

/* A decimal text as Connect's Decimal at scale: its unscaled bytes, base64. */
static bool
put_decimal(pt_buf *out, const char *s, size_t len, int scale, pt_dbz_scratch *sc)
{
	int			used;

	pt_buf_reset(&sc->bytes);
	if (!pt_dbz_unscaled(s, len, scale, &sc->bytes, &used))
		return false;
	put_base64_string(out, (const uint8_t *) sc->bytes.data, sc->bytes.len);
	return true;
}

/* VariableScaleDecimal: trailing fraction zeros stripped, {"scale":S,"value":B}. */
static bool
put_variable_decimal(pt_buf *out, const char *s, size_t len, pt_dbz_scratch *sc)
{
	const char *dot = memchr(s, '.', len);
	int			scale;

	if (dot != NULL)
	{
		while (len > 0 && s[len - 1] == '0')
			len--;
		if (s + len - 1 == dot)
			len--;
	}
	dot = memchr(s, '.', len);
	scale = dot ? (int) (s + len - dot - 1) : 0;
	pt_buf_reset(&sc->bytes);
	if (!pt_dbz_unscaled(s, len, scale, &sc->bytes, &scale))
		return false;
	pt_buf_printf(out, "{\"scale\":%d,\"value\":", scale);
	put_base64_string(out, (const uint8_t *) sc->bytes.data, sc->bytes.len);
	pt_buf_putc(out, '}');
	return true;
}

/* NaN and the infinities in string and double modes; false for other texts. */
static bool
put_special_decimal(pt_buf *out, const char *s, size_t len, pt_dbz_decimal_mode mode)
{
	static const char *const pg[] = {"NaN", "Infinity", "-Infinity"};
	static const char *const as_string[] = {"\"NAN\"", "\"POSITIVE_INFINITY\"", "\"NEGATIVE_INFINITY\""};
	static const char *const as_double[] = {"\"NaN\"", "\"Infinity\"", "\"-Infinity\""};

	for (int i = 0; i < 3; i++)
		if (text_is(s, len, pg[i]))
		{
			pt_buf_puts(out, mode == PT_DBZ_DECIMAL_STRING ? as_string[i] : as_double[i]);
			return true;
		}
	return false;
}

static bool
put_numeric(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, const char *s, size_t len,
			pt_dbz_scratch *sc)
{
	if (m->decimal != PT_DBZ_DECIMAL_PRECISE && put_special_decimal(out, s, len, m->decimal))
		return true;
	if (m->decimal == PT_DBZ_DECIMAL_STRING)
	{
		pt_dbz_put_string(out, s, len);
		return true;
	}
	if (m->decimal == PT_DBZ_DECIMAL_DOUBLE)
		return pt_dbz_decimal_as_double(s, len, out);
	if (t->length <= 0)
		return put_variable_decimal(out, s, len, sc);
	return put_decimal(out, s, len, t->scale, sc);
}

/* Add one unit in the last place to a digit string (its magnitude). */
static void
round_up_digits(pt_buf *digits)
{
	size_t		i = digits->len;

	while (i > 0)
	{
		char	   *d = &digits->data[--i];

		if (*d == '.' || *d == '-')
			continue;
		if (*d < '9')
		{
			(*d)++;
			return;
		}
		*d = '0';
	}
	/* all nines: one more digit in front (after a sign) */
	pt_buf_putc(digits, '0');
	i = digits->data[0] == '-' ? 1 : 0;
	memmove(digits->data + i + 1, digits->data + i, digits->len - i - 1);
	digits->data[i] = '1';
}

/*
 * money's text ("$1,234.56", "-$0.10") as a plain decimal ("-1234.56"),
 * into sc->text; with at most digits fraction digits (HALF_UP) when
 * digits >= 0.
 */
static bool
money_plain(const char *s, size_t len, int digits, pt_dbz_scratch *sc)
{
	pt_buf	   *b = &sc->text;
	const char *dot;
	size_t		keep;

	pt_buf_reset(b);
	for (size_t i = 0; i < len; i++)
		if (s[i] != '$' && s[i] != ',')
			pt_buf_putc(b, s[i]);
	if (b->len == 0)
		return false;
	dot = memchr(b->data, '.', b->len);
	if (digits < 0 || dot == NULL || (size_t) (b->data + b->len - dot - 1) <= (size_t) digits)
		return true;
	keep = (size_t) (dot - b->data) + 1 + (size_t) digits;
	{
		bool		up = b->data[keep] >= '5';

		b->len = digits == 0 ? keep - 1 : keep;
		b->data[b->len] = '\0';
		if (up)
			round_up_digits(b);
	}
	return true;
}

static bool
put_money(pt_buf *out, const pt_dbz_modes *m, const char *s, size_t len, pt_dbz_scratch *sc)
{
	int			used;

	if (!money_plain(s, len, m->decimal == PT_DBZ_DECIMAL_PRECISE ? m->money_digits : -1, sc))
		return false;
	if (m->decimal == PT_DBZ_DECIMAL_STRING)
	{
		pt_dbz_put_string(out, sc->text.data, sc->text.len);
		return true;
	}
	if (m->decimal == PT_DBZ_DECIMAL_DOUBLE)
		return pt_dbz_decimal_as_double(sc->text.data, sc->text.len, out);
	pt_buf_reset(&sc->bytes);
	if (!pt_dbz_unscaled(sc->text.data, sc->text.len, m->money_digits, &sc->bytes, &used))
		return false;
	put_base64_string(out, (const uint8_t *) sc->bytes.data, sc->bytes.len);
	return true;
}

/* ---- bytes and bits ---- */

static bool
put_bytea(pt_buf *out, const pt_dbz_modes *m, const char *s, size_t len, pt_dbz_scratch *sc)
{
	size_t		n = len >= 2 ? (len - 2) / 2 : 0;

	if (len < 2 || len % 2 != 0 || s[0] != '\\' || s[1] != 'x')
		return false;
	pt_buf_reset(&sc->bytes);
	pt_buf_reserve(&sc->bytes, n + 1);
	if (!pt_hex_decode(s + 2, n, (uint8_t *) sc->bytes.data))
		return false;
	sc->bytes.len = n;
	if (m->binary == PT_DBZ_BINARY_HEX)
		pt_dbz_put_string(out, s + 2, len - 2);
	else
		put_base64_string(out, (const uint8_t *) sc->bytes.data, sc->bytes.len);
	return true;
}

/*
 * bit(1) and varbit(1) are booleans; longer bit strings are Debezium's
 * Bits: the string read as a binary number (last character bit 0), its
 * bytes little-endian and as few as hold the highest bit set.
 */
static bool
put_bits(pt_buf *out, const pt_dbz_type *t, const char *s, size_t len, pt_dbz_scratch *sc)
{
	size_t		nbytes = 0;
	uint8_t    *bytes;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] != '0' && s[i] != '1')
			return false;
		if (s[i] == '1' && nbytes == 0)
			nbytes = (len - 1 - i) / 8 + 1;
	}
	if (t->length <= 1)
	{
		pt_buf_puts(out, nbytes > 0 ? "true" : "false");
		return true;
	}
	pt_buf_reset(&sc->bytes);
	pt_buf_reserve(&sc->bytes, nbytes + 1);
	bytes = (uint8_t *) sc->bytes.data;
	memset(bytes, 0, nbytes);
	for (size_t i = 0; i < len; i++)
		if (s[len - 1 - i] == '1')
			bytes[i / 8] |= (uint8_t) (1u << (i % 8));
	put_base64_string(out, bytes, nbytes);
	return true;
}

/* ---- dates and times ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool
put_date(pt_buf *out, const pt_dbz_modes *m, const char *s, size_t len)
{
	int64_t		days;
	pt_dbz_inf	inf;

	if (!pt_dbz_parse_date(s, len, &days, &inf))
		return false;
	if (inf != PT_DBZ_FINITE)
		days = inf == PT_DBZ_PLUS_INFINITY ? DATE_PLUS_INFINITY : DATE_MINUS_INFINITY;
	if (m->time == PT_DBZ_TIME_ISOSTRING)
	{
		pt_buf_putc(out, '"');
		pt_dbz_put_iso_date(out, days);
		pt_buf_putc(out, '"');
	}
	else
		pt_buf_put_i64(out, (int32_t) (uint32_t) days);	/* LocalDate.toEpochDay cast to int */
	return true;
}

/* time: Time (ms) up to 3 fraction digits in adaptive mode, else MicroTime (µs). */
static bool
put_time_usec(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, int64_t usec)
{
	switch (m->time)
	{
		case PT_DBZ_TIME_ISOSTRING:
			pt_buf_putc(out, '"');
			pt_dbz_put_iso_time(out, usec);
			pt_buf_putc(out, '"');
			break;
		case PT_DBZ_TIME_CONNECT:
			pt_buf_put_i64(out, usec / 1000);
			break;
		case PT_DBZ_TIME_ADAPTIVE:
			pt_buf_put_i64(out, t->scale <= 3 ? usec / 1000 : usec);
			break;
		case PT_DBZ_TIME_ADAPTIVE_US:
			pt_buf_put_i64(out, usec);
			break;
	}
	return true;
}

static bool
put_time(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, const char *s, size_t len)
{
	int64_t		usec;

	return pt_dbz_parse_time(s, len, &usec) && put_time_usec(out, t, m, usec);
}

static bool
put_timetz(pt_buf *out, const char *s, size_t len)
{
	int64_t		usec;
	bool		end_of_day;

	if (!pt_dbz_parse_timetz(s, len, &usec, &end_of_day))
		return false;
	pt_buf_putc(out, '"');
	if (end_of_day)
		PUT_LIT(out, "24:00:00Z");
	else
		pt_dbz_put_iso_time(out, usec);
	pt_buf_putc(out, '"');
	return true;
}

static bool
put_timestamp(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, const char *s, size_t len)
{
	int64_t		usec;
	pt_dbz_inf	inf;
	bool		millis = m->time == PT_DBZ_TIME_CONNECT || (m->time != PT_DBZ_TIME_ISOSTRING && t->scale <= 3);

	if (!pt_dbz_parse_timestamp(s, len, &usec, &inf))
		return false;
	if (inf != PT_DBZ_FINITE)
		usec = inf == PT_DBZ_PLUS_INFINITY ? TS_PLUS_INFINITY_US : TS_MINUS_INFINITY_US;
	if (m->time == PT_DBZ_TIME_ISOSTRING)
	{
		pt_buf_putc(out, '"');
		pt_dbz_put_iso_timestamp(out, usec, -1);
		pt_buf_putc(out, '"');
	}
	else
		pt_buf_put_i64(out, millis ? floor_div(usec, 1000) : usec);
	return true;
}

/* ZonedTimestamp: exactly the column's fraction digits (6 when it has none declared). */
static bool
put_timestamptz(pt_buf *out, const pt_dbz_type *t, const char *s, size_t len)
{
	int64_t		usec;
	pt_dbz_inf	inf;

	if (!pt_dbz_parse_timestamp(s, len, &usec, &inf))
		return false;
	if (inf != PT_DBZ_FINITE)
	{
		pt_buf_puts(out, inf == PT_DBZ_PLUS_INFINITY ? "\"infinity\"" : "\"-infinity\"");
		return true;
	}
	pt_buf_putc(out, '"');
	pt_dbz_put_iso_timestamp(out, usec, t->scale <= 0 ? -1 : t->scale);
	pt_buf_putc(out, '"');
	return true;
}

static bool
put_interval(pt_buf *out, const pt_dbz_modes *m, const char *s, size_t len)
{
	pt_dbz_interval iv;

	if (!pt_dbz_parse_interval(s, len, &iv))
		return false;
	if (m->interval_string)
	{
		pt_buf_putc(out, '"');
		pt_dbz_put_interval_iso(out, &iv);
		pt_buf_putc(out, '"');
	}
	else
		pt_buf_put_i64(out, pt_dbz_interval_micros(&iv));
	return true;
}

/* ---- scalars ---- */

static bool
put_scalar(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, const char *s, size_t len,
		   pt_dbz_scratch *sc)
{
	switch (t->kind)
	{
		case PT_DBZ_BOOL:
			pt_buf_puts(out, len == 1 && (s[0] == 't' || s[0] == 'T') ? "true" : "false");
			return true;
		case PT_DBZ_INT16:
		case PT_DBZ_INT32:
		case PT_DBZ_INT64:
			return put_integer(out, s, len);
		case PT_DBZ_FLOAT32:
		case PT_DBZ_FLOAT64:
			return pt_dbz_java_float(s, len, out);
		case PT_DBZ_NUMERIC:
			return put_numeric(out, t, m, s, len, sc);
		case PT_DBZ_MONEY:
			return put_money(out, m, s, len, sc);
		case PT_DBZ_BYTEA:
			return put_bytea(out, m, s, len, sc);
		case PT_DBZ_BIT:
			return put_bits(out, t, s, len, sc);
		case PT_DBZ_DATE:
			return put_date(out, m, s, len);
		case PT_DBZ_TIME:
			return put_time(out, t, m, s, len);
		case PT_DBZ_TIMETZ:
			return put_timetz(out, s, len);
		case PT_DBZ_TIMESTAMP:
			return put_timestamp(out, t, m, s, len);
		case PT_DBZ_TIMESTAMPTZ:
			return put_timestamptz(out, t, s, len);
		case PT_DBZ_INTERVAL:
			return put_interval(out, m, s, len);
		case PT_DBZ_HSTORE:
			return pt_dbz_put_hstore(out, s, len, m->hstore_map, sc);
		case PT_DBZ_POINT:
		case PT_DBZ_BOX:
		case PT_DBZ_LSEG:
		case PT_DBZ_PATH:
		case PT_DBZ_POLYGON:
		case PT_DBZ_CIRCLE:
		case PT_DBZ_LINE:
		case PT_DBZ_POSTGIS_GEOMETRY:
		case PT_DBZ_POSTGIS_GEOGRAPHY:
			return pt_dbz_put_geometry(out, t->kind, s, len, sc);
		case PT_DBZ_OMITTED:
		case PT_DBZ_NULL_STRING:
			return false;
		default:
			pt_dbz_put_string(out, s, len);
			return true;
	}
}

/* ---- arrays ---- */

/*
 * The next element of a one-dimensional array text at *p: unescaped into
 * sc->element; *null for an unquoted NULL. False at a nested array or a
 * malformed text.
 */
static bool
next_element(const char **p, const char *end, pt_dbz_scratch *sc, bool *null)
{
	pt_buf	   *e = &sc->element;
	bool		quoted = *p < end && **p == '"';

	pt_buf_reset(e);
	if (*p < end && **p == '{')
		return false;
	if (quoted)
		(*p)++;
	while (*p < end && (quoted ? **p != '"' : (**p != ',' && **p != '}')))
	{
		if (**p == '\\' && *p + 1 < end)
			(*p)++;
		pt_buf_putc(e, *(*p)++);
	}
	if (quoted && (*p >= end || *(*p)++ != '"'))
		return false;
	*null = !quoted && e->len == 4 && strncasecmp(e->data, "NULL", 4) == 0;
	return true;
}

/* time[] elements reach Debezium as java.sql.Time: whole milliseconds. */
static bool
put_element(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, pt_dbz_scratch *sc)
{
	int64_t		usec;

	if (t->kind != PT_DBZ_TIME)
		return put_scalar(out, t, m, sc->element.data, sc->element.len, sc);
	return pt_dbz_parse_time(sc->element.data, sc->element.len, &usec) &&
		put_time_usec(out, t, m, usec / 1000 * 1000);
}

static bool
put_array(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, const char *s, size_t len,
		  pt_dbz_scratch *sc)
{
	const char *p = s;
	const char *end = s + len;
	const char *eq = (len > 0 && s[0] == '[') ? memchr(s, '=', len) : NULL;

	if (eq != NULL)				/* "[0:1]={...}": explicit bounds */
		p = eq + 1;
	if (p >= end || *p++ != '{' || end[-1] != '}')
		return false;
	end--;
	pt_buf_putc(out, '[');
	for (bool first = true; p < end; first = false)
	{
		bool		null;

		if (!first && *p++ != ',')
			return false;
		if (!next_element(&p, end, sc, &null))
			return false;
		if (!first)
			pt_buf_putc(out, ',');
		if (null)
			PUT_LIT(out, "null");
		else if (!put_element(out, t, m, sc))
			return false;
	}
	pt_buf_putc(out, ']');
	return true;
}

bool
pt_dbz_put_value(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m,
				 const char *s, size_t len, pt_dbz_scratch *sc)
{
	size_t		start = out->len;
	bool		ok;

	ok = t->array ? put_array(out, t, m, s, len, sc) : put_scalar(out, t, m, s, len, sc);
	if (!ok)
		out->len = start;
	return ok;
}

/* ---- fallbacks and placeholders ---- */

static const char *
fallback_text(const pt_dbz_type *t, const pt_dbz_modes *m)
{
	bool		iso = m->time == PT_DBZ_TIME_ISOSTRING;
	bool		dec_double = m->decimal == PT_DBZ_DECIMAL_DOUBLE;

	switch (t->kind)
	{
		case PT_DBZ_BOOL: return "false";
		case PT_DBZ_INT16: case PT_DBZ_INT32: case PT_DBZ_INT64: return "0";
		case PT_DBZ_FLOAT32: case PT_DBZ_FLOAT64: return "0.0";
		case PT_DBZ_BIT: return t->length <= 1 ? "false" : "\"\"";
		case PT_DBZ_DATE: return iso ? "\"1970-01-01Z\"" : "0";
		case PT_DBZ_TIME: return iso ? "\"00:00:00Z\"" : "0";
		case PT_DBZ_TIMESTAMP: return iso ? "\"1970-01-01T00:00:00Z\"" : "0";
		case PT_DBZ_TIMESTAMPTZ: return "\"1970-01-01T00:00:00Z\"";
		case PT_DBZ_TIMETZ: return "\"00:00:00Z\"";
		case PT_DBZ_INTERVAL: return m->interval_string ? "\"P0Y0M0DT0H0M0S\"" : "0";
		case PT_DBZ_HSTORE: return m->hstore_map ? "{}" : "\"{}\"";
		case PT_DBZ_POINT: return "{\"x\":0.0,\"y\":0.0,\"wkb\":\"AQEAAAAAAAAAAAAAAAAAAAAAAAAA\",\"srid\":null}";
		case PT_DBZ_CIRCLE:
			return "{\"center\":{\"x\":0.0,\"y\":0.0,\"wkb\":\"AQEAAAAAAAAAAAAAAAAAAAAAAAAA\",\"srid\":null},\"radius\":0.0}";
		case PT_DBZ_POSTGIS_GEOMETRY: return "{\"wkb\":\"AQcAAAAAAAAA\",\"srid\":null,\"extensions\":null}";
		case PT_DBZ_POSTGIS_GEOGRAPHY: return "{\"wkb\":\"AQcAAAAAAAAA\",\"srid\":null}";	/* GEOMETRYCOLLECTION EMPTY */
		case PT_DBZ_BOX: case PT_DBZ_LSEG: case PT_DBZ_PATH: case PT_DBZ_POLYGON: case PT_DBZ_LINE:
			return "null";		/* (Debezium's geometric fallbacks are not reproduced) */
		case PT_DBZ_NUMERIC:
			if (dec_double)
				return "0.0";
			if (m->decimal == PT_DBZ_DECIMAL_STRING)
				return NULL;	/* zero at the column's scale */
			return t->length <= 0 ? "{\"scale\":0,\"value\":\"AA==\"}" : "\"AA==\"";
		case PT_DBZ_MONEY:
			return dec_double ? "0.0" : m->decimal == PT_DBZ_DECIMAL_STRING ? NULL : "\"AA==\"";
		default: return "\"\"";
	}
}

void
pt_dbz_put_fallback(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m)
{
	const char *text = t->array ? "[]" : fallback_text(t, m);
	int			scale = t->kind == PT_DBZ_MONEY ? m->money_digits : t->scale;

	if (text != NULL)
	{
		pt_buf_puts(out, text);
		return;
	}
	/* string mode: zero at the scale, "0.00" */
	pt_buf_puts(out, scale > 0 ? "\"0." : "\"0");
	for (int i = 0; i < scale; i++)
		pt_buf_putc(out, '0');
	pt_buf_putc(out, '"');
}

static bool
string_kind(pt_dbz_kind k)
{
	return k == PT_DBZ_STRING || k == PT_DBZ_JSON || k == PT_DBZ_XML || k == PT_DBZ_UUID ||
		k == PT_DBZ_LTREE || k == PT_DBZ_TSVECTOR || k == PT_DBZ_ENUM;
}

/* The placeholder's bytes as a list of numbers: Debezium's int4[], int8[] and date[] form. */
static void
put_placeholder_numbers(pt_buf *out)
{
	const char *s = UNAVAILABLE;

	pt_buf_putc(out, '[');
	for (size_t i = 0; s[i]; i++)
	{
		if (i > 0)
			pt_buf_putc(out, ',');
		pt_buf_put_i64(out, (unsigned char) s[i]);
	}
	pt_buf_putc(out, ']');
}

static bool
put_unavailable_array(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if (string_kind(t->kind) && t->kind != PT_DBZ_UUID)
		pt_buf_puts(out, "[\"" UNAVAILABLE "\"]");
	else if (t->kind == PT_DBZ_BYTEA && m->binary == PT_DBZ_BINARY_BYTES)
	{
		pt_buf_putc(out, '[');
		put_base64_string(out, (const uint8_t *) UNAVAILABLE, sizeof(UNAVAILABLE) - 1);
		pt_buf_putc(out, ']');
	}
	else if (t->kind == PT_DBZ_INT32 || t->kind == PT_DBZ_INT64 || t->kind == PT_DBZ_DATE)
		put_placeholder_numbers(out);
	else if (t->kind == PT_DBZ_UUID)	/* UUID.nameUUIDFromBytes of the placeholder */
		pt_buf_puts(out, "[\"b68a35a7-17ad-35b3-af2a-ae46edb4545a\"]");
	else
		return false;
	return true;
}

bool
pt_dbz_put_unavailable(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if (t->array)
		return put_unavailable_array(out, t, m);
	if (string_kind(t->kind) || (t->kind == PT_DBZ_BYTEA && m->binary == PT_DBZ_BINARY_HEX))
		pt_buf_puts(out, "\"" UNAVAILABLE "\"");
	else if (t->kind == PT_DBZ_BYTEA && m->binary == PT_DBZ_BINARY_BYTES)
		put_base64_string(out, (const uint8_t *) UNAVAILABLE, sizeof(UNAVAILABLE) - 1);
	else if (t->kind == PT_DBZ_HSTORE)
		pt_buf_puts(out, m->hstore_map ? "{\"" UNAVAILABLE "\":\"" UNAVAILABLE "\"}"
					: "\"{\\\"" UNAVAILABLE "\\\":\\\"" UNAVAILABLE "\\\"}\"");
	else
		return false;
	return true;
}
