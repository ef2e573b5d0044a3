/*
 * erase/main.c — pgtrail-erase: removes chosen values (a row's, a
 * column's, an event's) from the event store on a lawful request, and
 * records the erasure in the chain, so pgtrail-verify stays green and
 * shows what was erased, when, by whom and why (docs/OPERATIONS.md).
 *
 * The only place that exits: 0 erased (or nothing left to erase),
 * 1 the log does not match its hashes (nothing was erased), 2 usage or
 * configuration error, 3 could not run (connection, I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/version.h"
#include "erase/erase.h"

extern char **environ;

static void
fill_opts(const pt_config *cfg, pt_erase_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->events_dsn = pt_config_get(cfg, "sink", "dsn");
	o->schema = pt_config_get(cfg, "sink", "schema");
	o->slot = pt_config_get(cfg, "capture", "slot");
	o->signing_key = pt_config_get(cfg, "capture", "signing_key");
	o->table = pt_config_get(cfg, "erase", "table");
	o->key = pt_config_get(cfg, "erase", "key");
	o->column = pt_config_get(cfg, "erase", "column");
	o->event = pt_config_get(cfg, "erase", "event");
	o->reason = pt_config_get(cfg, "erase", "reason");
	o->request = pt_config_get(cfg, "erase", "request");
	o->by = pt_config_get(cfg, "erase", "by");
}

int
main(int argc, char **argv)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_erase_opts opts;
	pt_erase_result result;
	pt_log	   *log;
	pt_err		err,
				warning;
	int			rc = 0;

	pt_err_clear(&err);
	if (!pt_config_load(cfg, PT_PROG_ERASE, argc, argv, environ, &args, &err))
	{
		pt_err_print(&err, "pgtrail-erase", stderr);
		pt_config_free(cfg);
		return pt_err_exit_code(&err);
	}
	if (args.help || args.version)
	{
		if (args.help)
			pt_config_usage(stdout, PT_PROG_ERASE, "pgtrail-erase",
							"erases personal data from the event store (a row's values by key, a column, or an "
							"event) and records the erasure in the hash chain, so the log still verifies.");
		else
			printf("pgtrail-erase (pgtrail) %s\n", PGTRAIL_VERSION);
		pt_config_free(cfg);
		return 0;
	}
	fill_opts(cfg, &opts);
	log = pt_config_log(cfg, "pgtrail-erase");
	if (pt_config_cmdline_secret(cfg, &warning))
		pt_log_err(log, PT_LOG_WARNING, &warning);
	if (!pt_erase_run(&opts, log, &result, &err))
	{
		pt_log_err(log, PT_LOG_ERROR, &err);
		rc = pt_err_exit_code(&err);
	}
	else if (result.values > 0 && result.erasure_last > result.erasure_id)
		printf("erased %lld values in %lld events; erasure events %lld..%lld\n", (long long) result.values,
			   (long long) result.events, (long long) result.erasure_id, (long long) result.erasure_last);
	else if (result.values > 0)
		printf("erased %lld values in %lld events; erasure event %lld\n", (long long) result.values,
			   (long long) result.events, (long long) result.erasure_id);
	pt_log_free(log);
	pt_config_free(cfg);
	return rc;
}
