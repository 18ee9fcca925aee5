#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-man.sh GROFF PAGE...
# Every page formats for a terminal with all of groff's warnings enabled and prints none, and
# has the sections a reader looks for. Exit 1 with the page and groff's words otherwise.
set -uo pipefail
groff=$1
shift
fails=0
for page in "$@"; do
	out=$("$groff" -man -Tutf8 -ww -z "$page" 2>&1)
	if [[ -n $out ]]; then
		printf 'FAIL: %s renders with warnings:\n%s\n' "$page" "$out"
		fails=$((fails + 1))
	fi
	text=$("$groff" -man -Tutf8 "$page" 2>/dev/null | sed 's/.\x08//g')
	for section in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do
		if ! grep -q "^$section\$" <<<"$text"; then
			printf 'FAIL: %s has no %s section\n' "$page" "$section"
			fails=$((fails + 1))
		fi
	done
done
echo "$# pages, $fails problems"
((fails == 0))
