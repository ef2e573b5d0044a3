/*
 * verify/main.c — pgtrail-verify: settings in, one audit of the event log,
 * a report and an exit code out. Made to run from cron, a systemd timer or
 * a Kubernetes CronJob.
 *
 * The only place that exits: 0 the log is intact, 1 an integrity failure
 * (the report names the first bad event and what is wrong), 2 usage or
 * configuration error, 3 could not run (connection, I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/signals.h"
#include "core/log.h"
#include "core/version.h"
#include "verify/report.h"
#include "verify/verify.h"

extern char **environ;

static void
fill_opts(const pt_config *cfg, pt_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->events_dsn = pt_config_get(cfg, "sink", "dsn");
	o->schema = pt_config_get(cfg, "sink", "schema");
	o->full = pt_config_get_bool(cfg, "verify", "full");
	o->save = pt_config_get_bool(cfg, "verify", "save");
	o->public_key = pt_config_get(cfg, "verify", "public_key");
	o->anchor = pt_config_get(cfg, "verify", "anchor");
	o->drift = pt_config_get_bool(cfg, "verify", "drift");
	o->source_dsn = pt_config_get(cfg, "source", "dsn");
	o->drift_scratch = pt_config_get(cfg, "verify", "drift_scratch");
	o->drift_wait_s = (int) pt_config_get_int(cfg, "verify", "drift_wait_s");
	o->drift_max_rows = (int) pt_config_get_int(cfg, "verify", "drift_max_rows");
}

/* Print the report, write the metrics file; the exit code. */
static int
finish(const pt_config *cfg, pt_report *rep, bool ran, pt_err *err, pt_log *log)
{
	const char *metrics = pt_config_get(cfg, "verify", "metrics_file");
	int			rc;
	pt_err		merr;

	if (ran)
	{
		if (strcmp(pt_config_get(cfg, "verify", "format"), "json") == 0)
			pt_report_print_json(rep, stdout);
		else
			pt_report_print_text(rep, stdout);
		rc = pt_report_nfindings(rep) ? 1 : 0;
	}
	else
	{
		pt_log_err(log, PT_LOG_ERROR, err);
		rc = pt_err_exit_code(err);
	}
	if (metrics[0] && !pt_report_write_metrics(rep, metrics, ran, &merr))
	{
		pt_log_err(log, PT_LOG_ERROR, &merr);
		if (rc == 0)
			rc = pt_err_exit_code(&merr);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_verify_opts opts;
	pt_report  *rep;
	pt_log	   *log;
	pt_err		err,
				warning;
	bool		ran;
	int			rc;

	pt_err_clear(&err);
	if (!pt_config_load(cfg, PT_PROG_VERIFY, argc, argv, environ, &args, &err))
	{
		pt_err_print(&err, "pgtrail-verify", stderr);
		pt_config_free(cfg);
		return pt_err_exit_code(&err);
	}
	if (args.help || args.version)
	{
		if (args.help)
			pt_config_usage(stdout, PT_PROG_VERIFY, "pgtrail-verify",
							"checks that the event log is complete and unaltered: hash chain, gapless ids, "
							"signed checkpoints, anchor file, and drift between the log and the live tables.");
		else
			printf("pgtrail-verify (pgtrail) %s\n", PGTRAIL_VERSION);
		pt_config_free(cfg);
		return 0;
	}
	fill_opts(cfg, &opts);
	log = pt_config_log(cfg, "pgtrail-verify");
	if (pt_config_cmdline_secret(cfg, &warning))
		pt_log_err(log, PT_LOG_WARNING, &warning);
	rep = pt_report_new();
	ran = pt_verify_run(&opts, log, pt_signals_install(), rep, &err);
	rc = finish(cfg, rep, ran, &err, log);
	pt_report_free(rep);
	pt_log_free(log);
	pt_config_free(cfg);
	return rc;
}
