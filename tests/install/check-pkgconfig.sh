#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-pkgconfig.sh BUILD_DIR CONSUMER.c CC CXX PKG_CONFIG
# Installs the build into a scratch DESTDIR and consumes it as another project would: through
# pkg-config only, with no other .pc file visible (so a dynamic query must need nothing
# private), as C and as C++, linked dynamically and statically. Also checks the static flags
# hold no duplicate, and that the installed programs carry the RUNPATH of the prefix.
set -euo pipefail
build=$1 src=$2 cc=$3 cxx=$4 pkgconfig=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
	printf 'FAIL: %s\n' "$*"
	fails=$((fails + 1))
}

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name ipcc.pc | head -n 1)
[[ -n $pc ]] || { echo "FAIL: no ipcc.pc installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
# Only our .pc, relocated into the DESTDIR.
export PKG_CONFIG_LIBDIR=$(dirname "$pc")
unset PKG_CONFIG_PATH
pkg() { "$pkgconfig" --define-variable=prefix="$tmp/root$prefix" "$@" ipcc; }

dyn=$(pkg --cflags --libs) || fail "dynamic pkg-config query failed"
static=$(pkg --cflags --libs --static) || fail "static pkg-config query failed"
dups=$(tr ' ' '\n' <<<"$static" | grep -v '^$' | sort | uniq -d)
[[ -z $dups ]] || fail "duplicate flags in --static: $dups"
libdir=$(pkg --variable=libdir)

# shellcheck disable=SC2086 # the flags are words
{
	"$cc" -std=c11 -Wall -Werror -o "$tmp/c-dyn" "$src" $dyn || fail "C dynamic build"
	cp "$src" "$tmp/consumer.cpp"
	"$cxx" -std=c++11 -Wall -Werror -o "$tmp/cxx-dyn" "$tmp/consumer.cpp" $dyn ||
		fail "C++ dynamic build"
	# A fully static program: every library the archive needs must come from --static.
	"$cc" -std=c11 -Wall -Werror -static -o "$tmp/c-static" "$src" $static ||
		fail "C static build"
}
for exe in c-dyn cxx-dyn; do
	[[ -x $tmp/$exe ]] || continue
	LD_LIBRARY_PATH=$libdir "$tmp/$exe" | grep -q '^consumer: .* ok$' || fail "$exe did not run"
done
if [[ -x $tmp/c-static ]]; then
	"$tmp/c-static" | grep -q ' ok$' || fail "c-static did not run"
fi

# Installed programs run from any prefix: a RUNPATH to its libdir, none under /usr.
want=$prefix/$(realpath --relative-to="$tmp/root$prefix" "$libdir")
for exe in "$tmp/root$prefix"/bin/*; do
	rp=$(readelf -d "$exe" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
	if [[ $prefix == /usr ]]; then
		[[ -z $rp ]] || fail "$(basename "$exe"): RUNPATH $rp under /usr"
	elif [[ $rp != "$want" ]]; then
		fail "$(basename "$exe"): RUNPATH '$rp', want '$want'"
	fi
done
echo "dynamic: $dyn"
echo "static: $static"
echo "$fails problems"
((fails == 0))
