/*
 * config/keys.c — the one table of every configuration key.
 *
 * Adding a setting is adding a row here; then regenerate the documents:
 *     build/bin/gen_config_docs .
 * (the unit test test_config fails until docs/CONFIG.md and
 * config/pgtrail.conf.example match the table).
 */
#include "config/config.h"

#define CAP PT_PROG_CAPTURE
#define ALL PT_PROG_ALL

const pt_config_key pt_config_keys[] = {
	{"source", "dsn", PT_KEY_STRING, "", 0, 0, NULL, "source", CAP,
	"database to capture: libpq conninfo or URI; empty means the PG* environment variables, as psql"},

	{"sink", "dsn", PT_KEY_STRING, "", 0, 0, NULL, "sink", CAP,
	"event store database; empty means the source database"},
	{"sink", "schema", PT_KEY_STRING, "pgtrail", 0, 0, NULL, "schema", ALL,
	"schema of the event store (events, schemas, state, checkpoints)"},
	{"sink", "batch_size", PT_KEY_INT, "1000", 1, 1000000, NULL, "batch-size", CAP,
	"events per sink transaction; a batch closes at the first source commit after this many"},
	{"sink", "batch_interval_ms", PT_KEY_INT, "200", 1, 600000, NULL, "batch-interval-ms", CAP,
	"longest time a batch stays open before it is committed (milliseconds)"},

	{"capture", "slot", PT_KEY_STRING, "pgtrail", 0, 0, NULL, "slot", CAP,
	"logical replication slot (wal2json); created on first start"},
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
	{"capture", "ddl", PT_KEY_ENUM, "off", 0, 0, "on|off", "ddl", CAP,
	"DDL capture: event triggers in the source record each schema change as a ddl event and re-snapshot tables a rewrite changed (installing them needs a superuser once)"},

	{"log", "level", PT_KEY_ENUM, "info", 0, 0, "debug|info|warning|error", "log-level", ALL,
	"least severe messages logged"},
	{"log", "format", PT_KEY_ENUM, "text", 0, 0, "text|json", "log-format", ALL,
	"text lines, or one JSON object per line"},
};

const int	pt_config_nkeys = sizeof(pt_config_keys) / sizeof(pt_config_keys[0]);
