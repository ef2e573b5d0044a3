/*
 * tests/unit/test_pgoutput.c — the pgoutput decoder on messages built here
 * byte by byte from PostgreSQL's "Logical Replication Message Formats":
 * what a Relation and an Insert give, and that every message cut short,
 * a change of a relation never described, a binary value and an unknown
 * message are errors with a message, never a crash or a wrong change.
 * (test_pgoutput_decode compares the decoder with wal2json on a server.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/pgoutput.h"

static bool
type_name(void *arg, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	(void) arg;
	(void) err;
	*name = oid == 23 ? "integer" : typmod == 9 ? "character varying(5)" : "text";
	return true;
}

static void
put_u16(pt_buf *b, uint16_t v)
{
	pt_buf_putc(b, (char) (v >> 8));
	pt_buf_putc(b, (char) v);
}

static void
put_cstr(pt_buf *b, const char *s)
{
	pt_buf_append(b, s, strlen(s) + 1);
}

/* R: relation 16384 "app"."t" (id integer key, v varchar(5)), identity default. */
static void
relation_message(pt_buf *b)
{
	pt_buf_putc(b, 'R');
	pt_buf_put_u32be(b, 16384);
	put_cstr(b, "app");
	put_cstr(b, "t");
	pt_buf_putc(b, 'd');
	put_u16(b, 2);
	pt_buf_putc(b, 1);
	put_cstr(b, "id");
	pt_buf_put_u32be(b, 23);
	pt_buf_put_u32be(b, 0xFFFFFFFF);
	pt_buf_putc(b, 0);
	put_cstr(b, "v");
	pt_buf_put_u32be(b, 1043);
	pt_buf_put_u32be(b, 9);
}

/* I: (7, value) with value's kind byte given ('t' text "a\0b", 'n', 'u', 'b'). */
static void
insert_message(pt_buf *b, char kind)
{
	pt_buf_putc(b, 'I');
	pt_buf_put_u32be(b, 16384);
	pt_buf_putc(b, 'N');
	put_u16(b, 2);
	pt_buf_putc(b, 't');
	pt_buf_put_u32be(b, 1);
	pt_buf_putc(b, '7');
	pt_buf_putc(b, kind);
	if (kind == 't' || kind == 'b')
	{
		pt_buf_put_u32be(b, 3);
		pt_buf_append(b, "a\0b", 3);
	}
}

static pt_pgo_decoder *
described(void)
{
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);
	pt_buf		b = PT_BUF_INIT;
	const pt_w2j_change *ch;
	int			n = -1;
	pt_err		err;

	relation_message(&b);
	assert_true(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
	assert_int_equal(n, 0);
	pt_buf_free(&b);
	return d;
}

static void
test_insert(void **state)
{
	pt_pgo_decoder *d = described();
	pt_buf		b = PT_BUF_INIT;
	const pt_w2j_change *ch;
	int			n;
	pt_err		err;

	(void) state;
	insert_message(&b, 't');
	assert_true(pt_pgo_decode(d, b.data, b.len, 0x1234, &ch, &n, &err));
	assert_int_equal(n, 1);
	assert_int_equal(ch->action, 'I');
	assert_int_equal(ch->lsn, 0x1234);
	assert_string_equal(ch->schema.ptr, "app");
	assert_string_equal(ch->table.ptr, "t");
	assert_int_equal(ch->columns.count, 2);
	assert_string_equal(ch->columns.items[0].value.ptr, "7");
	assert_string_equal(ch->columns.items[1].type.ptr, "character varying(5)");
	/* the value's bytes, all of them, NUL-terminated after its length */
	assert_int_equal(ch->columns.items[1].value.len, 3);
	assert_memory_equal(ch->columns.items[1].value.ptr, "a\0b", 4);
	assert_true(ch->pk.present);
	assert_int_equal(ch->pk.count, 1);
	assert_string_equal(ch->pk.items[0].name.ptr, "id");
	pt_buf_reset(&b);
	insert_message(&b, 'u');	/* unchanged TOAST: left out */
	assert_true(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
	assert_int_equal(ch->columns.count, 1);
	pt_buf_free(&b);
	pt_pgo_free(d);
}

/* Every prefix of a valid message is an error, not a change. */
static void
test_cut_short(void **state)
{
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);
	pt_buf		rel = PT_BUF_INIT, ins = PT_BUF_INIT;
	const pt_w2j_change *ch;
	int			n;
	pt_err		err;

	(void) state;
	relation_message(&rel);
	insert_message(&ins, 't');
	for (size_t len = 0; len < rel.len; len++)
		assert_false(pt_pgo_decode(d, rel.data, len, 0, &ch, &n, &err));
	assert_true(pt_pgo_decode(d, rel.data, rel.len, 0, &ch, &n, &err));
	for (size_t len = 0; len < ins.len; len++)
	{
		assert_false(pt_pgo_decode(d, ins.data, len, 0, &ch, &n, &err));
		assert_int_equal(n, 0);
	}
	assert_non_null(strstr(err.message, "cut short"));
	pt_buf_free(&rel);
	pt_buf_free(&ins);
	pt_pgo_free(d);
}

static void
test_refusals(void **state)
{
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);
	pt_buf		b = PT_BUF_INIT;
	const pt_w2j_change *ch;
	int			n;
	pt_err		err;

	(void) state;
	insert_message(&b, 't');
	assert_false(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
	assert_non_null(strstr(err.message, "relation 16384 was not described"));
	pt_pgo_free(d);
	d = described();
	pt_buf_reset(&b);
	insert_message(&b, 'b');
	assert_false(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
	assert_non_null(strstr(err.message, "binary value"));
	assert_false(pt_pgo_decode(d, "S\0\0\0\1\1", 6, 0, &ch, &n, &err));
	assert_non_null(strstr(err.message, "not one capture asked for"));
	pt_buf_free(&b);
	pt_pgo_free(d);
}

/* B: a commit time past PostgreSQL's range is malformed, not wrapped; its last valid value is kept. */
static void
test_commit_time_range(void **state)
{
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);
	pt_buf		b = PT_BUF_INIT;
	const pt_w2j_change *ch;
	int			n;
	pt_err		err;
	const int64_t last_us = INT64_MAX - INT64_C(946684800000000);

	(void) state;
	for (int past = 0; past <= 1; past++)
	{
		pt_buf_reset(&b);
		pt_buf_putc(&b, 'B');
		pt_buf_put_u32be(&b, 0);
		pt_buf_put_u32be(&b, 0x1000);
		pt_buf_put_u32be(&b, (uint32_t) ((uint64_t) (last_us + past) >> 32));
		pt_buf_put_u32be(&b, (uint32_t) (last_us + past));
		pt_buf_put_u32be(&b, 42);
		if (past)
		{
			assert_false(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
			assert_non_null(strstr(err.message, "outside PostgreSQL's timestamp range"));
			continue;
		}
		assert_true(pt_pgo_decode(d, b.data, b.len, 0, &ch, &n, &err));
		assert_int_equal(n, 1);
		assert_true(ch->commit_time == INT64_MAX);
		assert_int_equal(ch->xid, 42);
	}
	pt_buf_free(&b);
	pt_pgo_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_commit_time_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
