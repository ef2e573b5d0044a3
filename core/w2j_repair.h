/*
 * core/w2j_repair.h — mend the one kind of invalid JSON wal2json 2.5 writes.
 *
 * wal2json prints a column's type with format_type() and adds JSON quotes
 * only when the name does not already start with one: a type whose name
 * needs quoting ("Mood", "My Schema"."Mood") is written as is, so
 * "type":"Odd Schema"."Mood" reaches capture, which is not JSON. Any role
 * that may create a type could otherwise stop capture for good. The span
 * between ,"type": and ,"typeoid": (always present: capture asks for
 * include-type-oids) is the type name exactly as format_type() gave it;
 * where it is not a well-formed JSON string, it is written again as one.
 */
#ifndef PGTRAIL_CORE_W2J_REPAIR_H
#define PGTRAIL_CORE_W2J_REPAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/*
 * Write into out (reset first; the caller owns it and reuses it) the line
 * with every malformed type name re-escaped. Returns false, out untouched,
 * when no type name needed it (the line is broken some other way).
 */
bool		pt_w2j_repair(const char *line, size_t len, pt_buf *out);

#endif
