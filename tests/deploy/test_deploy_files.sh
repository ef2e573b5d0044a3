#!/usr/bin/env bash
# test_deploy_files.sh SOURCE_DIR BIN_DIR — the files in deploy/ are valid
# and use only what the programs accept: systemd-analyze verifies the units
# (with ExecStart pointed at the built programs), the Kubernetes manifests
# parse as YAML of the expected kinds, and every --flag and PGTRAIL_*
# variable they use is one the program's --help lists.
set -euo pipefail
src=$(cd "$1" && pwd) bin=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

. "$src/tests/deploy/names.sh"

# flags and environment names in FILE (comments aside: they may mention
# other programs' flags) must be known to PROGRAM
check_names() {
    grep -v '^[[:space:]]*#' "$1" | pt_check_names "$1" "$2"
}

for unit in "$src"/deploy/systemd/*.service; do
    name=$(basename "$unit" .service)
    program=$(sed -n 's|^ExecStart=/usr/bin/\([a-z-]*\).*|\1|p' "$unit")
    [ -x "$bin/$program" ] || fail "$unit runs $program, which is not built"
    check_names "$unit" "$program"
    sed "s|/usr/bin/$program|$bin/$program|" "$unit" > "$work/$name.service"
    [ -f "$src/deploy/systemd/$name.timer" ] && cp "$src/deploy/systemd/$name.timer" "$work/"
    out=$(cd "$work" && systemd-analyze verify "$work/$name.service" 2>&1 | grep -v "Failed to load .*pgtrail.conf" || true)
    # the pgtrail user need not exist on the test machine
    out=$(grep -v "User=pgtrail\|Group=pgtrail\|unit pgtrail" <<<"$out" || true)
    [ -z "$out" ] || fail "systemd-analyze verify $name.service: $out"
    echo "ok: $name.service verifies and uses only flags $program knows"
done
# --- what the units promise beyond parsing -------------------------------------
# KEY's value in UNIT as systemd reads it: the last assignment wins; for a list
# (ReadWritePaths=, StateDirectory=) every assignment adds and an empty one resets
unit_get() { sed -n "s/^$2=//p" "$1" | tail -1; }
unit_list() { awk -v k="$2=" 'index($0, k) == 1 { v = substr($0, length(k) + 1); l = v == "" ? "" : l " " v } END { print l }' "$1"; }
usec() { systemd-analyze timespan "$1" | sed -n 's/^ *μs: *//p'; }
# directories the unit's sandbox makes writable by creating them (StateDirectory= etc.)
created_dirs() {
    local d
    for d in $(unit_list "$1" StateDirectory); do echo "/var/lib/${d%%:*}"; done
    for d in $(unit_list "$1" CacheDirectory); do echo "/var/cache/${d%%:*}"; done
    for d in $(unit_list "$1" LogsDirectory); do echo "/var/log/${d%%:*}"; done
    for d in $(unit_list "$1" RuntimeDirectory); do echo "/run/${d%%:*}"; done
}
under() { # under PATH DIR...: PATH is one of DIRs or inside one
    local p=$1 d; shift
    for d in "$@"; do [ "$p" = "$d" ] || [ "${p#"$d"/}" != "$p" ] && return 0; done
    return 1
}

cap=$src/deploy/systemd/pgtrail-capture.service ver=$src/deploy/systemd/pgtrail-verify.service
# capture outlives an outage of any length: exit 3 (could not run) restarts, exit 2
# (configuration) does not, and no start limit runs out while the source is down
case $(unit_get "$cap" Restart) in
    on-failure|always) ;;
    *) fail "pgtrail-capture.service: Restart=$(unit_get "$cap" Restart) does not restart after exit 3 (could not run)" ;;
esac
prevent=" $(unit_list "$cap" RestartPreventExitStatus) "
[[ $prevent == *" 2 "* ]] || fail "pgtrail-capture.service retries exit 2 (configuration error): RestartPreventExitStatus=$prevent"
[[ $prevent != *" 3 "* ]] || fail "pgtrail-capture.service does not retry exit 3 (could not run)"
rsec=$(usec "$(unit_get "$cap" RestartSec)")
[ -n "$rsec" ] && [ "$rsec" -ge 10000000 ] && [ "$rsec" -le 30000000 ] ||
    fail "pgtrail-capture.service: RestartSec=$(unit_get "$cap" RestartSec): retry every 10 to 30 s, not hammering the source nor waiting long"
ival=$(unit_get "$cap" StartLimitIntervalSec) burst=$(unit_get "$cap" StartLimitBurst)
ival=$(usec "${ival:-10s}") burst=${burst:-5}            # systemd's defaults when unset
if [ "$ival" != 0 ]; then
    # restarts RestartSec apart fall ceil(interval / RestartSec) to one interval: more than
    # the burst, and the unit is failed for good (start-limit-hit) after burst * RestartSec
    [[ $ival =~ ^[0-9]+$ ]] && [ $(( (ival + rsec - 1) / rsec )) -le "$burst" ] ||
        fail "pgtrail-capture.service: StartLimitIntervalSec=$(unit_get "$cap" StartLimitIntervalSec) StartLimitBurst=$burst with RestartSec=$(unit_get "$cap" RestartSec): a source down for $(( burst * rsec / 1000000 )) s leaves the unit failed for good"
fi
echo "ok: pgtrail-capture.service restarts after exit 3 every $((rsec / 1000000)) s with no start limit to run out, not after exit 2"

# verify runs as another user in capture's group: capture's files reach it through
# the group (UMask= takes away group write), its private key (0600) does not
cu=$(unit_get "$cap" User) cg=$(unit_get "$cap" Group) vu=$(unit_get "$ver" User) vg=$(unit_get "$ver" Group)
[ -n "$cu" ] && [ -n "$vu" ] && [ "$vu" != "$cu" ] ||
    fail "pgtrail-verify.service runs as User=$vu, capture as User=$cu: verify could read the signing key and write the anchor file"
[ -n "$cg" ] && [ "$vg" = "$cg" ] || fail "pgtrail-verify.service has Group=$vg, not capture's Group=$cg: it could not read the anchor file"
[ -z "$(unit_get "$ver" DynamicUser)" ] && [ -z "$(unit_get "$cap" DynamicUser)" ] || fail "DynamicUser= in a unit"
cmask=$(unit_get "$cap" UMask)
[ -n "$cmask" ] && (( (8#$cmask & 8#020) && !(8#$cmask & 8#040) )) ||
    fail "pgtrail-capture.service UMask=$cmask: the anchor file must be group-readable and not group-writable"
echo "ok: pgtrail-verify.service runs as $vu:$vg, capture as $cu:$cg (UMask=$cmask)"

# sandboxed writes: ReadWritePaths= that may be missing (a non-optional missing path
# is 226/NAMESPACE: the unit does not start), and every file a program is told to
# write lies in a writable directory
for unit in "$src"/deploy/systemd/*.service; do
    name=$(basename "$unit")
    mapfile -t made < <(created_dirs "$unit")
    rw=()
    for p in $(unit_list "$unit" ReadWritePaths); do
        bare=${p#+}; bare=${bare#-}; bare=${bare#+}
        [ "$bare" != "${p#+}" ] || under "$bare" "${made[@]}" ||
            fail "$name: ReadWritePaths=$p is neither optional (\"-$p\") nor made by the unit: where it is missing the unit cannot start"
        rw+=("$bare")
    done
    exec=$(unit_get "$unit" ExecStart)
    for f in $(grep -oE -- '--(metrics-file|anchor-file)[= ][^ ]+' <<<"$exec" | sed -E 's/^--[a-z-]+[= ]//'); do
        [ "$(unit_get "$unit" ProtectSystem)" != strict ] || under "$(dirname "$f")" "${rw[@]}" "${made[@]}" ||
            fail "$name writes $f, whose directory is not in ReadWritePaths= (${rw[*]}) nor made by the unit (ProtectSystem=strict: the write fails)"
    done
done
echo "ok: every ReadWritePaths= is optional or made by its unit, and covers the files the units write"

for timer in "$src"/deploy/systemd/*.timer; do
    [ -f "${timer%.timer}.service" ] || fail "$timer has no service"
    grep -q '^OnCalendar=\|^OnUnitActiveSec=' "$timer" || fail "$timer never fires"
    systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$timer")" >/dev/null || fail "$timer: bad OnCalendar"
    echo "ok: $(basename "$timer") has a valid schedule"
done

for manifest in "$src"/deploy/kubernetes/*.yaml; do
    python3 - "$manifest" <<'PY' || fail "$manifest is not a valid manifest"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert docs, "empty"
for d in docs:
    assert d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"), d
    if d["kind"] == "CronJob":
        spec = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert spec["restartPolicy"] in ("Never", "OnFailure")
        assert all(c.get("image") for c in spec["containers"])
PY
    for program in $(grep -o 'pgtrail-[a-z]*' "$manifest" | sort -u); do
        [ -x "$bin/$program" ] && check_names "$manifest" "$program"
    done
    echo "ok: $(basename "$manifest") parses, and its flags and variables are known"
done
echo "PASS test_deploy_files"
