/*
 * core/err.h — the error value every core function fills on failure.
 *
 * A core function returns bool (or a pointer, NULL on failure) and fills the
 * caller's pt_err: a short primary message in PostgreSQL's style, optional
 * detail and hint lines, the SQLSTATE when the server sent one, and a kind
 * that main() alone maps to an exit code. Core functions never log what they
 * return; the caller decides what to do with it.
 */
#ifndef PGTRAIL_CORE_ERR_H
#define PGTRAIL_CORE_ERR_H

#include <stdbool.h>
#include <stdio.h>

typedef enum pt_err_kind
{
	PT_ERR_NONE = 0,
	PT_ERR_INTEGRITY,			/* the event log failed a check: exit 1 */
	PT_ERR_CONFIG,				/* usage, configuration or bad input: exit 2 */
	PT_ERR_RUNTIME				/* could not run (connection, I/O): exit 3 */
} pt_err_kind;

typedef struct pt_err
{
	pt_err_kind kind;
	char		message[1024];
	char		detail[1024];
	char		hint[512];
	char		context[256];	/* what was running, e.g. the statement */
	char		sqlstate[6];	/* "" when not from the server */
} pt_err;

#define PT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Reset to "no error". */
void		pt_err_clear(pt_err *err);

/* Set kind and message; clears detail, hint and sqlstate. Returns false so
 * callers can write "return pt_err_set(err, ...);". err may be NULL. */
bool		pt_err_set(pt_err *err, pt_err_kind kind, const char *fmt,...) PT_PRINTF(3, 4);
void		pt_err_detail(pt_err *err, const char *fmt,...) PT_PRINTF(2, 3);
void		pt_err_hint(pt_err *err, const char *fmt,...) PT_PRINTF(2, 3);

/* Put "prefix: " in front of the primary message (context for the caller). */
void		pt_err_prefix(pt_err *err, const char *fmt,...) PT_PRINTF(2, 3);

/* Exit code for a kind: 0, 1, 2 or 3. Only main() should call this. */
int			pt_err_exit_code(const pt_err *err);

/* Print as "prog: error: message" plus "detail:" and "hint:" lines. */
void		pt_err_print(const pt_err *err, const char *prog, FILE *out);

#endif
