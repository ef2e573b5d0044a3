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
