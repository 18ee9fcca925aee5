#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The contract of ipcc-rpmsg-echo (tools/rpmsg-echo/meson.build runs this): a server and a
# client started as two separate processes over a real shm object, in either order, find each
# other by the service name and exit 0 with their counts and the latency summary; while the
# server runs, `ipcc info` shows its end point and name, and after a client the vring
# counters; a server serves one client after another and stops cleanly on SIGTERM and SIGINT;
# every mistake exits non-zero with one message. Usage: test-rpmsg-echo.sh ECHO IPCC
set -u

echo_bin=$1
ipcc=$2
pfx=/ipcc-rpmsg-echo-test-$$
# shellcheck source=../example/test-lib.sh
source "$(dirname "$0")/../example/test-lib.sh"

# expect STATUS ERE ARGS...: the echo tool with ARGS exits STATUS, its output matching ERE.
expect() {
	local want=$1 pattern=$2 out status=0
	shift 2
	out=$("$echo_bin" "$@" 2>&1) || status=$?
	if [[ $status -ne $want ]] || ! grep -Eq -- "$pattern" <<<"$out"; then
		bad "$echo_bin $*: want exit $want and /$pattern/, got exit $status: $out"
	fi
}

# wait_line FILE ERE: until the file (a background process's output) has the line, 10 s at most
wait_line() {
	for _ in $(seq 200); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	bad "$1 never showed /$2/: $(cat "$1" 2>/dev/null)"
	return 1
}

# start OUT ARGS...: the echo tool in the background, its pid in $last
start() {
	local out=$1
	shift
	"$echo_bin" "$@" >"$out" 2>&1 &
	last=$!
	bg+=("$last")
}

# reap PID: wait for it, its exit status in $rc
reap() {
	wait "$1"
	rc=$?
	local keep=()
	for p in "${bg[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	bg=("${keep[@]}")
}

# wait_sent NAME N: until the vring host -> r5 of NAME counted more than N sends (10 s at most)
wait_sent() {
	local sent
	for _ in $(seq 200); do
		sent=$("$ipcc" info "$1" --link 0-1 2>/dev/null | awk '$1 == 0 && $3 == 1 && NF == 14 {print $8}')
		[[ -n $sent && $sent -gt $2 ]] && return 0
		sleep 0.05
	done
	bad "$1: the vring 0 -> 1 never counted more than $2 sends"
	return 1
}

# Every part but one creates its system from a description.
printf 'cpus: 2\n' >"$tmp/plain.yaml"
if "$ipcc" plan "$tmp/plain.yaml" 2>&1 | grep -q 'without libyaml'; then
	echo "skipped: ipcc-rpmsg-echo (built without libyaml: no system descriptions)"
	exit 0
fi

have_python=false
command -v python3 >/dev/null && have_python=true

# 1. A system made by `ipcc create --config`, the server started first; two clients one
# after the other; SIGTERM stops the server cleanly.
printf 'cpus: [host, r5]\nservices:\n  notify: {}\n  rpmsg: {buffers: 4}\n' >"$tmp/sys.yaml"
"$ipcc" create --config "$tmp/sys.yaml" "$pfx-a" >/dev/null || bad "ipcc create --config failed"
start "$tmp/s1" server "$pfx-a" --cpu r5
server=$last
wait_line "$tmp/s1" "^CPU 1 \(r5\) serving 'ipcc-echo' on end point 13 of $pfx-a$"
# Its end point and name are in the object: a read-only observer sees them.
"$ipcc" info "$pfx-a" >"$tmp/info0"
has "$tmp/info0" '^  rpmsg: 4 buffers of 128 B \(112 B payload\) per ordered pair, 64 end points$'
has "$tmp/info0" '^  1 r5 +([0-9]+(-[0-9]+)?, )*13 .* ipcc-echo \(end point 13, to CPU 0\)$'
if $have_python; then
	"$ipcc" info "$pfx-a" --json >"$tmp/info0.json"
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rpmsg"]
assert (r["buffers"], r["buffer_size"], r["payload_max"], r["endpoints"]) == (4, 128, 112, 64), r
cpus = {c["id"]: c for c in r["cpus"]}
assert sorted(cpus) == [0, 1], cpus
assert 13 in cpus[1]["endpoints"] and 12 not in cpus[0]["endpoints"], cpus
assert cpus[1]["names"] == [{"name": "ipcc-echo", "ep": 13, "to": [0]}], cpus[1]["names"]
assert cpus[0]["names"] == [], cpus[0]
assert sorted((v["from"], v["to"]) for v in r["vrings"]) == [(0, 1), (1, 0)], r["vrings"]
for v in r["vrings"]:
    assert v["buffers"] == 4 and v["consistent"] is True and v["bad"] == v["stale"] == 0, v
' "$tmp/info0.json" || bad "ipcc info --json with the server up: $(cat "$tmp/info0.json")"
fi
"$echo_bin" client "$pfx-a" --cpu host --count 200 --size 112 >"$tmp/c1" 2>&1 ||
	bad "client 1 exited $?: $(cat "$tmp/c1")"
has "$tmp/c1" "^200 round trips of 112 bytes: CPU 0 \(host\) end point 12 -> 'ipcc-echo' at CPU 1 \(r5\) end point 13 -> back$"
check_latency "$tmp/c1"
# The counters stay in the object: every packet went and came back, nothing was dropped.
if $have_python; then
	"$ipcc" info "$pfx-a" --json >"$tmp/info1.json"
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rpmsg"]
v = {(x["from"], x["to"]): x for x in r["vrings"]}
for k in [(0, 1), (1, 0)]:
    x = v[k]
    assert x["sent"] >= 200 and x["received"] == x["sent"], x
    assert x["dropped"] == x["stale"] == x["bad"] == x["reclaimed"] == x["full"] == 0, x
' "$tmp/info1.json" || bad "ipcc info --json after a client: $(cat "$tmp/info1.json")"
fi
"$ipcc" info "$pfx-a" --link 0-1 >"$tmp/info1"
has "$tmp/info1" '^  0 host +1 r5 +0 +[0-4] +4 +2[0-9][0-9] +2[0-9][0-9] +[0-9]+ +0 +0 +0 +0$'
# A second client, of another size, is served by the same server.
"$echo_bin" client "$pfx-a" --cpu 0 --count 50 --size 0 >"$tmp/c1b" 2>&1 ||
	bad "client 2 exited $?: $(cat "$tmp/c1b")"
has "$tmp/c1b" '^50 round trips of 0 bytes: '
# A client killed with -9 in the middle of its run: the server goes on, and serves the next.
start "$tmp/c1k" client "$pfx-a" --cpu 0 --count 1000000
killed=$last
wait_sent "$pfx-a" 260 # its round trips are under way (250 packets went before)
{
	kill -9 "$killed"
	reap "$killed"
} 2>/dev/null # bash's "Killed" notice is no news here
"$echo_bin" client "$pfx-a" --cpu 0 --count 20 >"$tmp/c1c" 2>&1 ||
	bad "the client after a killed one exited $?: $(cat "$tmp/c1c")"
has "$tmp/c1c" '^20 round trips of 64 bytes: '
# The server's CPU is taken while it runs.
expect 1 "cannot attach CPU 1 \(r5\) of $pfx-a: it is taken \(process $server holds it\)" \
	server "$pfx-a" --cpu 1
kill -TERM "$server"
reap "$server"
[[ $rc -eq 0 ]] || bad "server exited $rc on SIGTERM: $(cat "$tmp/s1")"
has "$tmp/s1" '^CPU 1 \(r5\) echoing to end point 12 of CPU 0 \(host\)$'
has "$tmp/s1" '^CPU 1 \(r5\) echoed [0-9]+ packets to 4 clients(, lost [0-9]+ to clients that went away)?$'
# Closing the end point withdrew the name: a client finds no service now.
expect 1 "^ipcc-rpmsg-echo: CPU 0 \(host\): no CPU announced 'ipcc-echo' within 200 ms \(is the server running\?\)$" \
	client "$pfx-a" --cpu 0 --count 1 --timeout-ms 200
"$ipcc" rm "$pfx-a"

# 2. The client first, then the server, both with --create (2 CPUs, the defaults): the client
# waits in the lookup until the server announces; the server stops after --count echoes.
# Whoever created the system removes the name when it exits.
start "$tmp/c2" client "$pfx-b" --create --count 100 --size 64 --wait futex --timeout-ms 30000
client=$last
wait_attached "$pfx-b" 1
"$echo_bin" server "$pfx-b" --create --count 100 >"$tmp/s2" 2>&1 ||
	bad "server exited $?: $(cat "$tmp/s2")"
reap "$client"
[[ $rc -eq 0 ]] || bad "client started first exited $rc: $(cat "$tmp/c2")"
has "$tmp/c2" "^100 round trips of 64 bytes: CPU 1 \(cpu1\) end point 12 -> 'ipcc-echo' at CPU 0 \(cpu0\) end point 13 -> back$"
check_latency "$tmp/c2"
has "$tmp/s2" '^CPU 0 \(cpu0\) echoed 100 packets to 1 client$'
[[ -e /dev/shm/${pfx#/}-b ]] && bad "--create left $pfx-b behind"

# 3. A description with the linux profile and another service name; SIGINT stops the server.
printf 'cpus: [a, b, c]\nservices:\n  notify: {}\n  rpmsg: {links: [[a, c]], profile: linux}\n' \
	>"$tmp/linux.yaml"
start "$tmp/s3" server "$pfx-c" --cpu c --service echo.linux --create --config "$tmp/linux.yaml"
server=$last
wait_line "$tmp/s3" "^CPU 2 \(c\) serving 'echo.linux' on end point 13 of $pfx-c$"
"$echo_bin" client "$pfx-c" --cpu a --service echo.linux --count 20 --size 496 >"$tmp/c3" 2>&1 ||
	bad "linux-profile client exited $?: $(cat "$tmp/c3")"
has "$tmp/c3" "^20 round trips of 496 bytes: CPU 0 \(a\) end point 12 -> 'echo.linux' at CPU 2 \(c\) end point 13 -> back$"
if $have_python; then
	"$echo_bin" client "$pfx-c" --cpu a --service echo.linux --count 30 --size 1 --json \
		>"$tmp/c3.json" 2>&1 || bad "the --json client exited $?: $(cat "$tmp/c3.json")"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["service"], d["round_trips"], d["size"]) == ("echo.linux", 30, 1), d
assert d["client"] == {"cpu": 0, "name": "a", "ep": 12}, d["client"]
assert d["server"] == {"cpu": 2, "name": "c", "ep": 13}, d["server"]
l = d["latency_ns"]
assert 0 < l["min"] <= l["p50"] <= l["p99"] <= l["max"], l
' "$tmp/c3.json" || bad "client --json: $(cat "$tmp/c3.json")"
fi
expect 1 "^ipcc-rpmsg-echo: --size 497 is above the payload size of $pfx-c: 496 bytes$" \
	client "$pfx-c" --cpu a --service echo.linux --size 497
expect 1 "CPU 1 of $pfx-c has RPMessage with no other CPU" client "$pfx-c" --cpu b
kill -INT "$server"
reap "$server"
[[ $rc -eq 0 ]] || bad "server exited $rc on SIGINT: $(cat "$tmp/s3")"
if $have_python; then
	has "$tmp/s3" '^CPU 2 \(c\) echoed 50 packets to 2 clients$'
else
	has "$tmp/s3" '^CPU 2 \(c\) echoed 20 packets to 1 client$'
fi
[[ -e /dev/shm/${pfx#/}-c ]] && bad "the server's --create left $pfx-c behind"

# 4. Mistakes: one message each, exit 2 for usage, 1 at run time.
expect 0 '^Usage: ipcc-rpmsg-echo server NAME' --help
expect 0 '^ipcc-rpmsg-echo .* \(libipcc ' --version
expect 2 'missing the side: server or client'
expect 2 "unknown side 'serve': expected server or client" serve "$pfx-x"
expect 2 'missing NAME' client
expect 2 "exactly one NAME expected, got 'extra' too" client "$pfx-x" extra
expect 2 "invalid name 'a/b'" client a/b
expect 2 "invalid value '0' for --count: expected a decimal number 1..1000000" client x --count 0
expect 2 "invalid value '-1' for --size" client x --size -1
expect 2 '--size is for the client' server x --size 8
expect 2 '--json is for the client' server x --json
expect 2 '--config needs --create' server x --config "$tmp/sys.yaml"
expect 2 "invalid value 'a b' for --service: 1..31 of" server x --service 'a b'
expect 2 "invalid value 'turbo' for --wait" server x --wait turbo
expect 2 "unknown option '--bogus'" server x --bogus
expect 1 "cannot open $pfx-none: no such system \(create it with 'ipcc create --config FILE', or pass --create\)" \
	server "$pfx-none"
printf 'cpus: 2\nservices:\n  notify: {}\n' >"$tmp/notify-only.yaml"
"$ipcc" create --config "$tmp/notify-only.yaml" "$pfx-n" >/dev/null || bad "ipcc create failed"
expect 1 "$pfx-n has no RPMessage \(a system description enables it with 'services: rpmsg:'\)" \
	server "$pfx-n"
expect 1 "$pfx-n has no CPU named 'dsp'" server "$pfx-n" --cpu dsp
"$ipcc" rm "$pfx-n"
printf 'cpus: 2\nservices:\n  notify: {}\n  rpmsg: {endpoints: 8}\n' >"$tmp/few.yaml"
expect 1 "has 8 end points per CPU: the echo needs 14" \
	server "$pfx-f" --create --config "$tmp/few.yaml"
expect 1 "services.rpmsg.buffers: 3 is not a power of two" \
	server "$pfx-f" --create --config <(printf 'cpus: 2\nservices: {notify: {}, rpmsg: {buffers: 3}}\n')

example_test_done ipcc-rpmsg-echo
