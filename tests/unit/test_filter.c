/*
 * tests/unit/test_filter.c — which tables are captured: include and exclude
 * patterns, wildcards, quoting, the store's own schema, malformed lists,
 * and the schemas a narrow publication covers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/filter.h"

static bool
match(const pt_filter *f, const char *schema, const char *table)
{
	return pt_filter_match(f, schema, strlen(schema), table, strlen(table));
}

static void
test_everything_but_the_store(void **state)
{
	pt_err		err;
	pt_filter  *f = pt_filter_new("", "", "pgtrail", &err);

	(void) state;
	assert_non_null(f);
	assert_true(match(f, "public", "orders"));
	assert_true(match(f, "Billing Dept", "Invoice Lines"));
	assert_false(match(f, "pgtrail", "events"));
	assert_true(match(f, "pgtrail2", "events"));
	pt_filter_free(f);
}

static void
test_include_and_exclude(void **state)
{
	pt_err		err;
	pt_filter  *f = pt_filter_new("public.*, billing.invoice*, audit_log", "public.tmp_*,*.secret", "pgtrail", &err);

	(void) state;
	assert_non_null(f);
	assert_true(match(f, "public", "orders"));
	assert_false(match(f, "public", "tmp_import"));
	assert_false(match(f, "public", "secret"));
	assert_true(match(f, "billing", "invoices"));
	assert_true(match(f, "billing", "invoice"));
	assert_false(match(f, "billing", "payments"));
	assert_true(match(f, "anywhere", "audit_log"));	/* a bare name: any schema */
	assert_false(match(f, "anywhere", "audit_log2"));
	assert_false(match(f, "other", "orders"));
	pt_filter_free(f);
}

static void
test_quoted_names(void **state)
{
	pt_err		err;
	pt_filter  *f = pt_filter_new("\"My.Schema\".\"A,B\", \"x\"\"y\".*", "", "pgtrail", &err);

	(void) state;
	assert_non_null(f);
	assert_true(match(f, "My.Schema", "A,B"));
	assert_false(match(f, "My", "Schema"));
	assert_true(match(f, "x\"y", "anything"));
	pt_filter_free(f);
}

static void
test_malformed(void **state)
{
	pt_err		err;

	(void) state;
	assert_null(pt_filter_new("public.", "", "pgtrail", &err));
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_non_null(strstr(err.message, "invalid table pattern in tables"));
	assert_null(pt_filter_new("", "\"unterminated", "pgtrail", &err));
	assert_non_null(strstr(err.message, "exclude_tables"));
	assert_null(pt_filter_new("a b", "", "pgtrail", &err));
}

/* The schemas of pt_filter_schemas as "a,b" ("*" for NULL). */
static void
assert_schemas(const char *include, const char *want)
{
	pt_err		err;
	pt_filter  *f = pt_filter_new(include, "", "pgtrail", &err);
	int			n;
	const char **schemas;
	char		got[200] = "";

	assert_non_null(f);
	schemas = pt_filter_schemas(f, &n);
	if (schemas == NULL)
		strcpy(got, "*");
	for (int i = 0; schemas && i < n; i++)
	{
		strcat(got, i ? "," : "");
		strcat(got, schemas[i]);
	}
	assert_string_equal(got, want);
	free(schemas);
	pt_filter_free(f);
}

static void
test_schemas(void **state)
{
	(void) state;
	assert_schemas("", "*");
	assert_schemas("shop.*", "shop");
	assert_schemas("shop.orders, \"Odd Schema\".t*, shop.items, pgtrail.events", "shop,Odd Schema");
	assert_schemas("shop.*, orders", "*");		/* a bare name: any schema */
	assert_schemas("shop.*, s*.orders", "*");
	assert_schemas("pgtrail.*", "");			/* only the store: nothing */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everything_but_the_store),
		cmocka_unit_test(test_include_and_exclude),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
