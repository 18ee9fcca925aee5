#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The ipcc subcommands that talk to a live system: watch (terminal and pipe), notify, stat,
# rpmsg; their messages and exit statuses.
# Usage: test-live.sh PATH/TO/ipcc EXAMPLES_DIR PATH/TO/test-mksys
set -euo pipefail

ipcc=$1
examples=$2
mksys=$3
pfx="ipcc-live-$$"
shm=/dev/shm
tmp=$(mktemp -d)
fails=0
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$shm/$pfx"-*
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	fails=$((fails + 1))
}

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

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s at most).
wait_for() {
	for _ in $(seq 200); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no /$2/ in $1 after 10 s:"
	cat -v "$1" >&2 || true
	return 1
}

# wait_exit PID: until the process ended (10 s at most); its exit status.
wait_exit() {
	local st=0
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		fail "process $1 still runs after 10 s"
		kill "$1"
	fi
	wait "$1" || st=$?
	return $st
}

# watchers NAME: the watcher count of every link (struct ipcc_shm_link.watch, layout.h)
watchers() {
	"$ipcc" info "$1" --json | python3 -c '
import json, mmap, struct, sys
i = json.load(sys.stdin)
links = [s for s in i["sections"] if s["name"] == "links"][0]
with open("/dev/shm" + i["name"], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    print(" ".join(str(struct.unpack_from("<I", m, links["offset"] + n * links["stride"] + 5 * 64 + 4)[0])
                   for n in range(links["count"])))'
}

for cmd in watch notify stat rpmsg; do
	expect 0 "^Usage: ipcc $cmd" "$ipcc" "$cmd" --help
done
expect 0 'watch NAME' "$ipcc" help
expect 2 'watch: missing NAME' "$ipcc" watch
expect 2 "watch: unknown option '--bogus'" "$ipcc" watch /x --bogus
expect 2 "watch: --interval '0': a number of seconds" "$ipcc" watch /x --interval 0
expect 2 "watch: --count 'x'" "$ipcc" watch /x --count x
expect 1 "cannot open /$pfx-none: no such object" "$ipcc" watch "/$pfx-none"
expect 2 'stat: missing NAME' "$ipcc" stat
expect 1 "cannot open /$pfx-none: no such object" "$ipcc" stat "/$pfx-none"
"$ipcc" create "/$pfx-plain" >/dev/null
expect 0 '^\(no service queues: the system has neither IPC Notify nor RPMessage\)$' \
	"$ipcc" stat "/$pfx-plain"
"$ipcc" rm "/$pfx-plain"
expect 2 'notify: missing --as CPU' "$ipcc" notify /x --to 1:4 5
expect 2 "notify: --to '4': CPU:CLIENT expected" "$ipcc" notify /x --as 0 --to 4 5
expect 2 "notify: --to: client '16': a number 2..15 expected" "$ipcc" notify /x --as 0 --to 1:16 5
expect 2 "notify: VALUE '0x10000000': 0..268435455" "$ipcc" notify /x --as 0 --to 1:4 0x10000000
expect 2 'notify: missing VALUE' "$ipcc" notify /x --as 0 --to 1:4
expect 2 'notify: nothing to do' "$ipcc" notify /x --as 0

expect 2 'rpmsg: missing send, call, recv or listen' "$ipcc" rpmsg
expect 2 "rpmsg: unknown command 'frob'" "$ipcc" rpmsg frob /x
expect 2 'rpmsg send: missing --to' "$ipcc" rpmsg send /x --as 0 hi
expect 2 'rpmsg send: NAME and one PAYLOAD expected' "$ipcc" rpmsg send /x --as 0 --to 1:5
expect 2 'rpmsg recv: only NAME expected' "$ipcc" rpmsg recv /x --as 0 extra
expect 2 'rpmsg listen: missing --as' "$ipcc" rpmsg listen /x
expect 2 "rpmsg: --ep 'x': an end point number expected" "$ipcc" rpmsg recv /x --as 0 --ep x
expect 2 'rpmsg recv: --to is for send and call' "$ipcc" rpmsg recv /x --as 0 --to 1:2
expect 1 "cannot open /$pfx-none: no such object" "$ipcc" rpmsg recv "/$pfx-none" --as 0

# RPMessage: a system with it on every link (descriptions have no rpmsg block yet)
"$mksys" "/$pfx-r" host m4 dsp
rs=/$pfx-r
"$ipcc" rpmsg listen "$rs" --as m4 --ep 13 --name echo --echo >"$tmp/l.out" 2>"$tmp/l.err" &
l=$!
pids+=("$l")
wait_for "$tmp/l.err" "^ipcc: listening on m4:13 of $rs$"
expect 0 "^sent host:1 -> m4:13, 5 bytes: hello$" "$ipcc" rpmsg send "$rs" --as host --to m4:13 hello
wait_for "$tmp/l.out" "^received host:1 -> m4:13, 5 bytes: hello$"
# a service name is looked up; call waits for the reply (the echo)
expect 0 "^reply m4:13 -> host:1, 6 bytes: ping 1$" "$ipcc" rpmsg call "$rs" --as host --to echo "ping 1"
expect 0 "^reply m4:13 -> dsp:7, 4 bytes: ping$" "$ipcc" rpmsg call "$rs" --as 2 --from 7 --to 1:13 ping
# bytes that are not printable are shown as \xNN; stdin carries the payload for '-'
expect 0 '^sent host:1 -> m4:13, 4 bytes: a\\x5cb\\x01$' \
	bash -c "printf 'a\\\\b\\x01' | '$ipcc' rpmsg send '$rs' --as host --to m4:13 -"
if command -v python3 >/dev/null; then
	"$ipcc" rpmsg call "$rs" --as dsp --to echo --json $'x\ty' >"$tmp/call.json"
	expect 0 '^ok$' python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s, r = d["sent"], d["reply"]
assert s["from_name"] == "dsp" and s["to_name"] == "m4" and s["to_ep"] == 13, s
assert s["len"] == 3 and s["hex"] == "780979" and s["text"] == "x\\x09y", s
assert r["from"] == 1 and r["from_ep"] == 13 and r["to"] == 2 and r["hex"] == "780979", r
print("ok")' "$tmp/call.json"
fi
expect 1 "cannot attach to $rs as CPU 1 \(m4\): it is taken by pid $l" \
	"$ipcc" rpmsg send "$rs" --as m4 --to host:1 x
expect 1 "cannot send to m4:14 on $rs: the end point is not open there" \
	"$ipcc" rpmsg send "$rs" --as host --to m4:14 x
expect 1 "$rs: no destination 'nosuch': neither CPU:EP nor a name a live CPU announced" \
	"$ipcc" rpmsg send "$rs" --as host --to nosuch --timeout 0.1 x
expect 1 "cannot send on $rs: the payload is larger than a packet holds \(112 bytes\)" \
	"$ipcc" rpmsg send "$rs" --as host --to m4:13 "$(printf '%0113d' 0)"
expect 1 "cannot open end point host:0 on $rs: end point 0 is the name service's" \
	"$ipcc" rpmsg recv "$rs" --as host --ep 0
expect 1 "cannot receive on dsp:5 of $rs: nothing arrived in time" \
	"$ipcc" rpmsg recv "$rs" --as dsp --ep 5 --timeout 0.1
# recv: one packet, then the end
"$ipcc" rpmsg recv "$rs" --as dsp --ep 5 --json >"$tmp/r.out" 2>"$tmp/r.err" &
r=$!
pids+=("$r")
wait_for "$tmp/r.err" "^ipcc: waiting on dsp:5 of $rs$"
expect 0 '^sent host:1 -> dsp:5, 3 bytes: abc$' "$ipcc" rpmsg send "$rs" --as host --to dsp:5 abc
wait_exit "$r" || fail "rpmsg recv exited with $?: $(cat "$tmp/r.err")"
grep -q '"hex": "616263"' "$tmp/r.out" || fail "rpmsg recv --json: $(cat "$tmp/r.out")"
# stat and watch count the packets of each vring
expect 0 '^rpmsg +0 host +1 m4 +[1-9][0-9]* +[1-9][0-9]* +0 +0 +0/8$' "$ipcc" stat "$rs"
expect 0 '^rpmsg +0 host +2 dsp +1 +1 +0 +0 +0/8$' "$ipcc" stat "$rs"
if command -v python3 >/dev/null; then
	"$ipcc" stat "$rs" --json >"$tmp/rs.json"
	expect 0 '^ok$' python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = {(e["from"], e["to"]): e for e in d["rpmsg"]}
assert len(v) == 6 and len(d["notify"]) == 6, d
e = v[(0, 2)]
assert e["sent"] == 1 and e["received"] == 1 and e["buffers"] == 8 and e["nobuf"] == 0, e
assert all(k in e for k in ("dropped", "stale", "bad", "reclaimed", "full", "free")), e
print("ok")' "$tmp/rs.json"
fi
"$ipcc" watch "$rs" --count 1 --link 0-2 >"$tmp/rw.out" 2>&1 &
w=$!
pids+=("$w")
wait_for "$tmp/rw.out" "rpmsg 2->0 drops = 0$"
grep -Eq "rpmsg 0->2 sent = 1$" "$tmp/rw.out" || fail "watch shows no vring: $(cat "$tmp/rw.out")"
"$ipcc" rpmsg send "$rs" --as host --to m4:13 z >/dev/null
kill -INT "$w"
wait_exit "$w" || fail "watch exited with $?"
# Ctrl-C ends a listen cleanly, and frees its CPU
kill -INT "$l"
wait_exit "$l" || fail "rpmsg listen exited with $? after SIGINT: $(cat "$tmp/l.err")"
expect 0 '^sent ' "$ipcc" notify "$rs" --as m4 --to host:4 1
# listen --count, --json: one object a line
"$ipcc" rpmsg listen "$rs" --as m4 --count 2 --json >"$tmp/lj.out" 2>"$tmp/lj.err" &
l=$!
pids+=("$l")
wait_for "$tmp/lj.err" "^ipcc: listening on m4:1 of $rs$"
"$ipcc" rpmsg send "$rs" --as host --to m4:1 one >/dev/null
"$ipcc" rpmsg send "$rs" --as dsp --to m4:1 two >/dev/null
wait_exit "$l" || fail "rpmsg listen --count 2 exited with $?"
if command -v python3 >/dev/null; then
	expect 0 '^ok$' python3 -c '
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["from_name"], x["text"]) for x in p] == [("host", "one"), ("dsp", "two")], p
print("ok")' "$tmp/lj.out"
fi

if "$ipcc" plan "$examples/am64x.yaml" 2>&1 | grep -q 'without libyaml'; then
	echo "skipped: the live checks (built without libyaml: no Notify system to create)"
	[[ $fails -eq 0 ]] || exit 1
	exit 0
fi
"$ipcc" create --config "$examples/am64x.yaml" "/$pfx-s" >/dev/null
sys=/$pfx-s

# notify: a value from the shell, and one back
expect 0 '^sent 1234 \(0x4d2\) from a53-0 to m4:4$' "$ipcc" notify "$sys" --as a53-0 --to m4:4 1234
expect 0 '^received 1234 \(0x4d2\) from a53-0 on m4:4$' "$ipcc" notify "$sys" --as 3 --recv 4
expect 1 "cannot receive on m4:4 of $sys: nothing arrived in time" \
	"$ipcc" notify "$sys" --as m4 --recv 4 --timeout 0.1
expect 1 "cannot notify m4:0 on $sys: clients 0 \(RPMessage\) and 1 \(sync\) are reserved" \
	"$ipcc" notify "$sys" --as a53-0 --to m4:0 1
expect 1 "cannot notify a53-1:4 on $sys: the two CPUs have no link" \
	"$ipcc" notify "$sys" --as a53-0 --to a53-1:4 1
expect 1 "$sys has no CPU 'dsp' for --as" "$ipcc" notify "$sys" --as dsp --to m4:4 1
expect 1 "$sys has no CPU '9' for --to" "$ipcc" notify "$sys" --as 0 --to 9:4 1
expect 1 "\-\-as and --to are both CPU 0" "$ipcc" notify "$sys" --as 0 --to a53-0:4 1
# a taken CPU is refused, naming the process that holds it
"$ipcc" notify "$sys" --as r5f0-0 --recv 5 --timeout 30 >"$tmp/holder.out" 2>&1 &
holder=$!
pids+=("$holder")
for _ in $(seq 200); do
	"$ipcc" info "$sys" | grep -Eq '^ +2 +r5f0-0 +yes +yes' && break
	sleep 0.05
done
expect 1 "cannot attach to $sys as CPU 2 \(r5f0-0\): it is taken by pid $holder" \
	"$ipcc" notify "$sys" --as r5f0-0 --to m4:4 1
# ... and then gets what we send it; --json prints both halves
expect 0 '^sent 77 ' "$ipcc" notify "$sys" --as m4 --to r5f0-0:5 77
wait_exit "$holder" || fail "notify --recv exited with $?"
grep -q '^received 77 (0x4d) from m4 on r5f0-0:5$' "$tmp/holder.out" || fail "holder got: $(cat "$tmp/holder.out")"
"$ipcc" notify "$sys" --as m4 --to m4:4 1 >/dev/null 2>&1 && fail "notify to itself succeeded"
if command -v python3 >/dev/null; then
	"$ipcc" notify "$sys" --as a53-0 --to r5f0-0:6 0x0fffffff --json >"$tmp/n.json"
	"$ipcc" notify "$sys" --as r5f0-0 --recv 6 --json >"$tmp/r.json"
	expect 0 '^ok$' python3 -c '
import json, sys
s, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s == {"sent": {"from": 0, "from_name": "a53-0", "to": 2, "to_name": "r5f0-0",
                      "client": 6, "value": 0x0fffffff}}, s
assert r["received"]["value"] == 0x0fffffff and r["received"]["from_name"] == "a53-0", r
print("ok")' "$tmp/n.json" "$tmp/r.json"
fi

# stat: the counters of those values
expect 0 '^notify +0 a53-0 +3 m4 +1 +1 +0 +0 +0/16$' "$ipcc" stat "$sys"
expect 0 '^notify +3 m4 +2 r5f0-0 +1 +1 +0 +0 +0/16$' "$ipcc" stat "$sys" --link 2-3
expect 1 "$sys has no link 0-1: the pair is unlinked" "$ipcc" stat "$sys" --link 0-1
if "$ipcc" stat "$sys" --link 2-3 | grep -q 'a53-0'; then
	fail "stat --link 2-3 shows other links"
fi
if command -v python3 >/dev/null; then
	"$ipcc" stat "$sys" --json >"$tmp/stat.json"
	expect 0 '^ok$' python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
q = {(e["from"], e["to"]): e for e in d["notify"]}
assert len(q) == 10, q
assert q[(0, 2)]["sent"] == 1 and q[(0, 2)]["received"] == 1 and q[(0, 2)]["fill"] == 0, q[(0, 2)]
assert q[(1, 2)]["sent"] == 0 and q[(1, 2)]["depth"] == 16 and q[(1, 2)]["consistent"], q[(1, 2)]
assert isinstance(d["rpmsg"], list), d
print("ok")' "$tmp/stat.json"
fi
# a full queue counts, and its sender is told
for v in $(seq 16); do "$ipcc" notify "$sys" --as a53-1 --to m4:7 "$v" >/dev/null; done
expect 1 "cannot notify m4:7 on $sys: the queue is full \(--timeout 0\)" \
	"$ipcc" notify "$sys" --as a53-1 --to m4:7 17 --timeout 0
expect 0 '^notify +1 a53-1 +3 m4 +16 +0 +1 +0 +16/16$' "$ipcc" stat "$sys"

# watch, not on a terminal: every value once, then one timestamped line per change
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z'
"$ipcc" watch "$sys" --link 0-2 --interval 0.05 >"$tmp/w.out" 2>&1 &
w=$!
pids+=("$w")
wait_for "$tmp/w.out" "^$ts notify 2->0 dropped = 0$"
grep -Eq "^$ts link 0-2 proc1 C1TOC2SR = 0x00000000$" "$tmp/w.out" || fail "watch: no C1TOC2SR line"
grep -Eq "^$ts link 0-2 owners = 0-2 procedures, 3 notify$" "$tmp/w.out" || fail "watch: no owners"
grep -q 'link 0-3' "$tmp/w.out" && fail "watch --link 0-2 shows link 0-3"
if command -v python3 >/dev/null; then
	# it waits in the kernel: the link counts it as its watcher while nothing happens
	sleep 0.3
	[[ $(watchers "$sys") == "1 0 0 0 0" ]] || fail "watch: watchers $(watchers "$sys"), want 1 0 0 0 0"
fi
"$ipcc" notify "$sys" --as a53-0 --to r5f0-0:4 5 >/dev/null
wait_for "$tmp/w.out" "^$ts link 0-2 proc1 C1TOC2SR 0x00000000 -> 0x00000008$"
wait_for "$tmp/w.out" "^$ts link 0-2 proc2 RXO low -> HIGH$"
wait_for "$tmp/w.out" "^$ts notify 0->2 sent 1 -> 2$"
"$ipcc" notify "$sys" --as r5f0-0 --recv 4 >/dev/null
wait_for "$tmp/w.out" "^$ts notify 0->2 received 1 -> 2$"
wait_for "$tmp/w.out" "^$ts link 0-2 proc2 RXO HIGH -> low$"
kill -INT "$w"
wait_exit "$w" || fail "watch exited with $? after SIGINT"
if command -v python3 >/dev/null; then
	[[ $(watchers "$sys") == "0 0 0 0 0" ]] || fail "watch left watchers behind: $(watchers "$sys")"
fi

# the refresh rate is bounded: however fast the system changes, at most one frame per
# --interval (a loaded machine only makes fewer)
"$ipcc" watch "$sys" --link 1-2 --interval 0.5 >"$tmp/rate.out" 2>&1 &
w=$!
pids+=("$w")
wait_for "$tmp/rate.out" "notify 2->1 dropped = 0$"
t0=$(date +%s%N)
for v in $(seq 20); do
	"$ipcc" notify "$sys" --as a53-1 --to r5f0-0:4 "$v" >/dev/null
	"$ipcc" notify "$sys" --as r5f0-0 --recv 4 >/dev/null
done
wait_for "$tmp/rate.out" "notify 1->2 received [0-9]+ -> 20$"
kill -INT "$w"
wait_exit "$w" || fail "watch --interval 0.5 exited with $?"
t1=$(date +%s%N)
frames=$({ grep -v ' = ' "$tmp/rate.out" || true; } | awk '{print $1}' | sort -u | wc -l)
max=$(((t1 - t0) / 500000000 + 2))
[[ $frames -ge 1 && $frames -le $max ]] || fail "watch --interval 0.5: $frames frames in $(((t1 - t0) / 1000000)) ms, want 1..$max"

# --json: one object per change; --count ends it
"$ipcc" watch "$sys" --link 2-3 --json --count 1 --interval 0.05 >"$tmp/wj.out" 2>&1 &
w=$!
pids+=("$w")
wait_for "$tmp/wj.out" '"group": ?"notify 3->2", ?"field": ?"dropped"'
"$ipcc" notify "$sys" --as m4 --to r5f0-0:4 6 >/dev/null
wait_exit "$w" || fail "watch --count 1 exited with $?"
if command -v python3 >/dev/null; then
	expect 0 '^ok$' python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
first = [l for l in lines if l["old"] is None]
changes = [l for l in lines if l["old"] is not None]
assert any(l["group"] == "link 2-3 proc2" and l["field"] == "C2TOC1SR" and l["new"] == "0x00000000" for l in first), first
# the first change ends it: the attach of the sender (a bank reset) or its value
assert changes and len({l["time"] for l in changes}) == 1, changes
assert all(l["old"] != l["new"] for l in changes), changes
assert all(set(l) == {"time", "group", "field", "old", "new"} and l["time"].endswith("Z") for l in lines)
print("ok")' "$tmp/wj.out"
fi
"$ipcc" notify "$sys" --as r5f0-0 --recv 4 >/dev/null

# watch on a terminal (a real pseudo-terminal: script): redrawn in place, changes highlighted
if ! command -v script >/dev/null; then
	echo "skipped: watch on a terminal (no script(1))"
else
	# the shell says its pid, then becomes watch: no pgrep (procps) needed to find it
	script -qfec "echo \$\$ >'$tmp/tty.pid'; exec '$ipcc' watch '$sys' --link 0-3 --interval 0.05" \
		"$tmp/tty.out" >/dev/null 2>&1 </dev/null &
	w=$!
	pids+=("$w")
	wait_for "$tmp/tty.out" 'notify 3->0 +fill 0/16'
	"$ipcc" notify "$sys" --as a53-0 --to m4:9 3 >/dev/null
	esc=$'\e'
	# the sender's attach may show in frames of its own; the flag shows highlighted at last
	wait_for "$tmp/tty.out" "C1TOC2SR $esc\\[7m0x00000008$esc\\[0m"
	wait_for "$tmp/tty.out" "proc2 .*RXO $esc\\[7mHIGH"
	# Ctrl-C to watch itself, script's child
	kill -INT "$(cat "$tmp/tty.pid")"
	wait_exit "$w" || fail "watch on a terminal exited with $?"
	if command -v python3 >/dev/null; then
		[[ $(watchers "$sys") == "0 0 0 0 0" ]] || fail "watch on a terminal left watchers behind: $(watchers "$sys")"
	fi
	out=$(cat "$tmp/tty.out")
	[[ $out == *$'\e[H\e[2J'* ]] || fail "watch on a terminal: no clear screen"
	[[ $out == *$'frame 1'* ]] || fail "watch on a terminal: no second frame"
	[[ $out == *$'TXF low \e[K'* ]] || fail "watch on a terminal: lines are not cleared to their end"
	[[ $out == *$'\e[?25h'* ]] || fail "watch on a terminal: the cursor is not given back"
	# nothing that did not change is highlighted: the receiver, m4, is not attached
	grep -a 'link 0-3 proc2' "$tmp/tty.out" | grep -aq "MR $esc\\[7m" &&
		fail "watch on a terminal highlights processor 2's MR, which never changed"
	"$ipcc" notify "$sys" --as m4 --recv 9 >/dev/null
fi

# an observer that may only read the object: watch reads it every interval instead
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups test -x "$ipcc"; then
	chmod 0644 "$shm/$pfx-s"
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		"$ipcc" watch "$sys" --link 0-2 --interval 0.05 >"$tmp/ro.out" 2>&1 &
	w=$!
	pids+=("$w")
	wait_for "$tmp/ro.out" "reading $sys every 0.05 s \(no write permission"
	wait_for "$tmp/ro.out" "notify 2->0 dropped = 0"
	"$ipcc" notify "$sys" --as a53-0 --to r5f0-0:4 8 >/dev/null
	wait_for "$tmp/ro.out" "link 0-2 proc1 C1TOC2SR 0x00000000 -> 0x00000008"
	kill -INT "$w"
	wait_exit "$w" || fail "read-only watch exited with $?"
	chmod 0660 "$shm/$pfx-s"
else
	echo "skipped: watch by a user who may only read the object (needs root, setpriv, nobody)"
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all live ipcc checks passed"
