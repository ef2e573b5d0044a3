/*
 * replay/main.c — pgtrail-replay: settings in, a replay or a point query,
 * exit code out.
 *
 * The only place that exits: 0 done, 1 the log failed its chain check (or
 * the target does not hold what the log says), 2 usage or configuration
 * error, 3 could not run. SIGTERM and SIGINT finish the source transaction
 * being applied, commit, and stop (that is how --follow ends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/signals.h"
#include "core/log.h"
#include "core/version.h"
#include "replay/replay.h"

extern char **environ;

/* At most one --until-*; false with err otherwise. */
static bool
fill_until(const pt_config *cfg, pt_replay_opts *o, pt_err *err)
{
	const char *lsn = pt_config_get(cfg, "replay", "until_lsn");
	int			n = 0;

	o->until_time = pt_config_get(cfg, "replay", "until_time");
	o->until_event = pt_config_get_int(cfg, "replay", "until_event");
	o->until_xid = pt_config_get_int(cfg, "replay", "until_xid");
	if (lsn[0] && pt_lsn_parse(lsn, strlen(lsn), &o->until_lsn) && ++n)
		o->until = PT_UNTIL_LSN;
	if (o->until_time[0] && ++n)
		o->until = PT_UNTIL_TIME;
	if (o->until_event > 0 && ++n)
		o->until = PT_UNTIL_EVENT;
	if (o->until_xid > 0 && ++n)
		o->until = PT_UNTIL_XID;
	if (n > 1)
	{
		pt_err_set(err, PT_ERR_CONFIG, "more than one stop point given");
		pt_err_hint(err, "use one of --until-lsn, --until-time, --until-event, --until-xid");
		return false;
	}
	return true;
}

static bool
fill_opts(const pt_config *cfg, pt_replay_opts *o, pt_err *err)
{
	memset(o, 0, sizeof(*o));
	o->events_dsn = pt_config_get(cfg, "sink", "dsn");
	o->target_dsn = pt_config_get(cfg, "replay", "target");
	o->schema = pt_config_get(cfg, "sink", "schema");
	o->state_schema = pt_config_get(cfg, "replay", "state_schema");
	o->tables = pt_config_get(cfg, "replay", "tables");
	o->map = pt_config_get(cfg, "replay", "map");
	o->create_tables = pt_config_get_bool(cfg, "replay", "create_tables");
	o->clean = pt_config_get_bool(cfg, "replay", "clean");
	o->dry_run = pt_config_get_bool(cfg, "replay", "dry_run");
	o->verify = !pt_config_get_bool(cfg, "replay", "no_verify");
	o->public_key = pt_config_get(cfg, "verify", "public_key");
	o->anchor = pt_config_get(cfg, "verify", "anchor");
	o->follow = pt_config_get_bool(cfg, "replay", "follow");
	o->poll_interval_ms = (int) pt_config_get_int(cfg, "replay", "poll_interval_ms");
	o->batch_size = (int) pt_config_get_int(cfg, "replay", "batch_size");
	o->window_mb = (int) pt_config_get_int(cfg, "replay", "window_mb");
	o->jobs = (int) pt_config_get_int(cfg, "replay", "jobs");
	o->progress_tty = isatty(STDERR_FILENO);
	if (!fill_until(cfg, o, err))
		return false;
	if (o->target_dsn[0] == '\0' && !o->dry_run)
	{
		pt_err_set(err, PT_ERR_CONFIG, "no target database given");
		pt_err_hint(err, "pass --target DSN (or [replay] target), or use --as-of / --history for point queries");
		return false;
	}
	return true;
}

/* --as-of / --history: both need --table and --key. */
static bool
fill_query(const pt_config *cfg, pt_query_opts *q, pt_err *err)
{
	memset(q, 0, sizeof(*q));
	q->events_dsn = pt_config_get(cfg, "sink", "dsn");
	q->schema = pt_config_get(cfg, "sink", "schema");
	q->table = pt_config_get(cfg, "replay", "table");
	q->key = pt_config_get(cfg, "replay", "key");
	q->as_of = pt_config_get(cfg, "replay", "as_of")[0] ? pt_config_get(cfg, "replay", "as_of") : NULL;
	q->table_format = strcmp(pt_config_get(cfg, "replay", "format"), "table") == 0;
	q->public_key = pt_config_get(cfg, "verify", "public_key");
	q->anchor = pt_config_get(cfg, "verify", "anchor");
	if (q->as_of && pt_config_get_bool(cfg, "replay", "history"))
	{
		pt_err_set(err, PT_ERR_CONFIG, "--as-of and --history are two different queries");
		pt_err_hint(err, "use one of them");
		return false;
	}
	if (q->table[0] == '\0' || q->key[0] == '\0')
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s needs --table and --key", q->as_of ? "--as-of" : "--history");
		pt_err_hint(err, "e.g. --table public.accounts --key '{\"id\": 42}'");
		return false;
	}
	return true;
}

static int
run(const pt_config *cfg, pt_err *err)
{
	pt_log	   *log = pt_config_log(cfg, "pgtrail-replay");
	pt_err		warning;
	bool		ok;

	if (pt_config_cmdline_secret(cfg, &warning))
		pt_log_err(log, PT_LOG_WARNING, &warning);
	if (pt_config_get(cfg, "replay", "as_of")[0] || pt_config_get_bool(cfg, "replay", "history"))
	{
		pt_query_opts q;

		ok = fill_query(cfg, &q, err);
		q.log = log;
		ok = ok && pt_replay_query(&q, stdout, err);
	}
	else
	{
		pt_replay_opts o;

		ok = fill_opts(cfg, &o, err) && pt_replay_run(&o, log, pt_signals_install(), err);
	}
	if (!ok)
		pt_log_err(log, PT_LOG_ERROR, err);
	pt_log_free(log);
	return ok ? 0 : pt_err_exit_code(err);
}

int
main(int argc, char **argv)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	int			rc = 0;

	pt_err_clear(&err);
	if (!pt_config_load(cfg, PT_PROG_REPLAY, argc, argv, environ, &args, &err))
	{
		pt_err_print(&err, "pgtrail-replay", stderr);
		pt_config_free(cfg);
		return pt_err_exit_code(&err);
	}
	if (args.help)
		pt_config_usage(stdout, PT_PROG_REPLAY, "pgtrail-replay",
						"rebuilds tables from the pgtrail event log, up to any point, or shows a row as it was.");
	else if (args.version)
		printf("pgtrail-replay (pgtrail) %s\n", PGTRAIL_VERSION);
	else
		rc = run(cfg, &err);
	pt_config_free(cfg);
	return rc;
}
