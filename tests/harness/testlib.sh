# testlib.sh — helpers the test scripts source (after with_pg.sh started
# their cluster):
#   q SQL                 run SQL with psql, print the result unaligned
#   eq NAME SQL EXPECTED  q SQL must print EXPECTED, else fail; says "ok: NAME"
#   fail MESSAGE          print FAIL (and the tail of $log, if set) and exit 1
#   as_pg CMD...          run as the postgres user when we are root
# Background programs go in $capture and $writer: they are killed on exit,
# whatever way the script ends.
capture=""
writer=""
log=${log:-}
trap 'for p in $capture $writer; do kill -9 "$p" 2>/dev/null || true; done' EXIT

fail() {
    echo "FAIL: $*" >&2
    if [ -n "$log" ] && [ -f "$log" ]; then tail -n 20 "$log" >&2; fi
    exit 1
}
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
eq() {
    local got
    got=$(q "$2")
    [ "$got" = "$3" ] || fail "$1: expected [$3], got [$got]"
    echo "ok: $1"
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
