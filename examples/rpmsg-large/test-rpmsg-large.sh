#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ipcc-rpmsg-large (examples/rpmsg-large/meson.build runs this): a producer and a consumer
# started as two processes, in either order, move blocks through the region and exit 0 with
# their summaries; injected bad blocks are refused by the consumer's checks and counted; nothing
# is left in /dev/shm; a consumer that never comes, or dies, ends the producer with one
# message; bad arguments exit 2. Usage: test-rpmsg-large.sh IPCC_RPMSG_LARGE
set -u

bin=$1
name=/ipcc-rpmsg-large-test-$$
tmp=$(mktemp -d)
fails=0
bg=() # the pids this script started and has not reaped yet

cleanup() {
	for p in "${bg[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	rm -f /dev/shm/"${name#/}"*
	rm -rf "$tmp"
}
trap cleanup EXIT

bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# has FILE ERE: the file has a line matching ERE
has() {
	grep -Eq -- "$2" "$1" || bad "$1 lacks /$2/: $(cat "$1")"
}

# until COMMAND...: run it every 10 ms until it succeeds, for 4 s at most
until_true() {
	for _ in $(seq 400); do
		"$@" && return 0
		sleep 0.01
	done
	bad "never true: $*"
	return 1
}

left_behind() {
	local left
	left=$(ls /dev/shm | grep -F "${name#/}")
	[[ -z $left ]] || bad "left in /dev/shm after $1: $left"
	rm -f /dev/shm/"${name#/}"*
}

# pair BG_OUT FG_OUT BG_ARGS... :: FG_ARGS...: one process in the background, one in the
# foreground; their exit statuses in rc_bg and rc_fg.
pair() {
	local bgout=$1 fgout=$2 n=1 pid
	shift 2
	while [[ ${!n} != :: ]]; do n=$((n + 1)); done
	"$bin" "${@:1:n-1}" >"$bgout" 2>&1 &
	pid=$!
	bg+=("$pid")
	"$bin" "${@:n+1}" >"$fgout" 2>&1
	rc_fg=$?
	wait "$pid"
	rc_bg=$?
	bg=()
}

# 1. The consumer first; a region of 16 KiB: 300 blocks of 2 KiB to 4 KiB through 4 slots (the
# slots wrap 75 times).
pair "$tmp/c1" "$tmp/p1" "$name" --consumer --area-size 16384 :: \
	"$name" --producer --count 300 --blocks 4 --area-size 16384
[[ $rc_fg -eq 0 ]] || bad "producer exited $rc_fg: $(cat "$tmp/p1")"
[[ $rc_bg -eq 0 ]] || bad "consumer exited $rc_bg: $(cat "$tmp/c1")"
has "$tmp/c1" "^CPU 1 end point [0-9]+: 'large-data' announced on $name, region of 16384 bytes$"
has "$tmp/p1" '^CPU 0: consumer at CPU 1 end point [0-9]+; region of 16384 bytes, 4 slots of 4096$'
has "$tmp/p1" '^sent 300 blocks, [0-9.]+ MiB in [0-9.]+ s \([0-9]+ MiB/s\), 0 refused as expected$'
has "$tmp/c1" '^received 300 blocks, [0-9.]+ MiB, every checksum right; refused 0 \(out of bounds 0, wrong checksum 0\)$'
# Both count the same bytes: the blocks' lengths vary, so this checks every length arrived.
mib_p=$(sed -nE 's/^sent [0-9]+ blocks, ([0-9.]+) MiB.*/\1/p' "$tmp/p1")
mib_c=$(sed -nE 's/^received [0-9]+ blocks, ([0-9.]+) MiB.*/\1/p' "$tmp/c1")
[[ -n $mib_p && $mib_p == "$mib_c" ]] || bad "producer sent $mib_p MiB, consumer took $mib_c"
left_behind "a run"

# 2. The producer first (it waits for the announcement), with the three bad blocks: the
# consumer refuses exactly those, by bounds (2) and by checksum (1), and takes the rest.
pair "$tmp/p2" "$tmp/c2" "$name" --producer --count 50 --area-size 4096 --blocks 4 \
	--inject-faults --wait futex :: "$name" --consumer --area-size 4096 --wait futex
[[ $rc_bg -eq 0 ]] || bad "fault-injecting producer exited $rc_bg: $(cat "$tmp/p2")"
[[ $rc_fg -eq 0 ]] || bad "consumer of bad blocks exited $rc_fg: $(cat "$tmp/c2")"
has "$tmp/p2" '^CPU 0: consumer at CPU 1 end point [0-9]+; region of 4096 bytes, 4 slots of 1024$'
has "$tmp/p2" '^sent 50 blocks, .* 3 refused as expected$'
has "$tmp/c2" '^received 47 blocks, [0-9.]+ MiB, every checksum right; refused 3 \(out of bounds 2, wrong checksum 1\)$'
left_behind "a run with faults"

# 2b. Two sides that disagree on the region: the second is refused with one message.
"$bin" "$name" --consumer --area-size 8192 --timeout-ms 20000 >"$tmp/c2b" 2>&1 &
cpid=$!
bg+=("$cpid")
until_true grep -q "announced on" "$tmp/c2b"
"$bin" "$name" --producer --area-size 4096 >"$tmp/o" 2>"$tmp/e"
rc=$?
[[ $rc -eq 1 ]] || bad "a producer with another --area-size exited $rc"
has "$tmp/e" "^ipcc-rpmsg-large: $name exists with another shape \(give both sides the same --area-size"
"$bin" "$name" --producer --area-size 8192 --count 20 >"$tmp/o" 2>"$tmp/e" ||
	bad "the producer with the same --area-size failed: $(cat "$tmp/e")"
wait "$cpid" || bad "the consumer of 2b exited $?: $(cat "$tmp/c2b")"
bg=()
left_behind "a refused shape"

# 3. No consumer: the producer's lookup times out, one message, exit 1.
"$bin" "$name" --producer --timeout-ms 300 >"$tmp/o" 2>"$tmp/e"
rc=$?
[[ $rc -eq 1 ]] || bad "a producer without consumer exited $rc"
[[ $(wc -l <"$tmp/e") -eq 1 ]] || bad "not one message: $(cat "$tmp/e")"
has "$tmp/e" "^ipcc-rpmsg-large: no consumer announced 'large-data'"
left_behind "a lookup that timed out"

# 4. The consumer dies (kill -9) during the transfer: the producer says so and exits 1. The
# producer starts first, so it created the system and removes it as it exits.
"$bin" "$name" --producer --count 100000000 --timeout-ms 20000 \
	>"$tmp/p4" 2>"$tmp/e4" &
ppid=$!
bg+=("$ppid")
until_true test -e "/dev/shm/${name#/}"
"$bin" "$name" --consumer --timeout-ms 20000 >"$tmp/c4" 2>&1 &
cpid=$!
bg+=("$cpid")
until_true grep -q '^CPU 0: consumer at' "$tmp/p4"
sleep 0.2
kill -9 "$cpid"
{ wait "$cpid"; } 2>/dev/null
wait "$ppid"
rc=$?
bg=()
[[ $rc -eq 1 ]] || bad "a producer whose consumer died exited $rc: $(cat "$tmp/p4" "$tmp/e4")"
has "$tmp/e4" '^ipcc-rpmsg-large: (the consumer died or detached|cannot send block [0-9]+: )'
left_behind "a consumer's death"

# 5. Usage errors: one message naming the problem, exit 2.
usage() {
	local pattern=$1 rc
	shift
	"$bin" "$@" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[[ $rc -eq 2 ]] || bad "'$*' exited $rc, wanted 2"
	has "$tmp/e" "$pattern"
}
usage 'either --producer or --consumer' "$name"
usage 'either --producer or --consumer' "$name" --producer --consumer
usage "invalid value '0' for --count" "$name" --producer --count 0
usage "invalid value '4095' for --area-size" "$name" --producer --area-size 4095
usage "invalid value '65' for --blocks" "$name" --producer --blocks 65
usage "the producer's" "$name" --consumer --count 5
usage "needs --count 7 or more" "$name" --producer --inject-faults --count 6
usage "invalid value 'slow' for --wait" "$name" --consumer --wait slow
usage 'no system NAME' --consumer
"$bin" --help | grep -q '^Usage: ipcc-rpmsg-large NAME --consumer' || bad "--help"
left_behind "the usage errors"

echo "$fails failures"
[[ $fails -eq 0 ]]
