/*
 * test_checkpoint.c — checkpoints: the signed text, Ed25519 signatures,
 * key files, anchor lines (core/checkpoint.c). The key is RFC 8032's
 * first test key, so the signature is a fixed vector (docs/FORMAT.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checkpoint.h"
#include "core/erasure.h"
#include "core/hex.h"

#define RFC8032_SECRET "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
/* what `openssl pkeyutl -sign -rawin` gives for expected_message with that key */
#define SIGNATURE "b65b4dd1211188039abd682af8f391163dd0bda28f67abf875892b99b7c4df66" \
	"c630cc5bea76d0e19e9248a9e661cb90c1e38c46d103a5c266b77cbd21dcc20a"
#define KEY_ID "21fe31dfa154a261"

static const char *const expected_message =
	"pgtrail checkpoint 1\n"
	"event_id 10000\n"
	"hash 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"lsn 0/16B3748\n"
	"created_at 2026-11-24 10:00:00.123456+00\n";

static char dir[64];
static char private_pem[128];
static char public_pem[128];
static char other_pem[128];

static void
write_key(EVP_PKEY *pkey, const char *path, bool private_half)
{
	FILE	   *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(private_half ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
					 : PEM_write_PUBKEY(f, pkey), 1);
	fclose(f);
}

static int
setup(void **state)
{
	uint8_t		secret[32];
	EVP_PKEY   *pkey,
			   *other;

	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/pt_cp_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(private_pem, sizeof(private_pem), "%s/signing.pem", dir);
	snprintf(public_pem, sizeof(public_pem), "%s/public.pem", dir);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", dir);
	assert_true(pt_hex_decode(RFC8032_SECRET, 32, secret));
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, 32);
	other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(pkey);
	assert_non_null(other);
	write_key(pkey, private_pem, true);
	write_key(pkey, public_pem, false);
	write_key(other, other_pem, false);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(other);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	unlink(private_pem);
	unlink(public_pem);
	unlink(other_pem);
	rmdir(dir);
	return 0;
}

static pt_checkpoint
sample(void)
{
	pt_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	cp.event_id = 10000;
	for (int i = 0; i < PT_HASH_LEN; i++)
		cp.hash[i] = (uint8_t) i;
	cp.lsn = 0x16B3748;
	cp.created_at = INT64_C(1795514400123456);	/* 2026-11-24 10:00:00.123456 UTC */
	return cp;
}

static void
test_message_is_fixed(void **state)
{
	pt_checkpoint cp = sample();
	pt_buf		msg = PT_BUF_INIT;

	(void) state;
	pt_checkpoint_message(&cp, &msg);
	assert_string_equal(msg.data, expected_message);
	pt_buf_free(&msg);
}

static void
test_sign_and_verify(void **state)
{
	pt_checkpoint cp = sample();
	pt_err		err;
	pt_signing_key *key = pt_signing_key_load(private_pem, &err);
	pt_keyring *ring = pt_keyring_load(public_pem, &err);
	char		sig[2 * PT_SIG_LEN + 1];

	(void) state;
	assert_non_null(key);
	assert_non_null(ring);
	assert_false(pt_checkpoint_verify(ring, &cp, &err));	/* unsigned */
	assert_true(pt_checkpoint_sign(key, &cp, &err));
	pt_hex_encode(cp.signature, PT_SIG_LEN, sig);
	/* Ed25519 is deterministic: this is the vector in docs/FORMAT.md */
	assert_string_equal(sig, SIGNATURE);
	assert_string_equal(cp.key_id, KEY_ID);
	assert_true(pt_checkpoint_verify(ring, &cp, &err));

	/* every signed field counts */
	{
		pt_checkpoint bad = cp;

		bad.event_id++;
		assert_false(pt_checkpoint_verify(ring, &bad, &err));
		assert_int_equal(err.kind, PT_ERR_INTEGRITY);
		bad = cp;
		bad.hash[31] ^= 1;
		assert_false(pt_checkpoint_verify(ring, &bad, &err));
		bad = cp;
		bad.lsn++;
		assert_false(pt_checkpoint_verify(ring, &bad, &err));
		bad = cp;
		bad.created_at++;
		assert_false(pt_checkpoint_verify(ring, &bad, &err));
		bad = cp;
		bad.signature[0] ^= 1;
		assert_false(pt_checkpoint_verify(ring, &bad, &err));
		assert_non_null(strstr(err.message, "bad signature"));
	}
	pt_signing_key_free(key);
	pt_keyring_free(ring);
}

static void
test_keyrings(void **state)
{
	pt_checkpoint cp = sample();
	pt_err		err;
	pt_signing_key *key = pt_signing_key_load(private_pem, &err);
	pt_keyring *other = pt_keyring_load(other_pem, &err);
	pt_keyring *both;
	char		both_pem[160];
	char		cmd[600];

	(void) state;
	assert_true(pt_checkpoint_sign(key, &cp, &err));
	assert_false(pt_checkpoint_verify(other, &cp, &err));
	assert_non_null(strstr(err.message, "not by a given public key"));
	/* a rotated key: old and new public keys in one file */
	snprintf(both_pem, sizeof(both_pem), "%s/both.pem", dir);
	snprintf(cmd, sizeof(cmd), "cat %s %s > %s", other_pem, public_pem, both_pem);
	assert_int_equal(system(cmd), 0);
	both = pt_keyring_load(both_pem, &err);
	assert_non_null(both);
	assert_true(pt_checkpoint_verify(both, &cp, &err));
	unlink(both_pem);
	/* the private key is refused as a public key, with the fix */
	assert_null(pt_keyring_load(private_pem, &err));
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_non_null(strstr(err.hint, "-pubout"));
	/* and a public key cannot sign */
	assert_null(pt_signing_key_load(public_pem, &err));
	assert_int_equal(err.kind, PT_ERR_CONFIG);
	assert_null(pt_keyring_load("/nonexistent/key.pem", &err));
	pt_signing_key_free(key);
	pt_keyring_free(other);
	pt_keyring_free(both);
}

static void
test_anchor_lines(void **state)
{
	pt_checkpoint cp = sample(),
				back;
	pt_err		err;
	pt_signing_key *key = pt_signing_key_load(private_pem, &err);
	pt_buf		line = PT_BUF_INIT;
	static const char *const bad[] = {
		"", "{}", "[]", "not json",
		"{\"event_id\":\"1\",\"hash\":\"00\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\"}",
		"{\"event_id\":-1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\"}",
		"{\"event_id\":1,\"hash\":\"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\"}",
		"{\"event_id\":1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"x\",\"created_at\":\"2026-01-01 00:00:00+00\"}",
		"{\"event_id\":1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"yesterday\"}",
		/* signature fields missing, or present but malformed: not taken as unsigned */
		"{\"event_id\":1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\"}",
		"{\"event_id\":1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\",\"signature\":\"abcd\",\"key_id\":\"21fe31dfa154a261\"}",
		"{\"event_id\":1,\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"lsn\":\"0/1\",\"created_at\":\"2026-01-01 00:00:00+00\",\"signature\":null,\"key_id\":\"21fe31dfa154a261\"}",
	};

	(void) state;
	/* unsigned */
	pt_checkpoint_anchor_line(&cp, &line);
	assert_int_equal(line.data[line.len - 1], '\n');
	assert_true(pt_checkpoint_parse_anchor(line.data, line.len - 1, &back, &err));
	assert_false(back.signed_);
	assert_int_equal(back.event_id, cp.event_id);
	assert_memory_equal(back.hash, cp.hash, PT_HASH_LEN);
	assert_int_equal(back.lsn, cp.lsn);
	assert_int_equal(back.created_at, cp.created_at);
	/* signed */
	assert_true(pt_checkpoint_sign(key, &cp, &err));
	pt_buf_reset(&line);
	pt_checkpoint_anchor_line(&cp, &line);
	assert_true(pt_checkpoint_parse_anchor(line.data, line.len - 1, &back, &err));
	assert_true(back.signed_);
	assert_memory_equal(back.signature, cp.signature, PT_SIG_LEN);
	assert_string_equal(back.key_id, cp.key_id);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(pt_checkpoint_parse_anchor(bad[i], strlen(bad[i]), &back, &err));
	/* every truncation of a good line is refused */
	for (size_t n = 0; n + 1 < line.len - 1; n++)
		assert_false(pt_checkpoint_parse_anchor(line.data, n, &back, &err));
	pt_buf_free(&line);
	pt_signing_key_free(key);
}

/* The vector is in docs/FORMAT.md, as written here. */
static void
test_vector_is_in_format_md(void **state)
{
	char		path[512];
	FILE	   *f;
	static char text[200000];
	size_t		n;

	(void) state;
	snprintf(path, sizeof(path), "%s/docs/FORMAT.md",
			 getenv("PGTRAIL_TEST_SOURCE_DIR") ? getenv("PGTRAIL_TEST_SOURCE_DIR") : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, expected_message));
	assert_non_null(strstr(text, RFC8032_SECRET));
	assert_non_null(strstr(text, "b65b4dd1211188039abd682af8f391163dd0bda28f67abf875892b99b7c4df66"));
	assert_non_null(strstr(text, "c630cc5bea76d0e19e9248a9e661cb90c1e38c46d103a5c266b77cbd21dcc20a"));
	assert_non_null(strstr(text, KEY_ID));
}

/* An erasure record's signature (docs/FORMAT.md, "Erasure"): the vector, and a change of one byte refused. */
static void
test_erasure_signature(void **state)
{
	const char *record = "{\"request\":\"GDPR-17\",\"reason\":\"art. 17 request of 2026-12-01\",\"scope\":{\"by\":\"column\",\"table\":\"shop.customers\",\"column\":\"email\"},\"values\":1,\"events\":[{\"id\":5,\"erased\":[\"row.email\"],\"redacted\":\"861fc5c78834a2e7700ba950077468f1a6d166a5aad8ed2ed05d6810e6fc2617\"}]}";
	pt_err		err;
	pt_signing_key *key = pt_signing_key_load(private_pem, &err);
	pt_keyring *ring = pt_keyring_load(public_pem, &err);
	uint8_t		prev[PT_HASH_LEN], sig[PT_SIG_LEN];
	char		key_id[PT_KEY_ID_LEN + 1], hex[2 * PT_SIG_LEN + 1];
	pt_buf		msg = PT_BUF_INIT;

	(void) state;
	assert_non_null(key);
	assert_non_null(ring);
	assert_true(pt_hex_decode("d11b9607753dacf732b185594351e0797eb88f18389332a5fbb4acc19326d3fb", PT_HASH_LEN, prev));
	pt_erasure_signed_text(prev, record, strlen(record), &msg);
	assert_true(pt_sign_text(key, msg.data, msg.len, sig, key_id));
	pt_hex_encode(sig, PT_SIG_LEN, hex);
	assert_string_equal(hex, "7de72ca98a8a2e45595e9b71e410c6b1babcfed90f531b0e1f174525906b9315"
						"6278f9c0692fd6e047fff6c7cc9f317fcf7c54f10ff0620878fba28c298a0b0e");
	assert_int_equal(pt_keyring_check(ring, key_id, msg.data, msg.len, sig), PT_SIGN_GOOD);
	msg.data[msg.len - 3] ^= 1;
	assert_int_equal(pt_keyring_check(ring, key_id, msg.data, msg.len, sig), PT_SIGN_BAD);
	assert_int_equal(pt_keyring_check(ring, "0000000000000000", msg.data, msg.len, sig), PT_SIGN_UNKNOWN_KEY);
	pt_buf_free(&msg);
	pt_keyring_free(ring);
	pt_signing_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_is_fixed),
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_keyrings),
		cmocka_unit_test(test_anchor_lines),
		cmocka_unit_test(test_vector_is_in_format_md),
		cmocka_unit_test(test_erasure_signature),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
