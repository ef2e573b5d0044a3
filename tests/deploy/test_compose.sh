#!/usr/bin/env bash
# test_compose.sh SOURCE_DIR BIN_DIR — docker-compose.yml and the Dockerfiles
# are valid and use only what the programs accept. No Docker engine is needed
# (test_compose_run.sh runs the settings outside containers; the images were
# built and the stack run by hand once, see docker-compose.yml's header):
#  - `docker-compose config` (Debian 12's docker-compose 1.29.2) accepts the file;
#  - every pgtrail service runs a built program, and every --flag in its
#    entrypoint/command is one that program's --help lists; every PGTRAIL_*
#    name anywhere is in the program's --help or docs/CONFIG.md;
#  - the compose file has what the design promises: wal_level=logical, wal2json
#    allowed (guarded by pg_settings), one KRaft broker, health checks, verify
#    as a "tools" job, the volumes;
#  - the Dockerfiles (hadolint is not available): FROM lines, COPY sources
#    that exist, a non-root USER in the final stage, a JSON ENTRYPOINT naming
#    a program the image gets, no -dev package at run time.
set -euo pipefail
src=$(cd "$1" && pwd) bin=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
work_list=$work/services
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/tests/deploy/names.sh"
compose=$src/docker-compose.yml
[ -f "$compose" ] || fail "no docker-compose.yml"
command -v docker-compose >/dev/null ||
    fail "docker-compose is not installed (scripts/deps.sh installs it: apt-get install docker-compose)"

# 1. docker-compose accepts the file (secrets' files need not exist for config)
out=$(cd "$src" && docker-compose -f docker-compose.yml config 2>&1) ||
    fail "docker-compose config rejects docker-compose.yml: $out"
echo "ok: docker-compose config accepts docker-compose.yml"

# 2. the structure, and the flags and names of each pgtrail service
nocomments() { grep -v '^[[:space:]]*#' "$1" || true; }
pt_check_vars docker-compose.yml < <(nocomments "$compose")
entry=$(sed -n 's/^ENTRYPOINT \["\([a-z-]*\)".*/\1/p' "$src/Dockerfile")
[ -n "$entry" ] || fail "Dockerfile has no ENTRYPOINT [\"program\"]"
python3 - "$compose" "$entry" > "$work_list" 2>&1 <<'PY' || fail "docker-compose.yml: $(cat "$work_list")"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
default_entry = sys.argv[2]
s = doc["services"]
for name in ("postgres", "kafka", "capture", "verify"):
    assert name in s, "no service " + name
pg, kafka, cap, ver = s["postgres"], s["kafka"], s["capture"], s["verify"]
cmd = " ".join(map(str, pg.get("command", [])))
for setting in ("wal_level=logical", "max_replication_slots=", "max_wal_senders="):
    assert setting in cmd, "postgres command lacks " + setting
assert "output_plugin_libraries" not in cmd, \
    "output_plugin_libraries on the command line stops servers that do not know it"
assert pg["build"]["dockerfile"].endswith(".Dockerfile") or "Dockerfile" in pg["build"]["dockerfile"]
assert "pg_isready" in " ".join(pg["healthcheck"]["test"]), "postgres health check is not pg_isready"
kenv = kafka.get("environment", {})
assert "controller" in str(kenv.get("KAFKA_PROCESS_ROLES", "")), "kafka is not in KRaft mode"
assert "kafka-topics" in " ".join(kafka["healthcheck"]["test"]), "kafka health check lists no topics"
assert cap["build"]["dockerfile"] == "Dockerfile", "capture is not built from the repo's Dockerfile"
assert "tools" in ver.get("profiles", []), "verify would start with docker compose up"
for vol in ("pgdata", "anchor"):
    assert vol in (doc.get("volumes") or {}), "no volume " + vol
def env(svc):
    e = svc.get("environment", {})
    return e if isinstance(e, dict) else dict(x.split("=", 1) for x in e)
assert "PGTRAIL_SOURCE_DSN" in env(cap) and "PGTRAIL_KAFKA_BOOTSTRAP_SERVERS" in env(cap)
hc = " ".join(cap.get("healthcheck", {}).get("test", []))
if "/healthz" in hc or "/readyz" in hc:
    assert "PGTRAIL_CAPTURE_METRICS" in env(cap) or "--metrics" in str(cap.get("command", "")), \
        "capture's health check asks for /healthz, but --metrics is off"
# one line per pgtrail service: program, then its command words and environment names
for name, svc in s.items():
    image = str(svc.get("image", ""))
    if not (image.startswith("pgtrail:") or svc.get("build", {}).get("dockerfile") == "Dockerfile"):
        continue
    ep = svc.get("entrypoint") or [default_entry]
    ep = ep.split() if isinstance(ep, str) else ep
    c = svc.get("command") or []
    c = c.split() if isinstance(c, str) else c
    print(name, ep[0], " ".join(map(str, list(ep[1:]) + list(c) + list(env(svc)))))
PY
while read -r service program words; do
    pt_check_names "docker-compose.yml service $service" "$program" <<<"$words"
    echo "ok: service $service runs $program with flags and settings it knows"
done < "$work_list"
echo "ok: docker-compose.yml has postgres (logical, wal2json), kafka (KRaft), capture, verify (tools), health checks, volumes"

# 3. Dockerfiles
for df in "$src/Dockerfile" "$src"/deploy/docker/*Dockerfile; do
    label=${df#"$src"/}
    first=$(grep -v '^[[:space:]]*\(#\|$\)' "$df" | head -n 1)
    [[ $first =~ ^(FROM|ARG)\  ]] || fail "$label does not begin with FROM: $first"
    grep -q '^FROM [^[:space:]]\+' "$df" || fail "$label has no FROM line"
    grep '^FROM ' "$df" | grep -qv '^FROM [a-z0-9./_-]\+\(:[A-Za-z0-9._-]\+\)\?\( AS [a-z0-9_-]\+\)\?$' &&
        fail "$label: a FROM line is not IMAGE[:TAG] [AS NAME]"
    pt_check_vars "$label" < <(nocomments "$df")
    # flags only where a pgtrail program is run
    { grep '^\(ENTRYPOINT\|CMD\)' "$df" || true; } | pt_check_names "$label" "${entry:-pgtrail-capture}" >/dev/null || exit 1
    # COPY sources from the build context exist
    for f in $(grep '^COPY ' "$df" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}'); do
        [ "$f" = . ] || [ -e "$src/$f" ] || fail "$label copies $f, which is not in the repository"
    done
    # stages named in COPY --from= exist
    for stage in $(grep -o -- '--from=[a-z0-9_-]*' "$df" | cut -d= -f2); do
        grep -q "^FROM .* AS $stage\$" "$df" || fail "$label copies from stage $stage, which it does not define"
    done
    echo "ok: $label: FROM lines, COPY sources, names"
done
df=$src/Dockerfile
final=$(awk '/^FROM /{n = NR} END {print n}' "$df")
tail -n +"$final" "$df" > "${work_list}.final"
user=$(sed -n 's/^USER[[:space:]]\+\([^[:space:]:]*\).*/\1/p' "${work_list}.final" | tail -n 1)
[ -n "$user" ] || fail "Dockerfile's final stage has no USER: it would run as root"
case $user in root|0) fail "Dockerfile's final stage runs as $user" ;; esac
grep -q -- '-dev\b' "${work_list}.final" && fail "Dockerfile's final stage installs -dev packages"
grep -q '^ENTRYPOINT \["pgtrail-capture"\]' "$df" || fail "Dockerfile's ENTRYPOINT is not [\"pgtrail-capture\"]"
for program in pgtrail-capture pgtrail-replay pgtrail-verify; do
    grep '^COPY --from=' "${work_list}.final" | grep -q "/$program" || fail "the image lacks $program"
done
grep -q 'pgtrail.conf.example' "${work_list}.final" || fail "the image lacks the example config"
grep -qx '\.git' "$src/.dockerignore" && grep -q '^build' "$src/.dockerignore" ||
    fail ".dockerignore does not keep .git and build trees out of the context"
echo "ok: Dockerfile: final stage runs as $user, no -dev packages, the three programs and the example config"

# 4. the postgres image: wal2json installed, output_plugin_libraries only where the server has it
pgdf=$src/deploy/docker/postgres.Dockerfile
nocomments "$pgdf" | grep -q 'install.*postgresql-15-wal2json\|^ *postgresql-15-wal2json' || fail "postgres.Dockerfile does not install wal2json"
init=$(sed -n 's|^COPY \([^ ]*\) /docker-entrypoint-initdb.d/.*|\1|p' "$pgdf")
[ -n "$init" ] && [ -f "$src/$init" ] || fail "postgres.Dockerfile installs no init script"
bash -n "$src/$init" || fail "$init: syntax error"
grep -q "pg_settings WHERE name = 'output_plugin_libraries'" "$src/$init" ||
    fail "$init sets output_plugin_libraries without checking that the server has it"
grep -q 'output_plugin_libraries = pgoutput, test_decoding, wal2json' "$src/$init" ||
    fail "$init does not allow wal2json"
echo "ok: postgres image installs wal2json and allows it only where the server knows output_plugin_libraries"
echo "PASS test_compose"
