#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-subproject.sh SOURCE_ROOT CONSUMER.c
# A scratch parent project takes libipcc as a Meson subproject, the way the README says:
# dependency('ipcc', fallback : 'libipcc'). It must configure with none of our test or bench
# dependencies (the subproject's tests and bench are off), build a C and a C++ consumer, and
# run them. The fallback is forced, so an installed libipcc cannot stand in for it.
set -euo pipefail
src=$(realpath "$1") consumer=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
	printf 'FAIL: %s\n' "$*"
	fails=$((fails + 1))
}

mkdir -p "$tmp/parent/subprojects"
ln -s "$src" "$tmp/parent/subprojects/libipcc"
cp "$consumer" "$tmp/parent/consumer.c"
cp "$consumer" "$tmp/parent/consumer.cpp"
cat >"$tmp/parent/meson.build" <<'MESON'
project('parent', 'c', 'cpp', default_options : ['c_std=c11', 'cpp_std=c++11'])
ipcc = dependency('ipcc', fallback : 'libipcc')
executable('consumer', 'consumer.c', dependencies : ipcc)
executable('consumer-cxx', 'consumer.cpp', dependencies : ipcc)
MESON

if ! meson setup --force-fallback-for=ipcc "$tmp/build" "$tmp/parent" >"$tmp/setup.log" 2>&1; then
	cat "$tmp/setup.log"
	exit 1
fi
grep -Eq 'tests \(Criterion\) *: NO' "$tmp/setup.log" || fail "the subproject's tests are not off"
grep -Eq 'bench \(jansson\) *: NO' "$tmp/setup.log" || fail "the subproject's bench is not off"
grep -Eq 'SystemC example *: NO' "$tmp/setup.log" || fail "the subproject's SystemC example is not off"
tests=$(meson introspect --tests "$tmp/build")
[[ $tests == "[]" ]] || fail "the parent has tests it did not define: $tests"
if ! ninja -C "$tmp/build" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	exit 1
fi
for exe in consumer consumer-cxx; do
	"$tmp/build/$exe" | grep -q '^consumer: .* ok$' || fail "$exe did not run"
done
echo "$fails problems"
((fails == 0))
