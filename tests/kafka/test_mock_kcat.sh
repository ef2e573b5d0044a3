#!/usr/bin/env bash
# test_mock_kcat.sh BIN_DIR — the Kafka test tooling itself (no PostgreSQL):
# pt_mock_kafka starts and prints its address, kcat produces 100 keyed
# messages with headers into it and kafka_consume reads every one back
# (all partitions, from the beginning, keys, headers, per-key order); with
# the brokers down (kafka_down) a producer fails, with them up again
# (kafka_up) it succeeds.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/lib.sh"

kafka_start --brokers 2 --topic tooling --partitions 3
out=$KAFKA_DIR/messages.json
[ "$(kafka_topics | grep '^tooling ')" = "tooling 3" ] || fail "topic tooling: $(kafka_topics)"
echo "ok: --topic made tooling with 3 partitions"

# 100 messages, 10 keys, two headers on each
for i in $(seq 1 100); do echo "key$((i % 10)):value $i"; done |
    timeout 60 kcat -P -b "$KAFKA_BOOTSTRAP" -t tooling -K: -H origin=pgtrail-test -H trace=t1 ||
    fail "kcat -P could not produce"
kafka_consume tooling "$out"
python3 - "$out" <<'PY' || fail "messages read back are not the ones produced"
import json, sys
msgs = [json.loads(line) for line in open(sys.argv[1])]
assert len(msgs) == 100, f"{len(msgs)} messages, expected 100"
assert {m["partition"] for m in msgs} <= {0, 1, 2}
keys = {}
for m in sorted(msgs, key=lambda m: (m["partition"], m["offset"])):
    h = m["headers"]
    assert dict(zip(h[0::2], h[1::2])) == {"origin": "pgtrail-test", "trace": "t1"}, h
    keys.setdefault(m["key"], []).append(m)
assert sorted(keys) == [f"key{k}" for k in range(10)], sorted(keys)
for key, ms in keys.items():
    assert len({m["partition"] for m in ms}) == 1, f"{key} on several partitions"
    n = [int(m["payload"].split()[1]) for m in ms]
    assert n == sorted(n) and len(n) == 10, f"{key}: {n}"
    assert all(x % 10 == int(key[3:]) for x in n), f"{key}: {n}"
print("ok: 100 messages, 10 keys each on one partition in order, headers origin and trace")
PY

# outage: nothing gets through while the brokers are down
kafka_down
if echo "down:lost" | timeout 60 kcat -P -b "$KAFKA_BOOTSTRAP" -t tooling -K: -X message.timeout.ms=2000 2>/dev/null; then
    fail "kcat -P succeeded with every broker down"
fi
echo "ok: kcat -P fails with the brokers down"
kafka_up
echo "up:back" | timeout 60 kcat -P -b "$KAFKA_BOOTSTRAP" -t tooling -K: -X message.timeout.ms=10000 ||
    fail "kcat -P failed with the brokers up again"
kafka_consume tooling "$out"
[ "$(wc -l <"$out")" = 101 ] || fail "expected 101 messages after the outage, got $(wc -l <"$out")"
grep -q '"key":"up","payload":"back"' "$out" || fail "the message sent after kafka_up is missing"
! grep -q '"key":"down"' "$out" || fail "the message sent while down arrived"
echo "ok: kcat -P works again after kafka_up; 101 messages"

# a topic nobody created is made on first use, with the mock's default 4 partitions
echo "k:v" | timeout 60 kcat -P -b "$KAFKA_BOOTSTRAP" -t auto.made -K: || fail "kcat -P to a new topic failed"
[ "$(kafka_topics | grep '^auto.made ')" = "auto.made 4" ] || fail "auto-created topic: $(kafka_topics)"
echo "ok: a new topic is auto-created with 4 partitions"
echo "PASS"
