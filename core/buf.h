/*
 * core/buf.h — a growable byte buffer, reused across events on the hot path.
 *
 * The buffer owns its memory; pt_buf_reset() keeps the allocation so the
 * next event writes into it without a malloc. The contents are always
 * NUL-terminated (not counted in len), so they can be handed to C string
 * functions when they hold text.
 */
#ifndef PGTRAIL_CORE_BUF_H
#define PGTRAIL_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct pt_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} pt_buf;

#define PT_BUF_INIT {NULL, 0, 0}

void		pt_buf_init(pt_buf *buf);
void		pt_buf_free(pt_buf *buf);	/* frees the memory, leaves an empty buffer */
void		pt_buf_reset(pt_buf *buf);	/* len = 0, keeps the memory */
void		pt_buf_reserve(pt_buf *buf, size_t extra);	/* room for extra more bytes */
void		pt_buf_append(pt_buf *buf, const void *bytes, size_t len);
void		pt_buf_putc(pt_buf *buf, char c);
void		pt_buf_puts(pt_buf *buf, const char *s);
void		pt_buf_printf(pt_buf *buf, const char *fmt,...) PT_PRINTF(2, 3);
void		pt_buf_put_u32be(pt_buf *buf, uint32_t v);
void		pt_buf_put_i64(pt_buf *buf, int64_t v);	/* decimal text */

/* Decimal text of v at the end of tmp[24] (no NUL); returns where it starts.
 * By hand rather than snprintf: it runs several times per event. */
char	   *pt_format_i64(int64_t v, char *tmp);

#endif
