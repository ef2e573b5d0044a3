#!/usr/bin/env bash
# test_install.sh SOURCE_DIR BUILD_DIR VERSION — what cmake/Packaging.cmake
# promises: `cmake --install` into a temporary prefix puts the programs, man
# pages, docs, example config and systemd units in place and the installed
# programs run; the man pages render without warnings and document every
# option of --help; `cpack -G DEB` builds a .deb holding those files, with
# sane Package, Version, Section and Depends. No database needed.
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd) version=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
programs="pgtrail-capture pgtrail-replay pgtrail-verify"

# the man pages are built by the "man" target (part of ALL); make sure they are current
cmake --build "$build" --target man >/dev/null

root=$work/root
cmake --install "$build" --prefix "$root" >"$work/install.log" ||
    { cat "$work/install.log" >&2; fail "cmake --install failed"; }

# --- every expected file is installed --------------------------------------
expected=()
for p in $programs; do
    expected+=("bin/$p" "share/man/man1/$p.1")
done
expected+=(share/doc/pgtrail/README.md share/doc/pgtrail/examples/pgtrail.conf.example)
for f in "$src"/docs/*.md; do expected+=("share/doc/pgtrail/$(basename "$f")"); done
units=0
for f in "$src"/deploy/systemd/*.service "$src"/deploy/systemd/*.timer; do
    [ -e "$f" ] || continue
    expected+=("lib/systemd/system/$(basename "$f")"); units=$((units + 1))
done
[ "$units" -gt 0 ] || fail "no systemd units in deploy/systemd/"
for f in "${expected[@]}"; do
    [ -f "$root/$f" ] || fail "cmake --install did not install $f"
done
cmp -s "$src/config/pgtrail.conf.example" "$root/share/doc/pgtrail/examples/pgtrail.conf.example" ||
    fail "installed pgtrail.conf.example differs from config/pgtrail.conf.example"

# --- the installed programs run ----------------------------------------------
for p in $programs; do
    [ -x "$root/bin/$p" ] || fail "$root/bin/$p is not executable"
    out=$("$root/bin/$p" --version) || fail "installed $p --version exited $?"
    [ "$out" = "$p (pgtrail) $version" ] || fail "installed $p --version printed \"$out\", expected \"$p (pgtrail) $version\""
done

# --- the man pages are troff, render cleanly, and document every option ------
for p in $programs; do
    page=$root/share/man/man1/$p.1
    upper=$(tr a-z A-Z <<<"$p")
    grep -q "^\.TH $upper 1 " "$page" || fail "$p.1 has no .TH $upper 1 line"
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES "SEE ALSO"; do
        grep -q "^\.SH $s\$" "$page" || fail "$p.1 has no $s section"
    done
    grep -q "^$p \\\\- " "$page" || fail "$p.1's NAME line is not \"$p \\- summary\""
    if command -v groff >/dev/null; then
        LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>"$work/groff.err" || fail "groff failed on $p.1"
        [ ! -s "$work/groff.err" ] || { cat "$work/groff.err" >&2; fail "groff warns on $p.1"; }
        rendered=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-cbou -rLL=200n "$page")
    else
        rendered=$(cat "$page")
    fi
    if command -v man >/dev/null; then
        MANWIDTH=100 man -l "$page" 2>"$work/man.err" | head -5 | grep -q "^NAME" ||
            { cat "$work/man.err" >&2; fail "man -l $p.1 does not render a NAME section"; }
    fi
    # every option --help lists is in the page (the pages follow the key table)
    nflags=0
    for flag in $("$root/bin/$p" --help | grep -o -- '^  \(-., \)\?--\?[A-Za-z0-9-]*' | grep -o -- '-[-A-Za-z0-9]*$'); do
        grep -q -- "$flag\\b" <<<"$rendered" || fail "$p.1 does not document $flag from --help"
        nflags=$((nflags + 1))
    done
    [ "$nflags" -ge 5 ] || fail "found only $nflags options in $p --help"
done

# --- the .deb ------------------------------------------------------------------
command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed (needed to check the .deb)"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$work"/deb/*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || { cat "$work/cpack.log" >&2; fail "cpack made no single .deb: ${debs[*]}"; }
deb=${debs[0]}
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./||' >"$work/contents"
for f in "${expected[@]}"; do
    grep -qx "usr/$f" "$work/contents" || fail ".deb lacks /usr/$f"
done
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = pgtrail ] || fail "Package is \"$(field Package)\", expected pgtrail"
[ "$(field Version)" = "$version" ] || fail "Version is \"$(field Version)\", expected $version"
[ "$(field Section)" = database ] || fail "Section is \"$(field Section)\", expected database"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
# Description: a synopsis line, then the long text each line indented by one space
desc=$(field Description)
[ "$(sed -n 2p <<<"$desc")" = " pgtrail-capture streams every committed row change of a PostgreSQL database" ] &&
    ! grep -q '^  ' <<<"$desc" || fail "Description is not synopsis + one-space-indented text: $desc"
depends=$(field Depends)
for lib in libc6 libpq5 librdkafka1 'libssl3(t64)?' 'libmicrohttpd12(t64)?'; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
echo "ok: installed ${#expected[@]} files; $(basename "$deb"): Depends: $depends"
