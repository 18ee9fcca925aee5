#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The ipcc command line contract: output, messages and exit statuses (0 ok, 1 runtime error,
# 2 usage error), against real shm objects. Usage: test-cli.sh PATH/TO/ipcc
set -euo pipefail

ipcc=$1
pfx="ipcc-cli-$$"
shm=/dev/shm
fails=0

cleanup() {
	rm -f "$shm/$pfx"-*
}
trap cleanup EXIT

# expect STATUS PATTERN CMD...: CMD exits with STATUS and its stdout+stderr match PATTERN (ERE).
expect() {
	local want=$1 pattern=$2 out status=0
	shift 2
	out=$("$@" 2>&1) || status=$?
	if [[ $status -ne $want ]] || ! grep -Eq -- "$pattern" <<<"$out"; then
		printf 'FAIL: %s\n  want exit %s and /%s/\n  got exit %s:\n%s\n' "$*" "$want" \
			"$pattern" "$status" "$out" >&2
		fails=$((fails + 1))
	fi
}

# help and usage
expect 0 '^Usage: ipcc' "$ipcc" help
expect 0 '^Usage: ipcc' "$ipcc" --help
expect 2 '^Usage: ipcc' "$ipcc"
expect 2 "unknown command 'frob'" "$ipcc" frob
expect 2 'create: missing NAME' "$ipcc" create
expect 2 "unknown option '--bogus'" "$ipcc" create "/$pfx-x" --bogus
expect 2 "option '--cpus' needs a value" "$ipcc" create "/$pfx-x" --cpus

# strict numbers, with the limit in the message
for bad in abc -1 ' 3' 3x 0x4 1 65 99999999999999999999999; do
	expect 2 "invalid value '$bad' for --cpus: .*2\.\.64" "$ipcc" create "/$pfx-x" --cpus "$bad"
done
expect 2 "for --channels: .*1\.\.16" "$ipcc" create "/$pfx-x" --channels 17
expect 2 "for --buffer-size: .*8\.\.1048576" "$ipcc" create "/$pfx-x" --buffer-size 7
expect 2 "for --buffer-size" "$ipcc" create "/$pfx-x" --buffer-size 2M
expect 2 "for --mode" "$ipcc" create "/$pfx-x" --mode 0800
expect 2 "for --unlink" "$ipcc" create "/$pfx-x" --unlink 1-
expect 2 "CPU 2 does not exist" "$ipcc" create "/$pfx-x" --unlink 0-2
expect 2 "no CPU pair left linked" "$ipcc" create "/$pfx-x" --unlink 0-1
expect 2 "invalid name 'a/b'" "$ipcc" create a/b
expect 1 "above the 1073741824 B \(1\.0 GiB\) limit" \
	"$ipcc" create "/$pfx-x" --cpus 64 --channels 16 --buffer-size 1M
[[ -e $shm/$pfx-x ]] && { echo "FAIL: a failed create left $pfx-x behind" >&2; fails=$((fails + 1)); }

# create / info / rm, with and without the leading '/'
expect 0 "^created /$pfx-a: 4 CPUs, 16 channels, 512 B buffers, 5 links" \
	"$ipcc" create "$pfx-a" --cpus 4 --channels 16 --unlink 1-3 --mode 640
[[ $(stat -c %a "$shm/$pfx-a") == 640 ]] || { echo "FAIL: --mode 640 not applied" >&2; fails=$((fails + 1)); }
expect 1 "cannot create /$pfx-a: it already exists" "$ipcc" create "/$pfx-a"
expect 0 "linked pairs 5 of 6" "$ipcc" info "/$pfx-a"
expect 0 "unlinked: 1-3" "$ipcc" info "/$pfx-a"
expect 0 "C2MR CHnFM +1  1  1" "$ipcc" info "$pfx-a"
expect 0 "link 2-3: processor 1 = CPU 2" "$ipcc" info "$pfx-a" --link 3-2
expect 1 "has no link 1-3: the pair is unlinked" "$ipcc" info "$pfx-a" --link 1-3
expect 1 "has no link 0-7: it has 4 CPUs" "$ipcc" info "$pfx-a" --link 0-7
if command -v python3 >/dev/null; then
	expect 0 '^5 16 True$' bash -c "'$ipcc' info /$pfx-a --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len(d[\"links\"]), len(d[\"links\"][0][\"channels\"]), d[\"links\"][0][\"channels\"][0][\"C1OM\"])'"
fi
expect 0 "/$pfx-a +4 +16 +512 +5" "$ipcc" list
expect 0 '^$' "$ipcc" rm "$pfx-a"
expect 1 "cannot open /$pfx-a: no such object" "$ipcc" info "/$pfx-a"
expect 1 "cannot remove /$pfx-a: no such object" "$ipcc" rm "/$pfx-a"
expect 0 '^$' "$ipcc" rm -f "/$pfx-a"

# objects that are not (or no longer) valid libipcc systems
head -c 4096 /dev/urandom >"$shm/$pfx-foreign"
expect 1 "cannot open /$pfx-foreign: not a libipcc object" "$ipcc" info "/$pfx-foreign"
expect 1 "not removing /$pfx-foreign: not a libipcc object" "$ipcc" rm "/$pfx-foreign"
expect 0 '^$' "$ipcc" rm -f "/$pfx-foreign"
: >"$shm/$pfx-empty"
expect 1 "cannot open /$pfx-empty: it is still being created" "$ipcc" info "/$pfx-empty"
expect 0 '^$' "$ipcc" rm "/$pfx-empty"
"$ipcc" create "/$pfx-t" >/dev/null
truncate -s 4096 "$shm/$pfx-t"
expect 1 "cannot open /$pfx-t: truncated" "$ipcc" info "/$pfx-t"
# layout_version is the 32-bit word at offset 8
printf '\x03\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=8 conv=notrunc status=none
expect 1 "cannot open /$pfx-t: created by an incompatible libipcc layout version \(object v3" \
	"$ipcc" info "/$pfx-t"
printf '\x02\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=8 conv=notrunc status=none
# cpus is the 32-bit word at offset 52
printf '\x63\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=52 conv=notrunc status=none
expect 1 "cannot open /$pfx-t: corrupt header" "$ipcc" info "/$pfx-t"
expect 0 '^$' "$ipcc" rm "/$pfx-t"

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all ipcc command line checks passed"
