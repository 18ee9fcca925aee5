#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# RPMessage in the ipcc command line: `ipcc plan` shows a description's rpmsg settings and
# vring section, `ipcc info` an object's vrings, end points and names, as text and as JSON
# (parsed), and a bad rpmsg block is refused with one line naming file:line:column and key.
# The live end points, names and counters are checked by tools/rpmsg-echo/test-rpmsg-echo.sh,
# with a server running. Usage: test-cli-rpmsg.sh PATH/TO/ipcc
set -euo pipefail

ipcc=$1
pfx="ipcc-cli-rp-$$"
shm=/dev/shm
tmp=$(mktemp -d)
fails=0

cleanup() {
	rm -rf "$shm/$pfx"-*
	rm -rf "$tmp"
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

# lacks PATTERN CMD...: CMD's output has no line matching PATTERN
lacks() {
	local pattern=$1
	shift
	if "$@" 2>&1 | grep -Eq -- "$pattern"; then
		echo "FAIL: $* shows /$pattern/" >&2
		fails=$((fails + 1))
	fi
}

printf 'cpus: 2\n' >"$tmp/plain.yaml"
if "$ipcc" plan "$tmp/plain.yaml" 2>&1 | grep -q 'without libyaml'; then
	echo "skipped: RPMessage in plan and info (built without libyaml)"
	exit 0
fi
have_python=false
command -v python3 >/dev/null && have_python=true

# plan: the settings line, the links when not every Notify link, the section
printf 'cpus: [host, r5, m4]\nservices:\n  notify: {}\n  rpmsg: {}\n' >"$tmp/all.yaml"
expect 0 "^  rpmsg: 8 buffers of 128 B \(112 B payload\) per ordered pair, 64 end points, every Notify link$" \
	"$ipcc" plan "$tmp/all.yaml"
expect 0 "^    section rpmsg at 0x[0-9a-f]{8}, [0-9]+ B: 6 vrings of [0-9]+ B$" \
	"$ipcc" plan "$tmp/all.yaml"
expect 0 "0x[0-9a-f]{8} +[0-9]+ +[0-9]+ +[0-9]+ +rpmsg +rpmsg " "$ipcc" plan "$tmp/all.yaml"
printf 'cpus: [a, b, c]\nservices:\n  notify: {links: [[a, b], [b, c]]}\n  rpmsg: {links: [[c, b]], profile: linux, buffers: 16, endpoints: 32}\n' \
	>"$tmp/some.yaml"
expect 0 "^  rpmsg: 16 buffers of 512 B \(496 B payload\) per ordered pair, 32 end points, links: b - c$" \
	"$ipcc" plan "$tmp/some.yaml"
expect 0 "^    section rpmsg at 0x[0-9a-f]{8}, [0-9]+ B: 2 vrings of [0-9]+ B$" \
	"$ipcc" plan "$tmp/some.yaml"
lacks "^  rpmsg" "$ipcc" plan "$tmp/plain.yaml"
if $have_python; then
	"$ipcc" plan "$tmp/some.yaml" --json >"$tmp/plan.json"
	expect 0 '^ok$' python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
r = p["rpmsg"]
assert (r["buffers"], r["buffer_size"], r["payload_max"], r["endpoints"]) == (16, 512, 496, 32), r
assert r["links"] == [{"cpu1": 1, "cpu2": 2}], r["links"]
secs = [s for s in p["sections"] if s["name"] == "rpmsg"]
assert len(secs) == 1 and secs[0]["layer"] == "rpmsg", p["sections"]
assert r["sections"] == [{"offset": secs[0]["offset"], "size": secs[0]["size"], "vrings": 2,
                          "vring_size": secs[0]["stride"]}], (r["sections"], secs)
# each vring holds its 16 buffers of 512 bytes at least
assert secs[0]["stride"] >= 16 * 512 and secs[0]["count"] == 2, secs
print("ok")' "$tmp/plan.json"
	"$ipcc" plan "$tmp/plain.yaml" --json >"$tmp/plain.json"
	expect 0 '^ok$' python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["rpmsg"] is None
print("ok")' "$tmp/plain.json"
fi

# a bad rpmsg block: one line, file:line:column: key: message
printf 'cpus: 2\nservices:\n  rpmsg: {}\n' >"$tmp/nonotify.yaml"
expect 1 "^ipcc: $tmp/nonotify.yaml:3:10: services.rpmsg: RPMessage needs IPC Notify: add a 'notify:' block to services$" \
	"$ipcc" plan "$tmp/nonotify.yaml"
printf 'cpus: 3\nservices:\n  notify: {links: [[0, 1]]}\n  rpmsg:\n    links: [[0, 1], [1, 2]]\n' \
	>"$tmp/nolink.yaml"
expect 1 "^ipcc: $tmp/nolink.yaml:5:21: services.rpmsg.links\[1\]: cpu1 - cpu2 has no Notify, which RPMessage needs" \
	"$ipcc" plan "$tmp/nolink.yaml"
printf 'cpus: 2\nservices:\n  notify:\n  rpmsg:\n    profile: linux\n    buffer_size: 128\n' \
	>"$tmp/conflict.yaml"
expect 1 "^ipcc: $tmp/conflict.yaml:6:18: services.rpmsg.buffer_size: buffer_size 128 conflicts with 'profile: linux'" \
	"$ipcc" plan "$tmp/conflict.yaml"
expect 1 "services.rpmsg.buffer_size: buffer_size 128 conflicts" \
	"$ipcc" create --config "$tmp/conflict.yaml" "/$pfx-x"
[[ -e $shm/$pfx-x ]] && { echo "FAIL: a refused description created $pfx-x" >&2; fails=$((fails + 1)); }

# info of an object nobody attached: the geometry, zero counters, no end point, no name
expect 0 "^created /$pfx-a: 3 CPUs" "$ipcc" create --config "$tmp/some.yaml" "/$pfx-a"
expect 0 "^  rpmsg: 16 buffers of 512 B \(496 B payload\) per ordered pair, 32 end points$" \
	"$ipcc" info "/$pfx-a"
expect 0 "^  1 b +2 c +0 +0 +16 +0 +0 +0 +0 +0 +0 +0$" "$ipcc" info "/$pfx-a"
expect 0 "^  2 c +1 b +0 +0 +16 +0 +0 +0 +0 +0 +0 +0$" "$ipcc" info "/$pfx-a" --link 2-1
lacks "^  0 a +1 b +0 +0 +16 " "$ipcc" info "/$pfx-a"
expect 0 "^  CPU +OPEN END POINTS +ANNOUNCED NAMES$" "$ipcc" info "/$pfx-a"
lacks "^  [0-9] [abc] +[0-9]+ +[0-9]+ +16 " "$ipcc" info "/$pfx-a" --link 0-1
if $have_python; then
	"$ipcc" info "/$pfx-a" --json >"$tmp/info.json"
	expect 0 '^ok$' python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rpmsg"]
assert (r["buffers"], r["buffer_size"], r["payload_max"], r["endpoints"]) == (16, 512, 496, 32), r
assert sorted((v["from"], v["to"]) for v in r["vrings"]) == [(1, 2), (2, 1)], r["vrings"]
for v in r["vrings"]:
    assert v["buffers"] == 16 and v["consistent"] is True, v
    for k in ("sent", "received", "nobuf", "dropped", "stale", "bad", "reclaimed", "full"):
        assert v[k] == 0, (k, v)
ids = [c["id"] for c in r["cpus"]]
assert ids == [1, 2], r["cpus"]
for c in r["cpus"]:
    assert c["names"] == [], c
print("ok")' "$tmp/info.json"
	"$ipcc" info "/$pfx-a" --json --link 0-1 >"$tmp/info01.json"
	expect 0 '^ok$' python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rpmsg"]
assert r["vrings"] == [], r["vrings"]
print("ok")' "$tmp/info01.json"
fi
expect 0 "^created /$pfx-p: 2 CPUs" "$ipcc" create --config "$tmp/plain.yaml" "/$pfx-p"
lacks "^  rpmsg" "$ipcc" info "/$pfx-p"
if $have_python; then
	expect 0 '^None$' bash -c "'$ipcc' info /$pfx-p --json | python3 -c '
import json, sys
print(json.load(sys.stdin)[\"rpmsg\"])'"
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all ipcc RPMessage command line checks passed"
