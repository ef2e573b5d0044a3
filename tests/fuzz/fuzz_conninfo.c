/*
 * tests/fuzz/fuzz_conninfo.c — libFuzzer target for core/conninfo.c, the
 * code that decides what of a connection string may be printed.
 *
 * Any input: check, redact and has_password return, never crash, read out
 * of bounds or leak. When pt_conninfo_check accepts it and it is a
 * connection string, the redacted text must itself parse, to the same
 * value for every option that is not a secret and to "***" (or nothing)
 * for every secret: so no secret can hide in what is printed, short of
 * the input having put it in a non-secret option itself; a database name
 * comes back as dbname=NAME. A string that check refuses must come back
 * as the fixed "not shown" text.
 */
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conninfo.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_secret(const char *keyword)
{
	return strstr(keyword, "password") != NULL || strstr(keyword, "secret") != NULL;
}

/* The value of keyword in opts (NULL when unset). */
static const char *
value_of(const PQconninfoOption *opts, const char *keyword)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val;
	return NULL;
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* shown (the redaction of input) keeps every other option and hides the secrets. */
static void
check_round_trip(const char *input, const char *shown)
{
	PQconninfoOption *in = PQconninfoParse(input, NULL);
	PQconninfoOption *out = PQconninfoParse(shown, NULL);

	if (in == NULL || out == NULL)
		abort();				/* accepted by check, but one of them does not parse */
	for (const PQconninfoOption *o = out; o->keyword; o++)
	{
		if (is_secret(o->keyword) ? (o->val && strcmp(o->val, "***") != 0) :
			!same(o->val, value_of(in, o->keyword)))
			abort();
	}
	PQconninfoFree(in);
	PQconninfoFree(out);
}

/* As libpq tells a connection string from a database name. */
static bool
is_connection_string(const char *s)
{
	return strchr(s, '=') != NULL || strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* A database name is shown as dbname=NAME, NAME quoted as libpq reads it back. */
static void
check_database_name(const char *input, const char *shown)
{
	PQconninfoOption *out = PQconninfoParse(shown, NULL);

	if (out == NULL)
		abort();
	for (const PQconninfoOption *o = out; o->keyword; o++)
		if (strcmp(o->keyword, "dbname") == 0 ? !same(o->val, input) : o->val != NULL)
			abort();
	PQconninfoFree(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *input = malloc(size + 1);
	char	   *shown;
	pt_err		err;
	bool		ok;

	memcpy(input, data, size);
	input[size] = '\0';			/* a C string ends at its first NUL, as argv does */
	ok = pt_conninfo_check(input, "--source", &err);
	shown = pt_conninfo_redact(input);
	(void) pt_conninfo_has_password(input);
	if (!ok && input[0] != '\0' && strcmp(shown, "(a connection string that does not parse)") != 0)
		abort();
	if (ok && is_connection_string(input) && strcmp(shown, "(libpq defaults)") != 0)
		check_round_trip(input, shown);
	else if (ok && input[0] != '\0' && !is_connection_string(input))
		check_database_name(input, shown);
	free(shown);
	free(input);
	return 0;
}
