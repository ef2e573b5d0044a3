# lib.sh — helpers the Kafka tests source (after tests/harness/testlib.sh,
# with $bin set to the build's bin directory):
#   kafka_start [ARGS...]      start pt_mock_kafka ARGS in the background, wait for its
#                              address, export KAFKA_BOOTSTRAP; stopped on exit, and
#                              $KAFKA_DIR (a temporary directory for the test's files
#                              too) removed
#   kafka_down, kafka_up       every broker down / up (SIGUSR1 / SIGUSR2), returns
#                              once the mock has acted
#   kafka_consume TOPIC [OUT]  every message of TOPIC, all partitions from the
#                              beginning to the current end, one JSON object a line
#                              (kcat -J: topic, partition, offset, key, payload,
#                              headers ["name","value",...]); to OUT or stdout
#   kafka_topics               "NAME PARTITIONS" for each topic, one a line
# The mock's stderr goes to $KAFKA_DIR/mock.log, shown (tail) when the test fails.
# kcat calls here give up after $KAFKA_TIMEOUT seconds (default 60).
# Consuming a topic that does not exist creates it, empty (the mock
# auto-creates any topic a client asks for, with 4 partitions).
# The mock (librdkafka 2.0.2) keeps only about the newest 5 MB of each
# partition and drops older messages: a test with many messages uses more
# partitions (--topic NAME --partitions P) and checks that offsets start at 0.
: "${bin:?lib.sh needs bin set to the build bin directory}"
kafka_pid=""
KAFKA_BOOTSTRAP=""
KAFKA_DIR=""
KAFKA_TIMEOUT=${KAFKA_TIMEOUT:-60}

command -v kcat >/dev/null || fail "kcat is not installed (scripts/deps.sh installs it)"

kafka_stop() {
    local rc=$?
    if [ -n "$kafka_pid" ]; then
        { kill "$kafka_pid"; wait "$kafka_pid"; } 2>/dev/null || true
        kafka_pid=""
    fi
    if [ "$rc" != 0 ] && [ -s "$KAFKA_DIR/mock.log" ]; then
        echo "--- pt_mock_kafka log (tail) ---" >&2
        tail -n 20 "$KAFKA_DIR/mock.log" >&2
    fi
    if [ -n "$KAFKA_DIR" ]; then rm -rf "$KAFKA_DIR"; fi
    KAFKA_DIR=""
    return 0    # under set -e a failure here would skip the rest of the EXIT trap
}

# Run kafka_stop before whatever EXIT trap testlib.sh (or the test) set:
# the earlier trap's text is taken now, on purpose (SC2064), from the
# words of trap -p (set -- here sets the function's own arguments).
# shellcheck disable=SC2064,SC2120
kafka_chain_exit_trap() {
    local prev
    prev=$(trap -p EXIT)
    if [ -n "$prev" ]; then
        eval "set -- $prev"
        prev=$3
    fi
    trap "kafka_stop; $prev" EXIT
}

kafka_start() {
    local line=""
    [ -z "$kafka_pid" ] || fail "kafka_start: the mock is already running"
    KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pt-kafka.XXXXXX")
    # shellcheck disable=SC2119
    kafka_chain_exit_trap
    "$bin/pt_mock_kafka" "$@" >"$KAFKA_DIR/mock.addr" 2>"$KAFKA_DIR/mock.log" &
    kafka_pid=$!
    for _ in $(seq 1 500); do
        if read -r line <"$KAFKA_DIR/mock.addr" && [ -n "$line" ]; then
            export KAFKA_BOOTSTRAP=$line
            echo "ok: mock Kafka cluster at $KAFKA_BOOTSTRAP"
            return 0
        fi
        kill -0 "$kafka_pid" 2>/dev/null || fail "pt_mock_kafka exited: $(cat "$KAFKA_DIR/mock.log")"
        sleep 0.02
    done
    fail "pt_mock_kafka printed no address in 10 s"
}

# kafka_signal SIGNAL WORD: send SIGNAL, wait for "mock: brokers WORD" once more.
kafka_signal() {
    local before
    [ -n "$kafka_pid" ] || fail "kafka_$2: the mock is not running"
    before=$(grep -c "^mock: brokers $2\$" "$KAFKA_DIR/mock.log" || true)
    kill -"$1" "$kafka_pid"
    for _ in $(seq 1 500); do
        [ "$(grep -c "^mock: brokers $2\$" "$KAFKA_DIR/mock.log")" -gt "$before" ] && return 0
        sleep 0.02
    done
    fail "pt_mock_kafka did not take its brokers $2 in 10 s"
}
kafka_down() { kafka_signal USR1 down; }
kafka_up() { kafka_signal USR2 up; }

kafka_consume() {
    local topic=$1 out=${2:-/dev/stdout}
    timeout "$KAFKA_TIMEOUT" kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e -q -J >"$out"
}

kafka_topics() {
    timeout "$KAFKA_TIMEOUT" kcat -L -b "$KAFKA_BOOTSTRAP" | sed -n 's/^ *topic "\(.*\)" with \([0-9]*\) partitions:$/\1 \2/p'
}
