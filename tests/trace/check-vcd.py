#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`ipcc trace`: trace a known exchange into a VCD, parse the file and check it.

Usage: check-vcd.py IPCC TRACE_EXCHANGE

A system of three named CPUs with a trace section is created with `ipcc create --config`;
`ipcc trace` runs while trace-exchange sends one message from CPU 0 (host) to CPU 1 (m4) on
channel 0, and is stopped with SIGINT. The VCD must declare a scope per link with proc1 and
proc2 and every wire, start from the registers' values, keep the interrupt lines equal to the
reference manual's equations at every time, and show the exchange's transitions in order:
the receiver enables RX occupied and unmasks channel 0, the sender's flag rises with the
receiver's RXO line, the receiver masks the channel (RXO falls), then frees it (the flag
falls). A second system with IPC Notify carries one value: its NOTIFY_TX vector on the sender,
the Notify channel's flag, then NOTIFY_RX on the receiver, then the flag's fall. Also the
tool's refusals, each one line with its exit status.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

IPCC, EXCHANGE = sys.argv[1], sys.argv[2]
CHANNELS = 2
WIRES = ([f"CH{n}F" for n in range(CHANNELS)] + [f"CH{n}OM" for n in range(CHANNELS)]
         + [f"CH{n}FM" for n in range(CHANNELS)] + ["RXOIE", "TXFIE", "RXO", "TXF"])
LINKS = ["link_host_m4", "link_host_dsp", "link_m4_dsp"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(*args, expect=0):
    p = subprocess.run([IPCC, *args], capture_output=True, text=True, timeout=30)
    if p.returncode != expect:
        fail(f"ipcc {' '.join(args)}: exit {p.returncode}, wanted {expect}: {p.stderr}")
    return p


VECTORS = ["NOTIFY_TX", "NOTIFY_RX"]


def parse_vcd(path):
    """(timescale, {id: full name}, initial {name: v}, [(time, name, v)]); a vector's value is
    an int, or None for x."""
    with open(path) as f:
        text = f.read()
    if not text.endswith("\n"):
        fail("the VCD does not end with a newline")
    tokens = text.split("\n")
    names, scope, timescale = {}, [], None
    i = 0
    while i < len(tokens):
        line = tokens[i].strip()
        i += 1
        if line.startswith("$timescale"):
            timescale = line.split()[1:3]
        elif line.startswith("$scope"):
            w = line.split()
            if w[1] != "module" or w[-1] != "$end":
                fail(f"bad scope line {line!r}")
            scope.append(w[2])
        elif line.startswith("$upscope"):
            scope.pop()
        elif line.startswith("$var"):
            w = line.split()
            if len(w) != 6 or w[-1] != "$end" or (w[1], w[2]) not in (("wire", "1"), ("reg", "32")):
                fail(f"bad var line {line!r}")
            if (w[1] == "reg") != (w[4] in VECTORS):
                fail(f"{w[4]} declared as {w[1]} {w[2]}")
            if w[3] in names:
                fail(f"identifier {w[3]} declared twice")
            names[w[3]] = ".".join(scope + [w[4]])
        elif line.startswith("$enddefinitions"):
            break
    if scope:
        fail("unbalanced $scope")
    initial, changes, t, in_dump = {}, [], None, False
    for line in tokens[i:]:
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            nt = int(line[1:])
            if t is not None and nt <= t:
                fail(f"time #{nt} after #{t}: times must increase")
            t = nt
        elif line == "$dumpvars":
            in_dump = True
        elif line == "$end":
            in_dump = False
        elif line[0] in "01b":
            if line[0] == "b":
                bits, ident = line[1:].split(" ")
                value = None if bits == "x" else int(bits, 2)
            else:
                value, ident = int(line[0]), line[1:]
            name = names.get(ident)
            if name is None:
                fail(f"change of an undeclared identifier {line!r}")
            if in_dump:
                initial[name] = value
            else:
                changes.append((t, name, value))
        else:
            fail(f"unexpected line {line!r}")
    return timescale, names, initial, changes


def check_equations(state, t):
    """The lines the dump shows are the RM equations of its own flags, masks and enables."""
    for link in LINKS:
        for p, q in (("proc1", "proc2"), ("proc2", "proc1")):
            g = lambda proc, w: state[f"{link}.{proc}.{w}"]
            rxo = g(p, "RXOIE") and any(g(q, f"CH{n}F") and not g(p, f"CH{n}OM")
                                        for n in range(CHANNELS))
            txf = g(p, "TXFIE") and any(not g(p, f"CH{n}F") and not g(p, f"CH{n}FM")
                                        for n in range(CHANNELS))
            if g(p, "RXO") != int(rxo) or g(p, "TXF") != int(txf):
                fail(f"at #{t} {link}.{p}: RXO {g(p, 'RXO')} TXF {g(p, 'TXF')}, the "
                     f"equations give {int(rxo)} {int(txf)}")


def main():
    name = f"/ipcc-trace-test-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        desc = os.path.join(tmp, "sys.yaml")
        with open(desc, "w") as f:
            f.write("cpus: [host, m4, dsp]\nchannels: 2\nservices:\n  trace: {ring_size: 64K}\n")
        plain, notify = f"{name}-plain", f"{name}-notify"
        ndesc = os.path.join(tmp, "notify.yaml")
        with open(ndesc, "w") as f:
            f.write("cpus: [host, m4]\nchannels: 2\nservices:\n  notify: {}\n  trace: {}\n")
        try:
            run("create", "--config", desc, name)
            run("create", "--cpus", "2", plain)
            run("create", "--config", ndesc, notify)
            check_refusals(tmp, name, plain)
            check_exchange(tmp, name)
            check_notify(tmp, notify)
        finally:
            for n in (name, plain, notify):
                subprocess.run([IPCC, "rm", "-f", n], capture_output=True)
    print("ok")


def check_refusals(tmp, name, plain):
    out = os.path.join(tmp, "x.vcd")
    if json.loads(run("info", plain, "--json").stdout)["trace"] is not None:
        fail("info --json: a system without a trace has trace null")
    planned = json.loads(run("plan", os.path.join(tmp, "sys.yaml"), "--json").stdout)
    if planned["trace"] != {"ring_size": 65536, "enabled": False}:
        fail(f"plan --json: trace {planned['trace']}")
    p = run("trace", plain, "-o", out, expect=1)
    if "no trace section" not in p.stderr or p.stderr.count("\n") != 1:
        fail(f"a system without trace: {p.stderr!r}")
    p = run("trace", name, expect=2)
    if "missing -o" not in p.stderr:
        fail(f"no -o: {p.stderr!r}")
    for bad in ("0", "-1", "x", "1s"):
        p = run("trace", name, "-o", out, "--seconds", bad, expect=2)
        if "--seconds" not in p.stderr.splitlines()[0]:
            fail(f"--seconds {bad}: {p.stderr!r}")
    p = run("trace", "/ipcc-trace-none-%d" % os.getpid(), "-o", out, expect=1)
    if "no such object" not in p.stderr:
        fail(f"a missing system: {p.stderr!r}")
    # A quiet trace: only the starting values.
    run("trace", name, "-o", out, "--seconds", "0.2")
    timescale, names, initial, changes = parse_vcd(out)
    if changes:
        fail(f"a quiet system changed: {changes[:4]}")


def traced(tmp, name, *exchange_args):
    """Run the exchange under `ipcc trace`; the VCD's path and the tool's last words."""
    out = os.path.join(tmp, name.strip("/") + ".vcd")
    tracer = subprocess.Popen([IPCC, "trace", name, "-o", out], stderr=subprocess.PIPE,
                              text=True)
    try:
        first = tracer.stderr.readline()
        if "tracing" not in first:
            fail(f"ipcc trace did not start: {first!r}")
        ex = subprocess.run([EXCHANGE, name, *exchange_args], capture_output=True, text=True,
                            timeout=30)
        if ex.returncode != 0:
            fail(f"trace-exchange: {ex.returncode}: {ex.stderr}")
        tracer.send_signal(signal.SIGINT)
        rest = tracer.stderr.read()
        if tracer.wait(timeout=30) != 0:
            fail(f"ipcc trace exited {tracer.returncode}: {rest}")
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    if "none dropped" not in rest:
        fail(f"records were dropped: {rest!r}")
    if "NOTIFY" not in open(out).read():
        fail("no NOTIFY_TX / NOTIFY_RX vectors declared")
    return out


def check_notify(tmp, name):
    out = traced(tmp, name, "notify")
    timescale, names, initial, changes = parse_vcd(out)
    link = "link_host_m4"
    for p in ("proc1", "proc2"):
        for w in VECTORS:
            if initial.get(f"{link}.{p}.{w}", 0) is not None:
                fail(f"{p}.{w} starts as {initial.get(f'{link}.{p}.{w}')}, not x")
    entry = 2 << 28 | 0x1234
    seq = [(t, w[len(link) + 1:], v) for t, w, v in changes]
    expected = [
        ("proc1.NOTIFY_TX", entry, "host queues the value"),
        ("proc1.CH1F", 1, "and sets the Notify channel's flag"),
        ("proc2.RXO", 1, "m4's RX-occupied line rises"),
        ("proc2.NOTIFY_RX", entry, "m4 takes the value"),
        ("proc1.CH1F", 0, "then clears the flag"),
    ]
    pos = 0
    for wire, v, why in expected:
        while pos < len(seq) and (seq[pos][1], seq[pos][2]) != (wire, v):
            pos += 1
        if pos == len(seq):
            fail(f"notify: missing, in order: {wire} -> {v:#x} ({why}); the dump has {seq}")
        pos += 1
    if [c for c in seq if c[1].endswith("NOTIFY_TX") or c[1].endswith("NOTIFY_RX")] != [
            c for c in seq if c[2] == entry]:
        fail(f"notify: one value each way, got {seq}")


def check_exchange(tmp, name):
    out = traced(tmp, name)
    info = json.loads(run("info", name, "--json").stdout)["trace"]
    if info != {"enabled": False, "rings": 4, "dropped": 0}:
        fail(f"after the trace, info says {info}: the tool leaves the switch as it found it")

    timescale, names, initial, changes = parse_vcd(out)
    if timescale != ["1", "ns"]:
        fail(f"timescale {timescale}")
    want = {f"{l}.{p}.{w}" for l in LINKS for p in ("proc1", "proc2") for w in WIRES + VECTORS}
    if set(names.values()) != want:
        fail(f"wires: missing {sorted(want - set(names.values()))[:5]}, "
             f"extra {sorted(set(names.values()) - want)[:5]}")
    if set(initial) != want:
        fail("$dumpvars does not give every wire")
    # At the start nobody is attached: reset banks (everything masked, nothing enabled).
    for w in want:
        v = 1 if w.endswith("OM") or w.endswith("FM") else None if "NOTIFY" in w else 0
        if initial[w] != v:
            fail(f"initial {w} = {initial[w]}, the reset value is {v}")

    state = dict(initial)
    for t, wire, v in changes:
        if state[wire] == v:
            fail(f"#{t} {wire} 'changes' to the value it had")
        state[wire] = v
    # Equations at every time, once all changes of that time are in.
    state = dict(initial)
    for i, (t, wire, v) in enumerate(changes):
        state[wire] = v
        if i + 1 == len(changes) or changes[i + 1][0] != t:
            check_equations(state, t)

    link = "link_host_m4"
    others = [c for c in changes if not c[1].startswith(link + ".")]
    if others:
        fail(f"links without traffic changed: {others[:4]}")
    expected = [
        ("proc2.RXOIE", 1, "the receiver enables RX occupied"),
        ("proc2.CH0OM", 0, "and unmasks channel 0"),
        ("proc1.CH0F", 1, "the sender sets its flag (CH0S)"),
        ("proc2.RXO", 1, "the receiver's RX-occupied line rises"),
        ("proc2.CH0OM", 1, "the receiver masks channel 0"),
        ("proc2.RXO", 0, "so the line falls"),
        ("proc1.CH0F", 0, "the receiver frees the channel (CH0C)"),
    ]
    pos, times = 0, []
    seq = [(t, w[len(link) + 1:], v) for t, w, v in changes]
    for wire, v, why in expected:
        while pos < len(seq) and (seq[pos][1], seq[pos][2]) != (wire, v):
            pos += 1
        if pos == len(seq):
            fail(f"missing, in order: {wire} -> {v} ({why}); the dump has {seq}")
        times.append(seq[pos][0])
        pos += 1
    if times[2] != times[3]:
        fail("RXO does not rise at the write that set the flag")
    if times[4] != times[5]:
        fail("RXO does not fall at the write that masked the channel")
    rises = [c for c in seq if c[1] == "proc1.CH0F"]
    if [v for _, _, v in rises] != [1, 0]:
        fail(f"one message: the flag rises once and falls once, got {rises}")
    print(f"{len(changes)} changes; flag high for {times[6] - times[2]} ns")


if __name__ == "__main__":
    main()
