#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The contract of ipcc-notify-echo (tools/notify-echo/meson.build runs this): a server and a
# client started as two separate processes, in either order, meet and exit 0 with the latency
# summary; the counters show in `ipcc info`; a server serves one client after another; every
# mistake (arguments, a missing system, a taken CPU, a link without Notify, a peer that never
# comes or dies) exits non-zero with one message. Usage: test-notify-echo.sh ECHO IPCC
set -u

echo_bin=$1
ipcc=$2
pfx=/ipcc-notify-echo-test-$$
# shellcheck source=../example/test-lib.sh
source "$(dirname "$0")/../example/test-lib.sh"

# both BG_OUT FG_OUT BG_ARGS... :: FG_ARGS...: two echo processes, one in the background,
# one in the foreground; their exit statuses in rc_bg and rc_fg.
both() {
	local bgout=$1 fgout=$2 n=1 pid
	shift 2
	while [[ ${!n} != :: ]]; do n=$((n + 1)); done # the position of ::
	"$echo_bin" "${@:1:n-1}" >"$bgout" 2>&1 &
	pid=$!
	bg+=("$pid")
	"$echo_bin" "${@:n+1}" >"$fgout" 2>&1
	rc_fg=$?
	wait "$pid"
	rc_bg=$?
	bg=()
}

T=(--timeout-ms 30000)

# 1. A system made by `ipcc create --config`, the server started first.
printf 'cpus: [host, r5]\nservices:\n  notify: {depth: 8}\n' >"$tmp/sys.yaml"
"$ipcc" create --config "$tmp/sys.yaml" "$pfx-a" >/dev/null || bad "ipcc create --config failed"
both "$tmp/s1" "$tmp/c1" "$pfx-a" --cpu r5 --peer host --server --count 200 "${T[@]}" :: \
	"$pfx-a" --cpu host --peer r5 --client --count 200 "${T[@]}"
[[ $rc_fg -eq 0 ]] || bad "client exited $rc_fg: $(cat "$tmp/c1")"
[[ $rc_bg -eq 0 ]] || bad "server exited $rc_bg: $(cat "$tmp/s1")"
has "$tmp/c1" '^200 round trips CPU 0 \(host\) -> CPU 1 \(r5\) -> back, client 4, recv$'
check_latency "$tmp/c1"
has "$tmp/s1" '^CPU 1 \(r5\) serving client 4 of /.*-a, synced with CPU 0 \(host\)$'
has "$tmp/s1" '^CPU 1 \(r5\) echoed 200 values$'
# The counters stay in the object: a read-only observer sees both queues drained.
"$ipcc" info "$pfx-a" >"$tmp/info"
has "$tmp/info" '^  notify: depth 8, channel 5$'
has "$tmp/info" '^  0 host +1 r5 +0/8 +2[0-9][0-9] +2[0-9][0-9] +0 +0$'
if command -v python3 >/dev/null; then
	"$ipcc" info "$pfx-a" --json >"$tmp/info.json"
	python3 -c '
import json, sys
q = {(x["from"], x["to"]): x for x in json.load(open(sys.argv[1]))["notify"]["queues"]}
assert sorted(q) == [(0, 1), (1, 0)], q
for x in q.values():
    # 200 values each way, plus what the sync barrier sent
    assert x["sent"] == x["received"] >= 200 and x["fill"] == 0 and x["dropped"] == 0, x
' "$tmp/info.json" || bad "ipcc info --json: wrong Notify counters: $(cat "$tmp/info.json")"
fi

# 2. The client first, then the server, both with --create: they meet on the name, whoever
# comes first creates it and removes it when it exits. The client takes its echoes in a
# callback; both meet with ipcc_notify_sync_all; a queue of 2 wraps round 50 times.
printf 'cpus: 2\nservices:\n  notify: {depth: 2}\n' >"$tmp/two.yaml"
both "$tmp/c2" "$tmp/s2" "$pfx-b" --cpu 1 --peer 0 --client --callback --count 100 --sync-all \
	--create --config "$tmp/two.yaml" "${T[@]}" :: "$pfx-b" --cpu 0 --peer 1 --server \
	--count 100 --sync-all --create --config "$tmp/two.yaml" --wait futex "${T[@]}"
[[ $rc_bg -eq 0 ]] || bad "callback client exited $rc_bg: $(cat "$tmp/c2")"
[[ $rc_fg -eq 0 ]] || bad "server exited $rc_fg: $(cat "$tmp/s2")"
has "$tmp/c2" '^100 round trips CPU 1 \(cpu1\) -> CPU 0 \(cpu0\) -> back, client 4, callback$'
check_latency "$tmp/c2"
has "$tmp/s2" '^CPU 0 \(cpu0\) echoed 100 values$'
[[ -e /dev/shm/${pfx#/}-b ]] && bad "--create left $pfx-b behind"
# Without --config, --create makes max(A, B) + 1 CPUs with Notify everywhere.
both "$tmp/s2b" "$tmp/c2b" "$pfx-b" --cpu 2 --peer 0 --server --count 10 --create "${T[@]}" :: \
	"$pfx-b" --cpu 0 --peer 2 --client --count 10 --create "${T[@]}"
[[ $rc_fg -eq 0 && $rc_bg -eq 0 ]] || bad "--create of 3 CPUs: $(cat "$tmp/s2b" "$tmp/c2b")"
has "$tmp/c2b" '^10 round trips CPU 0 \(cpu0\) -> CPU 2 \(cpu2\) -> back, client 4, recv$'

# 3. One server, two clients one after the other (it meets each at its sync), then SIGTERM:
# exit 0 with the total.
"$echo_bin" "$pfx-a" --cpu 1 --peer 0 --server --client-id 7 >"$tmp/s3" 2>&1 &
spid=$!
bg+=("$spid")
for i in 1 2; do
	"$echo_bin" "$pfx-a" --cpu 0 --peer 1 --client --client-id 7 --count 50 "${T[@]}" \
		>"$tmp/c3-$i" 2>&1 || bad "client $i of one server exited $?: $(cat "$tmp/c3-$i")"
	has "$tmp/c3-$i" '^50 round trips .* client 7, recv$'
done

# A client killed mid-run and restarted at once: the new one meets the server at its sync
# (its restart may not end the server's wait with -EPIPE) and sets aside the echoes that
# were meant for the dead one (Notify delivers at least once across a restart).
for i in 1 2 3 4 5; do
	"$echo_bin" "$pfx-a" --cpu 0 --peer 1 --client --client-id 7 --count 1000000 \
		--wait futex >/dev/null 2>&1 &
	cpid=$!
	bg+=("$cpid")
	sleep 0.2
	kill -9 "$cpid"
	{ wait "$cpid"; } 2>/dev/null
	bg=("$spid")
	"$echo_bin" "$pfx-a" --cpu 0 --peer 1 --client --client-id 7 --count 20 "${T[@]}" \
		>"$tmp/c3r" 2>&1 || bad "a client restarted after a kill exited $?: $(cat "$tmp/c3r")"
	has "$tmp/c3r" '^20 round trips '
	grep -h '^set aside' "$tmp/c3r"
done

# 4. A taken CPU: the server above holds CPU 1.
"$echo_bin" "$pfx-a" --cpu r5 --peer 0 --server >"$tmp/o" 2>"$tmp/e"
rc=$?
[[ $rc -eq 1 ]] || bad "a taken CPU exited $rc"
has "$tmp/e" "^ipcc-notify-echo: cannot attach CPU 1 \(r5\) of /.*-a: it is taken \(process $spid holds it\)$"
kill -TERM "$spid"
wait "$spid"
src=$?
bg=()
[[ $src -eq 0 ]] || bad "SIGTERM: the server exited $src: $(cat "$tmp/s3")"
has "$tmp/s3" '^CPU 1 \(r5\) echoed [0-9]+ values(, lost [0-9]+ to clients that went away or to the stop)?$'
[[ $(grep -c 'serving client 7' "$tmp/s3") -ge 7 ]] || bad "the server did not sync with each client: $(cat "$tmp/s3")"

# 5. A server that dies mid-run: the client says so and exits 1.
"$echo_bin" "$pfx-a" --cpu 1 --peer 0 --server --wait futex >"$tmp/s5" 2>&1 &
spid=$!
bg+=("$spid")
"$echo_bin" "$pfx-a" --cpu 0 --peer 1 --client --count 1000000 --wait futex "${T[@]}" \
	>"$tmp/c5" 2>"$tmp/e5" &
cpid=$!
bg+=("$cpid")
# Both attached, then time for the sync: the client is in its round trips when the server dies.
wait_attached "$pfx-a" 1 && wait_attached "$pfx-a" 0 && sleep 0.5
kill -9 "$spid"
{ wait "$spid"; } 2>/dev/null # bash's "Killed" note of the job
wait "$cpid"
rc=$?
bg=()
[[ $rc -eq 1 ]] || bad "a client whose server died exited $rc: $(cat "$tmp/c5" "$tmp/e5")"
has "$tmp/e5" '^ipcc-notify-echo: CPU 0 \(host\): CPU 1 \(r5\) died or detached during round trip [0-9]+$'

# 6. Runtime errors: one message on stderr, nothing on stdout, exit 1.
"$ipcc" create "$pfx-c" >/dev/null # no Notify
runtime() {
	local pattern=$1 rc
	shift
	"$echo_bin" "$@" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[[ $rc -eq 1 ]] || bad "'$*' exited $rc, wanted 1: $(cat "$tmp/e")"
	[[ -s $tmp/o ]] && bad "'$*' printed to stdout: $(cat "$tmp/o")"
	[[ $(wc -l <"$tmp/e") -eq 1 ]] || bad "'$*': not one message: $(cat "$tmp/e")"
	has "$tmp/e" "$pattern"
}
runtime "^ipcc-notify-echo: cannot open $pfx-none: no such system \(create it with 'ipcc create --config FILE', or pass --create\)$" \
	"$pfx-none" --cpu 0 --peer 1 --server
runtime "has no Notify \(a system description enables it with 'services: notify:'\)$" \
	"$pfx-c" --cpu 0 --peer 1 --server
runtime "^ipcc-notify-echo: /.*-a has no CPU named 'dsp' \(--peer\)$" \
	"$pfx-a" --cpu 0 --peer dsp --client
runtime "has no CPU 5 \(--cpu\): its CPUs are 0\.\.1$" "$pfx-a" --cpu 5 --peer 0 --client
runtime "both CPU 1: the peer is another CPU$" "$pfx-a" --cpu 1 --peer r5 --client
runtime "^ipcc-notify-echo: CPU 0 \(host\): CPU 1 \(r5\) did not sync in time \(is the server running\?\)$" \
	"$pfx-a" --cpu 0 --peer 1 --client --timeout-ms 300
runtime "^ipcc-notify-echo: cannot create $pfx-c: a system of another shape is there" \
	"$pfx-c" --cpu 2 --peer 0 --client --create

# 7. Usage errors: exit 2, a message and the pointer to --help, nothing on stdout.
usage() {
	local rc
	"$echo_bin" "$@" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[[ $rc -eq 2 ]] || bad "'$*' exited $rc, wanted 2: $(cat "$tmp/e")"
	[[ -s $tmp/o ]] && bad "'$*' printed to stdout"
	head -1 "$tmp/e" | grep -q '^ipcc-notify-echo: ' || bad "'$*': no message: $(cat "$tmp/e")"
}
usage
usage "$pfx-a" --cpu 0 --peer 1
usage "$pfx-a" --cpu 0 --peer 1 --server --client
usage "$pfx-a" --cpu 0 --server
usage "$pfx-a" --cpu 0 --peer 1 --client --count 0
usage "$pfx-a" --cpu 0 --peer 1 --client --count 1000001
usage "$pfx-a" --cpu 0 --peer 1 --client --client-id 1
usage "$pfx-a" --cpu 0 --peer 1 --client --client-id 16
usage "$pfx-a" --cpu 0 --peer 1 --client --wait eventfd
usage "$pfx-a" --cpu 0 --peer 1 --client --timeout-ms -5
usage "$pfx-a" --cpu 0 --peer 1 --server --callback
usage "$pfx-a" --cpu 0 --peer 1 --client --config "$tmp/sys.yaml"
usage "$pfx-a" --cpu host --peer 1 --client --create
usage "$pfx-a" --cpu 0 --peer 1 --client --bogus
usage "$pfx-a" --cpu 0 --peer 1 --client extra
usage "${pfx#/}-a" --cpu 0 --peer 1 --client
"$echo_bin" --help | grep -q '^Usage: ipcc-notify-echo NAME' || bad "--help"
"$echo_bin" --version | grep -q '^ipcc-notify-echo .* (libipcc ' || bad "--version"

"$ipcc" rm "$pfx-a"
"$ipcc" rm "$pfx-c"
example_test_done ipcc-notify-echo
