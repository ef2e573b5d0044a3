/*
 * capture/dbz_default.h — a column's DEFAULT as Debezium puts it in the
 * field's schema ("default"), which JsonConverter then also writes for
 * the column's null values (replace.null.with.default, on by default).
 *
 * Debezium reads the default expression's text (pg_get_expr): a literal
 * ('abc'::text, 42, '-1'::integer) is its value; a function call
 * (nextval('t_id_seq'::regclass), now()) or CURRENT_TIMESTAMP and its
 * kin stand for a zero of the type (0, "", false, the epoch, ...), so
 * every serial column has the default 0; NULL::type is no default. Only
 * the types Debezium has a default parser for get one (built-in numbers,
 * bool, bit, text, varchar, bpchar, json, jsonb, xml, uuid, date, time,
 * timestamp, timestamptz, interval, and enums); a domain, an array, money,
 * bytea and the rest have none, and neither has a value Debezium cannot
 * parse (an expression) or a struct (an unconstrained numeric).
 */
#ifndef PGTRAIL_CAPTURE_DBZ_DEFAULT_H
#define PGTRAIL_CAPTURE_DBZ_DEFAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/dbz_value.h"

/*
 * The default of a column of type oid (t as resolved) with default
 * expression expr, as Connect JSON appended to out. False when the column
 * has no default in Debezium's schema (nothing appended).
 */
bool		pt_dbz_default_json(const char *expr, uint32_t oid, const pt_dbz_type *t, const pt_dbz_modes *m,
								pt_dbz_scratch *sc, pt_buf *out);

#endif
