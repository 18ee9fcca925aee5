#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-versions.sh VERSION PROGRAM...
# Every installed program answers --version with one line "NAME VERSION (libipcc VERSION)" and
# exit status 0, VERSION being meson.build's project version.
set -uo pipefail
version=$1
shift
fails=0
for exe in "$@"; do
	name=$(basename "$exe")
	out=$("$exe" --version 2>&1)
	rc=$?
	want="$name $version (libipcc $version)"
	if ((rc != 0)) || [[ $out != "$want" ]]; then
		printf 'FAIL: %s --version: exit %d, "%s", want "%s"\n' "$name" "$rc" "$out" "$want"
		fails=$((fails + 1))
	fi
done
echo "$# programs, $fails problems"
((fails == 0))
