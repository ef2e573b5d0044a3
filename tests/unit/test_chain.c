/*
 * tests/unit/test_chain.c — canonical encoding and hash chain against the
 * test vectors of docs/FORMAT.md.
 *
 * The vectors are defined here once; `test_chain --print-vectors` prints
 * them in FORMAT.md's notation, and a test checks that FORMAT.md holds
 * exactly those canonical bytes and hashes, so the document, this code and
 * the independent checker (tests/checker) can never drift apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/json.h"
#include "core/schema_event.h"

static const pt_text unchanged2[] = {{"big col", 7}, {"a\"b,c\\d", 8}};

/* The schema event's row: a version's document, as the writer builds it. */
static const char *
schema_doc(void)
{
	static pt_buf doc = PT_BUF_INIT;
	static const char *const pk[] = {"id", "tab\there \"q\""};

	if (doc.len == 0)
		pt_schema_doc(&doc, "[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23},"
					  "{\"name\":\"tab\\there \\\"q\\\"\",\"type\":\"public.mood\",\"typeoid\":16385}]",
					  pk, 2, "{\"oid\":16390,\"columns\":[{\"name\":\"id\",\"not_null\":true,\"default\":"
					  "\"nextval('t_id_seq'::regclass)\"}]}");
	return doc.data;
}

/* Four events forming a chain from id 1 (the fourth: a schema event). */
static pt_event
vector(int i)
{
	pt_event	ev;

	memset(&ev, 0, sizeof(ev));
	switch (i)
	{
		case 0:
			ev.lsn = UINT64_C(0x16B3748);
			ev.commit_lsn = UINT64_C(0x16B3790);
			ev.has_xid = true;
			ev.xid = 731;
			ev.committed_at = INT64_C(1795476923658633);
			ev.schema_name = pt_text_c("public");
			ev.table_name = pt_text_c("accounts");
			ev.has_schema_version = true;
			ev.schema_version = 1;
			ev.op = PT_OP_INSERT;
			ev.key = pt_text_c("{\"id\":\"1\"}");
			ev.row = pt_text_c("{\"id\":\"1\",\"name\":\"Zoë 💶\",\"balance\":\"1234567890123456789012345678901234567.890\",\"note\":null}");
			break;
		case 1:
			ev.lsn = UINT64_C(0x100000000A0);
			ev.commit_lsn = UINT64_C(0x100000000F0);
			ev.has_xid = true;
			ev.xid = 4294967295;
			ev.committed_at = INT64_C(1795476924000000);
			ev.schema_name = pt_text_c("My Schema");
			ev.table_name = pt_text_c("Odd \"Tab\"");
			ev.has_schema_version = true;
			ev.schema_version = 2;
			ev.op = PT_OP_UPDATE;
			ev.key = pt_text_c("{\"id\":\"1\"}");
			ev.row = pt_text_c("{\"id\":\"1\",\"f\":\"-0\",\"b\":\"\\\\x00ff\",\"j\":\"{\\\"a\\\":1, \\\"a\\\":2}\",\"t\":\"line\\nnext\\ttab\"}");
			ev.old = pt_text_c("{\"id\":\"1\"}");
			ev.unchanged = unchanged2;
			ev.nunchanged = 2;
			ev.actor = pt_text_c("alice@example.com");
			ev.action = pt_text_c("");
			ev.metadata = pt_text_c("{\"request\": \"r-1\", \"request\": \"dup\"}");
			break;
		case 3:
			ev.lsn = UINT64_C(0x16B3800);
			ev.commit_lsn = UINT64_C(0x16B3900);
			ev.has_xid = true;
			ev.xid = 732;
			ev.committed_at = INT64_C(1795476925000001);
			ev.schema_name = pt_text_c("public");
			ev.table_name = pt_text_c("t");
			ev.has_schema_version = true;
			ev.schema_version = 1;
			ev.op = PT_OP_SCHEMA;
			ev.row = pt_text_c(schema_doc());
			break;
		default:
			ev.lsn = 0;
			ev.commit_lsn = UINT64_C(0xFFFFFFFFFFFFFFFF);
			ev.committed_at = -1;
			ev.op = PT_OP_GAP;
			ev.metadata = pt_text_c("{\"reason\":\"slot lost\"}");
			break;
	}
	return ev;
}

#define NVECTORS 4

static void
hex(const void *p, size_t n, pt_buf *out)
{
	char	   *h = malloc(2 * n + 1);

	pt_hex_encode(p, n, h);
	pt_buf_append(out, h, 2 * n);
	free(h);
}

/* Compute all vectors: canonical hex and hash hex of each, chained. */
static void
compute(pt_buf canon_hex[NVECTORS], pt_buf hash_hex[NVECTORS], pt_event evs[NVECTORS])
{
	pt_chain   *chain = pt_chain_new(0, NULL);

	for (int i = 0; i < NVECTORS; i++)
	{
		pt_buf		canon = PT_BUF_INIT;

		evs[i] = vector(i);
		pt_chain_append(chain, &evs[i]);
		pt_canon_encode(&evs[i], &canon);
		pt_buf_init(&canon_hex[i]);
		pt_buf_init(&hash_hex[i]);
		hex(canon.data, canon.len, &canon_hex[i]);
		hex(evs[i].hash, PT_HASH_LEN, &hash_hex[i]);
		pt_buf_free(&canon);
	}
	pt_chain_free(chain);
}

static void
put_json_text(pt_buf *b, const char *name, pt_text t)
{
	pt_buf_printf(b, "%s: ", name);
	if (t.ptr == NULL)
		pt_buf_puts(b, "null");
	else
		pt_json_put_string(b, t.ptr, t.len);
	pt_buf_putc(b, '\n');
}

static void
print_vectors(void)
{
	pt_buf		canon[NVECTORS],
				hash[NVECTORS];
	pt_event	evs[NVECTORS];
	pt_buf		b = PT_BUF_INIT;
	char		lsn[PT_LSN_BUFLEN];

	compute(canon, hash, evs);
	for (int i = 0; i < NVECTORS; i++)
	{
		pt_event   *ev = &evs[i];

		pt_buf_reset(&b);
		pt_buf_puts(&b, "```vector\n");
		pt_buf_printf(&b, "id: %lld\n", (long long) ev->id);
		pt_lsn_format(ev->lsn, lsn);
		pt_buf_printf(&b, "lsn: \"%s\"\n", lsn);
		pt_lsn_format(ev->commit_lsn, lsn);
		pt_buf_printf(&b, "commit_lsn: \"%s\"\n", lsn);
		if (ev->has_xid)
			pt_buf_printf(&b, "xid: %lld\n", (long long) ev->xid);
		else
			pt_buf_puts(&b, "xid: null\n");
		pt_buf_printf(&b, "committed_at_us: %lld\n", (long long) ev->committed_at);
		put_json_text(&b, "schema_name", ev->schema_name);
		put_json_text(&b, "table_name", ev->table_name);
		if (ev->has_schema_version)
			pt_buf_printf(&b, "schema_version: %d\n", ev->schema_version);
		else
			pt_buf_puts(&b, "schema_version: null\n");
		pt_buf_printf(&b, "op: \"%s\"\n", pt_op_name(ev->op));
		put_json_text(&b, "key", ev->key);
		put_json_text(&b, "row", ev->row);
		put_json_text(&b, "old", ev->old);
		pt_buf_puts(&b, "unchanged: [");
		for (int k = 0; k < ev->nunchanged; k++)
		{
			if (k)
				pt_buf_puts(&b, ", ");
			pt_json_put_string(&b, ev->unchanged[k].ptr, ev->unchanged[k].len);
		}
		pt_buf_puts(&b, "]\n");
		put_json_text(&b, "actor", ev->actor);
		put_json_text(&b, "action", ev->action);
		put_json_text(&b, "metadata", ev->metadata);
		pt_buf_puts(&b, "prev_hash: \"");
		hex(ev->prev_hash, PT_HASH_LEN, &b);
		pt_buf_printf(&b, "\"\ncanonical: \"%s\"\nhash: \"%s\"\n```\n\n", canon[i].data, hash[i].data);
		fputs(b.data, stdout);
		pt_buf_free(&canon[i]);
		pt_buf_free(&hash[i]);
	}
	pt_buf_free(&b);
}

static char *
read_format_md(void)
{
	const char *root = getenv("PGTRAIL_TEST_SOURCE_DIR");
	char		path[4096];
	FILE	   *f;
	pt_buf		b = PT_BUF_INIT;
	char		chunk[8192];
	size_t		n;

	snprintf(path, sizeof(path), "%s/docs/FORMAT.md", root ? root : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pt_buf_append(&b, chunk, n);
	fclose(f);
	return b.data;
}

static void
test_vectors_are_in_format_md(void **state)
{
	pt_buf		canon[NVECTORS],
				hash[NVECTORS];
	pt_event	evs[NVECTORS];
	char	   *doc = read_format_md();

	(void) state;
	compute(canon, hash, evs);
	for (int i = 0; i < NVECTORS; i++)
	{
		if (strstr(doc, canon[i].data) == NULL || strstr(doc, hash[i].data) == NULL)
			fail_msg("vector %d of FORMAT.md differs from the code; regenerate with "
					 "build/bin/test_chain --print-vectors", i + 1);
		pt_buf_free(&canon[i]);
		pt_buf_free(&hash[i]);
	}
	free(doc);
}

/* Vector 5 (format 2, prev_hash: vector 4's hash) and vector 6 (it, with row.email erased). */
static pt_event
vector_v2(bool erased, uint8_t *seal, uint8_t *sealed)
{
	static const pt_text names[] = {{"row.email", 9}};
	pt_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 5;
	ev.lsn = UINT64_C(0x16B3A00);
	ev.commit_lsn = UINT64_C(0x16B3B00);
	ev.has_xid = true;
	ev.xid = 733;
	ev.committed_at = INT64_C(1795476926000002);
	ev.schema_name = pt_text_c("shop");
	ev.table_name = pt_text_c("customers");
	ev.has_schema_version = true;
	ev.schema_version = 1;
	ev.op = PT_OP_UPDATE;
	ev.key = pt_text_c("{\"id\":\"42\"}");
	ev.row = pt_text_c(erased ? "{\"id\":\"42\",\"name\":\"Alice Example\",\"email\":null}" :
					   "{\"id\":\"42\",\"name\":\"Alice Example\",\"email\":\"alice@example.com\"}");
	ev.old = pt_text_c("{\"id\":\"42\"}");
	ev.actor = pt_text_c("app");
	for (int i = 0; i < PT_SEAL_LEN; i++)
		seal[i] = (uint8_t) (erased ? 0xF0 - 0x10 * i : i);
	ev.seal = seal;
	ev.sealed = erased ? sealed : NULL;
	ev.erased = erased ? names : NULL;
	ev.nerased = erased ? 1 : 0;
	return ev;
}

static void
assert_in_doc(const char *doc, const uint8_t *bytes, size_t n)
{
	pt_buf		h = PT_BUF_INIT;

	hex(bytes, n, &h);
	if (strstr(doc, h.data) == NULL)
		fail_msg("%s is not in FORMAT.md", h.data);
	pt_buf_free(&h);
}

/* Format 2: the values commitment, the hash that erasure keeps, the redaction digest. */
static void
test_format2_vectors(void **state)
{
	pt_buf		canon[NVECTORS],
				hash[NVECTORS];
	pt_event	evs[NVECTORS], ev;
	uint8_t		seal[PT_SEAL_LEN], seal2[PT_SEAL_LEN], values[PT_HASH_LEN], digest[PT_HASH_LEN],
				h5[PT_HASH_LEN], h6[PT_HASH_LEN];
	char	   *doc = read_format_md();
	pt_chain   *chain = pt_chain_new(0, NULL);

	(void) state;
	compute(canon, hash, evs);
	ev = vector_v2(false, seal, NULL);
	pt_chain_values(chain, &ev, seal, false, values);
	pt_chain_hash(chain, evs[3].hash, &ev, h5);
	assert_in_doc(doc, values, PT_HASH_LEN);
	assert_in_doc(doc, h5, PT_HASH_LEN);
	ev = vector_v2(true, seal2, values);
	pt_chain_hash(chain, evs[3].hash, &ev, h6);
	assert_memory_equal(h5, h6, PT_HASH_LEN);	/* erasure keeps the hash */
	pt_chain_values(chain, &ev, seal2, true, digest);
	assert_in_doc(doc, digest, PT_HASH_LEN);
	ev.sealed = NULL;			/* without the commitment, the erased form no longer hashes the same */
	pt_chain_hash(chain, evs[3].hash, &ev, h6);
	assert_memory_not_equal(h5, h6, PT_HASH_LEN);
	for (int i = 0; i < NVECTORS; i++)
	{
		pt_buf_free(&canon[i]);
		pt_buf_free(&hash[i]);
	}
	pt_chain_free(chain);
	free(doc);
}

static void
test_canonical_layout(void **state)
{
	pt_event	ev = vector(2);
	pt_buf		canon = PT_BUF_INIT;
	const unsigned char *p;

	(void) state;
	ev.id = 3;
	pt_canon_encode(&ev, &canon);
	p = (const unsigned char *) canon.data;
	assert_memory_equal(p, "PGTRAIL1", 8);
	/* id "3": length 1 then the digit */
	assert_memory_equal(p + 8, "\0\0\0\1" "3", 5);
	/* lsn "0/0" */
	assert_memory_equal(p + 13, "\0\0\0\3" "0/0", 7);
	/* commit_lsn "FFFFFFFF/FFFFFFFF" */
	assert_memory_equal(p + 20, "\0\0\0\x11" "FFFFFFFF/FFFFFFFF", 21);
	/* xid NULL */
	assert_memory_equal(p + 41, "\xff\xff\xff\xff", 4);
	/* committed_at -1 */
	assert_memory_equal(p + 45, "\0\0\0\2" "-1", 6);
	pt_buf_free(&canon);
}

/* Every covered column changes the hash; the empty string is not NULL. */
static void
test_every_field_is_covered(void **state)
{
	pt_chain   *chain = pt_chain_new(0, NULL);
	uint8_t		zero[PT_HASH_LEN] = {0};
	uint8_t		base[PT_HASH_LEN],
				h[PT_HASH_LEN];
	pt_event	ev = vector(1);
	static const pt_text one_unchanged[] = {{"big col", 7}};

	(void) state;
	ev.id = 2;
	pt_chain_hash(chain, zero, &ev, base);
#define CHANGED(stmt) do { pt_event e = ev; stmt; pt_chain_hash(chain, zero, &e, h); \
		assert_memory_not_equal(h, base, PT_HASH_LEN); } while (0)
	CHANGED(e.id = 3);
	CHANGED(e.lsn++);
	CHANGED(e.commit_lsn++);
	CHANGED(e.has_xid = false);
	CHANGED(e.xid++);
	CHANGED(e.committed_at++);
	CHANGED(e.schema_name = pt_text_c("public"));
	CHANGED(e.table_name = pt_text_c("t"));
	CHANGED(e.has_schema_version = false);
	CHANGED(e.schema_version++);
	CHANGED(e.op = PT_OP_DELETE);
	CHANGED(e.key = pt_text_c("{\"id\":\"2\"}"));
	CHANGED(e.row.len--);
	CHANGED(e.old = pt_text_c(NULL));
	CHANGED(e.unchanged = one_unchanged; e.nunchanged = 1);
	CHANGED(e.actor = pt_text_c("bob"));
	CHANGED(e.action = pt_text_c(NULL));	/* "" and NULL differ */
	CHANGED(e.metadata = pt_text_c("{\"request\": \"r-1\"}"));
	/* prev_hash is covered as the prefix */
	{
		uint8_t		other[PT_HASH_LEN] = {1};

		pt_chain_hash(chain, other, &ev, h);
		assert_memory_not_equal(h, base, PT_HASH_LEN);
	}
#undef CHANGED
	pt_chain_free(chain);
}

static void
test_check_detects_tampering(void **state)
{
	pt_chain   *writer = pt_chain_new(0, NULL);
	pt_chain   *checker = pt_chain_new(0, NULL);
	pt_event	evs[NVECTORS];
	pt_err		err;

	(void) state;
	for (int i = 0; i < NVECTORS; i++)
	{
		evs[i] = vector(i);
		pt_chain_append(writer, &evs[i]);
	}
	assert_true(pt_chain_check(checker, &evs[0], &err));
	/* skipping event 2 */
	assert_false(pt_chain_check(checker, &evs[2], &err));
	assert_int_equal(err.kind, PT_ERR_INTEGRITY);
	assert_non_null(strstr(err.message, "expected id 2"));
	/* a changed value in event 2 */
	evs[1].actor = pt_text_c("mallory");
	assert_false(pt_chain_check(checker, &evs[1], &err));
	assert_non_null(strstr(err.message, "event 2: hash does not match"));
	/* a recomputed event 2 breaks event 3's link */
	pt_chain_reset(writer, 1, evs[0].hash);
	pt_chain_append(writer, &evs[1]);
	assert_true(pt_chain_check(checker, &evs[1], &err));
	assert_false(pt_chain_check(checker, &evs[2], &err));
	assert_non_null(strstr(err.message, "event 3: prev_hash does not match"));
	pt_chain_free(writer);
	pt_chain_free(checker);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_are_in_format_md),
		cmocka_unit_test(test_canonical_layout),
		cmocka_unit_test(test_format2_vectors),
		cmocka_unit_test(test_every_field_is_covered),
		cmocka_unit_test(test_check_detects_tampering),
	};

	if (argc > 1 && strcmp(argv[1], "--print-vectors") == 0)
	{
		print_vectors();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
