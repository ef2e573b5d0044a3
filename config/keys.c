/*
 * config/keys.c — the one table of every configuration key.
 *
 * Adding a setting is adding a row here; then regenerate the documents:
 *     build/bin/gen_config_docs .
 * (the unit test test_config fails until docs/CONFIG.md and
 * config/pgtrail.conf.example match the table).
 *
 * librdkafka's own properties (bootstrap.servers, acks, ...) are not rows:
 * every other key of [kafka] is passed through to librdkafka (config.c).
 */
#include "config/config.h"

#include <stdint.h>

#define CAP PT_PROG_CAPTURE
#define REP PT_PROG_REPLAY
#define VER PT_PROG_VERIFY
#define ALL PT_PROG_ALL

const pt_config_key pt_config_keys[] = {
	{"source", "dsn", PT_KEY_CONNINFO, "", 0, 0, NULL, "source", CAP | VER,
	"database to capture (and the live tables pgtrail-verify --drift compares): libpq conninfo or URI; empty means the PG* environment variables, as psql"},

	{"sink", "dsn", PT_KEY_CONNINFO, "", 0, 0, NULL, "sink", ALL,
	"event store database (capture writes it, replay and verify read it: --events); empty means the source database, or the PG* environment variables"},
	{"sink", "schema", PT_KEY_STRING, "pgtrail", 0, 0, NULL, "schema", ALL,
	"schema of the event store (events, schemas, state, checkpoints)"},
	{"sink", "point_query_indexes", PT_KEY_BOOL, "on", 0, 0, NULL, "point-query-indexes", CAP,
	"create the event store's indexes for pgtrail-replay --as-of and --history (they cost about a quarter of the write throughput; without them point queries scan the log)"},
	{"sink", "batch_size", PT_KEY_INT, "1000", 1, 1000000, NULL, "batch-size", CAP,
	"events per sink transaction; a batch closes at the first source commit after this many"},
	{"sink", "batch_interval_ms", PT_KEY_INT, "200", 1, 600000, NULL, "batch-interval-ms", CAP,
	"longest time a batch stays open before it is committed (milliseconds)"},

	{"capture", "slot", PT_KEY_STRING, "pgtrail", 0, 0, NULL, "slot", CAP,
	"logical replication slot (of the decoder's plugin); created on first start"},
	{"capture", "decoder", PT_KEY_ENUM, "wal2json", 0, 0, "wal2json|pgoutput", "decoder", CAP,
	"logical decoding plugin: wal2json (installed on the server) or pgoutput (built into PostgreSQL; read through a publication, and without wal2json's losses of NaN and infinities)"},
	{"capture", "publication", PT_KEY_STRING, "pgtrail", 0, 0, NULL, "publication", CAP,
	"with decoder = pgoutput: the publication capture reads through; created when missing (which needs a superuser): FOR TABLES IN SCHEMA the schemas [capture] tables names when every pattern names one, else FOR ALL TABLES; one capture made is kept in step with tables at each start"},
	{"capture", "tables", PT_KEY_STRING, "", 0, 0, NULL, "tables", CAP,
	"tables to capture: comma-separated schema.table patterns with * wildcards; empty means all"},
	{"capture", "exclude_tables", PT_KEY_STRING, "", 0, 0, NULL, "exclude-tables", CAP,
	"tables not to capture, same pattern syntax; the event store's schema is never captured"},
	{"capture", "snapshot", PT_KEY_ENUM, "initial", 0, 0, "initial|never", "snapshot", CAP,
	"on first start, copy the existing rows of the captured tables as snapshot events (initial) or not (never)"},
	{"capture", "resnapshot", PT_KEY_BOOL, "off", 0, 0, NULL, "resnapshot", CAP,
	"after a lost or vanished slot: create it anew, record the hole as a gap event and copy the tables again"},
	{"capture", "messages", PT_KEY_BOOL, "off", 0, 0, NULL, "messages", CAP,
	"record the application's own transactional logical messages as message events"},
	{"capture", "endpos", PT_KEY_LSN, "", 0, 0, NULL, "endpos", CAP,
	"stop once everything up to this LSN is committed to the event store (as pg_recvlogical --endpos)"},
	{"capture", "heartbeat_interval_ms", PT_KEY_INT, "10000", 0, 3600000, NULL, "heartbeat-interval-ms", CAP,
	"on an idle source, write a small transactional logical message this often so the slot keeps advancing and WAL is freed (0 = off)"},
	{"capture", "own_writes_filter", PT_KEY_ENUM, "origin", 0, 0, "origin|tables", "own-writes-filter", CAP,
	"how the event store's own writes are kept out of decoding when it lives in the source: a replication origin the server drops before decoding (needs superuser or EXECUTE on pg_replication_origin_*; falls back to tables), or wal2json's filter-tables"},
	{"capture", "status_interval_ms", PT_KEY_INT, "10000", 100, 3600000, NULL, "status-interval-ms", CAP,
	"how often capture reports its position to the source (milliseconds)"},
	{"capture", "stop_timeout_s", PT_KEY_INT, "30", 1, 3600, NULL, "stop-timeout-s", CAP,
	"after SIGTERM or SIGINT, wait at most this many seconds for Kafka to acknowledge what is queued (brokers down: the slot keeps the rest, sent again at the next start)"},
	{"capture", "failover_slot", PT_KEY_BOOL, "off", 0, 0, NULL, "failover-slot", CAP,
	"create the slot as a failover slot (PostgreSQL 17+), or make an existing one so, so that it is synchronized to standbys and survives a switchover (docs/OPERATIONS.md says what the standby needs)"},
	{"capture", "ddl", PT_KEY_ENUM, "off", 0, 0, "on|off", "ddl", CAP,
	"DDL capture: event triggers in the source record each schema change as a ddl event and re-snapshot tables a rewrite changed (installing them needs a superuser once)"},
	{"capture", "signing_key", PT_KEY_STRING, "", 0, 0, NULL, "signing-key", CAP,
	"Ed25519 private key (PEM) that signs checkpoints; make one with: openssl genpkey -algorithm ed25519 -out signing.pem (keep it off the database host)"},
	{"capture", "anchor_file", PT_KEY_STRING, "", 0, 0, NULL, "anchor-file", CAP,
	"append every checkpoint as one JSON line to this file, kept where the database's writers cannot reach (pgtrail-verify --anchor checks it)"},
	{"capture", "checkpoint_events", PT_KEY_INT, "10000", 0, 1000000000, NULL, "checkpoint-events", CAP,
	"with signing_key or anchor_file: write a checkpoint after this many events (0 = by time only)"},
	{"capture", "checkpoint_interval_s", PT_KEY_INT, "300", 0, 86400, NULL, "checkpoint-interval-s", CAP,
	"with signing_key or anchor_file: write a checkpoint when this many seconds passed and there are new events (0 = by count only); one more at every clean stop"},
	{"capture", "metrics", PT_KEY_STRING, "", 0, 0, NULL, "metrics", CAP,
	"serve Prometheus metrics (/metrics), liveness (/healthz) and readiness (/readyz) over HTTP on this ADDR:PORT, e.g. 127.0.0.1:9187 or :9187 for every address (empty = off)"},
	{"capture", "ready_max_lag_s", PT_KEY_INT, "60", 0, 86400, NULL, "ready-max-lag-s", CAP,
	"with metrics: /readyz says ready while capture is streaming and at most this many seconds behind the source (0 = only when caught up)"},

	{"kafka", "topic", PT_KEY_STRING, "pgtrail.{schema}.{table}", 0, 0, NULL, "kafka-topic", CAP,
	"Kafka topic of each table's events: {schema} and {table} are replaced by the table's names (a fixed name sends every table to one topic)"},
	{"kafka", "other_topic", PT_KEY_STRING, "pgtrail._events", 0, 0, NULL, NULL, CAP,
	"Kafka topic of the events that belong to no table (message, gap)"},
	{"kafka", "format", PT_KEY_ENUM, "native", 0, 0, "native|debezium", "kafka-format", CAP,
	"Kafka messages: the event as JSON (native), or Debezium's PostgreSQL connector's records, typed, with their Connect schemas (debezium; shaped by the keys below)"},
	{"kafka", "tombstones", PT_KEY_BOOL, "off", 0, 0, NULL, "kafka-tombstones", CAP,
	"native: after each delete, send a message with the same key and a null value, for compacted topics (debezium: tombstones.on.delete)"},
	{"kafka", "anchor_topic", PT_KEY_STRING, "", 0, 0, NULL, "kafka-anchor-topic", CAP,
	"publish every checkpoint to this Kafka topic too (empty = no)"},

	/* the shape of debezium records: Debezium's own settings, names, values and defaults */
	{"kafka", "topic.prefix", PT_KEY_STRING, "pgtrail", 0, 0, NULL, NULL, CAP,
	"debezium: Debezium's topic.prefix: source.name and the prefix of the Connect schema names (<prefix>.<schema>.<table>.Value); also the topics' prefix unless [kafka] topic is set"},
	{"kafka", "decimal.handling.mode", PT_KEY_ENUM, "precise", 0, 0, "precise|string|double", NULL, CAP,
	"debezium: numeric and money as Connect Decimal (precise: exact), as text (string), or as a double (double: loses digits beyond 17, said at start)"},
	{"kafka", "time.precision.mode", PT_KEY_ENUM, "adaptive", 0, 0, "adaptive|adaptive_time_microseconds|connect|isostring", NULL, CAP,
	"debezium: date, time and timestamp values as Debezium's time.precision.mode"},
	{"kafka", "binary.handling.mode", PT_KEY_ENUM, "bytes", 0, 0, "bytes|base64|hex", NULL, CAP,
	"debezium: bytea as Connect bytes (base64 in JSON), or as a base64 or hex string"},
	{"kafka", "interval.handling.mode", PT_KEY_ENUM, "numeric", 0, 0, "numeric|string", NULL, CAP,
	"debezium: interval as microseconds (io.debezium.time.MicroDuration) or as an ISO 8601 string (io.debezium.time.Interval)"},
	{"kafka", "hstore.handling.mode", PT_KEY_ENUM, "json", 0, 0, "json|map", NULL, CAP,
	"debezium: hstore as a JSON text (io.debezium.data.Json) or as a Connect map"},
	{"kafka", "money.fraction.digits", PT_KEY_INT, "2", 0, 20, NULL, NULL, CAP,
	"debezium: the scale of money values as Decimal"},
	{"kafka", "tombstones.on.delete", PT_KEY_BOOL, "true", 0, 0, NULL, NULL, CAP,
	"debezium: after each delete (and each key change) a message with the key and a null value, for compacted topics"},
	{"kafka", "skipped.operations", PT_KEY_STRING, "t", 0, 0, NULL, NULL, CAP,
	"debezium: operations not published, comma-separated c, u, d, t (or none); they stay in the event table"},
	{"kafka", "key.converter.schemas.enable", PT_KEY_BOOL, "true", 0, 0, NULL, NULL, CAP,
	"debezium: keys as Kafka Connect's JsonConverter writes them with schemas: {\"schema\":...,\"payload\":...} (false: the payload alone)"},
	{"kafka", "value.converter.schemas.enable", PT_KEY_BOOL, "true", 0, 0, NULL, NULL, CAP,
	"debezium: values with their Connect schema, as JsonConverter writes them by default (false: the payload alone)"},

	{"replay", "target", PT_KEY_CONNINFO, "", 0, 0, NULL, "target", REP,
	"database to rebuild the tables in: libpq conninfo or URI"},
	{"replay", "until_lsn", PT_KEY_LSN, "", 0, 0, NULL, "until-lsn", REP,
	"stop after the last transaction that committed at or before this source LSN"},
	{"replay", "until_time", PT_KEY_STRING, "", 0, 0, NULL, "until-time", REP,
	"stop after the last transaction that committed at or before this time (timestamptz, e.g. '2026-11-24 10:00:00+00')"},
	{"replay", "until_event", PT_KEY_INT, "0", 0, INT64_MAX, NULL, "until-event", REP,
	"stop after the transaction that holds this event id (0 = no limit)"},
	{"replay", "until_xid", PT_KEY_INT, "0", 0, INT64_MAX, NULL, "until-xid", REP,
	"stop after this source transaction (0 = no limit)"},
	{"replay", "tables", PT_KEY_STRING, "", 0, 0, NULL, "tables", REP,
	"tables to replay: comma-separated schema.table patterns with * wildcards; empty means all"},
	{"replay", "create_tables", PT_KEY_BOOL, "off", 0, 0, NULL, "create-tables", REP,
	"create each missing table as it was at the stop point, from the event store's schema versions"},
	{"replay", "clean", PT_KEY_BOOL, "off", 0, 0, NULL, "clean", REP,
	"empty the replayed tables first and replay from the first event"},
	{"replay", "dry_run", PT_KEY_BOOL, "off", 0, 0, NULL, "dry-run", REP,
	"say what would be done (tables, events, stop point) and change nothing"},
	{"replay", "no_verify", PT_KEY_BOOL, "off", 0, 0, NULL, "no-verify", REP,
	"do not check the hash chain while replaying (a broken chain otherwise stops replay)"},
	{"replay", "follow", PT_KEY_BOOL, "off", 0, 0, NULL, "follow", REP,
	"after catching up, keep applying new events as they arrive, until SIGTERM"},
	{"replay", "poll_interval_ms", PT_KEY_INT, "1000", 10, 3600000, NULL, "poll-interval-ms", REP,
	"in follow mode, how often to look for new events (milliseconds)"},
	{"replay", "batch_size", PT_KEY_INT, "10000", 1, 10000000, NULL, "batch-size", REP,
	"events per target transaction; a batch closes at the first source transaction boundary after this many"},
	{"replay", "state_schema", PT_KEY_STRING, "pgtrail_replay", 0, 0, NULL, "state-schema", REP,
	"schema in the target that keeps replay's position, so the next run continues there"},
	{"replay", "map", PT_KEY_STRING, "", 0, 0, NULL, "map", REP,
	"mapping rules separated by ';': 'table S.OLD = S.NEW', 'column S.T.OLD = NEW', 'drop S.T.COL', each optionally ending in '@V' or '@V1-V2' (only events of those schema versions)"},
	{"replay", "as_of", PT_KEY_STRING, "", 0, 0, NULL, "as-of", REP,
	"point query: print the row of --table with --key as it was at this time (no target needed)"},
	{"replay", "history", PT_KEY_BOOL, "off", 0, 0, NULL, "history", REP,
	"point query: print every version of the row of --table with --key, with time, op and context"},
	{"replay", "table", PT_KEY_STRING, "", 0, 0, NULL, "table", REP,
	"point queries: the table, schema.table"},
	{"replay", "key", PT_KEY_STRING, "", 0, 0, NULL, "key", REP,
	"point queries: the row's primary key as JSON, e.g. {\"id\": 42}"},
	{"replay", "format", PT_KEY_ENUM, "json", 0, 0, "json|table", "format", REP,
	"point queries: output as JSON lines or an aligned table"},

	{"verify", "full", PT_KEY_BOOL, "off", 0, 0, NULL, "full", VER,
	"rehash the whole chain, not only the events after the last verified point"},
	{"verify", "save", PT_KEY_BOOL, "on", 0, 0, NULL, "save", VER,
	"after a clean run, record the verified point in the event store (the next run goes on from there)"},
	{"verify", "public_key", PT_KEY_STRING, "", 0, 0, NULL, "public-key", REP | VER,
	"PEM file with the Ed25519 public key(s) of capture's signing key: every checkpoint must carry a good signature (openssl pkey -in signing.pem -pubout); replay checks each signed checkpoint it passes and stops before a bad one"},
	{"verify", "anchor", PT_KEY_STRING, "", 0, 0, NULL, "anchor", REP | VER,
	"anchor file capture appends checkpoints to ([capture] anchor_file): the event table must still hold every one; replay checks that the chain passes through each anchored checkpoint and stops before a bad one"},
	{"verify", "drift", PT_KEY_BOOL, "off", 0, 0, NULL, "drift", VER,
	"rebuild the latest state from the log and list the live rows of --source that differ (changes that bypassed the log)"},
	{"verify", "drift_scratch", PT_KEY_CONNINFO, "", 0, 0, NULL, "drift-scratch", VER,
	"drift: an empty database to rebuild into; empty means a temporary database created in the source's cluster (needs CREATEDB) and dropped after"},
	{"verify", "drift_wait_s", PT_KEY_INT, "30", 0, 3600, NULL, "drift-wait-s", VER,
	"drift: when rows differ and capture is behind the source, wait this long for it to catch up and compare again"},
	{"verify", "drift_max_rows", PT_KEY_INT, "100", 1, 1000000, NULL, "drift-max-rows", VER,
	"drift: rows listed per table (all are counted)"},
	{"verify", "format", PT_KEY_ENUM, "text", 0, 0, "text|json", "format", VER,
	"report as text lines or one JSON object"},
	{"verify", "metrics_file", PT_KEY_STRING, "", 0, 0, NULL, "metrics-file", VER,
	"write a Prometheus textfile here (node_exporter textfile collector): last success time, events verified, failures"},

	{"log", "level", PT_KEY_ENUM, "info", 0, 0, "debug|info|warning|error", "log-level", ALL,
	"least severe messages logged"},
	{"log", "format", PT_KEY_ENUM, "text", 0, 0, "text|json", "log-format", ALL,
	"text lines, or one JSON object per line"},
};

const int	pt_config_nkeys = sizeof(pt_config_keys) / sizeof(pt_config_keys[0]);

const pt_config_alias pt_config_aliases[] = {
	{"sink", "dsn", "events", REP | PT_PROG_VERIFY},
};

const int	pt_config_naliases = sizeof(pt_config_aliases) / sizeof(pt_config_aliases[0]);
