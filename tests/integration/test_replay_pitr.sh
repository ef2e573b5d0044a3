#!/usr/bin/env bash
# test_replay_pitr.sh BIN_DIR — point-in-time replay with DDL capture (issue
# 5, second and third acceptance points; run inside tests/harness/with_pg.sh).
#
# Capture runs with --ddl on from before the first table exists. The
# workload goes in phases with schema changes between them:
#   phase 1   tables t_a, t_b, t_d created and written; t_a gets a column
#             (color) at T1                                       -> LSN1
#   phase 2a  writes (one as bob); t_b.old_col dropped            -> TS
#   phase 2b  t_a.qty int -> bigint USING qty * 10 (a rewrite: re-snapshot);
#             writes                                              -> LSN2
#   phase 3   t_c created, t_d dropped, t_a.name renamed to title; writes,
#             key 1 of t_a deleted                                -> LSN3
# At each cut the source's tables (shape and sorted rows) are dumped. Then
# each cut is replayed with --create-tables into a fresh target holding
# only the user-defined types, and must equal its dump: tables not yet
# created (or already dropped) absent, columns as they were. --as-of TS
# must give the rows of the TS copy (or null), and --history of t_a key 1
# every version in order with its actor, action and metadata.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"

cat >"$work/types.sql" <<'SQL'
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
SQL
psql -qX -v ON_ERROR_STOP=1 -f "$work/types.sql" >/dev/null

log=$work/capture.log
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture --ddl on could not start"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --log-level warning 2>>"$log" &
capture=$!

run() { psql -qX -v ON_ERROR_STOP=1 >/dev/null || fail "workload step failed"; }
# the row of app.t_a with key $1 as PostgreSQL text, or null; the columns
# as they are now
t_a_row() {
    qdb postgres "SELECT coalesce((SELECT json_object_agg(key, value)::text
                                   FROM app.t_a t, json_each_text(row_to_json(t)) WHERE t.id = $1), 'null')"
}

# ---- phase 1
run <<'SQL'
CREATE TABLE app.t_a (id int PRIMARY KEY, name text, qty int, mood app.mood);
CREATE TABLE app.t_b (id int PRIMARY KEY, v text, old_col text);
CREATE TABLE app.t_d (id int PRIMARY KEY, x text);
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
INSERT INTO app.t_a VALUES (1, 'one', 10, 'ok'), (2, 'two', 20, 'sad'), (3, 'three', 30, NULL),
                           (4, 'four', 40, 'happy'), (5, 'five', 50, 'ok');
COMMIT;
INSERT INTO app.t_b VALUES (1, 'b1', 'old1'), (2, 'b2', 'old2'), (3, 'b3', NULL);
INSERT INTO app.t_d VALUES (1, 'd1'), (2, 'd2');
ALTER TABLE app.t_a ADD COLUMN color text;
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
UPDATE app.t_a SET color = 'red', qty = qty + 1 WHERE id = 1;
COMMIT;
UPDATE app.t_a SET color = 'blue' WHERE id IN (3, 4);
UPDATE app.t_b SET old_col = 'old2 changed' WHERE id = 2;
SQL
lsn1=$(q "SELECT pg_current_wal_lsn()")
dump_db postgres "$work/lsn1.dump"

# ---- phase 2a
run <<'SQL'
BEGIN;
SELECT pgtrail.set_context('bob', 'fix', '{"ticket": 42}');
UPDATE app.t_a SET name = 'one-b' WHERE id = 1;
INSERT INTO app.t_a VALUES (6, 'six', 60, 'happy', 'green');
COMMIT;
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
DELETE FROM app.t_a WHERE id = 2;
COMMIT;
ALTER TABLE app.t_b DROP COLUMN old_col;
UPDATE app.t_b SET v = 'b2 after drop' WHERE id = 2;
INSERT INTO app.t_b VALUES (4, 'b4');
UPDATE app.t_d SET x = 'd1 changed' WHERE id = 1;
SQL
q "SELECT pg_sleep(0.1)" >/dev/null
ts=$(qdb postgres "SELECT clock_timestamp()")
q "SELECT pg_sleep(0.1)" >/dev/null
dump_db postgres "$work/ts.dump"
asof_expect=""
for k in 1 2 3 6 7; do asof_expect="$asof_expect$k $(t_a_row $k)"$'\n'; done
asof_b1=$(qdb postgres "SELECT json_object_agg(key, value)::text FROM app.t_b t, json_each_text(row_to_json(t)) WHERE t.id = 1")

# ---- phase 2b
run <<'SQL'
ALTER TABLE app.t_a ALTER qty TYPE bigint USING qty * 10;
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
UPDATE app.t_a SET qty = qty + 1 WHERE id = 1;
COMMIT;
INSERT INTO app.t_a VALUES (7, 'seven', 70, 'sad', NULL);
INSERT INTO app.t_b VALUES (5, 'b5');
DELETE FROM app.t_b WHERE id = 3;
SQL
lsn2=$(q "SELECT pg_current_wal_lsn()")
dump_db postgres "$work/lsn2.dump"

# ---- phase 3
run <<'SQL'
CREATE TABLE app.t_c (id int PRIMARY KEY, note text, at timestamptz DEFAULT now());
INSERT INTO app.t_c (id, note) VALUES (1, 'c1'), (2, 'c2');
DROP TABLE app.t_d;
ALTER TABLE app.t_a RENAME COLUMN name TO title;
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
UPDATE app.t_a SET title = 'one-c' WHERE id = 1;
COMMIT;
BEGIN;
SELECT pgtrail.set_context('alice', 'edit', '{}');
DELETE FROM app.t_a WHERE id = 1;
COMMIT;
UPDATE app.t_a SET title = 'four-c', qty = 4 WHERE id = 4;
UPDATE app.t_c SET note = 'c2 changed' WHERE id = 2;
SQL
lsn3=$(q "SELECT pg_current_wal_lsn()")
dump_db postgres "$work/lsn3.dump"

kill -TERM "$capture"
wait "$capture" || fail "capture (--ddl on) exited with $?"
capture=""
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$lsn3" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with $?"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"

# the copies really differ from each other where the test means them to
grep -q '^column old_col text$' "$work/lsn1.dump" && ! grep -q '^column old_col' "$work/ts.dump" ||
    fail "the source copies do not show old_col dropped between LSN1 and TS"
grep -q '^== table app.t_d$' "$work/lsn2.dump" && ! grep -q '^== table app.t_d$' "$work/lsn3.dump" &&
    ! grep -q '^== table app.t_c$' "$work/lsn2.dump" && grep -q '^== table app.t_c$' "$work/lsn3.dump" ||
    fail "the source copies do not show t_c created and t_d dropped in phase 3"

# ---- replays, each into a fresh target that has only the types
n=0
for cut in lsn1 ts lsn2 lsn3; do
    case $cut in
        lsn1) stop=(--until-lsn "$lsn1") ;;
        ts)   stop=(--until-time "$ts") ;;
        lsn2) stop=(--until-lsn "$lsn2") ;;
        lsn3) stop=(--until-lsn "$lsn3") ;;
    esac
    n=$((n + 1))
    new_target "pitr$n" "$work/types.sql"
    replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for "pitr$n")" --create-tables "${stop[@]}" --log-level warning
    dump_db "pitr$n" "$work/pitr$n.dump"
    same_dump "replay ${stop[*]} equals the source's copy taken then" "$work/$cut.dump" "$work/pitr$n.dump"
done

# ---- --as-of at TS: the rows of the TS copy; null for a row deleted before
# TS (2) and for one inserted after it (7)
while read -r k want; do
    [ -n "$k" ] || continue
    replay_ok --events "$PGTRAIL_TEST_DSN" --as-of "$ts" --table app.t_a --key "{\"id\": $k}" --format json
    json_eq "--as-of TS, app.t_a key $k" "$out" "$want"
done <<<"$asof_expect"
# (here-strings, not pipes: grep -q may close a pipe early, and pipefail would take the printf's SIGPIPE as a failure)
grep -q '^2 null$' <<<"$asof_expect" && grep -q '^7 null$' <<<"$asof_expect" &&
    grep -q '^1 {.*"one-b"' <<<"$asof_expect" || fail "the TS copy is not what the workload meant: $asof_expect"
replay_ok --events "$PGTRAIL_TEST_DSN" --as-of "$ts" --table app.t_b --key '{"id": "1"}' --format json
json_eq "--as-of TS, app.t_b key 1 (written before old_col was dropped, shown without it)" "$out" "$asof_b1"
replay_ok --events "$PGTRAIL_TEST_DSN" --as-of "$(qdb postgres "SELECT '$ts'::timestamptz + interval '1 hour'")" \
    --table app.t_a --key '{"id": 1}' --format json
json_eq "--as-of after its deletion, app.t_a key 1" "$out" "null"

# ---- --history of app.t_a key 1: every version in order, with its context
replay_ok --events "$PGTRAIL_TEST_DSN" --history --table app.t_a --key '{"id": 1}' --format json
printf '%s\n' "$out" >"$work/history.json"
python3 - "$work/history.json" <<'PY' || fail "--history of app.t_a key 1 (output in $work/history.json): $out"
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
h = [json.loads(l) for l in lines]
def fail(msg):
    print("history: " + msg, file=sys.stderr)
    sys.exit(1)
want = [  # op, actor, action, metadata, the whole row as it was (None: not checked)
    ("insert",   "alice", "edit", {}, {"id": "1", "name": "one", "qty": "10", "mood": "ok"}),
    ("update",   "alice", "edit", {}, {"id": "1", "name": "one", "qty": "11", "mood": "ok", "color": "red"}),
    ("update",   "bob",   "fix",  {"ticket": 42}, {"id": "1", "name": "one-b", "qty": "11", "mood": "ok", "color": "red"}),
    ("snapshot", None,    None,   None, {"id": "1", "name": "one-b", "qty": "110", "mood": "ok", "color": "red"}),
    ("update",   "alice", "edit", {}, {"id": "1", "name": "one-b", "qty": "111", "mood": "ok", "color": "red"}),
    # after RENAME COLUMN name TO title: no "name" any more
    ("update",   "alice", "edit", {}, {"id": "1", "title": "one-c", "qty": "111", "mood": "ok", "color": "red"}),
    ("delete",   "alice", "edit", {}, None),
]
# the re-snapshot after the rewrite had no set_context: its actor and
# action are not checked (capture may record the DDL's role there)
got = [(v.get("op"), v.get("actor"), v.get("action")) if v.get("op") != "snapshot" else ("snapshot", None, None) for v in h]
if got != [w[:3] for w in want]:
    fail("versions (op, actor, action): %r, expected %r" % ([(v.get("op"), v.get("actor"), v.get("action")) for v in h], [w[:3] for w in want]))
for i, (v, w) in enumerate(zip(h, want)):
    md = v.get("metadata")
    if isinstance(md, str):
        md = json.loads(md)
    if w[3] is not None and md != w[3]:
        fail("version %d metadata %r, expected %r" % (i + 1, md, w[3]))
    if w[4] is not None and v.get("row") != w[4]:
        fail("version %d (%s, event %s): row %r, expected %r" % (i + 1, w[0], v.get("event_id"), v.get("row"), w[4]))
ids = [v["event_id"] for v in h]
if ids != sorted(ids) or len(set(ids)) != len(ids):
    fail("event ids not strictly increasing: %r" % ids)
times = [v["committed_at"] for v in h]
if any(not t for t in times):
    fail("versions without committed_at: %r" % times)
PY
echo "ok: --history of app.t_a key 1: 7 versions in order with their actor, action and metadata"
eq "--history event ids are those of the log" \
   "SELECT string_agg(id::text, ' ' ORDER BY id) FROM pgtrail.events WHERE table_name = 't_a' AND key->>'id' = '1'" \
   "$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["event_id"]) for l in open(sys.argv[1]) if l.strip()))' "$work/history.json")"
hist_times=$(python3 -c '
import json, sys
print("\n".join(json.loads(l)["committed_at"] for l in open(sys.argv[1]) if l.strip()))' "$work/history.json" |
    while IFS= read -r t; do q "SELECT '$t'::timestamptz"; done | paste -sd '|')
eq "--history times are those of the log" \
   "SELECT string_agg(committed_at::text, '|' ORDER BY id) FROM pgtrail.events WHERE table_name = 't_a' AND key->>'id' = '1'" \
   "$hist_times"
