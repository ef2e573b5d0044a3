/*
 * core/log.c — leveled text or JSON-lines logging (see log.h).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

struct pt_log
{
	char	   *program;
	pt_log_level level;
	pt_log_format format;
	FILE	   *out;
	pt_buf		line;			/* reused for every message */
};

static const char *const level_names[] = {"debug", "info", "warning", "error"};

pt_log *
pt_log_new(const char *program, pt_log_level level, pt_log_format format, FILE *out)
{
	pt_log	   *log = pt_calloc(1, sizeof(*log));

	log->program = pt_strdup(program);
	log->level = level;
	log->format = format;
	log->out = out ? out : stderr;
	pt_buf_init(&log->line);
	return log;
}

void
pt_log_free(pt_log *log)
{
	if (log == NULL)
		return;
	free(log->program);
	pt_buf_free(&log->line);
	free(log);
}

bool
pt_log_parse_level(const char *name, pt_log_level *level)
{
	for (int i = 0; i <= PT_LOG_ERROR; i++)
	{
		if (strcmp(name, level_names[i]) == 0)
		{
			*level = (pt_log_level) i;
			return true;
		}
	}
	return false;
}

bool
pt_log_parse_format(const char *name, pt_log_format *format)
{
	if (strcmp(name, "text") == 0)
		*format = PT_LOG_TEXT;
	else if (strcmp(name, "json") == 0)
		*format = PT_LOG_JSON;
	else
		return false;
	return true;
}

bool
pt_log_enabled(const pt_log *log, pt_log_level level)
{
	return log != NULL && level >= log->level;
}

/*
 * Text for a terminal: names and values in messages can come from the
 * event store or the source (a table named with an escape sequence); control
 * bytes other than newline and tab are written as \xNN, never raw.
 */
static void
put_terminal_text(pt_buf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			pt_buf_printf(b, "\\x%02x", c);
		else
			pt_buf_putc(b, (char) c);
	}
}

static void
emit(pt_log *log, pt_log_level level, const char *msg, const char *detail, const char *hint)
{
	pt_buf	   *b = &log->line;

	pt_buf_reset(b);
	if (log->format == PT_LOG_JSON)
	{
		struct timeval tv;
		struct tm	tm;
		char		ts[40];

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		pt_buf_printf(b, "{\"ts\":\"%s.%06ldZ\",\"level\":\"%s\",\"program\":", ts,
					  (long) tv.tv_usec, level_names[level]);
		pt_json_put_cstring(b, log->program);
		pt_buf_puts(b, ",\"msg\":");
		pt_json_put_cstring(b, msg);
		if (detail && detail[0])
		{
			pt_buf_puts(b, ",\"detail\":");
			pt_json_put_cstring(b, detail);
		}
		if (hint && hint[0])
		{
			pt_buf_puts(b, ",\"hint\":");
			pt_json_put_cstring(b, hint);
		}
		pt_buf_puts(b, "}\n");
	}
	else
	{
		pt_buf_printf(b, "%s: %s: ", log->program, level_names[level]);
		put_terminal_text(b, msg);
		if (detail && detail[0])
		{
			pt_buf_puts(b, "\ndetail: ");
			put_terminal_text(b, detail);
		}
		if (hint && hint[0])
		{
			pt_buf_puts(b, "\nhint: ");
			put_terminal_text(b, hint);
		}
		pt_buf_putc(b, '\n');
	}
	fwrite(b->data, 1, b->len, log->out);
	fflush(log->out);
}

void
pt_log_msg(pt_log *log, pt_log_level level, const char *fmt,...)
{
	char		msg[2048];
	va_list		ap;

	if (!pt_log_enabled(log, level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(log, level, msg, NULL, NULL);
}

void
pt_log_err(pt_log *log, pt_log_level level, const pt_err *err)
{
	if (!pt_log_enabled(log, level))
		return;
	emit(log, level, err->message, err->detail, err->hint);
	if (err->context[0] && pt_log_enabled(log, PT_LOG_DEBUG))
		pt_log_msg(log, PT_LOG_DEBUG, "context: %s", err->context);
}
