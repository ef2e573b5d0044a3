/*
 * capture/dbz_value.h — one column value as Debezium's PostgreSQL
 * connector writes it through Kafka Connect's JsonConverter.
 *
 * In: the value's PostgreSQL text (as the event table holds it), the
 * column's type (dbz_type.h) and the value-shaping settings. Out: the JSON
 * of the Connect value: 43, true, "AeIT" (a Decimal's unscaled bytes),
 * {"scale":4,"value":"AYr3"}, 1478267490123456, "2016-11-04T11:51:30.123456Z",
 * [1,2,3], ... Nothing passes through a double except what Debezium itself
 * makes a double (float4/8, decimal.handling.mode = double, intervals).
 *
 * Strings are escaped as Jackson escapes them: '"', '\\', the five short
 * escapes, other control characters as \u00XX with upper-case hex;
 * everything else as it is.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_VALUE_H
#define PGTRAIL_CAPTURE_DBZ_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/dbz_type.h"
#include "core/buf.h"

/* Buffers a rendering borrows; reused across values, freed by the owner. */
typedef struct pt_dbz_scratch
{
	pt_buf		element;		/* an array element's unescaped text */
	pt_buf		bytes;			/* decoded bytes, unscaled decimals */
	pt_buf		text;			/* normalized numbers, hstore JSON */
	void	   *pairs;			/* hstore pairs */
	int			pairs_cap;
} pt_dbz_scratch;

void		pt_dbz_scratch_free(pt_dbz_scratch *s);

/* A JSON string as Jackson escapes it. */
void		pt_dbz_put_string(pt_buf *out, const char *s, size_t len);

/*
 * The Connect JSON of the value whose PostgreSQL text is s[0..len),
 * appended to out. False when the text is not a value Debezium can write
 * for the type (numeric NaN in precise mode, a malformed text): nothing
 * is appended then, and the caller writes null and counts it.
 */
bool		pt_dbz_put_value(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m,
							 const char *s, size_t len, pt_dbz_scratch *sc);

/* What Debezium writes for a NOT NULL column it has no value for (a
 * key-only old row's other columns): 0, "", false, [], the epoch, ... */
void		pt_dbz_put_fallback(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m);

/*
 * An unchanged TOAST value: Debezium's placeholder in the form its type
 * takes ("__debezium_unavailable_value", its bytes, a one-element array,
 * ...). False for types Debezium has no placeholder form for (it writes
 * null): nothing appended.
 */
bool		pt_dbz_put_unavailable(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m);

#endif
