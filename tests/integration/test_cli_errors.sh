#!/usr/bin/env bash
# test_cli_errors.sh BIN_DIR — mistakes an operator makes on the command
# line, each an error with a hint and the right exit code rather than a
# quiet wrong answer (issue 14, item 5; run inside with_pg.sh):
#   - -c DIRECTORY: exit 2 naming it, in all three programs;
#   - pgtrail-capture --anchor-file that is a directory, in a missing
#     directory, or not writable: exit 2 with a hint, before the event
#     store or the slot exist;
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"

work=$PGTRAIL_TEST_DIR/cli
mkdir -p "$work"
chmod 755 "$work"
dsn=$PGTRAIL_TEST_DSN

# run PROGRAM ARGS...: exit status in $rc, stdout in $out, stderr in $err
run() {
    local prog=$1
    shift
    set +e
    out=$("$bin/$prog" "$@" 2>"$work/stderr")
    rc=$?
    set -e
    err=$(cat "$work/stderr")
}
# expect_err NAME CODE TEXT [HINT]: the last run exited CODE with one error line holding TEXT (and a hint holding HINT)
expect_err() {
    local name=$1 code=$2 text=$3 hint=${4:-}
    [ "$rc" = "$code" ] || fail "$name: expected exit $code, got $rc: $out $err"
    case "$err" in *"$text"*) ;; *) fail "$name: expected [$text] in: $err" ;; esac
    [ "$(printf '%s\n' "$err" | grep -c 'error:')" = 1 ] || fail "$name: not one error line: $err"
    if [ -n "$hint" ]; then
        printf '%s\n' "$err" | grep '^hint:' | grep -qF -- "$hint" || fail "$name: expected hint [$hint] in: $err"
    fi
    echo "ok: $name: exit $code: $(printf '%s\n' "$err" | grep 'error:' | head -1)"
}

# ---- -c DIRECTORY (it used to load as an empty file)
for prog in pgtrail-capture pgtrail-replay pgtrail-verify; do
    run "$prog" -c "$work" --source "host=127.0.0.1 port=1" 2>/dev/null || true
    [ "$prog" = pgtrail-capture ] || run "$prog" -c "$work" --events "host=127.0.0.1 port=1"
    expect_err "$prog -c DIRECTORY" 2 "could not read configuration file \"$work\": it is a directory" "-c/--config"
done

# ---- capture --anchor-file that cannot be used: exit 2 before anything is written
bad_anchor() { # bad_anchor NAME TEXT PATH [as_pg]
    local name=$1 text=$2 path=$3
    if [ "${4:-}" = as_pg ]; then
        set +e
        err=$(as_pg "$bin/pgtrail-capture" --source "$dsn" --anchor-file "$path" --log-level warning 2>&1)
        rc=$?
        set -e
    else
        run pgtrail-capture --source "$dsn" --anchor-file "$path" --log-level warning
    fi
    expect_err "capture --anchor-file $name" 2 "$text" "anchor_file (--anchor-file)"
}
bad_anchor "a directory" "cannot use anchor file \"$work\": it is a directory" "$work"
bad_anchor "in a missing directory" "its directory \"$work/nope\" does not exist" "$work/nope/anchor.jsonl"
touch "$work/not-a-dir"
bad_anchor "under a file" "could not use anchor file \"$work/not-a-dir/anchor.jsonl\": Not a directory" "$work/not-a-dir/anchor.jsonl"
mkdir -p "$work/locked"
chmod 755 "$work/locked"
touch "$work/locked/anchor.jsonl"
chmod 644 "$work/locked/anchor.jsonl"
bad_anchor "not writable" "could not open anchor file \"$work/locked/anchor.jsonl\": Permission denied" \
    "$work/locked/anchor.jsonl" as_pg
bad_anchor "in a directory not writable" "no permission to create a file in directory \"$work/locked\"" \
    "$work/locked/new.jsonl" as_pg
eq "nothing was written: no event store, no slot" \
    "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgtrail' UNION ALL SELECT count(*) FROM pg_replication_slots" "0
0"

echo "PASS test_cli_errors"
