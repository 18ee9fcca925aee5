# SPDX-License-Identifier: MIT
#
# What the tests of the example programs share (sourced by tools/notify-echo/test-notify-echo.sh
# and tools/rpmsg-echo/test-rpmsg-echo.sh): a failure counter, checks of a process's output,
# the latency line, and waiting for a CPU to attach. The sourcing script sets $ipcc (the ipcc
# tool) and $pfx (the prefix of its shm names), and ends with `example_test_done`.

fails=0
tmp=$(mktemp -d)
bg=() # the pids the script started and has not reaped yet

example_test_cleanup() {
	for p in "${bg[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	rm -f /dev/shm/"${pfx#/}"-*
	rm -rf "$tmp"
}
trap example_test_cleanup EXIT

bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# has FILE ERE: the file has a line matching ERE
has() {
	grep -Eq -- "$2" "$1" || bad "$1 lacks /$2/: $(cat "$1")"
}

# The latency line of a client's output, with min <= p50 <= p99 <= max.
check_latency() {
	local line
	line=$(grep -E '^latency ns: min [0-9]+ p50 [0-9]+ p99 [0-9]+ max [0-9]+$' "$1") ||
		{ bad "no latency line in $1: $(cat "$1")"; return; }
	read -r _ _ _ min _ p50 _ p99 _ max <<<"$line"
	((min <= p50 && p50 <= p99 && p99 <= max)) || bad "latency not ordered: $line"
	echo "latency: $line"
}

# wait_attached NAME CPU: until ipcc info shows CPU attached by a live process (10 s at most)
wait_attached() {
	for _ in $(seq 200); do
		"$ipcc" info "$1" 2>/dev/null | grep -Eq "^ +$2 +[^ ]+ +yes +yes " && return 0
		sleep 0.05
	done
	bad "CPU $2 of $1 never attached"
	return 1
}

# The script's verdict: its exit status.
example_test_done() {
	if [[ $fails -ne 0 ]]; then
		echo "$fails check(s) failed" >&2
		exit 1
	fi
	echo "all $1 checks passed"
	exit 0
}
