/*
 * tests/unit/test_conninfo.c — connection strings without their secrets
 * (core/conninfo.c): every way a password can sit in a key=value list or a
 * URI is redacted, a connection string that does not parse is never shown,
 * and the error for it says what is wrong without quoting any of it.
 * The secret in every case is "Hunter2SECRET" (or a piece of it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/conninfo.h"

#define NOT_PARSED "(a connection string that does not parse)"

/* pt_conninfo_redact(conninfo) is exactly expected. */
static void
redacts_to(const char *conninfo, const char *expected)
{
	char	   *s = pt_conninfo_redact(conninfo);

	assert_string_equal(s, expected);
	assert_null(strstr(s, "Hunter2"));
	assert_null(strstr(s, "SECRET"));
	free(s);
}

static void
test_redact_keywords(void **state)
{
	(void) state;
	/* rewritten from libpq's parse, in libpq's keyword order */
	redacts_to("host=db user=app password=Hunter2SECRET dbname=x", "user=app password=*** dbname=x host=db");
	redacts_to("host=db password='Hunter2 SECRET'", "password=*** host=db");
	/* escaped quotes and backslashes cannot end the value early */
	redacts_to("password='Hunter2\\' SECRET \\\\ x=\\'y' host=db", "password=*** host=db");
	redacts_to("host = db  password = Hunter2SECRET", "password=*** host=db");
	/* the last of two wins in libpq; neither shows */
	redacts_to("password=Hunter2 host=db password=SECRET", "password=*** host=db");
	redacts_to("host=db sslpassword=Hunter2SECRET sslkey=/k.pem", "host=db sslkey=/k.pem sslpassword=***");
	/* other values keep the quoting libpq would need to read them back */
	redacts_to("host=db application_name='my app' password=Hunter2SECRET",
			   "password=*** host=db application_name='my app'");
	redacts_to("host=db", "host=db");
}

static void
test_redact_uri(void **state)
{
	(void) state;
	redacts_to("postgresql://app:Hunter2SECRET@db:5432/x?sslmode=require",
			   "postgresql://app:***@db:5432/x?sslmode=require");
	redacts_to("postgres://app:Hunter2%40SECRET@db/x", "postgres://app:***@db/x");
	/* libpq's user info ends at the first "@" before any "/": "?" belongs to the password */
	redacts_to("postgresql://app:Hunter2?SECRET@db/x", "postgresql://app:***@db/x");
	redacts_to("postgresql://app@db/x", "postgresql://app@db/x");
	redacts_to("postgresql://db/x?password=Hunter2SECRET", "postgresql://db/x?password=***");
	redacts_to("postgresql://db/x?sslmode=require&password=Hunter2SECRET&application_name=a",
			   "postgresql://db/x?sslmode=require&password=***&application_name=a");
	/* libpq percent-decodes parameter names: pass%77ord is password */
	redacts_to("postgresql://db/x?pass%77ord=Hunter2SECRET", "postgresql://db/x?pass%77ord=***");
	redacts_to("postgresql://u:Hunter2@h1:1,h2:2/x?sslpassword=SECRET", "postgresql://u:***@h1:1,h2:2/x?sslpassword=***");
	redacts_to("postgresql://[::1]:5432/x?password=Hunter2SECRET", "postgresql://[::1]:5432/x?password=***");
	/* libpq reads a host in brackets up to "]", "?" and all: the query starts after it (fuzz_conninfo) */
	redacts_to("postgresql://[h?x=1]?password=Hunter2SECRET", "postgresql://[h?x=1]?password=***");
	redacts_to("postgresql://h1,[h?x=1]:5,h3/db?password=Hunter2SECRET", "postgresql://h1,[h?x=1]:5,h3/db?password=***");
	redacts_to("postgresql://u:Hunter2SECRET@/x?host=/run/postgresql", "postgresql://u:***@/x?host=/run/postgresql");
}

static void
test_redact_unparsed(void **state)
{
	(void) state;
	/* the two of issue 14 */
	redacts_to("postgresql://u:Hunter2SECRET%zz@host/db", NOT_PARSED);
	redacts_to("postgresql://u:Hunter2SECRET@[::1/db", NOT_PARSED);
	/* an unencoded "@" or "/" in a password: libpq would take a piece of it as host or dbname */
	redacts_to("postgresql://u:Hunter2@SECRET@host/db", NOT_PARSED);
	redacts_to("postgresql://u:Hunter2/SECRET@host/db", NOT_PARSED);
	redacts_to("postgresql://db/x?PASSWORD=Hunter2SECRET", NOT_PARSED);
	redacts_to("postgresql://db/x?password=Hunter2=SECRET", NOT_PARSED);
	redacts_to("host=db password=Hunter2 SECRET", NOT_PARSED);
	redacts_to("host=db password='Hunter2SECRET", NOT_PARSED);
	redacts_to("host=db passwd=Hunter2SECRET", NOT_PARSED);
	/* no "=" and no URI prefix: libpq takes it as a database name... */
	redacts_to("appdb", "dbname=appdb");
	/* ...which the server's error would quote: not when it looks like a URI */
	redacts_to("jdbc:postgresql://u:Hunter2SECRET@h/db", NOT_PARSED);
	redacts_to("POSTGRESQL://u:Hunter2SECRET@h/db", NOT_PARSED);
	redacts_to("u:Hunter2SECRET@h/db", NOT_PARSED);
	redacts_to("", "(libpq defaults)");
	redacts_to(NULL, "(libpq defaults)");
}

/* pt_conninfo_check(conninfo, what) fails with message, without a trace of the secret. */
static void
rejects(const char *conninfo, const char *what, const char *message)
{
	pt_err		err;

	pt_err_clear(&err);
	assert_false(pt_conninfo_check(conninfo, what, &err));
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_string_equal(err.message, message);
	assert_true(err.hint[0] != '\0');
	assert_null(strstr(err.message, "Hunter2"));
	assert_null(strstr(err.detail, "Hunter2"));
	assert_null(strstr(err.hint, "Hunter2"));
	assert_null(strstr(err.message, "SECRET"));
}

static void
test_check(void **state)
{
	pt_err		err;

	(void) state;
	rejects("postgresql://u:Hunter2SECRET%zz@host/db", "--source",
			"invalid connection string for --source: invalid percent-encoded token");
	rejects("postgresql://u:Hunter2SECRET@[::1/db", "--events",
			"invalid connection string for --events: unclosed \"[\" around an IPv6 host address");
	rejects("postgresql://u:Hunter2SECRET@[]/db", NULL, "invalid connection string: empty IPv6 host address \"[]\"");
	rejects("postgresql://u:Hunter2SECRET@[::1]x/db", NULL,
			"invalid connection string: unexpected character after a host address in brackets (expected \":\" or \"/\")");
	rejects("postgresql://u:Hunter2@SECRET@host/db", NULL,
			"invalid connection string: \"@\" in the host or database part of the URI");
	rejects("postgresql://u:Hunter2/SECRET@host/db", NULL,
			"invalid connection string: \"@\" in the host or database part of the URI");
	/* found by fuzz.conninfo: hiding the "/" in a secret value made libpq read the "@" as the user info's end */
	rejects("postgresql://b:5432oappl_?sslpassword=mmmmmpostgres://mmmmmmmi&password=mi&password=t&"
			"application_name=a@bword", NULL, "invalid connection string: \"@\" in the query part of the URI");
	rejects("postgresql://h/db?Hunter2SECRET=x", NULL, "invalid connection string: unknown URI query parameter");
	rejects("postgresql://h/db?password=Hunter2=SECRET", NULL,
			"invalid connection string: extra \"=\" in a URI query parameter");
	rejects("postgresql://h/db?Hunter2SECRET", NULL, "invalid connection string: URI query parameter without \"=\"");
	rejects("postgresql://h/db?password=%00Hunter2SECRET", NULL,
			"invalid connection string: forbidden value %00 in a percent-encoded value");
	rejects("host=db Hunter2SECRET=x", NULL, "invalid connection string: unknown connection keyword");
	rejects("host=db password=Hunter2 SECRET", NULL, "invalid connection string: a word without \"=\"");
	rejects("host=db password='Hunter2SECRET", NULL, "invalid connection string: unterminated quoted string");
	rejects("jdbc:postgresql://u:Hunter2SECRET@h/db", NULL,
			"invalid connection string: neither a postgresql:// URI nor key=value pairs nor a database name");
	rejects("u:Hunter2SECRET@h", NULL,
			"invalid connection string: neither a postgresql:// URI nor key=value pairs nor a database name");

	pt_err_clear(&err);
	assert_true(pt_conninfo_check("", "--source", &err));
	assert_true(pt_conninfo_check(NULL, "--source", &err));
	assert_true(pt_conninfo_check("appdb", "--source", &err));
	assert_true(pt_conninfo_check("host=db port=5432 password='a b'", "--source", &err));
	assert_true(pt_conninfo_check("postgresql://u:p%40ss@[::1]:5432/db?sslmode=disable", "--source", &err));
	/* an "@" in the query is not in the host part */
	assert_true(pt_conninfo_check("postgresql://u@h/db?application_name=a@b", "--source", &err));
	assert_int_equal(err.kind, PT_ERR_NONE);
}

static void
test_has_password(void **state)
{
	(void) state;
	assert_true(pt_conninfo_has_password("host=db password=Hunter2SECRET"));
	assert_true(pt_conninfo_has_password("host=db password='Hunter2 SECRET'"));
	assert_true(pt_conninfo_has_password("host=db sslpassword=Hunter2SECRET"));
	assert_true(pt_conninfo_has_password("postgresql://u:Hunter2SECRET@h/db"));
	assert_true(pt_conninfo_has_password("postgresql://h/db?password=Hunter2SECRET"));
	assert_false(pt_conninfo_has_password("postgresql://u@h/db"));
	assert_false(pt_conninfo_has_password("postgresql://u:@h/db"));
	assert_false(pt_conninfo_has_password("host=db passfile=/var/lib/pgtrail/.pgpass"));
	assert_false(pt_conninfo_has_password("password"));	/* a database name */
	assert_false(pt_conninfo_has_password(""));
	assert_false(pt_conninfo_has_password(NULL));
	/* not parsed: the configuration error says so instead */
	assert_false(pt_conninfo_has_password("postgresql://u:Hunter2SECRET%zz@host/db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_keywords),
		cmocka_unit_test(test_redact_uri),
		cmocka_unit_test(test_redact_unparsed),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_has_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
