/*
 * core/err.c — filling and printing pt_err (see err.h).
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
pt_err_clear(pt_err *err)
{
	if (err == NULL)
		return;
	err->kind = PT_ERR_NONE;
	err->message[0] = err->detail[0] = err->hint[0] = err->sqlstate[0] = err->context[0] = '\0';
}

bool
pt_err_set(pt_err *err, pt_err_kind kind, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return false;
	pt_err_clear(err);
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

void
pt_err_detail(pt_err *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void
pt_err_hint(pt_err *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

void
pt_err_prefix(pt_err *err, const char *fmt,...)
{
	char		prefix[256];
	size_t		plen,
				mlen,
				room;
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	mlen = strlen(err->message);
	room = sizeof(err->message) - 1 - plen - 2;
	if (mlen > room)
		mlen = room;
	memmove(err->message + plen + 2, err->message, mlen);
	memcpy(err->message, prefix, plen);
	memcpy(err->message + plen, ": ", 2);
	err->message[plen + 2 + mlen] = '\0';
}

int
pt_err_exit_code(const pt_err *err)
{
	switch (err->kind)
	{
		case PT_ERR_NONE:
			return 0;
		case PT_ERR_INTEGRITY:
			return 1;
		case PT_ERR_CONFIG:
			return 2;
		case PT_ERR_RUNTIME:
			return 3;
	}
	return 3;
}

void
pt_err_print(const pt_err *err, const char *prog, FILE *out)
{
	fprintf(out, "%s: error: %s\n", prog, err->message);
	if (err->detail[0])
		fprintf(out, "detail: %s\n", err->detail);
	if (err->hint[0])
		fprintf(out, "hint: %s\n", err->hint);
	if (err->context[0])
		fprintf(out, "context: %s\n", err->context);
}
