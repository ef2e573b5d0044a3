/*
 * core/log.h — leveled log lines, plain text or one JSON object per line.
 *
 * A pt_log is made once by main() and handed to whatever needs to log (the
 * library keeps no global state). Plain lines look like PostgreSQL's tools:
 *     pgtrail-capture: warning: table "public.t" has no primary key
 * JSON lines carry ts, level, program and msg (and detail/hint when given).
 * Messages go to stderr by default; data never goes through the log.
 */
#ifndef PGTRAIL_CORE_LOG_H
#define PGTRAIL_CORE_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"

typedef enum pt_log_level
{
	PT_LOG_DEBUG = 0,
	PT_LOG_INFO,
	PT_LOG_WARNING,
	PT_LOG_ERROR
} pt_log_level;

typedef enum pt_log_format
{
	PT_LOG_TEXT = 0,
	PT_LOG_JSON
} pt_log_format;

typedef struct pt_log pt_log;

/* Returns a new logger; out is borrowed (not closed by pt_log_free). */
pt_log	   *pt_log_new(const char *program, pt_log_level level, pt_log_format format, FILE *out);
void		pt_log_free(pt_log *log);

/* Parse "debug|info|warning|error" and "text|json"; false when unknown. */
bool		pt_log_parse_level(const char *name, pt_log_level *level);
bool		pt_log_parse_format(const char *name, pt_log_format *format);

bool		pt_log_enabled(const pt_log *log, pt_log_level level);
void		pt_log_msg(pt_log *log, pt_log_level level, const char *fmt,...) PT_PRINTF(3, 4);

/* Log an error value (message, detail, hint) at the given level. */
void		pt_log_err(pt_log *log, pt_log_level level, const pt_err *err);

#define pt_log_debug(log, ...) pt_log_msg((log), PT_LOG_DEBUG, __VA_ARGS__)
#define pt_log_info(log, ...) pt_log_msg((log), PT_LOG_INFO, __VA_ARGS__)
#define pt_log_warning(log, ...) pt_log_msg((log), PT_LOG_WARNING, __VA_ARGS__)
#define pt_log_error(log, ...) pt_log_msg((log), PT_LOG_ERROR, __VA_ARGS__)

#endif
