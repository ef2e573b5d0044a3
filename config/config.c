/*
 * config/config.c — loading settings: INI file, environment, flags (see config.h).
 *
 * Values are kept as validated text, one slot per key of the table, with
 * where each came from. The INI reader is our own (see below why not
 * inih), so every error names the file and line; it refuses what would
 * otherwise pass unseen (a key set twice in a section, a NUL byte, a
 * directory given as the file) and skips a UTF-8 byte order mark.
 *
 * librdkafka's properties are not in the table: they are kept as a list of
 * name, value and origin, in the order first seen, filled from the three
 * sources in turn (file, then PGTRAIL_KAFKA_*, then -X/--kafka-brokers), so
 * a later source replaces a value and keeps its place. The rule is the same
 * everywhere: in section kafka, a name the table has is pgtrail's, any
 * other is librdkafka's (pt_config_set).
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/conninfo.h"
#include "core/log.h"
#include "core/lsn.h"
#include "core/mem.h"

/* One librdkafka property: its name, winning value and where that came from. */
typedef struct kafka_prop
{
	char	   *key;
	char	   *value;
	char	   *origin;
} kafka_prop;

struct pt_config
{
	char	  **values;			/* NULL = default */
	char	  **origins;
	kafka_prop *kafka;			/* librdkafka properties, first seen first */
	int			nkafka;
	pt_buf		cmdline_secrets;	/* "--source, -X sasl.password": flags that held a password */
};

pt_config *
pt_config_new(void)
{
	pt_config  *cfg = pt_calloc(1, sizeof(*cfg));

	cfg->values = pt_calloc((size_t) pt_config_nkeys, sizeof(char *));
	cfg->origins = pt_calloc((size_t) pt_config_nkeys, sizeof(char *));
	return cfg;
}

void
pt_config_free(pt_config *cfg)
{
	if (cfg == NULL)
		return;
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		free(cfg->values[i]);
		free(cfg->origins[i]);
	}
	for (int i = 0; i < cfg->nkafka; i++)
	{
		free(cfg->kafka[i].key);
		free(cfg->kafka[i].value);
		free(cfg->kafka[i].origin);
	}
	free(cfg->values);
	free(cfg->origins);
	free(cfg->kafka);
	pt_buf_free(&cfg->cmdline_secrets);
	free(cfg);
}

static int
key_index(const char *section, const char *name)
{
	for (int i = 0; i < pt_config_nkeys; i++)
		if (strcmp(pt_config_keys[i].section, section) == 0 && strcmp(pt_config_keys[i].name, name) == 0)
			return i;
	return -1;
}

static bool
section_exists(const char *section)
{
	for (int i = 0; i < pt_config_nkeys; i++)
		if (strcmp(pt_config_keys[i].section, section) == 0)
			return true;
	return false;
}

/* "[source], [sink], ..." for hints; the caller frees out with pt_buf_free. */
static void
section_list(pt_buf *out)
{
	for (int i = 0; i < pt_config_nkeys; i++)
		if (i == 0 || strcmp(pt_config_keys[i].section, pt_config_keys[i - 1].section) != 0)
			pt_buf_printf(out, "%s[%s]", i ? ", " : "", pt_config_keys[i].section);
}

/* Levenshtein distance, for "did you mean". */
static int
distance(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);
	int			row[64];

	if (lb >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= la; i++)
	{
		int			prev = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= lb; j++)
		{
			int			cur = row[j];
			int			best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void
hint_similar_key(const char *section, const char *name, pt_err *err)
{
	const pt_config_key *best = NULL;
	int			bestd = 3;

	for (int i = 0; i < pt_config_nkeys; i++)
	{
		int			d = distance(name, pt_config_keys[i].name);

		if (strcmp(pt_config_keys[i].section, section) == 0 && d < bestd)
		{
			best = &pt_config_keys[i];
			bestd = d;
		}
	}
	if (best)
		pt_err_hint(err, "did you mean \"%s\"? (docs/CONFIG.md lists every key)", best->name);
	else
		pt_err_hint(err, "docs/CONFIG.md lists every key of section [%s]", section);
}

/* Check text against the key's type; false with what is wrong in why. */
static bool
validate(const pt_config_key *k, const char *value, char *why, size_t whylen)
{
	char	   *end;
	long long	v;
	pt_lsn		lsn;

	switch (k->type)
	{
		case PT_KEY_STRING:
		case PT_KEY_CONNINFO:	/* checked by check_conninfo */
			return true;
		case PT_KEY_INT:
			errno = 0;
			v = strtoll(value, &end, 10);
			if (value[0] == '\0' || *end != '\0' || errno != 0)
				snprintf(why, whylen, "not an integer (expected %lld to %lld)", (long long) k->min, (long long) k->max);
			else if (v < k->min || v > k->max)
				snprintf(why, whylen, "out of range (expected %lld to %lld)", (long long) k->min, (long long) k->max);
			else
				return true;
			return false;
		case PT_KEY_BOOL:
			if (strcasecmp(value, "on") == 0 || strcasecmp(value, "off") == 0 ||
				strcasecmp(value, "true") == 0 || strcasecmp(value, "false") == 0 ||
				strcasecmp(value, "yes") == 0 || strcasecmp(value, "no") == 0 ||
				strcmp(value, "1") == 0 || strcmp(value, "0") == 0)
				return true;
			snprintf(why, whylen, "not a boolean (expected on or off)");
			return false;
		case PT_KEY_ENUM:
			{
				size_t		n = strlen(value);
				const char *c = k->choices;

				while (n > 0 && c && *c)
				{
					size_t		len = strcspn(c, "|");

					if (len == n && strncmp(c, value, n) == 0)
						return true;
					c += len + (c[len] == '|');
				}
				snprintf(why, whylen, "expected one of %s", k->choices);
				return false;
			}
		case PT_KEY_LSN:
			if (value[0] == '\0' || pt_lsn_parse(value, strlen(value), &lsn))
				return true;
			snprintf(why, whylen, "not an LSN (expected the form 16/B374D848)");
			return false;
	}
	return false;
}

/*
 * A connection string must parse: a malformed one is a configuration error
 * (exit 2, so systemd does not retry it), said without quoting the value,
 * which may hold a password. what is the flag ("--source") or the key and
 * where it came from ("[source] dsn (environment variable ...)").
 */
static bool
check_conninfo(const pt_config_key *k, const char *value, const char *origin, pt_err *err)
{
	char		what[256];

	if (strncmp(origin, "option ", 7) == 0)
		snprintf(what, sizeof(what), "%s", origin + 7);
	else
		snprintf(what, sizeof(what), "[%s] %s (%s)", k->section, k->name, origin);
	return pt_conninfo_check(value, what, err);
}

static bool
store(pt_config *cfg, int i, const char *value, const char *origin, pt_err *err)
{
	const pt_config_key *k = &pt_config_keys[i];
	char		why[160];

	if (k->type == PT_KEY_CONNINFO && !check_conninfo(k, value, origin, err))
		return false;
	if (!validate(k, value, why, sizeof(why)))
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s: invalid value \"%s\" for key \"%s\" in section [%s]: %s",
				   origin, value, k->name, k->section, why);
		return false;
	}
	free(cfg->values[i]);
	free(cfg->origins[i]);
	cfg->values[i] = pt_strdup(value);
	cfg->origins[i] = pt_strdup(origin);
	return true;
}

/* Set librdkafka property key: a new one goes last, a known one keeps its place. */
static void
kafka_put(pt_config *cfg, const char *key, const char *value, const char *origin)
{
	kafka_prop *p = NULL;

	for (int i = 0; i < cfg->nkafka && p == NULL; i++)
		if (strcmp(cfg->kafka[i].key, key) == 0)
			p = &cfg->kafka[i];
	if (p == NULL)
	{
		cfg->kafka = pt_realloc(cfg->kafka, (size_t) (cfg->nkafka + 1) * sizeof(kafka_prop));
		p = &cfg->kafka[cfg->nkafka++];
		p->key = pt_strdup(key);
	}
	else
	{
		free(p->value);
		free(p->origin);
	}
	p->value = pt_strdup(value);
	p->origin = pt_strdup(origin);
}

bool
pt_config_set(pt_config *cfg, const char *section, const char *name, const char *value,
			  const char *origin, pt_err *err)
{
	int			i = key_index(section, name);

	if (i < 0 && strcmp(section, "kafka") == 0 && name[0] != '\0')
	{
		kafka_put(cfg, name, value, origin);
		return true;
	}
	if (i < 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s: unknown key \"%s\" in section [%s]", origin, name, section);
		hint_similar_key(section, name, err);
		return false;
	}
	return store(cfg, i, value, origin, err);
}

/* ---- INI file ---- */

/*
 * Our own reader rather than inih: Debian's inih is built with a 200-byte
 * line limit and silently splits longer lines (a long conninfo would turn
 * into a bogus key holding part of a password), and it cuts values at an
 * inline ";". Here a line is any length; "key = value" takes everything
 * after the first "=" (trimmed), so a value may hold ; # = and quotes.
 */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* One INI file being read: where we are, and the keys it set so far (to catch a key set twice). */
typedef struct ini_reader
{
	const char *path;
	int			lineno;
	char		origin[4200];	/* "path:line" */
	char		section[128];
	char	  **seen;			/* "section]name" of each key set, with its line */
	int		   *seen_line;
	int			nseen;
} ini_reader;

static void
ini_reader_free(ini_reader *r)
{
	for (int i = 0; i < r->nseen; i++)
		free(r->seen[i]);
	free(r->seen);
	free(r->seen_line);
}

/* A key may be set once per section (however often the section header comes). */
static bool
ini_first_time(ini_reader *r, const char *name, pt_err *err)
{
	pt_buf		id = PT_BUF_INIT;

	pt_buf_printf(&id, "%s]%s", r->section, name);
	for (int i = 0; i < r->nseen; i++)
		if (strcmp(r->seen[i], id.data) == 0)
		{
			pt_err_set(err, PT_ERR_CONFIG, "%s: duplicate key \"%s\" in section [%s] (first set on line %d)",
					   r->origin, name, r->section, r->seen_line[i]);
			pt_err_hint(err, "remove one of the two lines: a key is set once per section "
						"(PGTRAIL_* variables and flags override the file)");
			pt_buf_free(&id);
			return false;
		}
	r->seen = pt_realloc(r->seen, (size_t) (r->nseen + 1) * sizeof(char *));
	r->seen_line = pt_realloc(r->seen_line, (size_t) (r->nseen + 1) * sizeof(int));
	r->seen[r->nseen] = id.data;	/* the list takes the buffer's memory */
	r->seen_line[r->nseen++] = r->lineno;
	return true;
}

/* "[name]": the section the next keys belong to. */
static bool
ini_section(ini_reader *r, char *s, pt_err *err)
{
	char	   *close = strchr(s, ']');

	if (close == NULL || *trim(close + 1) != '\0')
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s: syntax error: a section header is [name]", r->origin);
		return false;
	}
	*close = '\0';
	snprintf(r->section, sizeof(r->section), "%s", trim(s + 1));
	if (!section_exists(r->section))
	{
		pt_buf		list = PT_BUF_INIT;

		section_list(&list);
		pt_err_set(err, PT_ERR_CONFIG, "%s: unknown section [%s]", r->origin, r->section);
		pt_err_hint(err, "sections are %s (docs/CONFIG.md)", list.data);
		pt_buf_free(&list);
		return false;
	}
	return true;
}

/* One line of len bytes (getline's count: a NUL byte inside is caught here). */
static bool
ini_line(pt_config *cfg, ini_reader *r, char *line, size_t len, pt_err *err)
{
	char	   *s;
	char	   *eq;

	snprintf(r->origin, sizeof(r->origin), "%s:%d", r->path, ++r->lineno);
	if (strlen(line) != len)
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s: line contains a NUL byte", r->origin);
		pt_err_hint(err, "a configuration file is UTF-8 text; save it again as UTF-8 (not UTF-16)");
		return false;
	}
	/* a UTF-8 byte order mark, as some editors write one */
	if (r->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	s = trim(line);
	if (*s == '\0' || *s == '#' || *s == ';')
		return true;
	if (*s == '[')
		return ini_section(r, s, err);
	if ((eq = strchr(s, '=')) == NULL || r->section[0] == '\0')
	{
		pt_err_set(err, PT_ERR_CONFIG, "%s: syntax error: expected key = value %s", r->origin,
				   r->section[0] ? "" : "after a [section] header");
		pt_err_hint(err, "lines are [section], key = value, or comments starting with # or ;");
		return false;
	}
	*eq = '\0';
	s = trim(s);
	return ini_first_time(r, s, err) && pt_config_set(cfg, r->section, s, trim(eq + 1), r->origin, err);
}

/* The file was opened: a directory opens too, and then reads as an error. */
static bool
ini_readable(FILE *f, const char *path, pt_err *err)
{
	struct stat st;

	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not read configuration file \"%s\": it is a directory", path);
		pt_err_hint(err, "-c/--config takes the file itself, e.g. -c /etc/pgtrail/pgtrail.conf");
		return false;
	}
	return true;
}

bool
pt_config_load_file(pt_config *cfg, const char *path, pt_err *err)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	ini_reader	r = {.path = path};
	bool		ok;

	if (f == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not open configuration file \"%s\": %s", path, strerror(errno));
		pt_err_hint(err, "check the path given with -c/--config");
		return false;
	}
	ok = ini_readable(f, path, err);
	while (ok && (len = getline(&line, &cap, f)) >= 0)
		ok = ini_line(cfg, &r, line, (size_t) len, err);
	if (ok && ferror(f))
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "could not read configuration file \"%s\": %s", path, strerror(errno));
		pt_err_hint(err, "check the path given with -c/--config");
	}
	ini_reader_free(&r);
	free(line);
	fclose(f);
	return ok;
}

/* ---- environment ---- */

void
pt_config_env_name(const pt_config_key *k, char *out, size_t outlen)
{
	size_t		n = (size_t) snprintf(out, outlen, "PGTRAIL_%s_%s", k->section, k->name);

	/* upper case; a key named with dots (Debezium's names) with '_' for each, as a shell can set it */
	for (size_t i = 0; i < n && i < outlen; i++)
		out[i] = out[i] == '.' ? '_' : (char) toupper((unsigned char) out[i]);
}

/* The key of the table that variable name var (nlen bytes) sets, or -1. */
static int
env_key_index(const char *var, size_t nlen)
{
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		char		name[128];

		pt_config_env_name(&pt_config_keys[i], name, sizeof(name));
		if (strlen(name) == nlen && strncmp(name, var, nlen) == 0)
			return i;
	}
	return -1;
}

#define ENV_KAFKA "PGTRAIL_KAFKA_"

/* PGTRAIL_KAFKA_BOOTSTRAP_SERVERS sets librdkafka's bootstrap.servers. */
static bool
env_kafka(pt_config *cfg, const char *var, size_t nlen, const char *value, pt_err *err)
{
	char	   *name = pt_strndup(var + strlen(ENV_KAFKA), nlen - strlen(ENV_KAFKA));
	pt_buf		origin = PT_BUF_INIT;
	bool		ok;

	for (char *p = name; *p; p++)
		*p = *p == '_' ? '.' : (char) tolower((unsigned char) *p);
	pt_buf_printf(&origin, "environment variable %.*s", (int) nlen, var);
	ok = pt_config_set(cfg, "kafka", name, value, origin.data, err);
	pt_buf_free(&origin);
	free(name);
	return ok;
}

/* One PGTRAIL_* variable: a key of the table, else a librdkafka property. */
static bool
env_one(pt_config *cfg, const char *var, size_t nlen, const char *value, pt_err *err)
{
	int			i = env_key_index(var, nlen);
	char		origin[160];

	if (i >= 0)
	{
		snprintf(origin, sizeof(origin), "environment variable %.*s", (int) nlen, var);
		return store(cfg, i, value, origin, err);
	}
	if (nlen > strlen(ENV_KAFKA) && strncmp(var, ENV_KAFKA, strlen(ENV_KAFKA)) == 0)
		return env_kafka(cfg, var, nlen, value, err);
	pt_err_set(err, PT_ERR_CONFIG, "unknown environment variable %.*s", (int) nlen, var);
	pt_err_hint(err, "pgtrail reads PGTRAIL_SECTION_KEY, e.g. PGTRAIL_SOURCE_DSN (docs/CONFIG.md)");
	return false;
}

static bool
load_env(pt_config *cfg, char **envp, pt_err *err)
{
	for (char **e = envp; e && *e; e++)
	{
		const char *eq = strchr(*e, '=');

		if (eq == NULL || strncmp(*e, "PGTRAIL_", 8) != 0 ||
			strncmp(*e, "PGTRAIL_TEST_", 13) == 0 || strncmp(*e, "PGTRAIL_BENCH_", 14) == 0)
			continue;
		if (!env_one(cfg, *e, (size_t) (eq - *e), eq + 1, err))
			return false;
	}
	return true;
}

/* ---- command line ---- */

const char *
pt_config_key_flag(const pt_config_key *k, pt_program program)
{
	for (int i = 0; i < pt_config_naliases; i++)
		if ((pt_config_aliases[i].programs & program) && strcmp(pt_config_aliases[i].section, k->section) == 0 &&
			strcmp(pt_config_aliases[i].name, k->name) == 0)
			return pt_config_aliases[i].flag;
	return (k->programs & program) ? k->flag : NULL;
}

#define OPT_KEY_BASE 1000
#define OPT_KAFKA_BROKERS 900

/* getopt_long's table for program; the caller frees it. */
static struct option *
build_options(pt_program program)
{
	struct option *opts = pt_calloc((size_t) pt_config_nkeys + 5, sizeof(struct option));
	int			n = 0;

	opts[n++] = (struct option) {"config", required_argument, NULL, 'c'};
	opts[n++] = (struct option) {"help", no_argument, NULL, 'h'};
	opts[n++] = (struct option) {"version", no_argument, NULL, 'V'};
	if (program & PT_PROG_CAPTURE)
		opts[n++] = (struct option) {"kafka-brokers", required_argument, NULL, OPT_KAFKA_BROKERS};
	for (int i = 0; i < pt_config_nkeys; i++)
		if (pt_config_key_flag(&pt_config_keys[i], program))
			opts[n++] = (struct option) {pt_config_key_flag(&pt_config_keys[i], program),
				pt_config_keys[i].type == PT_KEY_BOOL ? optional_argument : required_argument,
			NULL, OPT_KEY_BASE + i};
	return opts;
}

/* Remember that flag (prefix and name) held a password, once (pt_config_cmdline_secret). */
static void
note_cmdline_secret(pt_config *cfg, const char *prefix, const char *name)
{
	char		item[256];
	size_t		n = (size_t) snprintf(item, sizeof(item), "%s%s", prefix, name);
	const char *list = cfg->cmdline_secrets.data;

	for (const char *p = list; p && (p = strstr(p, item)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return;
	pt_buf_printf(&cfg->cmdline_secrets, "%s%s", cfg->cmdline_secrets.len ? ", " : "", item);
}

/* -X key=value (as kcat): a librdkafka property, or one of pgtrail's [kafka] keys. */
static bool
flag_kafka_property(pt_config *cfg, const char *arg, pt_err *err)
{
	const char *eq = strchr(arg, '=');
	char	   *name;
	bool		ok;

	if (eq == NULL || eq == arg)
	{
		pt_err_set(err, PT_ERR_CONFIG, "option -X \"%s\" is not key=value",
				   pt_config_kafka_is_secret(arg) ? "***" : arg);
		pt_err_hint(err, "give librdkafka properties as -X key=value, e.g. -X acks=all; repeat -X for more");
		return false;
	}
	name = pt_strndup(arg, (size_t) (eq - arg));
	ok = pt_config_set(cfg, "kafka", name, eq + 1, "option -X", err);
	if (ok && eq[1] != '\0' && pt_config_kafka_is_secret(name))
		note_cmdline_secret(cfg, "-X ", name);
	free(name);
	return ok;
}

/* Pass 2's work for option c: a key of the table, -X or --kafka-brokers. */
static bool
flag_setting(pt_config *cfg, pt_program program, int c, pt_err *err)
{
	const pt_config_key *k = &pt_config_keys[c - OPT_KEY_BASE];
	const char *flag;
	char		origin[96];

	if (c == 'X')
		return flag_kafka_property(cfg, optarg, err);
	if (c == OPT_KAFKA_BROKERS)
	{
		kafka_put(cfg, "bootstrap.servers", optarg, "option --kafka-brokers");
		return true;
	}
	flag = pt_config_key_flag(k, program);
	snprintf(origin, sizeof(origin), "option --%s", flag);
	/* a boolean flag alone means on: --messages, --messages=off */
	if (!store(cfg, c - OPT_KEY_BASE, optarg ? optarg : "on", origin, err))
		return false;
	if (k->type == PT_KEY_CONNINFO && pt_conninfo_has_password(optarg))
		note_cmdline_secret(cfg, "--", flag);
	return true;
}

/*
 * Both passes parse argv with the same option table, so every spelling
 * getopt accepts (-cFILE, --conf FILE, --config=FILE) means the same thing
 * in both. Pass 1 takes -c/--help/--version; pass 2 the settings (in
 * capture also -X and --kafka-brokers).
 */
static bool
parse_flags(pt_config *cfg, pt_program program, int argc, char **argv, bool settings,
			pt_config_args *args, const char **file, pt_err *err)
{
	struct option *opts = build_options(program);
	const char *shorts = (program & PT_PROG_CAPTURE) ? ":c:hVX:" : ":c:hV";
	bool		ok = true;
	int			c;

	optind = 0;					/* 0, not 1: glibc's full reset */
	opterr = 0;
	while (ok && (c = getopt_long(argc, argv, shorts, opts, NULL)) != -1)
	{
		if (c == 'c')
			*file = optarg;
		else if (c == 'h')
			args->help = true;
		else if (c == 'V')
			args->version = true;
		else if (c == ':' || c == '?')
		{
			ok = pt_err_set(err, PT_ERR_CONFIG, c == ':' ? "option %s needs a value" : "unknown option %s",
							argv[optind - 1]);
			pt_err_hint(err, "run with --help to see the options");
		}
		else if (settings)
			ok = flag_setting(cfg, program, c, err);
	}
	if (ok && optind < argc)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "unexpected argument \"%s\"", argv[optind]);
		pt_err_hint(err, "options take the form --name value; run with --help");
	}
	free(opts);
	return ok;
}

bool
pt_config_load(pt_config *cfg, pt_program program, int argc, char **argv, char **envp,
			   pt_config_args *args, pt_err *err)
{
	const char *file = NULL;

	memset(args, 0, sizeof(*args));
	if (!parse_flags(cfg, program, argc, argv, false, args, &file, err))
		return false;
	if (args->help || args->version)
		return true;
	if (file && !pt_config_load_file(cfg, file, err))
		return false;
	return load_env(cfg, envp, err) && parse_flags(cfg, program, argc, argv, true, args, &file, err);
}

/* ---- getters ---- */

static int
must_index(const char *section, const char *name)
{
	int			i = key_index(section, name);

	if (i < 0)
	{
		fprintf(stderr, "pgtrail: internal error: no configuration key [%s] %s\n", section, name);
		abort();
	}
	return i;
}

const char *
pt_config_get(const pt_config *cfg, const char *section, const char *name)
{
	int			i = must_index(section, name);

	return cfg->values[i] ? cfg->values[i] : pt_config_keys[i].def;
}

int64_t
pt_config_get_int(const pt_config *cfg, const char *section, const char *name)
{
	return strtoll(pt_config_get(cfg, section, name), NULL, 10);
}

bool
pt_config_get_bool(const pt_config *cfg, const char *section, const char *name)
{
	const char *v = pt_config_get(cfg, section, name);

	return strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
		strcmp(v, "1") == 0;
}

const char *
pt_config_origin(const pt_config *cfg, const char *section, const char *name)
{
	int			i = must_index(section, name);

	return cfg->origins[i] ? cfg->origins[i] : "default";
}

pt_log *
pt_config_log(const pt_config *cfg, const char *program)
{
	pt_log_level level = PT_LOG_INFO;
	pt_log_format format = PT_LOG_TEXT;

	/* the values were checked against the choices when loaded */
	pt_log_parse_level(pt_config_get(cfg, "log", "level"), &level);
	pt_log_parse_format(pt_config_get(cfg, "log", "format"), &format);
	return pt_log_new(program, level, format, stderr);
}

/* ---- librdkafka properties ---- */

int
pt_config_kafka_count(const pt_config *cfg)
{
	return cfg->nkafka;
}

void
pt_config_kafka_get(const pt_config *cfg, int i, const char **key, const char **value)
{
	*key = cfg->kafka[i].key;
	*value = cfg->kafka[i].value;
}

const char *
pt_config_kafka_value(const pt_config *cfg, const char *key)
{
	for (int i = 0; i < cfg->nkafka; i++)
		if (strcmp(cfg->kafka[i].key, key) == 0)
			return cfg->kafka[i].value;
	return NULL;
}

bool
pt_config_kafka_is_secret(const char *key)
{
	char	   *k = pt_strdup(key);
	size_t		n = strlen(k);
	bool		secret;

	for (char *p = k; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	secret = strstr(k, "password") || strstr(k, "secret") ||
		(n >= 4 && strcmp(k + n - 4, ".key") == 0) || (n >= 7 && strcmp(k + n - 7, "key.pem") == 0);
	free(k);
	return secret;
}

bool
pt_config_cmdline_secret(const pt_config *cfg, pt_err *warning)
{
	if (cfg->cmdline_secrets.len == 0)
		return false;
	pt_err_set(warning, PT_ERR_NONE, "a password is on the command line (%s)", cfg->cmdline_secrets.data);
	pt_err_detail(warning, "every local user can read a program's arguments with ps or in /proc/PID/cmdline");
	pt_err_hint(warning, "put it in a password file (~/.pgpass, PGPASSFILE, or passfile=FILE in the connection "
				"string) or in the configuration file, readable by this user only (docs/OPERATIONS.md)");
	return true;
}

void
pt_config_dump(const pt_config *cfg, pt_program program, FILE *out)
{
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		const pt_config_key *k = &pt_config_keys[i];
		const char *v = cfg->values[i] ? cfg->values[i] : k->def;
		char	   *shown = NULL;

		if (!(k->programs & program))
			continue;
		if (k->type == PT_KEY_CONNINFO && v[0])
			shown = pt_conninfo_redact(v);
		fprintf(out, "[%s] %s = %s    (%s)\n", k->section, k->name, shown ? shown : v,
				cfg->origins[i] ? cfg->origins[i] : "default");
		free(shown);
	}
	for (int i = 0; i < cfg->nkafka && (program & PT_PROG_CAPTURE); i++)
		fprintf(out, "[kafka] %s = %s    (%s)\n", cfg->kafka[i].key,
				pt_config_kafka_is_secret(cfg->kafka[i].key) ? "***" : cfg->kafka[i].value, cfg->kafka[i].origin);
}
