/*
 * tests/unit/test_window.c — what replay's window (replay/window.h) takes,
 * refuses and calls a conflict, without a database: which tables it
 * collapses, changes that contradict the window (a key inserted twice, a
 * row updated or moved after its delete, a key change onto a taken key),
 * key changes it cannot carry exactly (a row it holds only in part) and the
 * ones it can, null keys, and the memory budget (values updates replaced
 * do not count against it), a table whose columns change between windows. Writing the net effect is
 * checked against PostgreSQL by tests/integration/test_replay_window.sh and
 * the fidelity fuzzer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replay/window.h"

/* t (id int PRIMARY KEY, v text, big text) */
static pt_tcolumn cols[3] = {{"id", "integer", false, false, true}, {"v", "text", false, false, false},
{"big", "text", false, false, false}};
static int	pk[1] = {0};

static pt_ttable
table(void)
{
	pt_ttable	tt;

	memset(&tt, 0, sizeof(tt));
	tt.qname = "\"t\"";
	tt.ncols = 3;
	tt.cols = cols;
	tt.npk = 1;
	tt.pk = pk;
	tt.exists = tt.loaded = true;
	return tt;
}

/* Values of columns 0..n-1 from texts (NULL = SQL NULL); "-" leaves the column out. */
static void
values(pt_values *v, int n, const char *const *texts)
{
	pt_values_reset(v);
	for (int c = 0; c < n; c++)
		if (texts[c] == NULL || strcmp(texts[c], "-") != 0)
			pt_values_add(v, c, (pt_text) {texts[c], texts[c] ? strlen(texts[c]) : 0});
}

static void
test_tables_taken(void **state)
{
	pt_ttable	tt = table();

	(void) state;
	assert_true(pt_window_takes(&tt));
	tt.key_deferrable = true;
	assert_false(pt_window_takes(&tt));	/* a swap shares a key for a while */
	tt = table();
	tt.root = "\"parent\"";
	assert_false(pt_window_takes(&tt));	/* rows move between leaves */
	tt = table();
	tt.npk = 0;
	assert_false(pt_window_takes(&tt));	/* no key finds the row */
}

static void
test_conflicts(void **state)
{
	pt_ttable	tt = table();
	pt_window  *w = pt_window_new(NULL, NULL, 1 << 20);
	pt_values	set = {0},
				where = {0};

	(void) state;
	values(&set, 3, (const char *[]) {"1", "a", "x"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 1), PT_WINDOW_TAKEN);
	assert_int_equal(pt_window_insert(w, &tt, &set, 2), PT_WINDOW_CONFLICT);	/* the key is taken */
	values(&where, 1, (const char *[]) {"1"});
	assert_int_equal(pt_window_delete(w, &tt, &where, 3), PT_WINDOW_TAKEN);
	assert_int_equal(pt_window_delete(w, &tt, &where, 4), PT_WINDOW_CONFLICT);	/* deleted already */
	values(&set, 2, (const char *[]) {"-", "b"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 5), PT_WINDOW_CONFLICT);	/* updated after it */
	values(&set, 3, (const char *[]) {"1", "again", "y"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 6), PT_WINDOW_TAKEN);	/* the key is free again */
	/* a key change onto a key the window holds */
	values(&set, 3, (const char *[]) {"2", "b", "z"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 7), PT_WINDOW_TAKEN);
	values(&set, 3, (const char *[]) {"2", "moved", "q"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 8), PT_WINDOW_CONFLICT);
	assert_int_equal(pt_window_changes(w), 4);
	assert_false(pt_window_empty(w));
	pt_window_discard(w);
	assert_true(pt_window_empty(w));
	pt_values_free(&set);
	pt_values_free(&where);
	pt_window_free(w);
}

static void
test_key_changes(void **state)
{
	pt_ttable	tt = table();
	pt_window  *w = pt_window_new(NULL, NULL, 1 << 20);
	pt_values	set = {0},
				where = {0};

	(void) state;
	/* a row from before the window, its big column unchanged (not sent): moving it needs big */
	values(&where, 1, (const char *[]) {"10"});
	values(&set, 2, (const char *[]) {"11", "v"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 1), PT_WINDOW_REFUSED);
	/* with every column sent, it moves */
	values(&set, 3, (const char *[]) {"11", "v", "big"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 2), PT_WINDOW_TAKEN);
	/* a row inserted in the window moves with big from its insert */
	values(&set, 3, (const char *[]) {"20", "a", "big"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 3), PT_WINDOW_TAKEN);
	values(&where, 1, (const char *[]) {"20"});
	values(&set, 2, (const char *[]) {"21", "b"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 4), PT_WINDOW_TAKEN);
	/* the old key is free, the new one taken */
	values(&set, 3, (const char *[]) {"20", "c", "d"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 5), PT_WINDOW_TAKEN);
	values(&set, 3, (const char *[]) {"21", "c", "d"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 6), PT_WINDOW_CONFLICT);
	/* a null or missing key is never found by key */
	values(&set, 3, (const char *[]) {NULL, "c", "d"});
	assert_int_equal(pt_window_insert(w, &tt, &set, 7), PT_WINDOW_REFUSED);
	values(&where, 2, (const char *[]) {"-", "c"});
	assert_int_equal(pt_window_delete(w, &tt, &where, 8), PT_WINDOW_REFUSED);
	/* an update not touching the key, of a row from before: taken in part */
	values(&where, 1, (const char *[]) {"30"});
	values(&set, 2, (const char *[]) {"30", "only v"});
	assert_int_equal(pt_window_update(w, &tt, &set, &where, 9), PT_WINDOW_TAKEN);
	pt_values_free(&set);
	pt_values_free(&where);
	pt_window_free(w);
}

static void
test_budget(void **state)
{
	pt_ttable	tt = table();
	pt_window  *w = pt_window_new(NULL, NULL, 64 * 1024);
	pt_values	set = {0};
	char		key[16];
	int			n = 0;

	(void) state;
	while (!pt_window_full(w))
	{
		snprintf(key, sizeof(key), "%d", ++n);
		values(&set, 3, (const char *[]) {key, "some value", "another value"});
		assert_int_equal(pt_window_insert(w, &tt, &set, n), PT_WINDOW_TAKEN);
		assert_true(n < 10000);
	}
	assert_true(n > 100);
	pt_window_discard(w);
	assert_false(pt_window_full(w));
	/* updates of a few rows leave the values they replaced behind: dropped, never full */
	for (int i = 0; i < 20000; i++)
	{
		pt_values	where = {0};

		snprintf(key, sizeof(key), "%d", i % 10);
		values(&where, 1, (const char *[]) {key});
		values(&set, 3, (const char *[]) {key, "a value that takes some room", "-"});
		assert_int_equal(pt_window_update(w, &tt, &set, &where, i + 1), PT_WINDOW_TAKEN);
		assert_false(pt_window_full(w));
		pt_values_free(&where);
	}
	pt_values_free(&set);
	pt_window_free(w);
}

/* A table's columns change between windows (ADD COLUMN): the next window has room for all of them. */
static void
test_columns_change(void **state)
{
	pt_ttable	tt = table();
	pt_window  *w = pt_window_new(NULL, NULL, 1 << 22);
	pt_values	set = {0};
	char		key[16];

	(void) state;
	tt.ncols = 2;
	for (int i = 1; i <= 10; i++)
	{
		snprintf(key, sizeof(key), "%d", i);
		values(&set, 2, (const char *[]) {key, "a"});
		assert_int_equal(pt_window_insert(w, &tt, &set, i), PT_WINDOW_TAKEN);
	}
	pt_window_discard(w);
	tt.ncols = 3;
	for (int i = 11; i <= 400; i++)
	{
		snprintf(key, sizeof(key), "%d", i);
		values(&set, 3, (const char *[]) {key, "a", "b"});
		assert_int_equal(pt_window_insert(w, &tt, &set, i), PT_WINDOW_TAKEN);
	}
	pt_values_free(&set);
	pt_window_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_taken),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_key_changes),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_columns_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
