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
