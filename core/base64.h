/*
 * core/base64.h — bytes as base64 text (RFC 4648, standard alphabet, '='
 * padding, no line breaks): how Kafka Connect's JsonConverter writes bytes
 * and Decimal values (Jackson's MIME_NO_LINEFEEDS variant), and what
 * Debezium's binary.handling.mode = base64 gives.
 */
#ifndef PGTRAIL_CORE_BASE64_H
#define PGTRAIL_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Append the base64 text of bytes[0..len) to out (no quotes). */
void		pt_base64_put(pt_buf *out, const uint8_t *bytes, size_t len);

#endif
