# names.sh — sourced by the deploy tests: are the flags and PGTRAIL_* names a
# deployment file uses ones the programs accept?
#
# Needs $src (source tree), $bin (built programs) and a fail() function.
#   pt_check_names LABEL PROGRAM   reads text on stdin (comments already removed):
#                                  every --flag must be in PROGRAM --help, every
#                                  PGTRAIL_* in PROGRAM --help or docs/CONFIG.md
#                                  (whole names: --metrics is not --metrics-file)
#   pt_check_vars LABEL            the same for PGTRAIL_* names only
pt_check_names() {
    local label=$1 program=$2 text help flag
    text=$(cat)
    [ -x "$bin/$program" ] || fail "$label runs $program, which is not built"
    help=$("$bin/$program" --help)
    for flag in $(grep -o -- '--[a-z][a-z-]*' <<<"$text" | sort -u); do
        grep -Eq -- "(^|[^a-z-])$flag([^a-z-]|\$)" <<<"$help" || fail "$label uses $flag, which $program --help does not list"
    done
    pt_check_vars "$label" <<<"$text" "$help"
}

pt_check_vars() {
    local label=$1 help=${2:-} text var
    text=$(cat)
    for var in $(grep -o 'PGTRAIL_[A-Z0-9_]*' <<<"$text" | sort -u); do
        grep -qw -- "$var" <<<"$help" || grep -qw -- "$var" "$src/docs/CONFIG.md" ||
            fail "$label uses $var, which is no pgtrail setting"
    done
}
