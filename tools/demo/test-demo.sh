#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line contract of ipcc-demo (tools/demo/meson.build runs this with its path).
set -u
demo=$1
name=/ipcc-demo-test-$$
out=$(mktemp -d)
fail=0
trap 'rm -rf "$out"; rm -f /dev/shm/${name#/}' EXIT

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# Success, twice: exit 0, identical output, nothing left in /dev/shm, well under a second.
for i in 1 2; do
	start=$(date +%s%N)
	"$demo" --name "$name" --messages 4 --calls 2 >"$out/run$i" 2>"$out/err$i" || bad "run $i exited $?: $(cat "$out/err$i")"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ -s "$out/err$i" ] && bad "run $i wrote to stderr: $(cat "$out/err$i")"
	[ -e "/dev/shm/${name#/}" ] && bad "run $i left $name behind"
	echo "run $i: ${ms} ms, $(wc -l <"$out/run$i") lines"
done
cmp -s "$out/run1" "$out/run2" || { bad "two runs printed different things"; diff "$out/run1" "$out/run2" >&2; }
grep -q '^== Done: 4 messages and 2 calls, nothing lost ==$' "$out/run1" || bad "no success line"
grep -q 'C1TOC2SR.CH1F=1 (occupied) -> RXO of CPU1 asserted' "$out/run1" || bad "no RXO step"
grep -q 'TXF of CPU0 asserted' "$out/run1" || bad "no TXF step"
# The default name is unique per pid and removed too.
"$demo" --messages 1 --calls 1 >"$out/def" 2>&1 || bad "default name run failed: $(cat "$out/def")"
pid_name=$(sed -n 's/^ipcc-demo: system \(\/[^:]*\):.*/\1/p' "$out/def")
[ -n "$pid_name" ] || bad "no system line"
[ -e "/dev/shm/${pid_name#/}" ] && bad "default run left $pid_name behind"

# The manual's channel names are said to be the API's channels 0..5.
grep -q "its CH1..CH6 are the API's channels 0..5 (channel 1 below is API channel 0, channel 2 API channel 1)" \
	"$out/run1" || bad "no word on CH1..CH6 and channels 0..5"

# --keep leaves the object, for ipcc info; --step waits for Enter before each register action
# (at the end of input it goes on), one prompt per action: the activation; per message a set
# and CPU1's interrupt, between messages an unmask and CPU0's interrupt; per call a set and two
# interrupts: 1 + 2 * 2 + 2 + 3 = 10.
yes '' | "$demo" --name "$name" --messages 2 --calls 1 --step --keep >"$out/step" 2>"$out/e" ||
	bad "--step --keep exited $?: $(cat "$out/e")"
[ -e "/dev/shm/${name#/}" ] || bad "--keep removed $name"
grep -q "^ipcc-demo: kept $name: 'ipcc info $name' shows its registers" "$out/step" || bad "--keep does not say so"
n=$(grep -c '\[Enter\] next: ' "$out/step")
[ "$n" -eq 10 ] || bad "--step: $n prompts, want 10"
grep -q "^CPU0: \[Enter\] next: set C1SCR.CH1S (channel 1 = API channel 0 occupied)$" "$out/step" || bad "--step: no prompt before CH1S"
grep -q '^== Done: 2 messages and 1 call, nothing lost ==$' "$out/step" || bad "--step: not done"
rm -f "/dev/shm/${name#/}"
# ... and really waits: nothing happens before the first Enter
mkfifo "$out/in"
"$demo" --name "$name" --messages 1 --calls 1 --step <"$out/in" >"$out/wait" 2>&1 &
dpid=$!
exec 3>"$out/in"
for _ in $(seq 200); do grep -q 'next: set C2CR.RXOIE' "$out/wait" && break; sleep 0.05; done
sleep 0.3
grep -q 'next: set C2CR.RXOIE' "$out/wait" || bad "--step: no first prompt"
grep -q 'activate RX notifications' "$out/wait" && bad "--step did not wait for Enter"
for _ in $(seq 7); do echo >&3; done
exec 3>&-
wait $dpid || bad "--step with Enters exited $?: $(cat "$out/wait")"
grep -q '^== Done: 1 message and 1 call, nothing lost ==$' "$out/wait" || bad "--step: not done: $(cat "$out/wait")"
[ -e "/dev/shm/${name#/}" ] && bad "--step without --keep left $name behind"

# Bad input: non-zero, exactly one line on stderr, nothing on stdout.
for args in "--messages 0" "--messages x" "--messages 1001" "--calls -1" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	"$demo" --name "$name" $args >"$out/o" 2>"$out/e"
	rc=$?
	[ $rc -ne 0 ] || bad "'$args' exited 0"
	[ -s "$out/o" ] && bad "'$args' printed to stdout"
	[ "$args" = "--bogus" ] || [ "$(wc -l <"$out/e")" -eq 1 ] || bad "'$args': not one message: $(cat "$out/e")"
done
# An existing object is refused and left alone (it is not ours to remove).
touch "/dev/shm/${name#/}"
"$demo" --name "$name" >"$out/o" 2>"$out/e" && bad "an existing name was accepted"
grep -q "cannot create $name" "$out/e" || bad "no message for an existing name: $(cat "$out/e")"
[ -e "/dev/shm/${name#/}" ] || bad "the existing object was removed"
rm -f "/dev/shm/${name#/}"
"$demo" --name bad-name >"$out/o" 2>"$out/e" && bad "a name without / was accepted"
[ "$(wc -l <"$out/e")" -eq 1 ] || bad "bad name: not one message"

# A CPU killed mid-run: one message, non-zero, the object removed.
"$demo" --name "$name" --messages 1000 --calls 1000 >"$out/o" 2>"$out/e" &
dpid=$!
for _ in $(seq 100); do
	cpu=$(pgrep -P $dpid | head -1)
	[ -n "$cpu" ] && break
	sleep 0.01
done
[ -n "${cpu:-}" ] && kill -9 "$cpu"
wait $dpid
rc=$?
if [ -n "${cpu:-}" ] && ! grep -q '== Done' "$out/o"; then
	[ $rc -ne 0 ] || bad "killed CPU: exit 0"
	[ "$(wc -l <"$out/e")" -eq 1 ] || bad "killed CPU: not one message: $(cat "$out/e")"
	echo "killed CPU: $(cat "$out/e")"
fi
[ -e "/dev/shm/${name#/}" ] && bad "killed CPU: $name left behind"

exit $fail
