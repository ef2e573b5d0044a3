#!/bin/sh
# gen_man.sh PROGRAM OUTPUT — write PROGRAM's man page (troff, section 1) to OUTPUT.
#
# The build runs this for each program (cmake/Packaging.cmake), so the pages
# come from `PROGRAM --help`, which comes from the config key table: a key added
# to config/keys.c is in the man page at the next build, and nothing drifts.
# The parts --help does not carry (a longer DESCRIPTION, EXIT STATUS, FILES,
# SEE ALSO) are fixed text below. No help2man: only sh, awk and sed.
#
# The help's shape is: a summary line, "Usage:" lines, "Options:" lines
# ("  -c, --config FILE   text"), then closing paragraphs. A help that does not
# have this shape fails the build rather than producing a broken page.
set -eu
[ $# -eq 2 ] || { echo "usage: gen_man.sh PROGRAM OUTPUT" >&2; exit 2; }
prog=$1 out=$2
name=$(basename "$prog")

help=$("$prog" --help)
version=$("$prog" --version | awk '{ print $NF; exit }')
[ -n "$version" ] || { echo "gen_man.sh: $name --version printed nothing" >&2; exit 1; }

case $name in
pgtrail-capture)
    more='pgtrail\-capture reads a logical replication slot (wal2json) of the source database and writes each committed row change as one event into the event store, a table whose rows are linked by a SHA\-256 hash chain, and optionally to Kafka. On first start it creates the slot and copies the existing rows as snapshot events. It confirms an LSN to the server only after the sinks have committed it, so a crash loses nothing and duplicates nothing.'
    see='.BR pgtrail\-replay (1),
.BR pgtrail\-verify (1),
.BR pg_recvlogical (1)' ;;
pgtrail-replay)
    more='pgtrail\-replay applies the event log, in commit order, to a target database, up to a given LSN or time, so the tables can be rebuilt as they were at any point. It can also show one row as it was at a time, or its whole history, without touching a target.'
    see='.BR pgtrail\-capture (1),
.BR pgtrail\-verify (1)' ;;
pgtrail-verify)
    more='pgtrail\-verify walks the event log and checks the hash chain, that event ids have no gaps, the signatures of the checkpoints and the anchor file. With \-\-drift it also rebuilds the latest state from the log and compares it with the live tables, naming rows changed past the log. Run it from a timer (pgtrail\-verify.timer) and alert on a failed run.'
    see='.BR pgtrail\-capture (1),
.BR pgtrail\-replay (1)' ;;
pgtrail-erase)
    more='pgtrail\-erase removes personal data from the event store on a lawful request: every value of a row (\-\-table with \-\-key), one column of a table (\-\-column), or every value of one event (\-\-event). The hash chain stays valid, since each value is covered by a salted commitment that is kept when the value goes, and the erasure is appended to the chain as an event of its own, with the request and the reason, signed with \-\-signing\-key. pgtrail\-verify reports erasures apart from tampering. When a Kafka sink reads the store, capture publishes the erasure and a tombstone (or, for debezium, an update without the values) for each key whose last record held erased values; an erased key waits for that in the erasure_due table. Backups, replicas, records already in Kafka topics and replay targets keep their copies: see OPERATIONS.md.'
    see='.BR pgtrail\-capture (1),
.BR pgtrail\-verify (1),
.BR pgtrail\-replay (1)' ;;
*)
    echo "gen_man.sh: no fixed text for $name" >&2; exit 1 ;;
esac

tmp=$out.tmp
printf '%s\n' "$help" | MORE=$more awk -v name="$name" -v version="$version" '
# troff-safe text: backslashes literal, a dash that starts a word is a minus
# (so options can be searched and copied), no line starting with a control char
function esc(s,   r, k, c, prev, lastdash) {
    gsub(/\\/, "\\e", s)
    r = ""; prev = " "
    for (k = 1; k <= length(s); k++) {
        c = substr(s, k, 1)
        if (c == "-" && (index(" ([=,:/", prev) || lastdash)) { r = r "\\-"; lastdash = 1 }
        else { r = r c; lastdash = 0 }
        prev = c
    }
    s = r
    if (s ~ /^[.\047]/) s = "\\&" s
    return s
}
# "-c, --config FILE" -> bold option names, italic arguments
function spec(s,   n, i, t, r, a, tok) {
    n = split(s, tok, " ")
    r = ""
    for (i = 1; i <= n; i++) {
        t = tok[i]; a = ""
        if (t ~ /^-/) {
            if (match(t, /[,\[].*$/)) { a = substr(t, RSTART); t = substr(t, 1, RSTART - 1) }
            gsub(/-/, "\\-", t)
            r = r (i > 1 ? " " : "") "\\fB" t "\\fR" a
        } else
            r = r " \\fI" t "\\fR"
    }
    return r
}
function die(msg) { print "gen_man.sh: " name ": " msg > "/dev/stderr"; bad = 1; exit 1 }
NR == 1 {
    summary = $0
    if (index(summary, name " ") != 1) die("--help does not start with \"" name " ...\"")
    summary = substr(summary, length(name) + 2)
    sub(/\.$/, "", summary)
    next
}
/^Usage:$/   { part = "usage"; next }
/^Options:$/ { part = "options"; nopt = 0; next }
/^$/ { if (part == "usage" || part == "options") part = (part == "options" ? "tail" : "mid"); else if (part == "tail") tail = tail "\n.PP"; next }
part == "usage" { sub(/^ +/, ""); usage[++nusage] = $0; next }
part == "options" {
    if (match($0, /^  (-[A-Za-z], )?--?[A-Za-z0-9-]+(\[=[^]]*\])?( [A-Z][A-Z=]*)?( |$)/)) {
        s = substr($0, 3, RLENGTH - 2); sub(/ +$/, "", s)
        d = substr($0, RLENGTH + 1); sub(/^ +/, "", d)
        ospec[++nopt] = s; odesc[nopt] = d
    } else if ($0 ~ /^   +[^ ]/ && nopt > 0) {
        d = $0; sub(/^ +/, "", d); odesc[nopt] = odesc[nopt] " " d
    } else
        die("cannot read option line: " $0)
    next
}
part == "tail" { tail = tail "\n" esc($0); next }
{ die("unexpected line outside Usage/Options: " $0) }
END {
    if (bad) exit 1
    if (nusage == 0) die("no Usage: lines")
    if (nopt == 0) die("no Options: lines")
    up = toupper(name)
    print ".\\\" Generated by scripts/gen_man.sh from " name " --help; do not edit."
    printf ".TH %s 1 \"\" \"pgtrail %s\" \"pgtrail manual\"\n", esc(up), version
    print ".SH NAME"
    print esc(name) " \\- " esc(summary)
    print ".SH SYNOPSIS"
    for (i = 1; i <= nusage; i++) {
        u = usage[i]
        if (index(u, name) == 1) u = "\\fB" esc(name) "\\fR" esc(substr(u, length(name) + 1))
        else u = esc(u)
        print (i > 1 ? ".br\n" : "") u
    }
    print ".SH DESCRIPTION"
    print ENVIRON["MORE"]
    print ".SH OPTIONS"
    for (i = 1; i <= nopt; i++) {
        print ".TP"
        print spec(ospec[i])
        print esc(odesc[i])
    }
    print ".SH CONFIGURATION" tail
}' >"$tmp" || { rm -f "$tmp"; exit 1; }

cat >>"$tmp" <<EOF
.SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
integrity failure (the event log does not check out)
.TP
.B 2
usage or configuration error (a connection string that does not parse included)
.TP
.B 3
could not run (a database or Kafka could not be reached, or a system error)
.SH FILES
.TP
.I /etc/pgtrail/pgtrail.conf
the settings file the systemd units pass with \\-c (create it from the example)
.TP
.I ~/.pgpass
libpq's password file (or \\fBpassfile=\\fP, \\fBPGPASSFILE\\fP): keep passwords there, not in a
connection string given as a flag, which every local user can read in /proc/PID/cmdline
(the programs warn when they see one)
.TP
.I /usr/share/doc/pgtrail/examples/pgtrail.conf.example
every setting with its default, commented out
.TP
.I /usr/share/doc/pgtrail/CONFIG.md
every setting, its environment variable and flag
.TP
.I /usr/share/doc/pgtrail/OPERATIONS.md
setting up a source, monitoring, upgrades, a slot that falls behind
.SH SEE ALSO
$see
EOF
mv "$tmp" "$out"
