#!/usr/bin/env bash
# test_install.sh SOURCE_DIR BUILD_DIR VERSION — what cmake/Packaging.cmake
# promises: `cmake --install` into a temporary prefix puts the programs, man
# pages, docs, example config and systemd units in place and the installed
# programs run; the man pages render without warnings and document every
# option of --help; `cpack -G DEB` builds a .deb holding those files, with
# sane Package, Version, Section and Depends, a DEP-5 copyright and a
# changelog.Debian.gz for the same version, and the maintainer scripts of
# deploy/debian/. Those are then run (maintscripts.sh) inside a private mount
# namespace whose /etc and /var are throwaway overlays, so this machine's users
# and directories are not changed; that part needs root (unshare --mount,
# overlayfs, and postinst creates a user and chowns). No database needed.
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd) version=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
programs="pgtrail-capture pgtrail-replay pgtrail-verify pgtrail-erase"

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
expected+=(share/doc/pgtrail/copyright share/doc/pgtrail/changelog.Debian.gz)
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
# copyright: machine-readable (DEP-5), and honest that no license is granted yet
copyright=$root/share/doc/pgtrail/copyright
[ "$(head -1 "$copyright")" = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ] ||
    fail "copyright does not start with the DEP-5 Format line"
grep -qx 'Files: \*' "$copyright" && grep -q '^Copyright: ' "$copyright" && grep -qx 'License: none' "$copyright" ||
    fail "copyright has no \"Files: *\" paragraph with Copyright and \"License: none\""
# changelog.Debian.gz: gzip -9n (no name, no time stamp), parseable, this version
changelog=$root/share/doc/pgtrail/changelog.Debian.gz
[ "$(od -An -tx1 -j3 -N5 "$changelog" | tr -d ' ')" = 0000000000 ] ||
    fail "changelog.Debian.gz has a file name or time stamp in its gzip header (not gzip -n)"
zcat "$changelog" >"$work/changelog" || fail "changelog.Debian.gz is not gzip"
if command -v dpkg-parsechangelog >/dev/null; then
    clversion=$(dpkg-parsechangelog -l "$work/changelog" -S Version) || fail "dpkg-parsechangelog cannot read changelog.Debian.gz"
else
    clversion=$(sed -n '1s/^pgtrail (\([^)]*\)) .*/\1/p' "$work/changelog")
fi
[ "$clversion" = "$version" ] || fail "changelog.Debian.gz is for version \"$clversion\", expected $version"

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
    case $f in share/man/*) f=$f.gz ;; esac   # gzipped in the .deb only (Debian policy 12.1)
    grep -qx "usr/$f" "$work/contents" || fail ".deb lacks /usr/$f"
done
! grep -q '^usr/share/man/.*[^z/]$' "$work/contents" || fail ".deb has uncompressed man pages: $(grep '^usr/share/man/.*[^z/]$' "$work/contents")"
# programs stripped in the .deb, their debug symbols in the -dbgsym .ddeb by build ID
dpkg-deb -x "$deb" "$work/debroot"
ddeb=$(ls "$work"/deb/pgtrail-dbgsym_*.ddeb 2>/dev/null) || fail "cpack made no pgtrail-dbgsym .ddeb"
dpkg-deb -c "$ddeb" | awk '{ print $NF }' | sed 's|^\./||' >"$work/ddeb-contents"
for p in $programs; do
    ! readelf -S "$work/debroot/usr/bin/$p" | grep -q '\.debug_info' || fail "$p in the .deb is not stripped"
    id=$(readelf -n "$work/debroot/usr/bin/$p" | sed -n 's/.*Build ID: *//p')
    [ -n "$id" ] || fail "$p has no build ID"
    grep -qx "usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" "$work/ddeb-contents" ||
        fail "the .ddeb has no debug symbols for $p (build ID $id)"
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
grep -Eq "(^|, )adduser \| passwd(,|$)" <<<"$depends" || fail "Depends lacks \"adduser | passwd\" (postinst creates the user): $depends"
for lib in libc6 libpq5 librdkafka1 'libssl3(t64)?' 'libmicrohttpd12(t64)?'; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[ "$(field Version)" = "$clversion" ] || fail "the changelog's version $clversion is not the package's $(field Version)"
grep -q "^ -- $(field Maintainer)  " "$work/changelog" || fail "the changelog's maintainer is not the package's Maintainer"

# --- the maintainer scripts: there, executable, POSIX sh, the ones in deploy/debian ---
dpkg-deb -e "$deb" "$work/control"
for s in postinst prerm postrm; do
    [ -f "$work/control/$s" ] || fail ".deb has no $s"
    [ "$(stat -c %a "$work/control/$s")" = 755 ] || fail "$s in the .deb is mode $(stat -c %a "$work/control/$s"), expected 755"
    [ "$(head -1 "$work/control/$s")" = "#!/bin/sh" ] || fail "$s does not start with #!/bin/sh"
    sh -n "$work/control/$s" || fail "$s: sh -n found a syntax error"
    if command -v dash >/dev/null; then dash -n "$work/control/$s" || fail "$s: dash -n found a syntax error"; fi
    cmp -s "$work/control/$s" "$src/deploy/debian/$s" || fail "$s in the .deb differs from deploy/debian/$s"
done
# ... and they work: run them as dpkg would, in a private mount namespace
[ "$(id -u)" = 0 ] ||
    fail "running the maintainer scripts needs root (unshare --mount with overlays of /etc and /var: this machine is not changed); run this test as root"
command -v unshare >/dev/null || fail "unshare (util-linux) is not installed"
[ -d "$work/debroot/usr/lib/systemd/system" ] || fail ".deb has no /usr/lib/systemd/system"
unshare --mount --propagation private sh "$src/tests/packaging/maintscripts.sh" "$work/control" "$work/ns" \
    "$work/debroot/usr/lib/systemd/system" ||
    fail "the maintainer scripts did not do what they should (above)"
echo "ok: installed ${#expected[@]} files; $(basename "$deb"): Depends: $depends"
