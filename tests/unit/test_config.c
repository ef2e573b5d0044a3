/*
 * tests/unit/test_config.c — settings: precedence file < environment <
 * flags, defaults, every kind of bad input with where it came from (a
 * directory as the file, a key set twice, a NUL byte; a BOM is fine), the
 * librdkafka properties passed through ([kafka], PGTRAIL_KAFKA_*, -X,
 * --kafka-brokers) and their secrets never printed, connection strings
 * checked at load without being quoted, the warning for a password on the
 * command line, and the generated documents in sync with the key table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/buf.h"

static char path[64];

/* Write an INI file; its path is in `path`. */
static void
ini(const char *text)
{
	int			fd;

	strcpy(path, "/tmp/pgtrail-test-XXXXXX.conf");
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	close(fd);
}

static bool
load(pt_config *cfg, int argc, char **argv, char **envp, pt_config_args *args, pt_err *err)
{
	pt_err_clear(err);
	return pt_config_load(cfg, PT_PROG_CAPTURE, argc, argv, envp, args, err);
}

static void
test_defaults(void **state)
{
	pt_config  *cfg = pt_config_new();
	char	   *argv[] = {"pgtrail-capture", NULL};
	char	   *envp[] = {"HOME=/root", "PGTRAIL_TEST_SOURCE_DIR=/x", NULL};
	pt_config_args args;
	pt_err		err;

	(void) state;
	assert_true(load(cfg, 1, argv, envp, &args, &err));
	assert_string_equal(pt_config_get(cfg, "sink", "schema"), "pgtrail");
	assert_string_equal(pt_config_get(cfg, "capture", "slot"), "pgtrail");
	assert_int_equal(pt_config_get_int(cfg, "sink", "batch_size"), 1000);
	assert_false(pt_config_get_bool(cfg, "capture", "messages"));
	assert_string_equal(pt_config_origin(cfg, "capture", "slot"), "default");
	assert_false(args.help);
	pt_config_free(cfg);
}

/* A [kafka] key named with dots (Debezium's) from its variable: dots as '_'. */
static void
test_dotted_key_from_environment(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *envp[] = {"PGTRAIL_KAFKA_TOPIC_PREFIX=dbserver1", "PGTRAIL_KAFKA_TOMBSTONES_ON_DELETE=off", NULL};
	char	   *argv[] = {"pgtrail-capture", NULL};

	(void) state;
	assert_true(load(cfg, 1, argv, envp, &args, &err));
	assert_string_equal(pt_config_get(cfg, "kafka", "topic.prefix"), "dbserver1");
	assert_string_equal(pt_config_origin(cfg, "kafka", "topic.prefix"), "environment variable PGTRAIL_KAFKA_TOPIC_PREFIX");
	assert_false(pt_config_get_bool(cfg, "kafka", "tombstones.on.delete"));
	assert_int_equal(pt_config_kafka_count(cfg), 0);	/* not passed to librdkafka */
	pt_config_free(cfg);
}

static void
test_precedence(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *envp[] = {"PGTRAIL_CAPTURE_SLOT=from_env", "PGTRAIL_SINK_BATCH_SIZE=20", NULL};

	(void) state;
	ini("[capture]\nslot = from_file\ntables = public.*\n[sink]\nbatch_size = 10\nschema = audit\n");
	{
		char	   *argv[] = {"pgtrail-capture", "-c", path, "--slot", "from_flag", NULL};

		assert_true(load(cfg, 5, argv, envp, &args, &err));
	}
	assert_string_equal(pt_config_get(cfg, "capture", "slot"), "from_flag");
	assert_string_equal(pt_config_origin(cfg, "capture", "slot"), "option --slot");
	assert_int_equal(pt_config_get_int(cfg, "sink", "batch_size"), 20);
	assert_string_equal(pt_config_origin(cfg, "sink", "batch_size"), "environment variable PGTRAIL_SINK_BATCH_SIZE");
	assert_string_equal(pt_config_get(cfg, "sink", "schema"), "audit");
	assert_non_null(strstr(pt_config_origin(cfg, "sink", "schema"), ":6"));
	assert_string_equal(pt_config_get(cfg, "capture", "tables"), "public.*");
	unlink(path);
	pt_config_free(cfg);
}

static void
expect_error(const char *ini_text, char **extra_argv, int extra_argc, char **envp,
			 const char *fragment, const char *hint_fragment)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *argv[16] = {"pgtrail-capture"};
	int			argc = 1;

	if (ini_text)
	{
		ini(ini_text);
		argv[argc++] = "--config";
		argv[argc++] = path;
	}
	for (int i = 0; i < extra_argc; i++)
		argv[argc++] = extra_argv[i];
	argv[argc] = NULL;
	if (load(cfg, argc, argv, envp, &args, &err))
		fail_msg("accepted: expected an error with \"%s\"", fragment);
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_int_equal(pt_err_exit_code(&err), 2);
	if (strstr(err.message, fragment) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.message, fragment);
	if (hint_fragment && strstr(err.hint, hint_fragment) == NULL)
		fail_msg("hint \"%s\" lacks \"%s\"", err.hint, hint_fragment);
	if (ini_text)
		unlink(path);
	pt_config_free(cfg);
}

static void
test_file_errors(void **state)
{
	char		where[96];

	(void) state;
	expect_error("[sink]\n# comment\nbatchsize = 5\n", NULL, 0, NULL, ":3: unknown key \"batchsize\" in section [sink]",
				 "did you mean \"batch_size\"");
	expect_error("[sink]\nbatch_size = lots\n", NULL, 0, NULL,
				 ":2: invalid value \"lots\" for key \"batch_size\" in section [sink]: not an integer", NULL);
	expect_error("\n\n[sink]\nbatch_size = 0\n", NULL, 0, NULL, ":4: invalid value \"0\"", NULL);
	expect_error("[sink]\nbatch_size = 0\n", NULL, 0, NULL, "out of range (expected 1 to 1000000)", NULL);
	expect_error("[capture]\nsnapshot = sometimes\n", NULL, 0, NULL, "expected one of initial|never", NULL);
	expect_error("[capture]\nmessages = maybe\n", NULL, 0, NULL, "not a boolean", NULL);
	expect_error("[capture]\nendpos = 12\n", NULL, 0, NULL, "not an LSN", NULL);
	expect_error("\n[nope]\nx = 1\n", NULL, 0, NULL, ":2: unknown section [nope]", "[source]");
	expect_error("slot = x\n", NULL, 0, NULL, ":1: syntax error: expected key = value after a [section] header", NULL);
	expect_error("[capture]\njust words\n", NULL, 0, NULL, ":2: syntax error", NULL);
	expect_error("[sink\n", NULL, 0, NULL, ":1: syntax error", NULL);
	/* the file name is in the message */
	ini("[sink]\nbad = 1\n");
	snprintf(where, sizeof(where), "%s:2:", path);
	unlink(path);
	{
		char	   *argv[] = {"--config", "/nonexistent/pgtrail.conf"};

		expect_error(NULL, argv, 2, NULL, "could not open configuration file \"/nonexistent/pgtrail.conf\"", NULL);
	}
}

static void
test_env_and_flag_errors(void **state)
{
	char	   *typo_env[] = {"PGTRAIL_CAPTURE_SLTO=x", NULL};
	char	   *bad_env[] = {"PGTRAIL_SINK_BATCH_SIZE=many", NULL};
	char	   *unknown_flag[] = {"--slto", "x"};
	char	   *bad_flag[] = {"--batch-size", "-3"};
	char	   *missing_value[] = {"--slot"};
	char	   *stray[] = {"extra"};

	(void) state;
	expect_error(NULL, NULL, 0, typo_env, "unknown environment variable PGTRAIL_CAPTURE_SLTO", "PGTRAIL_SOURCE_DSN");
	expect_error(NULL, NULL, 0, bad_env, "environment variable PGTRAIL_SINK_BATCH_SIZE: invalid value \"many\"", NULL);
	expect_error(NULL, unknown_flag, 2, NULL, "unknown option --slto", "--help");
	expect_error(NULL, bad_flag, 2, NULL, "option --batch-size: invalid value \"-3\"", NULL);
	expect_error(NULL, missing_value, 1, NULL, "option --slot needs a value", NULL);
	expect_error(NULL, stray, 1, NULL, "unexpected argument \"extra\"", NULL);
}

static void
test_bools_and_help(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *argv[] = {"pgtrail-capture", "--messages", "--resnapshot=ON", NULL};
	char	   *help[] = {"pgtrail-capture", "--help", "--version", NULL};
	char	   *bad_env[] = {"PGTRAIL_NO_SUCH=1", NULL};

	(void) state;
	assert_true(load(cfg, 3, argv, NULL, &args, &err));
	assert_true(pt_config_get_bool(cfg, "capture", "messages"));
	assert_true(pt_config_get_bool(cfg, "capture", "resnapshot"));
	assert_false(args.help);
	assert_true(pt_config_set(cfg, "capture", "messages", "off", "test", &err));
	assert_false(pt_config_get_bool(cfg, "capture", "messages"));
	/* --help and --version are not hidden by a bad environment */
	assert_true(load(cfg, 3, help, bad_env, &args, &err));
	assert_true(args.help);
	assert_true(args.version);
	pt_config_free(cfg);
}

/* Write len bytes (NULs allowed) as an INI file; its path is in `path`. */
static void
ini_bytes(const char *bytes, size_t len)
{
	int			fd;

	strcpy(path, "/tmp/pgtrail-test-XXXXXX.conf");
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t) len);
	close(fd);
}

/* Load `path` alone; true when accepted, else err filled. */
static bool
load_path(pt_config *cfg, pt_err *err)
{
	pt_config_args args;
	char	   *argv[] = {"pgtrail-capture", "-c", path, NULL};

	pt_err_clear(err);
	return pt_config_load(cfg, PT_PROG_CAPTURE, 3, argv, NULL, &args, err);
}

/* -c DIRECTORY used to load as an empty file. */
static void
test_file_is_directory(void **state)
{
	char		dir[] = "/tmp/pgtrail-test-dir-XXXXXX";
	char	   *argv[] = {"--config", dir};

	(void) state;
	assert_non_null(mkdtemp(dir));
	expect_error(NULL, argv, 2, NULL, "could not read configuration file", "-c/--config takes the file");
	expect_error(NULL, argv, 2, NULL, dir, NULL);
	rmdir(dir);
}

/* A UTF-8 byte order mark before the first section header is skipped. */
static void
test_file_bom(void **state)
{
	const char	text[] = "\xEF\xBB\xBF[capture]\nslot = with_bom\n";
	pt_config  *cfg = pt_config_new();
	pt_err		err;

	(void) state;
	ini_bytes(text, sizeof(text) - 1);
	if (!load_path(cfg, &err))
		fail_msg("a file with a BOM was refused: %s", err.message);
	assert_string_equal(pt_config_get(cfg, "capture", "slot"), "with_bom");
	unlink(path);
	pt_config_free(cfg);
	/* a BOM elsewhere is no BOM: the line is what it is */
	expect_error("[capture]\n\xEF\xBB\xBF[sink]\n", NULL, 0, NULL, ":2: syntax error", NULL);
}

/* A key set twice in one section: which key, which section, both lines. */
static void
test_file_duplicate_key(void **state)
{
	(void) state;
	expect_error("[capture]\nslot = a\n# later\nslot = b\n", NULL, 0, NULL,
				 ":4: duplicate key \"slot\" in section [capture] (first set on line 2)", "remove one of the two lines");
	/* the section opened again is still the same section */
	expect_error("[capture]\nslot = a\n[sink]\nschema = s\n[capture]\n  slot=b\n", NULL, 0, NULL,
				 ":6: duplicate key \"slot\" in section [capture] (first set on line 2)", NULL);
	/* librdkafka's properties too */
	expect_error("[kafka]\nacks = all\nacks = 1\n", NULL, 0, NULL,
				 ":3: duplicate key \"acks\" in section [kafka]", NULL);
	/* one name in two sections is two keys */
	{
		pt_config  *cfg = pt_config_new();
		pt_err		err;

		ini("[source]\ndsn = dbname=a\n[sink]\ndsn = dbname=b\n");
		if (!load_path(cfg, &err))
			fail_msg("dsn in [source] and [sink] refused: %s", err.message);
		assert_string_equal(pt_config_get(cfg, "sink", "dsn"), "dbname=b");
		unlink(path);
		pt_config_free(cfg);
	}
}

/* NUL bytes (a UTF-16 file, a binary) are refused with the line. */
static void
test_file_nul(void **state)
{
	const char	text[] = "[capture]\nslot = a\nsl\0ot = b\n";
	const char	utf16[] = "\xFF\xFE[\0c\0a\0p\0";
	pt_config  *cfg = pt_config_new();
	pt_err		err;

	(void) state;
	ini_bytes(text, sizeof(text) - 1);
	assert_false(load_path(cfg, &err));
	assert_int_equal(pt_err_exit_code(&err), 2);
	if (strstr(err.message, ":3: line contains a NUL byte") == NULL || strstr(err.message, path) == NULL)
		fail_msg("NUL: %s", err.message);
	assert_non_null(strstr(err.hint, "UTF-8"));
	unlink(path);
	ini_bytes(utf16, sizeof(utf16) - 1);
	assert_false(load_path(cfg, &err));
	if (strstr(err.message, ":1: line contains a NUL byte") == NULL)
		fail_msg("UTF-16: %s", err.message);
	unlink(path);
	pt_config_free(cfg);
}

/* Lines of any length; values keep ; # = and quotes; every spelling of -c. */
static void
test_file_values_and_spellings(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	pt_buf		text = PT_BUF_INIT;
	pt_buf		dsn = PT_BUF_INIT;
	char		dashc[80];

	(void) state;
	pt_buf_puts(&dsn, "host=db.example.com port=5432 dbname=app user=capture password='a ;b #c=d' "
				"sslmode=verify-full sslrootcert=");
	for (int i = 0; i < 30; i++)
		pt_buf_puts(&dsn, "/very/long/path");
	pt_buf_puts(&dsn, "/root.crt");
	assert_true(dsn.len > 400);
	pt_buf_printf(&text, "[source]\n  dsn =   %s  \n[capture]\nslot=after_long_line\n", dsn.data);
	ini(text.data);
	snprintf(dashc, sizeof(dashc), "-c%s", path);
	{
		char	   *argv[] = {"pgtrail-capture", dashc, NULL};

		assert_true(load(cfg, 2, argv, NULL, &args, &err));
	}
	assert_string_equal(pt_config_get(cfg, "source", "dsn"), dsn.data);
	assert_string_equal(pt_config_get(cfg, "capture", "slot"), "after_long_line");
	assert_non_null(strstr(pt_config_origin(cfg, "capture", "slot"), ":4"));
	pt_config_free(cfg);
	cfg = pt_config_new();
	{
		char	   *argv[] = {"pgtrail-capture", "--conf", path, NULL};

		assert_true(load(cfg, 3, argv, NULL, &args, &err));
		assert_string_equal(pt_config_get(cfg, "capture", "slot"), "after_long_line");
	}
	unlink(path);
	pt_buf_free(&text);
	pt_buf_free(&dsn);
	pt_config_free(cfg);
}

/* The dump never shows a password, whether conninfo or URI. */
static void
test_dump_redacts(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_err		err;
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	(void) state;
	assert_true(pt_config_set(cfg, "source", "dsn", "host=db user=app password=hunter2", "test", &err));
	assert_true(pt_config_set(cfg, "sink", "dsn", "postgresql://app:s3cret@store/db", "test", &err));
	pt_config_dump(cfg, PT_PROG_CAPTURE, f);
	fclose(f);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "s3cret"));
	assert_non_null(strstr(text, "[source] dsn = "));
	assert_non_null(strstr(text, "host=db"));
	free(text);
	/* replay's target and verify's scratch database are connection strings too */
	assert_true(pt_config_set(cfg, "replay", "target", "host=t password='Hunter2 SECRET'", "test", &err));
	assert_true(pt_config_set(cfg, "verify", "drift_scratch", "postgresql://u:Hunter2SECRET@s/db", "test", &err));
	text = NULL;
	f = open_memstream(&text, &len);
	pt_config_dump(cfg, PT_PROG_REPLAY, f);
	pt_config_dump(cfg, PT_PROG_VERIFY, f);
	fclose(f);
	assert_null(strstr(text, "Hunter2"));
	assert_non_null(strstr(text, "[replay] target = password=*** host=t"));
	assert_non_null(strstr(text, "[verify] drift_scratch = postgresql://u:***@s/db"));
	free(text);
	pt_config_free(cfg);
}

/* A connection string libpq cannot parse is a configuration error (exit 2)
 * that names where it came from and quotes none of it. */
static void
test_conninfo_errors(void **state)
{
	char	   *bad_uri[] = {"--source", "postgresql://u:Hunter2SECRET%zz@host/db"};
	char	   *bad_sink[] = {"--sink", "postgresql://u:Hunter2SECRET@[::1/db"};
	char	   *bad_env[] = {"PGTRAIL_SINK_DSN=host=db password=Hunter2 SECRET", NULL};

	(void) state;
	expect_error(NULL, bad_uri, 2, NULL, "invalid connection string for --source: invalid percent-encoded token",
				 "percent-encode");
	expect_error(NULL, bad_sink, 2, NULL, "invalid connection string for --sink: unclosed \"[\"", "[::1]");
	expect_error(NULL, NULL, 0, bad_env, "invalid connection string for [sink] dsn "
				 "(environment variable PGTRAIL_SINK_DSN): a word without \"=\"", NULL);
	expect_error("[source]\ndsn = postgresql://u:Hunter2@SECRET@h/db\n", NULL, 0, NULL,
				 "invalid connection string for [source] dsn (/tmp/pgtrail-test-", NULL);
}

/* The message of a conninfo error never holds the secret, whatever key. */
static void
test_conninfo_error_quotes_nothing(void **state)
{
	const char *keys[][2] = {{"source", "dsn"}, {"sink", "dsn"}, {"replay", "target"}, {"verify", "drift_scratch"}};

	(void) state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		pt_config  *cfg = pt_config_new();
		pt_err		err;

		pt_err_clear(&err);
		assert_false(pt_config_set(cfg, keys[i][0], keys[i][1], "postgresql://u:Hunter2SECRET%zz@h/db", "test", &err));
		assert_int_equal(err.kind, PT_ERR_CONFIG);
		assert_non_null(strstr(err.message, "invalid connection string"));
		assert_null(strstr(err.message, "Hunter2SECRET"));
		assert_null(strstr(err.detail, "Hunter2SECRET"));
		assert_null(strstr(err.hint, "Hunter2SECRET"));
		pt_config_free(cfg);
	}
}

/* A password in a flag's connection string (or a secret -X) draws a
 * warning naming the flags; from the file or the environment it does not. */
static void
test_cmdline_secret(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err,
				warning;
	char	   *flags[] = {"pgtrail-capture", "--source", "host=db password='Hunter2 SECRET'",
		"--sink", "postgresql://u:Hunter2SECRET@h/db", "-X", "sasl.password=Hunter2SECRET",
	"--source", "host=db2 password=Hunter2SECRET", NULL};
	char	   *plain[] = {"pgtrail-capture", "-c", path, "--source", "host=db passfile=/p", "-X", "acks=all", NULL};
	char	   *envp[] = {"PGTRAIL_SINK_DSN=postgresql://u:Hunter2SECRET@h/db", NULL};

	(void) state;
	assert_true(load(cfg, 9, flags, NULL, &args, &err));
	pt_err_clear(&warning);
	assert_true(pt_config_cmdline_secret(cfg, &warning));
	assert_string_equal(warning.message, "a password is on the command line (--source, --sink, -X sasl.password)");
	assert_non_null(strstr(warning.detail, "/proc/PID/cmdline"));
	assert_non_null(strstr(warning.hint, ".pgpass"));
	assert_null(strstr(warning.message, "Hunter2"));
	pt_config_free(cfg);

	cfg = pt_config_new();
	ini("[source]\ndsn = host=db password=Hunter2SECRET\n[kafka]\nsasl.password = Hunter2SECRET\n");
	assert_true(load(cfg, 7, plain, envp, &args, &err));
	assert_false(pt_config_cmdline_secret(cfg, &warning));
	unlink(path);
	pt_config_free(cfg);
}

/* Property i is key = value. */
static void
assert_kafka(const pt_config *cfg, int i, const char *key, const char *value)
{
	const char *k,
			   *v;

	pt_config_kafka_get(cfg, i, &k, &v);
	assert_string_equal(k, key);
	assert_string_equal(v, value);
}

/* Per property, file < environment < flags; the order is first seen; pgtrail's own keys stay out. */
static void
test_kafka_precedence(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *envp[] = {"PGTRAIL_KAFKA_ACKS=all", "PGTRAIL_KAFKA_BOOTSTRAP_SERVERS=env:9092",
	"PGTRAIL_KAFKA_FORMAT=debezium", "PGTRAIL_KAFKA_MESSAGE_MAX_BYTES=2000000", NULL};

	(void) state;
	ini("[kafka]\nbootstrap.servers = file:9092\nacks = 1\nlinger.ms = 5\ntopic = audit.{table}\n"
		"client.id = a=b ; c\n[capture]\nslot = s\n");
	{
		char	   *argv[] = {"pgtrail-capture", "-c", path, "-X", "linger.ms=10", "-Xcompression.type=lz4",
		"--kafka-brokers", "flag:9092", "--kafka-tombstones", NULL};

		assert_true(load(cfg, 9, argv, envp, &args, &err));
	}
	assert_int_equal(pt_config_kafka_count(cfg), 6);
	assert_kafka(cfg, 0, "bootstrap.servers", "flag:9092");
	assert_kafka(cfg, 1, "acks", "all");
	assert_kafka(cfg, 2, "linger.ms", "10");
	assert_kafka(cfg, 3, "client.id", "a=b ; c");
	assert_kafka(cfg, 4, "message.max.bytes", "2000000");
	assert_kafka(cfg, 5, "compression.type", "lz4");
	assert_string_equal(pt_config_kafka_value(cfg, "acks"), "all");
	assert_null(pt_config_kafka_value(cfg, "enable.idempotence"));
	/* pgtrail's own [kafka] keys are settings, not properties */
	assert_null(pt_config_kafka_value(cfg, "topic"));
	assert_null(pt_config_kafka_value(cfg, "format"));
	assert_string_equal(pt_config_get(cfg, "kafka", "topic"), "audit.{table}");
	assert_string_equal(pt_config_get(cfg, "kafka", "format"), "debezium");
	assert_string_equal(pt_config_origin(cfg, "kafka", "format"), "environment variable PGTRAIL_KAFKA_FORMAT");
	assert_true(pt_config_get_bool(cfg, "kafka", "tombstones"));
	assert_string_equal(pt_config_get(cfg, "kafka", "other_topic"), "pgtrail._events");
	unlink(path);
	pt_config_free(cfg);

	/* on the command line the later flag wins; -X also sets pgtrail's keys */
	cfg = pt_config_new();
	{
		char	   *argv[] = {"pgtrail-capture", "--kafka-brokers", "a:1", "-X", "bootstrap.servers=b:2",
		"-X", "format=debezium", "-X", "anchor_topic=anchors", NULL};

		assert_true(load(cfg, 9, argv, NULL, &args, &err));
	}
	assert_int_equal(pt_config_kafka_count(cfg), 1);
	assert_kafka(cfg, 0, "bootstrap.servers", "b:2");
	assert_string_equal(pt_config_get(cfg, "kafka", "format"), "debezium");
	assert_string_equal(pt_config_origin(cfg, "kafka", "format"), "option -X");
	assert_string_equal(pt_config_get(cfg, "kafka", "anchor_topic"), "anchors");
	pt_config_free(cfg);
}

/* PGTRAIL_KAFKA_SASL_PASSWORD is sasl.password; a key of the table is never a property. */
static void
test_kafka_env_mapping(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *argv[] = {"pgtrail-capture", NULL};
	char	   *envp[] = {"PGTRAIL_KAFKA_SASL_PASSWORD=pw", "PGTRAIL_KAFKA_OTHER_TOPIC=misc",
		"PGTRAIL_KAFKA_TOMBSTONES=on", "PGTRAIL_KAFKA_ANCHOR_TOPIC=anchors", "PGTRAIL_KAFKA_Security_Protocol=SSL",
	"PGTRAIL_KAFKA_TOPIC=one", "PGTRAIL_CAPTURE_SLOT=s", NULL};
	char	   *empty[] = {"PGTRAIL_KAFKA_=x", NULL};
	char	   *bad[] = {"PGTRAIL_KAFKA_TOMBSTONES=sometimes", NULL};

	(void) state;
	assert_true(load(cfg, 1, argv, envp, &args, &err));
	assert_int_equal(pt_config_kafka_count(cfg), 2);
	assert_kafka(cfg, 0, "sasl.password", "pw");
	assert_kafka(cfg, 1, "security.protocol", "SSL");
	assert_string_equal(pt_config_get(cfg, "kafka", "other_topic"), "misc");
	assert_string_equal(pt_config_get(cfg, "kafka", "anchor_topic"), "anchors");
	assert_string_equal(pt_config_get(cfg, "kafka", "topic"), "one");
	assert_true(pt_config_get_bool(cfg, "kafka", "tombstones"));
	pt_config_free(cfg);
	expect_error(NULL, NULL, 0, empty, "unknown environment variable PGTRAIL_KAFKA_", NULL);
	expect_error(NULL, NULL, 0, bad, "environment variable PGTRAIL_KAFKA_TOMBSTONES: invalid value", NULL);
}

/* [kafka] takes any key, other sections still refuse unknown ones; -X needs key=value. */
static void
test_kafka_errors(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *no_eq[] = {"-X", "acks"};
	char	   *no_key[] = {"-X", "=all"};
	char	   *no_arg[] = {"-X"};
	char	   *secret[] = {"-X", "sasl.password:hunter2"};
	char	   *bad_own[] = {"-X", "format=avro"};
	char	   *no_brokers[] = {"--kafka-brokers"};
	char	   *replay_x[] = {"pgtrail-replay", "-X", "acks=all", NULL};
	char	   *replay_b[] = {"pgtrail-replay", "--kafka-brokers", "k:9092", NULL};

	(void) state;
	expect_error(NULL, no_eq, 2, NULL, "option -X \"acks\" is not key=value", "-X acks=all");
	expect_error(NULL, no_key, 2, NULL, "option -X \"=all\" is not key=value", NULL);
	expect_error(NULL, no_arg, 1, NULL, "option -X needs a value", NULL);
	expect_error(NULL, secret, 2, NULL, "option -X \"***\" is not key=value", NULL);
	expect_error(NULL, bad_own, 2, NULL, "option -X: invalid value \"avro\" for key \"format\" in section [kafka]", NULL);
	expect_error(NULL, no_brokers, 1, NULL, "option --kafka-brokers needs a value", NULL);
	expect_error("[kafka]\nformat = avro\n", NULL, 0, NULL, ":2: invalid value \"avro\"", NULL);
	expect_error("[kafka]\n = x\n", NULL, 0, NULL, ":2: unknown key \"\" in section [kafka]", NULL);
	expect_error("[sink]\nbootstrap.servers = x\n", NULL, 0, NULL, ":2: unknown key \"bootstrap.servers\"", NULL);
	/* -X and --kafka-brokers are capture's only */
	pt_err_clear(&err);
	assert_false(pt_config_load(cfg, PT_PROG_REPLAY, 3, replay_x, NULL, &args, &err));
	assert_non_null(strstr(err.message, "unknown option -X"));
	pt_err_clear(&err);
	assert_false(pt_config_load(cfg, PT_PROG_REPLAY, 3, replay_b, NULL, &args, &err));
	assert_non_null(strstr(err.message, "unknown option --kafka-brokers"));
	pt_config_free(cfg);
}

/* Secret properties are "***" in the dump, whatever source they came from. */
static void
test_kafka_redaction(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_config_args args;
	pt_err		err;
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f;
	char	   *envp[] = {"PGTRAIL_KAFKA_SSL_KEY_PASSWORD=envpw1", NULL};
	char	   *argv[] = {"pgtrail-capture", "-c", path, "-X", "sasl.oauthbearer.client.secret=xsecret2",
	"-X", "ssl.key.pem=-----BEGIN PRIVATE KEY-----", NULL};

	(void) state;
	assert_true(pt_config_kafka_is_secret("sasl.password"));
	assert_true(pt_config_kafka_is_secret("SASL.PASSWORD"));
	assert_true(pt_config_kafka_is_secret("ssl.keystore.password"));
	assert_true(pt_config_kafka_is_secret("sasl.oauthbearer.client.secret"));
	assert_true(pt_config_kafka_is_secret("ssl.key.pem"));
	assert_true(pt_config_kafka_is_secret("ssl.certificate.key"));
	assert_false(pt_config_kafka_is_secret("ssl.key.location"));
	assert_false(pt_config_kafka_is_secret("bootstrap.servers"));
	assert_false(pt_config_kafka_is_secret("key"));
	ini("[kafka]\nbootstrap.servers = k1:9092\nsasl.password = filepw3\nsasl.username = alice\n");
	assert_true(load(cfg, 7, argv, envp, &args, &err));
	f = open_memstream(&text, &len);
	pt_config_dump(cfg, PT_PROG_CAPTURE, f);
	fclose(f);
	assert_null(strstr(text, "envpw1"));
	assert_null(strstr(text, "xsecret2"));
	assert_null(strstr(text, "PRIVATE KEY"));
	assert_null(strstr(text, "filepw3"));
	assert_non_null(strstr(text, "[kafka] sasl.password = ***    ("));
	assert_non_null(strstr(text, "[kafka] ssl.key.password = ***    (environment variable PGTRAIL_KAFKA_SSL_KEY_PASSWORD)"));
	assert_non_null(strstr(text, "[kafka] ssl.key.pem = ***    (option -X)"));
	assert_non_null(strstr(text, "[kafka] bootstrap.servers = k1:9092"));
	assert_non_null(strstr(text, "[kafka] sasl.username = alice"));
	assert_non_null(strstr(text, "[kafka] topic = pgtrail.{schema}.{table}    (default)"));
	free(text);
	/* replay's dump has no Kafka at all */
	text = NULL;
	f = open_memstream(&text, &len);
	pt_config_dump(cfg, PT_PROG_REPLAY, f);
	fclose(f);
	assert_null(strstr(text, "[kafka]"));
	free(text);
	unlink(path);
	pt_config_free(cfg);
}

/* --help of capture shows -X and --kafka-brokers, the others' do not. */
static void
test_kafka_help(void **state)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	(void) state;
	pt_config_usage(f, PT_PROG_CAPTURE, "pgtrail-capture", "captures.");
	fclose(f);
	assert_non_null(strstr(text, "-X KEY=VALUE"));
	assert_non_null(strstr(text, "--kafka-brokers LIST"));
	assert_non_null(strstr(text, "--kafka-format VALUE"));
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	pt_config_usage(f, PT_PROG_VERIFY, "pgtrail-verify", "verifies.");
	fclose(f);
	assert_null(strstr(text, "-X"));
	assert_null(strstr(text, "kafka"));
	free(text);
}

static char *
slurp(const char *rel)
{
	char		p[4096];
	FILE	   *f;
	pt_buf		b = PT_BUF_INIT;
	char		chunk[4096];
	size_t		n;

	snprintf(p, sizeof(p), "%s/%s", getenv("PGTRAIL_TEST_SOURCE_DIR"), rel);
	f = fopen(p, "r");
	if (f == NULL)
		fail_msg("cannot read %s", p);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pt_buf_append(&b, chunk, n);
	fclose(f);
	return b.data;
}

static char *
generate(void (*writer) (FILE *))
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	writer(f);
	fclose(f);
	return text;
}

/* docs/CONFIG.md and the example are exactly what the table generates. */
static void
test_docs_in_sync(void **state)
{
	char	   *md = slurp("docs/CONFIG.md");
	char	   *ex = slurp("config/pgtrail.conf.example");
	char	   *gen_md = generate(pt_config_write_markdown);
	char	   *gen_ex = generate(pt_config_write_example);

	(void) state;
	if (strcmp(md, gen_md) != 0 || strcmp(ex, gen_ex) != 0)
		fail_msg("docs/CONFIG.md or config/pgtrail.conf.example differ from config/keys.c; "
				 "regenerate with build/bin/gen_config_docs .");
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		char		needle[128];

		snprintf(needle, sizeof(needle), "# %s = ", pt_config_keys[i].name);
		assert_non_null(strstr(ex, needle));
		snprintf(needle, sizeof(needle), "| `%s` |", pt_config_keys[i].name);
		assert_non_null(strstr(md, needle));
	}
	free(md);
	free(ex);
	free(gen_md);
	free(gen_ex);
}

/* The example file itself loads (every key commented out = all defaults). */
static void
test_example_loads(void **state)
{
	pt_config  *cfg = pt_config_new();
	pt_err		err;
	char		p[4096];

	(void) state;
	snprintf(p, sizeof(p), "%s/config/pgtrail.conf.example", getenv("PGTRAIL_TEST_SOURCE_DIR"));
	assert_true(pt_config_load_file(cfg, p, &err));
	pt_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_dotted_key_from_environment),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_env_and_flag_errors),
		cmocka_unit_test(test_bools_and_help),
		cmocka_unit_test(test_file_values_and_spellings),
		cmocka_unit_test(test_file_is_directory),
		cmocka_unit_test(test_file_bom),
		cmocka_unit_test(test_file_duplicate_key),
		cmocka_unit_test(test_file_nul),
		cmocka_unit_test(test_dump_redacts),
		cmocka_unit_test(test_conninfo_errors),
		cmocka_unit_test(test_conninfo_error_quotes_nothing),
		cmocka_unit_test(test_cmdline_secret),
		cmocka_unit_test(test_kafka_precedence),
		cmocka_unit_test(test_kafka_env_mapping),
		cmocka_unit_test(test_kafka_errors),
		cmocka_unit_test(test_kafka_redaction),
		cmocka_unit_test(test_kafka_help),
		cmocka_unit_test(test_docs_in_sync),
		cmocka_unit_test(test_example_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
