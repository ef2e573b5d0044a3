/*
 * core/erasure.c — the signed text of an erasure record (see erasure.h).
 */
#include "core/erasure.h"

#include "core/event.h"
#include "core/hex.h"

void
pt_erasure_signed_text(const uint8_t *prev_hash, const char *row, size_t len, pt_buf *out)
{
	char		hex[2 * PT_HASH_LEN + 1];

	pt_hex_encode(prev_hash, PT_HASH_LEN, hex);
	pt_buf_printf(out, "pgtrail erasure 1\nprev_hash %s\n", hex);
	pt_buf_append(out, row, len);
	pt_buf_putc(out, '\n');
}
