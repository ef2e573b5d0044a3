/*
 * capture/main.c — pgtrail-capture: settings in, pt_capture_run, exit code out.
 *
 * The only place that exits: 0 stopped cleanly (signal or --endpos),
 * 2 usage or configuration error, 3 could not run. SIGTERM and SIGINT set a
 * flag; the loop finishes the transaction in flight, commits, confirms the
 * slot and returns; waits for Kafka end [capture] stop_timeout_s after it.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "capture/capture.h"
#include "config/config.h"
#include "config/signals.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"

extern char **environ;

static void
fill_opts(const pt_config *cfg, pt_capture_opts *o)
{
	const char *endpos = pt_config_get(cfg, "capture", "endpos");

	memset(o, 0, sizeof(*o));
	o->source_dsn = pt_config_get(cfg, "source", "dsn");
	o->sink_dsn = pt_config_get(cfg, "sink", "dsn");
	o->schema = pt_config_get(cfg, "sink", "schema");
	o->slot = pt_config_get(cfg, "capture", "slot");
	o->tables = pt_config_get(cfg, "capture", "tables");
	o->exclude_tables = pt_config_get(cfg, "capture", "exclude_tables");
	o->snapshot = strcmp(pt_config_get(cfg, "capture", "snapshot"), "never") == 0 ?
		PT_SNAPSHOT_NEVER : PT_SNAPSHOT_INITIAL;
	o->messages = pt_config_get_bool(cfg, "capture", "messages");
	o->ddl = strcmp(pt_config_get(cfg, "capture", "ddl"), "on") == 0;
	o->resnapshot = pt_config_get_bool(cfg, "capture", "resnapshot");
	o->failover_slot = pt_config_get_bool(cfg, "capture", "failover_slot");
	o->decoder = pt_config_get(cfg, "capture", "decoder");
	o->publication = pt_config_get(cfg, "capture", "publication");
	o->point_query_indexes = pt_config_get_bool(cfg, "sink", "point_query_indexes");
	o->origin_filter = strcmp(pt_config_get(cfg, "capture", "own_writes_filter"), "origin") == 0;
	o->has_endpos = endpos[0] != '\0' && pt_lsn_parse(endpos, strlen(endpos), &o->endpos);
	o->batch_size = (int) pt_config_get_int(cfg, "sink", "batch_size");
	o->batch_interval_ms = (int) pt_config_get_int(cfg, "sink", "batch_interval_ms");
	o->status_interval_ms = (int) pt_config_get_int(cfg, "capture", "status_interval_ms");
	o->heartbeat_interval_ms = (int) pt_config_get_int(cfg, "capture", "heartbeat_interval_ms");
	o->checkpoints.anchor_file = pt_config_get(cfg, "capture", "anchor_file");
	o->withhold = pt_config_get(cfg, "capture", "withhold");
	o->checkpoints.every_events = pt_config_get_int(cfg, "capture", "checkpoint_events");
	o->checkpoints.every_us = pt_config_get_int(cfg, "capture", "checkpoint_interval_s") * 1000000;
}

/*
 * Kafka, when bootstrap.servers is given ([kafka] bootstrap.servers,
 * PGTRAIL_KAFKA_BOOTSTRAP_SERVERS, -X bootstrap.servers=... or
 * --kafka-brokers): every librdkafka property as given, in pairs.
 * props (allocated here) is freed by main.
 */
static void
fill_kafka(const pt_config *cfg, pt_capture_opts *o, const char ***props)
{
	pt_kafka_opts *k = &o->kafka_opts;
	const char *servers = pt_config_kafka_value(cfg, "bootstrap.servers");
	int			n = pt_config_kafka_count(cfg);

	*props = pt_calloc((size_t) n * 2 + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		pt_config_kafka_get(cfg, i, &(*props)[2 * i], &(*props)[2 * i + 1]);
	o->kafka = servers != NULL && servers[0] != '\0';
	k->props = *props;
	k->nprops = n;
	k->topic = pt_config_get(cfg, "kafka", "topic");
	k->other_topic = pt_config_get(cfg, "kafka", "other_topic");
	k->format = pt_config_get(cfg, "kafka", "format");
	k->tombstones = pt_config_get_bool(cfg, "kafka", "tombstones");
	k->anchor_topic = pt_config_get(cfg, "kafka", "anchor_topic");
	k->slot = o->slot;
	k->stop_timeout_ms = (int) pt_config_get_int(cfg, "capture", "stop_timeout_s") * 1000;
}

/* The value-shaping settings of the debezium format, as Debezium names them. */
static void
fill_modes(const pt_config *cfg, pt_dbz_modes *m)
{
	static const char *const modes[] = {"decimal.handling.mode", "time.precision.mode", "binary.handling.mode",
	"interval.handling.mode", "hstore.handling.mode"};

	pt_dbz_modes_default(m);
	/* the values were checked against the choices when loaded */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		pt_dbz_modes_set(m, modes[i], pt_config_get(cfg, "kafka", modes[i]));
	m->money_digits = (int) pt_config_get_int(cfg, "kafka", "money.fraction.digits");
}

/*
 * The debezium format's settings ([kafka] topic.prefix, ...). Unless
 * [kafka] topic is set, its topics are Debezium's, <topic.prefix>.<schema>.<table>
 * (*topic, allocated here, freed by main).
 */
static bool
fill_debezium(const pt_config *cfg, pt_kafka_opts *k, char **topic, pt_err *err)
{
	pt_dbz_settings *d = &k->dbz;
	const char *prefix = pt_config_get(cfg, "kafka", "topic.prefix");

	fill_modes(cfg, &d->modes);
	d->prefix = prefix;
	d->key_schemas = pt_config_get_bool(cfg, "kafka", "key.converter.schemas.enable");
	d->value_schemas = pt_config_get_bool(cfg, "kafka", "value.converter.schemas.enable");
	d->tombstones = pt_config_get_bool(cfg, "kafka", "tombstones.on.delete");
	d->heartbeat_ms = (int) pt_config_get_int(cfg, "kafka", "heartbeat.interval.ms");
	d->tx_metadata = pt_config_get_bool(cfg, "kafka", "provide.transaction.metadata");
	d->context_headers = pt_config_get_bool(cfg, "kafka", "extended.headers.enabled");
	if (prefix[0] == '\0' || strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(prefix))
	{
		pt_err_set(err, PT_ERR_CONFIG, "[kafka] topic.prefix \"%s\" is not a Kafka topic name", prefix);
		pt_err_hint(err, "use ASCII letters, digits, '.', '_' and '-' only, as Debezium requires");
		return false;
	}
	if (!pt_dbz_parse_skipped(pt_config_get(cfg, "kafka", "skipped.operations"), d->skip))
	{
		pt_err_set(err, PT_ERR_CONFIG, "[kafka] skipped.operations \"%s\" names an unknown operation",
				   pt_config_get(cfg, "kafka", "skipped.operations"));
		pt_err_hint(err, "list c, u, d and t separated by commas, or none");
		return false;
	}
	if (strcmp(k->format, "debezium") == 0 && strcmp(pt_config_origin(cfg, "kafka", "topic"), "default") == 0)
	{
		*topic = pt_malloc(strlen(prefix) + sizeof(".{schema}.{table}"));
		sprintf(*topic, "%s.{schema}.{table}", prefix);
		k->topic = *topic;
	}
	return true;
}

/* The signing key, when one is configured ([capture] signing_key). */
static bool
load_signing_key(const pt_config *cfg, pt_signing_key **key, pt_log *log, pt_err *err)
{
	const char *path = pt_config_get(cfg, "capture", "signing_key");
	struct stat st;
	bool		stated;

	*key = NULL;
	if (path[0] == '\0')
		return true;
	/* (a key that cannot be read at all: pt_signing_key_load says why) */
	stated = stat(path, &st) == 0;
	if (stated && (st.st_mode & S_IRWXO) != 0)
		pt_log_warning(log, "signing key \"%s\" can be read by every user; chmod 600 it", path);
	else if (stated && (st.st_mode & S_IRWXG) != 0)
	{
		const struct group *gr = getgrgid(st.st_gid);

		pt_log_warning(log, "signing key \"%s\" can be read by group \"%s\"; chmod 600 it, unless capture "
					   "alone is in that group (a Kubernetes fsGroup)", path, gr ? gr->gr_name : "?");
	}
	*key = pt_signing_key_load(path, err);
	return *key != NULL;
}

/* --metrics: listen before anything else starts (a bad address or a port in use is exit 2). */
static bool
open_metrics(const pt_config *cfg, pt_capture_opts *o, pt_err *err)
{
	const char *addr = pt_config_get(cfg, "capture", "metrics");

	if (addr[0] == '\0')
		return true;
	o->metrics = pt_metrics_open(addr, (int) pt_config_get_int(cfg, "capture", "ready_max_lag_s"), err);
	return o->metrics != NULL;
}

/* Peak resident memory of the whole run (getrusage: kilobytes on Linux). */
static void
log_peak_memory(pt_log *log)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		pt_log_info(log, "peak memory: %ld kB", ru.ru_maxrss);
}

int
main(int argc, char **argv)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_capture_opts opts;
	pt_log	   *log = NULL;
	pt_signing_key *key = NULL;
	const char **kafka_props = NULL;
	char	   *dbz_topic = NULL;
	pt_err		err,
				warning;
	bool		ok = false;
	int			rc = 0;

	pt_err_clear(&err);
	if (!pt_config_load(cfg, PT_PROG_CAPTURE, argc, argv, environ, &args, &err))
	{
		pt_err_print(&err, "pgtrail-capture", stderr);
		pt_config_free(cfg);
		return pt_err_exit_code(&err);
	}
	if (args.help || args.version)
	{
		if (args.help)
			pt_config_usage(stdout, PT_PROG_CAPTURE, "pgtrail-capture",
							"streams every committed row change of a PostgreSQL database into a hash-chained event table.");
		else
			printf("pgtrail-capture (pgtrail) %s\n", PGTRAIL_VERSION);
		pt_config_free(cfg);
		return 0;
	}
	fill_opts(cfg, &opts);
	fill_kafka(cfg, &opts, &kafka_props);
	log = pt_config_log(cfg, "pgtrail-capture");
	if (pt_config_cmdline_secret(cfg, &warning))
		pt_log_err(log, PT_LOG_WARNING, &warning);
	if (fill_debezium(cfg, &opts.kafka_opts, &dbz_topic, &err) && open_metrics(cfg, &opts, &err) &&
		load_signing_key(cfg, &key, log, &err))
	{
		opts.checkpoints.key = key;
		ok = pt_capture_run(&opts, log, pt_signals_install(), &err);
	}
	if (!ok)
	{
		pt_log_err(log, PT_LOG_ERROR, &err);
		rc = pt_err_exit_code(&err);
	}
	log_peak_memory(log);
	pt_metrics_close(opts.metrics);
	pt_signing_key_free(key);
	free(kafka_props);
	free(dbz_topic);
	pt_log_free(log);
	pt_config_free(cfg);
	return rc;
}
