/*
 * core/hex.h — hexadecimal digits: hashes, bytea, LSNs and \u escapes.
 */
#ifndef PGTRAIL_CORE_HEX_H
#define PGTRAIL_CORE_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int			pt_hex_digit(char c);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void		pt_hex_encode(const uint8_t *bytes, size_t n, char *out);

/* Decode exactly 2n hex digits into n bytes; false on a non-digit. */
bool		pt_hex_decode(const char *hex, size_t n, uint8_t *out);

/* Decode bytea's hex output ("\\x" and exactly 2n digits, a C string) into n bytes. */
bool		pt_hex_decode_bytea(const char *text, size_t n, uint8_t *out);

#endif
