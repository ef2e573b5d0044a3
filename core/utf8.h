/*
 * core/utf8.h — UTF-8: checking a sequence and writing a code point.
 */
#ifndef PGTRAIL_CORE_UTF8_H
#define PGTRAIL_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most avail bytes), 0 if invalid
 * (overlong forms and UTF-16 surrogates are invalid). */
int			pt_utf8_seq_len(const unsigned char *s, size_t avail);

/* True when s[0..len) is valid UTF-8 holding no NUL byte: PostgreSQL text. */
bool		pt_utf8_is_text(const char *s, size_t len);

/* Write code point cp (below 0x110000, not a surrogate) at out; returns bytes written (1-4). */
int			pt_utf8_encode(unsigned cp, char *out);

#endif
