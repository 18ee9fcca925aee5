#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The bash completion of ipcc: subcommands, options, system names, CPU names; and that
# `meson install` puts it where bash-completion looks.
# Usage: test-completion.sh COMPLETION_FILE PATH/TO/ipcc BUILD_DIR
set -euo pipefail
comp=$1
ipcc=$2
build=$3
pfx="ipcc-comp-$$"
tmp=$(mktemp -d)
fails=0
trap 'rm -f /dev/shm/$pfx-*; rm -rf "$tmp"' EXIT

# shellcheck source=ipcc
source "$comp"

# complete WORD...: COMPREPLY for the command line WORD..., the last word being completed
complete_words() {
	COMP_WORDS=("$ipcc" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	# as bash runs it: in the interactive shell, without errexit
	set +e
	_ipcc
	set -e
	printf '%s\n' "${COMPREPLY[@]}"
}

# want "WANT" WORD...: the completions are exactly WANT (sorted, space-separated)
want() {
	local w=$1 got
	shift
	got=$(complete_words "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	if [[ $got != "$w" ]]; then
		printf 'FAIL: completing %q: got "%s", want "%s"\n' "$*" "$got" "$w" >&2
		fails=$((fails + 1))
	fi
}

# has WANT WORD...: WANT is among the completions
has() {
	local w=$1 got
	shift
	# all the completions first: grep -q would stop reading at the match, and with pipefail
	# the writer's SIGPIPE would count as a miss when other objects come after ours
	got=$(complete_words "$@")
	if ! grep -qxF -- "$w" <<<"$got"; then
		printf 'FAIL: completing %q does not offer %s\n' "$*" "$w" >&2
		fails=$((fails + 1))
	fi
}

want "watch" w
want "rm rpmsg" r
want "stat" st
has "--version" --
want "--interval" watch /x --int
want "--all" list --a
want "--as" notify /x --a
want "call listen recv send" rpmsg ""

printf 'cpus: [host, m4, dsp]\n' >"$tmp/c.yaml"
if "$ipcc" create --config "$tmp/c.yaml" "/$pfx-a" >/dev/null 2>&1; then
	has "/$pfx-a" info ""
	has "/$pfx-a" watch ""
	want "/$pfx-a" watch "/$pfx-"
	want "dsp host m4" notify "/$pfx-a" --as ""
	want "m4:" notify "/$pfx-a" --as host --to m
else
	"$ipcc" create "/$pfx-a" --cpus 3 >/dev/null
	has "/$pfx-a" info ""
	want "cpu0 cpu1 cpu2" notify "/$pfx-a" --as ""
fi
# other programs' objects and FIFOs are not offered (a FIFO would block the shell)
head -c 64 /dev/urandom >"/dev/shm/$pfx-other"
mkfifo "/dev/shm/$pfx-fifo"
want "/$pfx-a" info "/$pfx-"
# a name is anyone's bytes: never expanded (compgen -W would run $(...)), odd ones not offered
"$ipcc" create "/$pfx-\$(touch pwned)" >/dev/null
"$ipcc" create "/$pfx-q\"uote" >/dev/null
cd "$tmp"
want "/$pfx-a" info "/$pfx-"
[[ -e $tmp/pwned ]] && { echo "FAIL: completion ran a command in an object name" >&2; fails=$((fails + 1)); }
cd - >/dev/null
# nothing is offered after the system name where none is expected
want "" info "/$pfx-a" ""

# meson install puts it into share/bash-completion/completions (what meson would install,
# without installing: the build may be partial)
if ! command -v python3 >/dev/null; then
	echo "skipped: where meson installs it (no python3)"
elif ! meson introspect "$build" --installed | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
dest = [v for k, v in d.items() if os.path.realpath(k) == os.path.realpath(sys.argv[1])]
assert len(dest) == 1 and dest[0].endswith("/share/bash-completion/completions/ipcc"), dest
' "$comp"; then
	echo "FAIL: meson does not install $comp into share/bash-completion/completions/ipcc" >&2
	fails=$((fails + 1))
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all completion checks passed"
