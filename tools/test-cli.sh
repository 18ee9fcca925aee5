#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The ipcc command line contract: output, messages and exit statuses (0 ok, 1 runtime error,
# 2 usage error), against real shm objects. Usage: test-cli.sh PATH/TO/ipcc EXAMPLES_DIR
set -euo pipefail

ipcc=$1
examples=$2
pfx="ipcc-cli-$$"
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

# help and usage
expect 0 '^Usage: ipcc' "$ipcc" help
expect 0 '^Usage: ipcc' "$ipcc" --help
expect 2 '^Usage: ipcc' "$ipcc"
expect 2 "unknown command 'frob'" "$ipcc" frob
expect 2 'create: missing NAME' "$ipcc" create
expect 2 "unknown option '--bogus'" "$ipcc" create "/$pfx-x" --bogus
expect 2 "option '--cpus' needs a value" "$ipcc" create "/$pfx-x" --cpus
for cmd in plan create info list rm; do
	expect 0 '^Usage: ipcc' "$ipcc" "$cmd" --help
done

# strict numbers, with the limit in the message
for bad in abc -1 ' 3' 3x 0x4 1 65 99999999999999999999999; do
	expect 2 "invalid value '$bad' for --cpus: .*2\.\.64" "$ipcc" create "/$pfx-x" --cpus "$bad"
done
expect 2 "for --channels: .*1\.\.16" "$ipcc" create "/$pfx-x" --channels 17
expect 2 "for --buffer-size: .*8\.\.1048576" "$ipcc" create "/$pfx-x" --buffer-size 7
expect 2 "for --buffer-size" "$ipcc" create "/$pfx-x" --buffer-size 2M
expect 2 "for --mode" "$ipcc" create "/$pfx-x" --mode 0800
# a shared object has no use for setuid, setgid or sticky bits (issue 15)
for bad in 4755 2770 1777 7777; do
	expect 2 "invalid value '$bad' for --mode: setuid, setgid and sticky bits are refused" \
		"$ipcc" create "/$pfx-x" --mode "$bad"
done
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
expect 0 "link 2-3: processor 1 = CPU 2 \(cpu2\)" "$ipcc" info "$pfx-a" --link 3-2
expect 0 "owner: every channel: procedures" "$ipcc" info "$pfx-a" --link 3-2
expect 0 "0x00001000 +1024 +4 +256 +cpus +region" "$ipcc" info "$pfx-a"
expect 1 "has no link 1-3: the pair is unlinked" "$ipcc" info "$pfx-a" --link 1-3
expect 1 "has no link 0-7: it has 4 CPUs" "$ipcc" info "$pfx-a" --link 0-7
if command -v python3 >/dev/null; then
	expect 0 '^5 16 True$' bash -c "'$ipcc' info /$pfx-a --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"notify\"] is None, d[\"notify\"]
print(len(d[\"links\"]), len(d[\"links\"][0][\"channels\"]), d[\"links\"][0][\"channels\"][0][\"C1OM\"])'"
fi
if "$ipcc" info "/$pfx-a" | grep -q 'notify'; then
	echo "FAIL: info shows Notify on a system without it" >&2
	fails=$((fails + 1))
fi
expect 0 "HWCFGR 0x00000010 \(16 channels\)  VERR 0x00000010 \(rev 1\.0\)  IPIDR 0x00100071  SIDR 0xa3c5dd01" \
	"$ipcc" info "$pfx-a" --link 0-1
if command -v python3 >/dev/null; then
	expect 0 '^ok$' bash -c "'$ipcc' info /$pfx-a --json | python3 -c '
import json, sys
r = json.load(sys.stdin)[\"links\"][0][\"registers\"]
assert r == {\"C1CR\": \"0x00000000\", \"C1MR\": \"0xffffffff\", \"C1TOC2SR\": \"0x00000000\",
             \"C2CR\": \"0x00000000\", \"C2MR\": \"0xffffffff\", \"C2TOC1SR\": \"0x00000000\",
             \"HWCFGR\": \"0x00000010\", \"VERR\": \"0x00000010\", \"IPIDR\": \"0x00100071\",
             \"SIDR\": \"0xa3c5dd01\"}, r
print(\"ok\")'"
fi
expect 0 "/$pfx-a +$(id -un) +0640 +4 +16 +512 +5" "$ipcc" list
if command -v python3 >/dev/null; then
	expect 0 '^ok$' bash -c "'$ipcc' list --json | python3 -c '
import json, sys
o = [o for o in json.load(sys.stdin)[\"objects\"] if o[\"name\"] == \"/$pfx-a\"]
assert len(o) == 1 and o[0][\"cpus\"] == 4 and o[0][\"link_count\"] == 5, o
assert o[0][\"attached\"] == 0 and o[0][\"buffer_size\"] == 512, o
assert o[0][\"mode\"] == \"0640\" and o[0][\"uid\"] == $(id -u), o
print(\"ok\")'"
fi
expect 2 "list: unexpected argument 'x'" "$ipcc" list x
expect 0 '^Usage: ipcc list' "$ipcc" list --help
# list names what it cannot open: another program's object (counted, or shown with --all), a
# corrupt one
head -c 4096 /dev/urandom >"$shm/$pfx-other"
expect 0 "other objects? in /dev/shm (is|are) not libipcc's" "$ipcc" list
expect 0 "/$pfx-other +$(id -un) +0[0-7]{3} +not a libipcc object" "$ipcc" list --all
rm -f "$shm/$pfx-other"
"$ipcc" create "/$pfx-bad" >/dev/null
printf '\x63\x00\x00\x00' | dd of="$shm/$pfx-bad" bs=1 seek=52 conv=notrunc status=none
expect 0 "/$pfx-bad +$(id -un) +0600 +corrupt header" "$ipcc" list
"$ipcc" rm "/$pfx-bad"
expect 2 "list: unknown option '--bogus'" "$ipcc" list --bogus
expect 2 "plan: unknown option '--bogus'" "$ipcc" plan --bogus x.yaml
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
printf '\x09\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=8 conv=notrunc status=none
expect 1 "cannot open /$pfx-t: created by an incompatible libipcc layout version \(object v9" \
	"$ipcc" info "/$pfx-t"
printf '\x03\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=8 conv=notrunc status=none
# cpus is the 32-bit word at offset 52
printf '\x63\x00\x00\x00' | dd of="$shm/$pfx-t" bs=1 seek=52 conv=notrunc status=none
expect 1 "cannot open /$pfx-t: corrupt header" "$ipcc" info "/$pfx-t"
expect 0 '^$' "$ipcc" rm "/$pfx-t"

# anyone may put a FIFO in /dev/shm: nothing may block on it (issue 15)
mkfifo "$shm/$pfx-fifo"
expect 0 '^' timeout 10 "$ipcc" list
if timeout 10 "$ipcc" list | grep -q -- "$pfx-fifo"; then
	echo "FAIL: ipcc list shows a FIFO" >&2
	fails=$((fails + 1))
fi
expect 1 "^ipcc: not removing /$pfx-fifo: is a FIFO, not a libipcc object \(-f removes it\)$" \
	timeout 10 "$ipcc" rm "/$pfx-fifo"
expect 1 "^ipcc: cannot open /$pfx-fifo: is a FIFO, not a libipcc object$" \
	timeout 10 "$ipcc" info "/$pfx-fifo"
expect 0 '^$' timeout 10 "$ipcc" rm -f "/$pfx-fifo"
[[ -e $shm/$pfx-fifo ]] && { echo "FAIL: rm -f left the FIFO" >&2; fails=$((fails + 1)); }
mkdir "$shm/$pfx-dir"
expect 1 "^ipcc: cannot open /$pfx-dir: is a directory$" "$ipcc" info "/$pfx-dir"
expect 1 "^ipcc: cannot remove /$pfx-dir: is a directory$" "$ipcc" rm "/$pfx-dir"
expect 1 "^ipcc: cannot remove /$pfx-dir: is a directory$" "$ipcc" rm -f "/$pfx-dir"
rmdir "$shm/$pfx-dir"

# names are anyone's bytes: text output escapes what a terminal would obey (issue 15) ...
evil="$pfx-"$'\e]0;pwned\a\e[2J'
expect 0 "^created /$pfx-\\\\x1b\]0;pwned\\\\x07\\\\x1b\[2J: 2 CPUs" "$ipcc" create "/$evil"
# escaped CMD...: the output of CMD shows the evil name escaped, and no escape or bell byte
escaped() {
	local out
	out=$("$@" 2>&1) || true
	if [[ $out == *$'\e'* || $out == *$'\a'* || $out != *'\x1b]0;pwned\x07\x1b[2J'* ]]; then
		printf 'FAIL: %q prints the name raw or not at all:\n%q\n' "$*" "$out" >&2
		fails=$((fails + 1))
	fi
}
escaped "$ipcc" list
escaped "$ipcc" info "/$evil"
escaped "$ipcc" info "/$evil-none"
escaped "$ipcc" rm "/$evil-none"
escaped "$ipcc" create "/$evil"
expect 0 '^$' "$ipcc" rm "/$evil"
# ... and JSON carries them exactly: quotes, backslashes, controls, non-ASCII; bytes that are
# not UTF-8 become U+FFFD
if command -v python3 >/dev/null; then
	odd="$pfx-"$'q"uo\\te\x01\x1f\x7f\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'
	"$ipcc" create "/$odd" >/dev/null
	"$ipcc" create "/$pfx-"$'bad\xff\xc3(' >/dev/null
	"$ipcc" info "/$odd" --json >"$tmp/odd.json"
	"$ipcc" list --json >"$tmp/list.json"
	"$ipcc" info "/$pfx-"$'bad\xff\xc3(' --json >"$tmp/bad.json"
	expect 0 '^ok$' python3 -c '
import json, os, sys
odd = json.load(open(sys.argv[1]))["name"]
assert odd.encode() == os.fsencode(sys.argv[2]), (odd, sys.argv[2])
bad = json.load(open(sys.argv[3]))["name"]
assert bad == sys.argv[4] + "bad\ufffd\ufffd(", bad
listed = [o["name"] for o in json.load(open(sys.argv[5]))["objects"]]
assert odd in listed and bad in listed, listed
print("ok")' "$tmp/odd.json" "/$odd" "$tmp/bad.json" "/$pfx-" "$tmp/list.json"
	expect 0 '^$' "$ipcc" rm "/$odd"
	expect 0 '^$' "$ipcc" rm "/$pfx-"$'bad\xff\xc3('
fi

# system descriptions: plan, create --config, and errors naming file:line:column and key
example=$examples/am64x.yaml
if "$ipcc" plan "$example" 2>&1 | grep -q 'without libyaml'; then
	echo "skipped: system descriptions (built without libyaml)"
	expect 1 "am64x.yaml: this libipcc was built without libyaml" "$ipcc" plan "$example"
else
	expect 0 "^$example: /am64x, 4 CPUs, 4 channels per direction, 1024 B buffers, mode 0660" \
		"$ipcc" plan "$example"
	expect 0 "links: a53-0 - r5f0-0, a53-0 - m4, a53-1 - r5f0-0, a53-1 - m4, r5f0-0 - m4" \
		"$ipcc" plan "$example"
	expect 0 "0x00000000 +4096 +1 +4096 +header +region +-" "$ipcc" plan "$example"
	expect 0 "^shared memory needed: [0-9]+ B" "$ipcc" plan "$example"
	# the Notify settings and its section
	printf 'cpus: 2\n' >"$tmp/noname.yaml"
	expect 0 "^  notify: depth 16, channel 3, every link$" "$ipcc" plan "$example"
	expect 0 "0x[0-9a-f]{8} +[0-9]+ +[0-9]+ +[0-9]+ +notify +notify " "$ipcc" plan "$example"
	printf 'cpus: [a, b, c]\nservices:\n  notify: {links: [[c, a]], depth: 4}\n' >"$tmp/n.yaml"
	expect 0 "^  notify: depth 4, channel 5, links: a - c$" "$ipcc" plan "$tmp/n.yaml"
	printf 'cpus: 2\nservices:\n  notify:\n    depth: 24\n' >"$tmp/depth.yaml"
	expect 1 "^ipcc: $tmp/depth.yaml:4:12: services.notify.depth: 24 is not a power of two" \
		"$ipcc" plan "$tmp/depth.yaml"
	printf 'cpus: 3\nlinks: [[0, 1]]\nservices: {notify: {links: [[1, 2]]}}\n' >"$tmp/nolink.yaml"
	expect 1 "^ipcc: $tmp/nolink.yaml:3:29: services.notify.links\[0\]: cpu1 - cpu2 is not a link" \
		"$ipcc" plan "$tmp/nolink.yaml"
	expect 0 "^  notify: " "$ipcc" plan "$tmp/n.yaml"
	if "$ipcc" plan "$tmp/noname.yaml" 2>/dev/null | grep -q notify; then
		echo "FAIL: plan shows Notify for a description without it" >&2
		fails=$((fails + 1))
	fi
	expect 2 "plan: missing FILE" "$ipcc" plan
	expect 1 "^ipcc: $tmp/none.yaml: cannot read: No such file" "$ipcc" plan "$tmp/none.yaml"
	if command -v python3 >/dev/null; then
		"$ipcc" plan "$example" --json >"$tmp/plan.json"
		expect 0 '^ok$' python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
names = [c["name"] for c in p["cpus"]]
assert names == ["a53-0", "a53-1", "r5f0-0", "m4"], names
assert [s["name"] for s in p["sections"]][:3] == ["header", "cpus", "links"], p["sections"]
last = p["sections"][-1]
assert last["offset"] + last["size"] == p["size"], p
assert len(p["links"]) == 5 and p["mode"] == "0660" and p["name"] == "/am64x", p
n = p["notify"]
assert n["depth"] == 16 and n["channel"] == 3 and n["links"] == p["links"], n
assert [s["layer"] for s in p["sections"] if s["name"] == "notify"] == ["notify"], p["sections"]
print("ok")' "$tmp/plan.json"
		"$ipcc" plan "$tmp/noname.yaml" --json >"$tmp/plain.json"
		expect 0 '^ok$' python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["notify"] is None
print("ok")' "$tmp/plain.json"
	fi

	# create exactly the plan; NAME on the command line overrides the file's name
	expect 0 "^created /$pfx-d: 4 CPUs, 4 channels, 1024 B buffers, 5 links" \
		"$ipcc" create --config "$example" "$pfx-d"
	[[ $(stat -c %a "$shm/$pfx-d") == 660 ]] || { echo "FAIL: the file's mode not applied" >&2; fails=$((fails + 1)); }
	if command -v python3 >/dev/null; then
		"$ipcc" info "/$pfx-d" --json >"$tmp/info.json"
		expect 0 '^ok$' python3 -c '
import json, os, sys
p, i = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert os.path.getsize(sys.argv[3]) == p["size"] == i["size"], (p["size"], i["size"])
assert [c["name"] for c in i["cpu"]] == [c["name"] for c in p["cpus"]], i["cpu"]
assert i["sections"] == p["sections"], (i["sections"], p["sections"])
assert i["cpu"][0]["power"] == "run" and i["cpu"][0]["wait_mode"] == "adaptive", i["cpu"][0]
owners = [[c["owner"] for c in l["channels"]] for l in i["links"]]
assert all(o == ["procedures"] * 3 + ["notify"] for o in owners), owners
n = i["notify"]
assert n["depth"] == 16 and n["channel"] == 3, n
pairs = sorted((q["from"], q["to"]) for q in n["queues"])
links = [(l["cpu1"], l["cpu2"]) for l in p["links"]]
assert pairs == sorted(links + [(b, a) for a, b in links]), pairs
for q in n["queues"]:
    assert q["fill"] == q["sent"] == q["received"] == q["full"] == q["dropped"] == 0, q
    assert q["depth"] == 16 and q["consistent"] is True, q
print("ok")' "$tmp/plan.json" "$tmp/info.json" "$shm/$pfx-d"
	fi
	expect 0 "3  m4 +no " "$ipcc" info "/$pfx-d"
	expect 0 "^  notify: depth 16, channel 3$" "$ipcc" info "/$pfx-d"
	expect 0 "^  2 r5f0-0 +3 m4 +0/16 +0 +0 +0 +0$" "$ipcc" info "/$pfx-d"
	expect 0 "^  3 m4 +2 r5f0-0 +0/16 +0 +0 +0 +0$" "$ipcc" info "/$pfx-d" --link 3-2
	if "$ipcc" info "/$pfx-d" --link 3-2 | grep -q '^  0 a53-0'; then
		echo "FAIL: info --link 3-2 shows the queues of other links" >&2
		fails=$((fails + 1))
	fi
	expect 0 "owner: 0 procedures, 1 procedures, 2 procedures, 3 notify" "$ipcc" info "/$pfx-d"
	expect 0 "link 2-3: processor 1 = CPU 2 \(r5f0-0\), processor 2 = CPU 3 \(m4\)" \
		"$ipcc" info "/$pfx-d"
	expect 2 "create: --cpus conflicts with --config" \
		"$ipcc" create --config "$example" "$pfx-e" --cpus 3
	expect 2 "create: --links conflicts with --config" \
		"$ipcc" create --links 0-1 --config "$example" "$pfx-e"
	expect 2 "create: missing NAME \($tmp/noname.yaml has no 'name'\)" \
		"$ipcc" create --config "$tmp/noname.yaml"
	printf 'name: %s-n\ncpus: [a, b]\nmode: "0640"\n' "$pfx" >"$tmp/named.yaml"
	expect 0 "^created /$pfx-n: 2 CPUs" "$ipcc" create --config "$tmp/named.yaml" --mode 0600
	[[ $(stat -c %a "$shm/$pfx-n") == 600 ]] || { echo "FAIL: --mode does not override the file" >&2; fails=$((fails + 1)); }

	# one line naming file:line:column and key; nothing created
	printf 'name: %s-bad\ncpus: [a, b, c]\nlinks:\n  - [a, b]\n  - [b, d]\n' "$pfx" >"$tmp/bad.yaml"
	expect 1 "^ipcc: $tmp/bad.yaml:5:9: links\[1\]: no CPU named 'd'$" \
		"$ipcc" create --config "$tmp/bad.yaml"
	expect 1 "^ipcc: $tmp/bad.yaml:5:9: links\[1\]: no CPU named 'd'$" "$ipcc" plan "$tmp/bad.yaml"
	[[ -e $shm/$pfx-bad ]] && { echo "FAIL: a refused description created $pfx-bad" >&2; fails=$((fails + 1)); }
	printf 'cpus: 2\nchannels: 4\nchannels: 5\n' >"$tmp/dup.yaml"
	expect 1 "^ipcc: $tmp/dup.yaml:3:1: channels: duplicate key \(first at line 2\)$" \
		"$ipcc" plan "$tmp/dup.yaml"
	expect 0 '^$' "$ipcc" rm "/$pfx-d"
	expect 0 '^$' "$ipcc" rm "/$pfx-n"
fi

# ipcc info is an observer: read permission on the object is enough
if [[ $(id -u) -ne 0 ]]; then
	echo "skipped: info by a user who may only read the object (needs root to switch user)"
elif ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
	echo "skipped: info by a user who may only read the object (no setpriv or no nobody)"
else
	as_nobody=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
	if ! "${as_nobody[@]}" test -x "$ipcc"; then
		echo "skipped: info by a user who may only read the object ($ipcc not executable by nobody)"
	else
		"$ipcc" create "/$pfx-ro" --cpus 3 --mode 0644 >/dev/null
		expect 1 "permission denied" "${as_nobody[@]}" "$ipcc" rm "/$pfx-ro"
		expect 0 "^/$pfx-ro: libipcc system" "${as_nobody[@]}" "$ipcc" info "/$pfx-ro"
		expect 0 '"name": "cpu2"' "${as_nobody[@]}" "$ipcc" info "/$pfx-ro" --json
		expect 0 "/$pfx-ro +$(id -un) +0644 +3 " "${as_nobody[@]}" "$ipcc" list
		"$ipcc" rm "/$pfx-ro"
		"$ipcc" create "/$pfx-priv" >/dev/null
		expect 0 "/$pfx-priv +$(id -un) +0600 +cannot read it: permission denied" \
			"${as_nobody[@]}" "$ipcc" list
		"$ipcc" rm "/$pfx-priv"
		# the Notify counters too: ipcc_notify_stats reads through a read-only mapping
		if ! "$ipcc" plan "$example" 2>&1 | grep -q 'without libyaml'; then
			printf 'cpus: 3\nmode: "0644"\nservices: {notify: {depth: 4}}\n' >"$tmp/ro.yaml"
			chmod 0644 "$tmp/ro.yaml"
			"$ipcc" create --config "$tmp/ro.yaml" "/$pfx-ro" >/dev/null
			expect 0 "^  2 cpu2 +1 cpu1 +0/4 +0 +0 +0 +0$" \
				"${as_nobody[@]}" "$ipcc" info "/$pfx-ro"
			expect 0 '"queues"' "${as_nobody[@]}" "$ipcc" info "/$pfx-ro" --json
			"$ipcc" rm "/$pfx-ro"
		fi
	fi
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all ipcc command line checks passed"
