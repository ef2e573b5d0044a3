/*
 * core/copytext.h — PostgreSQL COPY text format: escaping out, unescaping in.
 *
 * The store writes events with COPY FROM STDIN and reads them with COPY TO
 * STDOUT, both in text format: fields separated by tabs, rows by newlines,
 * NULL as \N, and backslash, newline, carriage return and tab escaped. Array
 * literals (text[] unchanged) are built and split here as well.
 */
#ifndef PGTRAIL_CORE_COPYTEXT_H
#define PGTRAIL_CORE_COPYTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/event.h"

/* Append t as one COPY text field (\N for NULL). */
void		pt_copy_put_field(pt_buf *out, const char *s, size_t len);
void		pt_copy_put_text(pt_buf *out, pt_text t);
void		pt_copy_put_null(pt_buf *out);

/* Append a text[] literal {"a","b"} of the names, COPY-escaped. */
void		pt_copy_put_text_array(pt_buf *out, const pt_text *items, int n);

/*
 * Split a COPY text row (without its newline) in place into nfields fields,
 * unescaping each; NULL fields get ptr NULL. False if the row does not have
 * exactly nfields fields.
 */
bool		pt_copy_split_row(char *row, size_t len, pt_text *fields, int nfields);

/*
 * Split an array literal in place ("{a,\"b c\"}") into items, growing
 * *items (capacity *cap, allocated with pt_realloc, caller frees). False on
 * a malformed literal or a NULL element.
 */
bool		pt_copy_split_array(char *lit, size_t len, pt_text **items, int *cap, int *n);

#endif
