/*
 * config/docs.c — --help, docs/CONFIG.md and config/pgtrail.conf.example,
 * all written from the key table (config/keys.c), plus the words on
 * librdkafka's pass-through properties, which have no rows.
 */
#include "config/config.h"

#include <ctype.h>
#include <string.h>

static const char *
type_text(const pt_config_key *k, char *buf, size_t len)
{
	switch (k->type)
	{
		case PT_KEY_STRING:
			return "text";
		case PT_KEY_INT:
			snprintf(buf, len, "integer %lld..%lld", (long long) k->min, (long long) k->max);
			return buf;
		case PT_KEY_BOOL:
			return "on/off";
		case PT_KEY_ENUM:
			snprintf(buf, len, "%s", k->choices);
			return buf;
		case PT_KEY_LSN:
			return "LSN";
		case PT_KEY_CONNINFO:
			return "connection string";
	}
	return "";
}

/* The flags that pass librdkafka properties through (capture only). */
static void
usage_kafka(FILE *out)
{
	fprintf(out, "  %-28s %s\n", "--kafka-brokers LIST",
			"Kafka bootstrap servers, host:port,...; turns the Kafka sink on (= -X bootstrap.servers=LIST)");
	fprintf(out, "  %-28s %s\n", "-X KEY=VALUE",
			"a librdkafka property, passed as is (repeatable, as kcat -X): -X acks=all -X compression.type=lz4");
}

void
pt_config_usage(FILE *out, pt_program program, const char *progname, const char *summary)
{
	char		buf[64];
	bool		kafka_shown = false;

	fprintf(out, "%s %s\n\nUsage:\n  %s [OPTION]...\n\nOptions:\n", progname, summary, progname);
	fprintf(out, "  %-28s %s\n", "-c, --config FILE", "read settings from an INI file");
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		const pt_config_key *k = &pt_config_keys[i];
		char		flag[64];
		const char *name = pt_config_key_flag(k, program);

		if (name == NULL)
			continue;
		if (strcmp(k->section, "kafka") == 0 && !kafka_shown && (program & PT_PROG_CAPTURE))
		{
			usage_kafka(out);
			kafka_shown = true;
		}
		snprintf(flag, sizeof(flag), "--%s%s", name,
				 k->type == PT_KEY_BOOL ? "[=on|off]" : k->type == PT_KEY_INT ? " N" :
				 k->type == PT_KEY_LSN ? " LSN" : " VALUE");
		fprintf(out, "  %-28s %s", flag, k->help);
		if (k->type == PT_KEY_ENUM)
			fprintf(out, " (%s)", type_text(k, buf, sizeof(buf)));
		if (k->def[0])
			fprintf(out, " [%s]", k->def);
		fputc('\n', out);
	}
	fprintf(out, "  %-28s %s\n  %-28s %s\n", "-h, --help", "show this help, then exit",
			"-V, --version", "show the version, then exit");
	fprintf(out, "\nEvery setting can also come from the INI file or a PGTRAIL_SECTION_KEY environment\n"
			"variable; flags beat environment beat file. Exit codes: 0 ok, 1 integrity failure,\n"
			"2 usage or configuration error, 3 could not run. See docs/CONFIG.md.\n");
	if (program & PT_PROG_CAPTURE)
		fprintf(out, "librdkafka properties also come from [kafka] in the file and from PGTRAIL_KAFKA_NAME\n"
				"(PGTRAIL_KAFKA_BOOTSTRAP_SERVERS is bootstrap.servers).\n");
}

void
pt_config_write_example(FILE *out)
{
	const char *section = "";

	fprintf(out, "# pgtrail.conf.example — every setting, with its default.\n"
			"# Generated from config/keys.c by gen_config_docs; do not edit by hand.\n"
			"# Each key can also be set with PGTRAIL_SECTION_KEY or a flag\n"
			"# (flags beat environment beat this file). See docs/CONFIG.md.\n");
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		const pt_config_key *k = &pt_config_keys[i];
		char		buf[64];

		if (strcmp(section, k->section) != 0)
		{
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
			if (strcmp(section, "kafka") == 0)
				fprintf(out, "# Every other key of this section is a librdkafka property, passed to it as is\n"
						"# (librdkafka's CONFIGURATION.md lists them); bootstrap.servers turns the\n"
						"# Kafka sink on. For example:\n"
						"# bootstrap.servers = kafka1:9092,kafka2:9092\n"
						"# acks = all\n");
		}
		fprintf(out, "# %s (%s)\n# %s = %s\n", k->help, type_text(k, buf, sizeof(buf)), k->name, k->def);
	}
}

/* Text in a table cell: a "|" (as in "initial|never") would end the cell. */
static void
markdown_cell(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++)
	{
		if (*p == '|')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/* The pass-through of librdkafka properties, at the top of CONFIG.md's [kafka]. */
static void
markdown_kafka(FILE *out)
{
	fprintf(out,
			"pgtrail-capture also sends every event to Kafka when `bootstrap.servers` is set (or\n"
			"`--kafka-brokers`). Besides pgtrail's own keys in the table below, every key of `[kafka]` is a\n"
			"[librdkafka property](https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md)\n"
			"and reaches librdkafka untouched, as with kcat's `-X`: `bootstrap.servers`, `acks`,\n"
			"`security.protocol`, `sasl.username`, `sasl.password`, ... pgtrail does not check their values;\n"
			"librdkafka does when capture starts. They can also be given\n\n"
			"- in the environment as `PGTRAIL_KAFKA_<NAME>`, for a name that is not one of the keys below:\n"
			"  lower-cased, with each `_` turned into `.`, so `PGTRAIL_KAFKA_BOOTSTRAP_SERVERS=kafka1:9092`\n"
			"  sets `bootstrap.servers` (a property whose name holds `_` can only be set in the file or with\n"
			"  `-X`);\n"
			"- on pgtrail-capture's command line as `-X key=value` (repeatable; `-X format=debezium` sets\n"
			"  pgtrail's key) and `--kafka-brokers LIST` (the same as `-X bootstrap.servers=LIST`).\n\n"
			"Each property takes its value from the last of file, environment and flags that sets it. The\n"
			"value of a property whose name contains `password` or `secret`, or ends in `.key` or `key.pem`,\n"
			"is never printed (`***`).\n\n");
}

void
pt_config_write_markdown(FILE *out)
{
	const char *section = "";

	fprintf(out, "# pgtrail configuration\n\n"
			"<!-- Generated from config/keys.c by gen_config_docs; do not edit by hand. -->\n\n"
			"Settings come from four places, each overriding the one before:\n\n"
			"1. the defaults below;\n"
			"2. an INI file given with `-c FILE` / `--config FILE` (UTF-8 text, a byte order mark\n"
			"   allowed; `[section]` headers, `key = value`, comments with `#` or `;`); see\n"
			"   `config/pgtrail.conf.example`;\n"
			"3. environment variables `PGTRAIL_SECTION_KEY` (upper case, e.g. `PGTRAIL_SOURCE_DSN`);\n"
			"4. command-line flags.\n\n"
			"An unknown section, key, environment variable `PGTRAIL_*` or flag, a value of the wrong\n"
			"type or out of range, a key set twice in one section, a NUL byte in the file, and a\n"
			"directory given as the file, are errors that name the file and line, the variable or the flag\n"
			"(exit code 2); only `[kafka]` also takes keys that are not in its table (librdkafka's, see\n"
			"there). Connection strings are libpq conninfo or URIs, and libpq's `PG*` environment\n"
			"variables apply as in psql; passwords are never printed. A connection string libpq cannot\n"
			"parse is an error of the same kind (exit code 2), said without quoting it. A password in a\n"
			"connection string given as a flag draws a warning: every local user can read a program's\n"
			"command line. Put it in a password file (`~/.pgpass`, `PGPASSFILE`, `passfile=`) or in the INI\n"
			"file instead (docs/OPERATIONS.md).\n");
	for (int i = 0; i < pt_config_nkeys; i++)
	{
		const pt_config_key *k = &pt_config_keys[i];
		char		buf[64];
		char		env[128];
		const char *alias;

		if (strcmp(section, k->section) != 0)
		{
			section = k->section;
			fprintf(out, "\n## [%s]\n\n", section);
			if (strcmp(section, "kafka") == 0)
				markdown_kafka(out);
			fprintf(out, "| key | flag | environment | type | default | meaning |\n"
					"| --- | --- | --- | --- | --- | --- |\n");
		}
		pt_config_env_name(k, env, sizeof(env));
		alias = NULL;
		for (int a = 0; a < pt_config_naliases; a++)
			if (strcmp(pt_config_aliases[a].section, k->section) == 0 && strcmp(pt_config_aliases[a].name, k->name) == 0)
				alias = pt_config_aliases[a].flag;
		fprintf(out, "| `%s` | %s%s%s%s%s%s | `%s` | ", k->name,
				k->flag ? "`--" : "", k->flag ? k->flag : "", k->flag ? "`" : "",
				alias ? ", `--" : "", alias ? alias : "", alias ? "`" : "", env);
		markdown_cell(out, type_text(k, buf, sizeof(buf)));
		fprintf(out, " | %s%s%s | ", k->def[0] ? "`" : "", k->def, k->def[0] ? "`" : "");
		markdown_cell(out, k->help);
		fputs(" |\n", out);
	}
}
