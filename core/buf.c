/*
 * core/buf.c — growable byte buffer (see buf.h).
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void
pt_buf_init(pt_buf *buf)
{
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void
pt_buf_free(pt_buf *buf)
{
	free(buf->data);
	pt_buf_init(buf);
}

void
pt_buf_reset(pt_buf *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

void
pt_buf_reserve(pt_buf *buf, size_t extra)
{
	size_t		need = buf->len + extra + 1;
	size_t		cap;

	if (need <= buf->cap)
		return;
	cap = buf->cap ? buf->cap : 256;
	while (cap < need)
		cap *= 2;
	buf->data = pt_realloc(buf->data, cap);
	buf->cap = cap;
}

void
pt_buf_append(pt_buf *buf, const void *bytes, size_t len)
{
	pt_buf_reserve(buf, len);
	if (len)
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void
pt_buf_putc(pt_buf *buf, char c)
{
	pt_buf_reserve(buf, 1);
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

void
pt_buf_puts(pt_buf *buf, const char *s)
{
	pt_buf_append(buf, s, strlen(s));
}

void
pt_buf_printf(pt_buf *buf, const char *fmt,...)
{
	va_list		ap;
	int			n;

	/* try in the room we have; grow and redo only when it did not fit */
	pt_buf_reserve(buf, 128);
	va_start(ap, fmt);
	n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= buf->cap - buf->len)
	{
		pt_buf_reserve(buf, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
		va_end(ap);
	}
	buf->len += (size_t) n;
}

void
pt_buf_put_u32be(pt_buf *buf, uint32_t v)
{
	unsigned char b[4];

	b[0] = (unsigned char) (v >> 24);
	b[1] = (unsigned char) (v >> 16);
	b[2] = (unsigned char) (v >> 8);
	b[3] = (unsigned char) v;
	pt_buf_append(buf, b, 4);
}

char *
pt_format_i64(int64_t v, char *tmp)
{
	char	   *p = tmp + 24;
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	do
	{
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}

void
pt_buf_put_i64(pt_buf *buf, int64_t v)
{
	char		tmp[24];
	char	   *p = pt_format_i64(v, tmp);

	pt_buf_append(buf, p, (size_t) (tmp + sizeof(tmp) - p));
}
