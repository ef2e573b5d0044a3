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

#include <stddef.h>

#include "core/buf.h"

/* Append s[0..len) as a quoted, escaped JSON string. */
void		pt_json_put_string(pt_buf *buf, const char *s, size_t len);
void		pt_json_put_cstring(pt_buf *buf, const char *s);

#endif
