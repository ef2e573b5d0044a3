/*
 * verify/report.c — collecting findings and figures, printing them as text
 * or JSON, and the Prometheus textfile (see report.h).
 */
#include "verify/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

#define MAX_LISTED 1000			/* findings and drift rows kept for the listing */

typedef struct finding
{
	const char *kind;			/* one of PT_FIND_* (static) */
	int64_t		event_id;
	char	   *message;
	char	   *detail;			/* NULL: none */
} finding;

typedef struct drift_row
{
	char	   *schema;
	char	   *table;
	const char *kind;			/* static */
	char	   *key;
	char	   *live_row;		/* JSON or NULL */
	char	   *log_row;
} drift_row;

struct pt_report
{
	pt_report_figures fig;
	finding    *findings;
	int			nfindings;		/* all of them; the first MAX_LISTED are kept */
	drift_row  *drifts;
	int			ndrifts;
	char	  **notes;
	int			nnotes;
};

static const char *
static_kind(const char *kind)
{
	static const char *const kinds[] = {
		PT_FIND_CHANGED, PT_FIND_MISSING, PT_FIND_INSERTED, PT_FIND_REORDERED, PT_FIND_BROKEN,
		PT_FIND_BAD_SIGNATURE, PT_FIND_CHECKPOINT, PT_FIND_ANCHOR, PT_FIND_ANCHOR_FILE, PT_FIND_DRIFT, "changed", "missing", "extra"
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], kind) == 0)
			return kinds[i];
	return "other";
}

pt_report *
pt_report_new(void)
{
	pt_report  *rep = pt_calloc(1, sizeof(*rep));

	rep->findings = pt_calloc(MAX_LISTED, sizeof(finding));
	rep->drifts = pt_calloc(MAX_LISTED, sizeof(drift_row));
	return rep;
}

void
pt_report_free(pt_report *rep)
{
	if (rep == NULL)
		return;
	for (int i = 0; i < rep->nfindings && i < MAX_LISTED; i++)
	{
		free(rep->findings[i].message);
		free(rep->findings[i].detail);
	}
	for (int i = 0; i < rep->ndrifts && i < MAX_LISTED; i++)
	{
		free(rep->drifts[i].schema);
		free(rep->drifts[i].table);
		free(rep->drifts[i].key);
		free(rep->drifts[i].live_row);
		free(rep->drifts[i].log_row);
	}
	for (int i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	free(rep->findings);
	free(rep->drifts);
	free(rep);
}

static void
add_finding(pt_report *rep, const char *kind, int64_t event_id, const char *detail, const char *message)
{
	if (rep->nfindings < MAX_LISTED)
	{
		finding    *f = &rep->findings[rep->nfindings];

		f->kind = static_kind(kind);
		f->event_id = event_id;
		f->message = pt_strdup(message);
		f->detail = detail && detail[0] ? pt_strdup(detail) : NULL;
	}
	rep->nfindings++;
}

void
pt_report_finding(pt_report *rep, const char *kind, int64_t event_id, const char *detail, const char *fmt,...)
{
	char		message[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	add_finding(rep, kind, event_id, detail, message);
}

void
pt_report_err(pt_report *rep, const char *kind, int64_t event_id, const pt_err *err)
{
	add_finding(rep, kind, event_id, err->detail, err->message);
}

int
pt_report_nfindings(const pt_report *rep)
{
	return rep->nfindings;
}

pt_report_figures *
pt_report_figures_of(pt_report *rep)
{
	return &rep->fig;
}

void
pt_report_note(pt_report *rep, const char *fmt,...)
{
	char		note[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	rep->notes = pt_realloc(rep->notes, (size_t) (rep->nnotes + 1) * sizeof(char *));
	rep->notes[rep->nnotes++] = pt_strdup(note);
}

void
pt_report_drift(pt_report *rep, const char *schema, const char *table, const char *kind,
				const char *key, const char *live_row, const char *log_row)
{
	if (rep->ndrifts < MAX_LISTED)
	{
		drift_row  *d = &rep->drifts[rep->ndrifts];

		d->schema = pt_strdup(schema);
		d->table = pt_strdup(table);
		d->kind = static_kind(kind);
		d->key = pt_strdup(key);
		d->live_row = live_row ? pt_strdup(live_row) : NULL;
		d->log_row = log_row ? pt_strdup(log_row) : NULL;
	}
	rep->ndrifts++;
}

/* ---- text ---- */

static void
print_figures_text(const pt_report_figures *f, FILE *out)
{
	if (f->events_checked > 0)
		fprintf(out, "chain: %lld events checked (%lld..%lld, %s), the log ends at event %lld\n",
				(long long) f->events_checked, (long long) f->first_id, (long long) f->last_id,
				f->full ? "full" : "new since the last verified point", (long long) f->log_events);
	else
		fprintf(out, "chain: no new events since the last verified point; the log ends at event %lld\n",
				(long long) f->log_events);
	fprintf(out, "checkpoints: %lld checked, %lld signatures verified; anchors: %lld checked\n",
			(long long) f->checkpoints_checked, (long long) f->signatures_checked,
			(long long) f->anchors_checked);
	fprintf(out, "schema versions: %lld match their schema events, %lld recorded before schema events (not "
			"covered by the chain)\n", (long long) f->versions_covered, (long long) f->versions_unproven);
	if (f->drift_tables > 0)
		fprintf(out, "drift: %lld tables compared, %lld rows differ\n",
				(long long) f->drift_tables, (long long) f->drift_rows);
}

/*
 * prefix, then s with every control character as \xNN, then a newline:
 * messages quote text from outside (anchor lines, names from the
 * database), and a terminal must not act on it.
 */
static void
put_line(FILE *out, const char *prefix, const char *s)
{
	fputs(prefix, out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('\n', out);
}

void
pt_report_print_text(const pt_report *rep, FILE *out)
{
	print_figures_text(&rep->fig, out);
	for (int i = 0; i < rep->nnotes; i++)
		put_line(out, "note: ", rep->notes[i]);
	for (int i = 0; i < rep->nfindings && i < MAX_LISTED; i++)
	{
		const finding *f = &rep->findings[i];

		put_line(out, "FAILED: ", f->message);
		if (f->detail)
			put_line(out, "  detail: ", f->detail);
	}
	if (rep->nfindings > MAX_LISTED)
		fprintf(out, "... and %d more findings\n", rep->nfindings - MAX_LISTED);
	for (int i = 0; i < rep->ndrifts && i < MAX_LISTED; i++)
	{
		const drift_row *d = &rep->drifts[i];

		fprintf(out, "drift: %s.%s %s key %s\n  live: %s\n  log:  %s\n", d->schema, d->table, d->kind, d->key,
				d->live_row ? d->live_row : "(none)", d->log_row ? d->log_row : "(none)");
	}
	fprintf(out, "%s (%.2f s)\n", rep->nfindings ? "verify: FAILED" : "verify: OK", rep->fig.seconds);
}

/* ---- JSON ---- */

static void
put_field(pt_buf *b, const char *name, const char *value)
{
	pt_buf_printf(b, ",\"%s\":", name);
	if (value)
		pt_json_put_cstring(b, value);
	else
		pt_buf_puts(b, "null");
}

static void
put_findings_json(const pt_report *rep, pt_buf *b)
{
	pt_buf_puts(b, ",\"findings\":[");
	for (int i = 0; i < rep->nfindings && i < MAX_LISTED; i++)
	{
		const finding *f = &rep->findings[i];

		pt_buf_printf(b, "%s{\"kind\":\"%s\",\"event_id\":", i ? "," : "", f->kind);
		if (f->event_id)
			pt_buf_printf(b, "%lld", (long long) f->event_id);
		else
			pt_buf_puts(b, "null");
		put_field(b, "message", f->message);
		put_field(b, "detail", f->detail);
		pt_buf_putc(b, '}');
	}
	pt_buf_puts(b, "]");
}

static void
put_drift_json(const pt_report *rep, pt_buf *b)
{
	pt_buf_puts(b, ",\"drift\":[");
	for (int i = 0; i < rep->ndrifts && i < MAX_LISTED; i++)
	{
		const drift_row *d = &rep->drifts[i];

		pt_buf_printf(b, "%s{\"kind\":\"%s\"", i ? "," : "", d->kind);
		put_field(b, "schema", d->schema);
		put_field(b, "table", d->table);
		/* key and rows are JSON objects already */
		pt_buf_printf(b, ",\"key\":%s,\"live\":%s,\"log\":%s}", d->key,
					  d->live_row ? d->live_row : "null", d->log_row ? d->log_row : "null");
	}
	pt_buf_puts(b, "]");
}

void
pt_report_print_json(const pt_report *rep, FILE *out)
{
	const pt_report_figures *f = &rep->fig;
	pt_buf		b = PT_BUF_INIT;

	pt_buf_printf(&b, "{\"ok\":%s,\"mode\":\"%s\",\"events_checked\":%lld,\"first_id\":%lld,\"last_id\":%lld,"
				  "\"log_events\":%lld,\"checkpoints_checked\":%lld,\"signatures_checked\":%lld,"
				  "\"anchors_checked\":%lld,\"versions_covered\":%lld,\"versions_unproven\":%lld,"
				  "\"drift_tables\":%lld,\"drift_rows\":%lld,\"seconds\":%.3f",
				  rep->nfindings ? "false" : "true", f->full ? "full" : "incremental",
				  (long long) f->events_checked, (long long) f->first_id, (long long) f->last_id,
				  (long long) f->log_events, (long long) f->checkpoints_checked,
				  (long long) f->signatures_checked, (long long) f->anchors_checked,
				  (long long) f->versions_covered, (long long) f->versions_unproven, (long long) f->drift_tables, (long long) f->drift_rows, f->seconds);
	put_findings_json(rep, &b);
	put_drift_json(rep, &b);
	pt_buf_puts(&b, ",\"notes\":[");
	for (int i = 0; i < rep->nnotes; i++)
	{
		if (i)
			pt_buf_putc(&b, ',');
		pt_json_put_cstring(&b, rep->notes[i]);
	}
	pt_buf_puts(&b, "]}\n");
	fwrite(b.data, 1, b.len, out);
	pt_buf_free(&b);
}

/* ---- Prometheus textfile ---- */

/* The last-success time in an earlier file (0 when none). */
static double
previous_success(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[256];
	double		t = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "pgtrail_verify_last_success_timestamp_seconds ", 46) == 0)
			t = strtod(line + 46, NULL);
	fclose(f);
	return t;
}

bool
pt_report_write_metrics(const pt_report *rep, const char *path, bool ran, pt_err *err)
{
	pt_buf		tmp = PT_BUF_INIT;
	pt_buf		b = PT_BUF_INIT;
	double		now = (double) time(NULL);
	bool		clean = ran && rep->nfindings == 0;
	double		success = clean ? now : previous_success(path);
	FILE	   *f;
	bool		ok;

	pt_buf_printf(&b,
				  "# HELP pgtrail_verify_last_run_timestamp_seconds When pgtrail-verify last ran.\n"
				  "# TYPE pgtrail_verify_last_run_timestamp_seconds gauge\n"
				  "pgtrail_verify_last_run_timestamp_seconds %.0f\n"
				  "# HELP pgtrail_verify_last_success_timestamp_seconds When a run last found the log intact.\n"
				  "# TYPE pgtrail_verify_last_success_timestamp_seconds gauge\n"
				  "pgtrail_verify_last_success_timestamp_seconds %.0f\n"
				  "# HELP pgtrail_verify_ok 1 when the last run found the log intact, 0 otherwise.\n"
				  "# TYPE pgtrail_verify_ok gauge\n"
				  "pgtrail_verify_ok %d\n"
				  "# HELP pgtrail_verify_could_not_run 1 when the last run could not check (connection, configuration).\n"
				  "# TYPE pgtrail_verify_could_not_run gauge\n"
				  "pgtrail_verify_could_not_run %d\n"
				  "# HELP pgtrail_verify_failures Integrity failures the last run found.\n"
				  "# TYPE pgtrail_verify_failures gauge\n"
				  "pgtrail_verify_failures %d\n"
				  "# HELP pgtrail_verify_events_verified Events read and rehashed by the last run.\n"
				  "# TYPE pgtrail_verify_events_verified gauge\n"
				  "pgtrail_verify_events_verified %lld\n"
				  "# HELP pgtrail_verify_last_event_id The last event id the log held.\n"
				  "# TYPE pgtrail_verify_last_event_id gauge\n"
				  "pgtrail_verify_last_event_id %lld\n"
				  "# HELP pgtrail_verify_drift_rows Live rows that differ from the log (--drift).\n"
				  "# TYPE pgtrail_verify_drift_rows gauge\n"
				  "pgtrail_verify_drift_rows %lld\n"
				  "# HELP pgtrail_verify_duration_seconds How long the last run took.\n"
				  "# TYPE pgtrail_verify_duration_seconds gauge\n"
				  "pgtrail_verify_duration_seconds %.3f\n",
				  now, success, clean ? 1 : 0, ran ? 0 : 1, rep->nfindings,
				  (long long) rep->fig.events_checked, (long long) rep->fig.log_events,
				  (long long) rep->fig.drift_rows, rep->fig.seconds);
	pt_buf_printf(&tmp, "%s.tmp", path);
	f = fopen(tmp.data, "w");
	ok = f != NULL && fwrite(b.data, 1, b.len, f) == b.len;
	ok = (f != NULL && fclose(f) == 0) && ok;
	ok = ok && rename(tmp.data, path) == 0;
	if (!ok)
	{
		pt_err_set(err, PT_ERR_RUNTIME, "could not write metrics file \"%s\": %s", path, strerror(errno));
		pt_err_hint(err, "--metrics-file must name a file in a writable directory (node_exporter's textfile directory)");
		unlink(tmp.data);
	}
	pt_buf_free(&tmp);
	pt_buf_free(&b);
	return ok;
}
