/*
 * core/copytext.c — COPY text format and array literals (see copytext.h).
 */
#include "core/copytext.h"

#include <string.h>
#include <strings.h>

#include "core/mem.h"

void
pt_copy_put_field(pt_buf *out, const char *s, size_t len)
{
	size_t		run = 0;

	pt_buf_reserve(out, len * 2);
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];
		char		e;

		switch (c)
		{
			case '\\': e = '\\'; break;
			case '\n': e = 'n'; break;
			case '\r': e = 'r'; break;
			case '\t': e = 't'; break;
			default: continue;
		}
		memcpy(out->data + out->len, s + run, i - run);
		out->len += i - run;
		out->data[out->len++] = '\\';
		out->data[out->len++] = e;
		run = i + 1;
	}
	memcpy(out->data + out->len, s + run, len - run);
	out->len += len - run;
	out->data[out->len] = '\0';
}

void
pt_copy_put_text(pt_buf *out, pt_text t)
{
	if (t.ptr == NULL)
		pt_copy_put_null(out);
	else
		pt_copy_put_field(out, t.ptr, t.len);
}

void
pt_copy_put_null(pt_buf *out)
{
	pt_buf_append(out, "\\N", 2);
}

void
pt_copy_put_text_array(pt_buf *out, const pt_text *items, int n)
{
	pt_buf_putc(out, '{');
	for (int i = 0; i < n; i++)
	{
		if (i)
			pt_buf_putc(out, ',');
		pt_buf_putc(out, '"');
		for (size_t k = 0; k < items[i].len; k++)
		{
			char		c = items[i].ptr[k];

			/* array quoting escapes " and \, then COPY doubles the \ */
			if (c == '"')
				pt_buf_append(out, "\\\\\"", 3);
			else if (c == '\\')
				pt_buf_append(out, "\\\\\\\\", 4);
			else
				pt_copy_put_field(out, &c, 1);
		}
		pt_buf_putc(out, '"');
	}
	pt_buf_putc(out, '}');
}

static char
unescape_char(char c)
{
	switch (c)
	{
		case 'b': return '\b';
		case 'f': return '\f';
		case 'n': return '\n';
		case 'r': return '\r';
		case 't': return '\t';
		case 'v': return '\v';
		default: return c;
	}
}

/* Unescape s[0..len) in place; returns the new length. */
static size_t
unescape_field(char *s, size_t len)
{
	char	   *o = memchr(s, '\\', len);
	const char *i = o;
	const char *end = s + len;

	if (o == NULL)
		return len;
	while (i < end)
	{
		if (*i == '\\' && i + 1 < end)
		{
			*o++ = unescape_char(i[1]);
			i += 2;
		}
		else
			*o++ = *i++;
	}
	*o = '\0';
	return (size_t) (o - s);
}

bool
pt_copy_split_row(char *row, size_t len, pt_text *fields, int nfields)
{
	char	   *p = row;
	char	   *end = row + len;

	for (int f = 0; f < nfields; f++)
	{
		char	   *tab = memchr(p, '\t', (size_t) (end - p));
		char	   *fend = tab ? tab : end;

		if ((tab == NULL) != (f == nfields - 1))
			return false;
		*fend = '\0';
		if (fend - p == 2 && p[0] == '\\' && p[1] == 'N')
		{
			fields[f].ptr = NULL;
			fields[f].len = 0;
		}
		else
		{
			fields[f].ptr = p;
			fields[f].len = unescape_field(p, (size_t) (fend - p));
		}
		p = fend + 1;
	}
	return true;
}

bool
pt_copy_split_array(char *lit, size_t len, pt_text **items, int *cap, int *n)
{
	char	   *p = lit + 1;
	char	   *end = lit + len - 1;	/* the closing brace */

	*n = 0;
	if (len < 2 || lit[0] != '{' || *end != '}')
		return false;
	while (p < end)
	{
		char	   *start = p;
		char	   *o = p;

		if (*n == *cap)
		{
			*cap = *cap ? *cap * 2 : 8;
			*items = pt_realloc(*items, sizeof(pt_text) * (size_t) *cap);
		}
		if (*p == '"')
		{
			for (p++; p < end && *p != '"'; p++)
				*o++ = (*p == '\\' && p + 1 < end) ? *++p : *p;
			if (p >= end)
				return false;
			p++;				/* closing quote */
		}
		else
		{
			while (p < end && *p != ',')
				*o++ = *p++;
			if (o - start == 4 && strncasecmp(start, "NULL", 4) == 0)
				return false;
		}
		(*items)[*n].ptr = start;
		(*items)[*n].len = (size_t) (o - start);
		(*n)++;
		if (p < end && *p++ != ',')
			return false;
	}
	return true;
}
