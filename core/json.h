/*
 * core/json.h — the one JSON writer of pgtrail: strings escaped into a buffer.
 *
 * Every JSON text pgtrail produces (an event's key/row/old, Kafka values,
 * reports, log lines) is written through these functions, so escaping is
 * the same everywhere and is specified once, in docs/FORMAT.md:
 *   '"' -> \"   '\\' -> \\   \b \f \n \r \t   other bytes < 0x20 -> \u00XX
 * and every other byte (including UTF-8 sequences and 0x7F) as it is.
 * Nothing is parsed back into numbers: a value's text goes in as bytes.
 */
#ifndef PGTRAIL_CORE_JSON_H
#define PGTRAIL_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Append s[0..len) as a quoted, escaped JSON string. */
void		pt_json_put_string(pt_buf *buf, const char *s, size_t len);
void		pt_json_put_cstring(pt_buf *buf, const char *s);

/* Append bytes s[0..len) as a JSON string of PostgreSQL's bytea hex form,
 * "\\x41c3": for content that is not text, kept exactly. */
void		pt_json_put_bytea(pt_buf *buf, const char *s, size_t len);

/*
 * Reading: find a top-level member of a JSON object text. For a string the
 * unescaped text is appended to out; for anything else (object, array,
 * number, literal) its exact bytes are. *found is false when the key is
 * absent, *isnull true for JSON null. False (with err) when json is not a
 * well-formed object. Used for logical-message contents (context).
 */
typedef enum pt_json_kind
{
	PT_JSON_STRING,
	PT_JSON_RAW,				/* object, array, number, true, false */
	PT_JSON_NULL
} pt_json_kind;

bool		pt_json_object_get(const char *json, size_t len, const char *key,
							   bool *found, pt_json_kind *kind, pt_buf *out, pt_err *err);

/*
 * Append the unescaped body of a JSON string (without its quotes) to out.
 * The body must have passed jsmn's strict check (\u has 4 hex digits);
 * false on a lone surrogate or \u0000, which PostgreSQL text cannot hold.
 */
bool		pt_json_unescape(const char *s, size_t len, pt_buf *out);

#endif
