#!/bin/sh
# maintscripts.sh CONTROL_DIR WORK_DIR [UNIT_DIR] — run by test_install.sh as
#   unshare --mount --propagation private sh maintscripts.sh ...
# Runs the .deb's postinst, prerm and postrm (extracted into CONTROL_DIR by
# dpkg-deb -e) as dpkg would, and checks what they do to users, groups,
# directories and systemd. This machine is not changed: in this private mount
# namespace /etc and /var are overlays whose writes land in WORK_DIR, /run is
# an empty tmpfs, and systemctl is a stub that records its arguments. Any
# pgtrail user or directory the host has is hidden first, so the scripts
# start from a machine that never had pgtrail.
# After each install: the users pgtrail and pgtrail-verify (primary group
# pgtrail) exist, each unit's User= and Group= in UNIT_DIR (the .deb's units)
# exist with User='s primary group being Group=, and, as those users with
# capture's UMask=, verify can read pgtrail.conf and the anchor file but neither
# read the 0600 signing key nor write the anchor file.
#   1. systemd "running" (/run/systemd/system exists), adduser present:
#      install, configure again (twice: nothing changes), an operator's
#      config and mode survive, prerm upgrade/remove, postrm purge.
#   2. no systemd, adduser and addgroup hidden: the useradd fallback, no
#      systemctl call.
set -eu
control=$1 w=$2 units=${3:-}
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- the private view of /etc, /var, /run and /usr/sbin ----------------------
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
    fail "not in a private mount namespace (run under unshare --mount)"
case "$w" in /etc/*|/var/*|/run/*|/usr/*) fail "WORK_DIR $w must not be under /etc, /var, /run or /usr" ;; esac
for d in etc var sbin; do mkdir -p "$w/up-$d" "$w/wk-$d"; done
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$w/up-etc,workdir=$w/wk-etc" /etc
mount -t overlay overlay -o "lowerdir=/var,upperdir=$w/up-var,workdir=$w/wk-var" /var
mount -t tmpfs tmpfs /run
[ "$(findmnt -n -o FSTYPE /etc)" = overlay ] && [ "$(findmnt -n -o FSTYPE /var)" = overlay ] ||
    fail "/etc or /var is not the overlay"

mkdir -p "$w/bin"
cat >"$w/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$w/systemctl.log"
EOF
shim() { # a logging wrapper for the user tool $1 in $w/bin
    printf '#!/bin/sh\necho %s >>"%s/tools.log"\nexec /usr/sbin/%s "$@"\n' "$1" "$w" "$1" >"$w/bin/$1"
    chmod +x "$w/bin/$1"
}
chmod +x "$w/bin/systemctl"
export PATH="$w/bin:/usr/sbin:/usr/bin:/sbin:/bin"

forget_pgtrail() { # a machine that never had pgtrail (writes go to the overlays)
    for f in passwd group shadow gshadow; do
        [ ! -e "/etc/$f" ] || sed -i '/^pgtrail:/d; /^pgtrail-verify:/d' "/etc/$f"
    done
    rm -rf /etc/pgtrail /var/lib/pgtrail
    ! getent passwd pgtrail >/dev/null && ! getent group pgtrail >/dev/null &&
        ! getent passwd pgtrail-verify >/dev/null ||
        fail "could not hide the host's pgtrail or pgtrail-verify user or group"
    : >"$w/systemctl.log"; : >"$w/tools.log"
}
run() { # run SCRIPT ARGS... as dpkg does; its stdout in $w/out
    s=$1; shift
    rc=0; "$control/$s" "$@" >"$w/out" 2>"$w/err" || rc=$?
    [ "$rc" -eq 0 ] || { cat "$w/out" "$w/err" >&2; fail "$s $* exited $rc"; }
}
check_installed() { # the user, group and directories postinst promises
    ent=$(getent passwd pgtrail) || fail "postinst created no user pgtrail"
    gent=$(getent group pgtrail) || fail "postinst created no group pgtrail"
    uid=$(echo "$ent" | cut -d: -f3) gid=$(echo "$ent" | cut -d: -f4)
    [ "$gid" = "$(echo "$gent" | cut -d: -f3)" ] || fail "pgtrail's primary group is not pgtrail: $ent / $gent"
    [ "$uid" -lt 1000 ] || fail "pgtrail is not a system user (uid $uid)"
    [ "$(echo "$ent" | cut -d: -f6)" = /var/lib/pgtrail ] || fail "pgtrail's home is not /var/lib/pgtrail: $ent"
    case $(echo "$ent" | cut -d: -f7) in
        */nologin|/bin/false) ;;
        *) fail "pgtrail has a login shell: $ent" ;;
    esac
    vent=$(getent passwd pgtrail-verify) || fail "postinst created no user pgtrail-verify"
    [ "$(echo "$vent" | cut -d: -f4)" = "$gid" ] || fail "pgtrail-verify's primary group is not pgtrail: $vent / $gent"
    [ "$(echo "$vent" | cut -d: -f3)" != "$uid" ] || fail "pgtrail-verify has pgtrail's uid: $vent / $ent"
    [ "$(echo "$vent" | cut -d: -f3)" -lt 1000 ] || fail "pgtrail-verify is not a system user: $vent"
    [ "$(echo "$vent" | cut -d: -f6)" = /nonexistent ] && [ ! -e /nonexistent ] ||
        fail "pgtrail-verify's home is not a missing /nonexistent: $vent"
    case $(echo "$vent" | cut -d: -f7) in
        */nologin|/bin/false) ;;
        *) fail "pgtrail-verify has a login shell: $vent" ;;
    esac
    for unit in ${units:+"$units"/*.service}; do
        u=$(sed -n 's/^User=//p' "$unit") g=$(sed -n 's/^Group=//p' "$unit")
        [ -n "$u" ] && [ -n "$g" ] || fail "$unit has no User= or Group="
        uent=$(getent passwd "$u") || fail "$(basename "$unit") runs as User=$u, which postinst did not create"
        ugid=$(echo "$uent" | cut -d: -f4)
        [ "$ugid" = "$(getent group "$g" | cut -d: -f3)" ] ||
            fail "$(basename "$unit"): User=$u's primary group (gid $ugid) is not Group=$g"
    done
    [ "$(stat -c '%U:%G %a' /etc/pgtrail)" = "root:pgtrail 750" ] ||
        fail "/etc/pgtrail is $(stat -c '%U:%G %a' /etc/pgtrail), expected root:pgtrail 750"
    [ "$(stat -c '%U:%G %a' /var/lib/pgtrail)" = "pgtrail:pgtrail 750" ] ||
        fail "/var/lib/pgtrail is $(stat -c '%U:%G %a' /var/lib/pgtrail), expected pgtrail:pgtrail 750"
    ! grep -Eq '(^| )(enable|start|restart|try-restart|reload-or-restart)( |$)' "$w/systemctl.log" ||
        fail "postinst enabled or started a unit: $(cat "$w/systemctl.log")"
}
check_access() { # verify's user reads the config and anchor, not the key; cannot write the anchor
    umask=0027
    [ -z "$units" ] || umask=$(sed -n 's/^UMask=//p' "$units/pgtrail-capture.service")
    [ -n "$umask" ] || fail "pgtrail-capture.service has no UMask="
    printf '[source]\n' >/etc/pgtrail/pgtrail.conf          # as OPERATIONS says: root:pgtrail 0640
    chown root:pgtrail /etc/pgtrail/pgtrail.conf; chmod 0640 /etc/pgtrail/pgtrail.conf
    install -o pgtrail -g pgtrail -m 0600 /dev/null /etc/pgtrail/signing.pem   # the operator's key: 0600 pgtrail
    echo 'PRIVATE KEY' >/etc/pgtrail/signing.pem
    # capture appends to the anchor file as pgtrail with its unit's UMask
    setpriv --reuid=pgtrail --regid=pgtrail --init-groups sh -c "umask $umask && echo '{\"id\":1}' >>/var/lib/pgtrail/anchor.jsonl" ||
        fail "pgtrail could not write its anchor file"
    as_verify() { setpriv --reuid=pgtrail-verify --regid=pgtrail --init-groups "$@"; }
    as_verify cat /etc/pgtrail/pgtrail.conf >/dev/null 2>&1 || fail "pgtrail-verify cannot read /etc/pgtrail/pgtrail.conf"
    as_verify cat /var/lib/pgtrail/anchor.jsonl >/dev/null 2>&1 ||
        fail "pgtrail-verify cannot read the anchor file ($(stat -c '%U:%G %a' /var/lib/pgtrail/anchor.jsonl))"
    ! as_verify cat /etc/pgtrail/signing.pem >/dev/null 2>&1 || fail "pgtrail-verify can read the private signing key"
    ! as_verify sh -c 'echo x >>/var/lib/pgtrail/anchor.jsonl' 2>/dev/null ||
        fail "pgtrail-verify can write the anchor file ($(stat -c '%U:%G %a' /var/lib/pgtrail/anchor.jsonl))"
    ! as_verify sh -c 'echo x >/var/lib/pgtrail/new' 2>/dev/null || fail "pgtrail-verify can create files in /var/lib/pgtrail"
    rm -f /etc/pgtrail/pgtrail.conf /etc/pgtrail/signing.pem /var/lib/pgtrail/anchor.jsonl
}
state() { # what a re-run must not change
    getent passwd pgtrail; getent group pgtrail; getent passwd pgtrail-verify
    cat /etc/passwd /etc/group /etc/shadow /etc/gshadow 2>/dev/null | cksum
    stat -c '%n %U:%G %a' /etc/pgtrail /var/lib/pgtrail
    ls -A /etc/pgtrail /var/lib/pgtrail
}

# --- 1. with systemd and adduser ------------------------------------------------
forget_pgtrail
shim adduser; shim addgroup
mkdir -p /run/systemd/system
run postinst configure
check_installed
grep -qx adduser "$w/tools.log" || fail "postinst did not use adduser although it is there: $(cat "$w/tools.log")"
[ "$(cat "$w/systemctl.log")" = daemon-reload ] || fail "postinst ran systemctl \"$(cat "$w/systemctl.log")\", expected daemon-reload only"
[ "$(wc -l <"$w/out")" -eq 1 ] && grep -q /etc/pgtrail/pgtrail.conf "$w/out" ||
    fail "a fresh install should print one line about /etc/pgtrail/pgtrail.conf, printed: $(cat "$w/out")"
[ ! -s "$w/err" ] || fail "postinst wrote to stderr: $(cat "$w/err")"
before=$(state)
: >"$w/tools.log"
run postinst configure 0.1.0          # dpkg --configure / dpkg-reconfigure of the installed version
[ "$(state)" = "$before" ] || fail "configuring again changed something: $before // $(state)"
[ ! -s "$w/tools.log" ] || fail "configuring again ran $(cat "$w/tools.log")"
[ ! -s "$w/out" ] || fail "configuring again printed: $(cat "$w/out")"
check_access
# the operator's config and a mode they chose are kept, by upgrades too
echo '[source]' >/etc/pgtrail/pgtrail.conf
chmod 0700 /etc/pgtrail
before=$(state)
run postinst configure 0.0.9          # an upgrade from 0.0.9
[ "$(state)" = "$before" ] || fail "an upgrade changed the operator's /etc/pgtrail: $before // $(state)"
! grep -Eq '(^| )(enable|start|restart|try-restart)( |$)' "$w/systemctl.log" ||
    fail "an upgrade enabled or (re)started a unit: $(cat "$w/systemctl.log")"
: >"$w/systemctl.log"
run prerm upgrade 0.2.0
[ ! -s "$w/systemctl.log" ] || fail "prerm upgrade ran systemctl $(cat "$w/systemctl.log")"
run prerm remove
grep -q '^stop .*pgtrail-capture\.service' "$w/systemctl.log" && grep -q '^stop .*pgtrail-verify\.timer' "$w/systemctl.log" ||
    fail "prerm remove did not stop pgtrail-capture.service and pgtrail-verify.timer: $(cat "$w/systemctl.log")"
: >"$w/systemctl.log"
run postrm remove
run postrm purge
[ "$(cat "$w/systemctl.log")" = "daemon-reload
daemon-reload" ] || fail "postrm remove + purge ran systemctl \"$(cat "$w/systemctl.log")\", expected daemon-reload twice"
[ -f /etc/pgtrail/pgtrail.conf ] || fail "purge deleted the operator's /etc/pgtrail/pgtrail.conf"
[ -d /var/lib/pgtrail ] || fail "purge deleted /var/lib/pgtrail (the anchor file's directory)"
getent passwd pgtrail >/dev/null || fail "purge deleted the pgtrail user"
getent passwd pgtrail-verify >/dev/null || fail "purge deleted the pgtrail-verify user"
getent group pgtrail >/dev/null || fail "purge deleted the pgtrail group"

# --- 2. no systemd, no adduser: useradd -------------------------------------------
forget_pgtrail
rm -f "$w/bin/adduser" "$w/bin/addgroup"
rm -rf /run/systemd
mknod "$w/up-sbin/adduser" c 0 0      # overlay whiteouts: adduser and addgroup are gone
mknod "$w/up-sbin/addgroup" c 0 0
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$w/up-sbin,workdir=$w/wk-sbin" /usr/sbin
! command -v adduser >/dev/null && ! command -v addgroup >/dev/null || fail "could not hide adduser"
shim useradd; shim groupadd
run postinst configure
check_installed
grep -qx useradd "$w/tools.log" && grep -qx groupadd "$w/tools.log" ||
    fail "without adduser postinst did not use groupadd and useradd: $(cat "$w/tools.log")"
before=$(state)
run postinst configure 0.1.0
[ "$(state)" = "$before" ] || fail "configuring again (useradd path) changed something"
check_access
run prerm remove
run postrm purge
getent passwd pgtrail >/dev/null && getent passwd pgtrail-verify >/dev/null && getent group pgtrail >/dev/null ||
    fail "purge (useradd path) deleted a user or the group"
[ ! -s "$w/systemctl.log" ] || fail "without systemd the scripts ran systemctl $(cat "$w/systemctl.log")"
echo "ok: postinst/prerm/postrm with adduser+systemd and with useradd, no systemd"
