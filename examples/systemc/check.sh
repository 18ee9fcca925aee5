#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the SystemC model in one mode and check what it printed, beyond its own checks (its
# exit status): every CPU's counts, and that CPU1's interrupt lines drove its procedures. In
# the full mode (deterministic) RX occupied rises once per message received and TX free once
# per response. In the mixed and split modes the other process writes in real time: a handler woken by
# one line may find the other's channel pending too and take both, so only the sum is bounded:
# at least one rise per round (CPU1 waits for an interrupt in each).
# usage: check.sh IPCC-TLM full|mixed|split N
set -u
exe=$1 mode=$2 n=$3
if [ "$mode" = full ]; then set --; else set -- "--$mode"; fi
out=$("$exe" "$@" --messages "$n" 2>&1)
rc=$?
printf '%s\n' "$out"
fail() { echo "check.sh: $*" >&2; exit 1; }
[ $rc -eq 0 ] || fail "ipcc-tlm exited with $rc"
expect() { printf '%s\n' "$out" | grep -q -- "$1" || fail "no line matching: $1"; }
expect "^ipcc-tlm: CPU1 (processor 1) checked: sent $n, called $n, received $n at "
if [ "$mode" = mixed ]; then
	expect "^ipcc-tlm: real CPU2 (pid [0-9]*) checked: received $n, served $n, sent $n\$"
else
	[ "$mode" = full ] || expect "^ipcc-tlm: split mode, CPU2's process (pid [0-9]*), "
	expect "^ipcc-tlm: CPU2 (processor 2) checked: sent $n, called 0, received $((2 * n)) at "
fi
expect "^ipcc-tlm: $mode mode, $n messages per channel, "
rises=$(printf '%s\n' "$out" | grep "^ipcc-tlm: $mode mode, $n messages per channel, " |
	sed -n 's/.* C1_RXO \([0-9]*\) C1_TXF \([0-9]*\) .*/\1 \2/p')
set -- $rises
[ $# -eq 2 ] || fail "no line rises printed"
if [ "$mode" != full ]; then
	[ $(($1 + $2)) -ge "$n" ] || fail "CPU1's lines rose $1 + $2 times for $n rounds"
else
	[ "$1" -eq "$n" ] && [ "$2" -eq "$n" ] || fail "CPU1's lines rose $1, $2 times, not $n"
fi
expect "^ipcc-tlm: all traffic checked\$"
