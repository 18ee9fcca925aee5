#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`ipcc log`, and the log and regions in `ipcc plan` and `ipcc info`, against a real system.

Usage: check-log-cli.py IPCC LOG_WRITER
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

IPCC, WRITER = sys.argv[1], sys.argv[2]
NAME = "/ipcc-log-cli-%d" % os.getpid()
BARE = "/ipcc-log-cli-bare-%d" % os.getpid()
LINE = re.compile(r"^\[(a53|r5f)\] +(\d+)\.(\d{6})s : (.*)$")
failures = 0


def run(*args, **kw):
    return subprocess.run([IPCC, *args], capture_output=True, text=True, timeout=30, **kw)


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    else:
        print("ok:", what)


def write(cpu, *texts):
    subprocess.run([WRITER, NAME, cpu, *texts], check=True, timeout=30)


def main():
    desc = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    desc.write("cpus: [a53, r5f]\n"
               "regions:\n"
               "  - {name: frames, size: 64K, align: 4096}\n"
               "  - {name: small, size: 100}\n"
               "services:\n"
               "  log: {size: 16K}\n")
    desc.close()
    try:
        # plan: text and JSON
        p = run("plan", desc.name)
        check(p.returncode == 0 and "log: 16 KiB per CPU" in p.stdout, "plan names the log")
        check(re.search(r"^\s+0\s+frames\s+0x[0-9a-f]+\s+65536\s+4096$", p.stdout, re.M),
              "plan lists the regions")
        check(re.search(r"regions\s+region", p.stdout), "plan has the regions section")
        pj = json.loads(run("plan", desc.name, "--json").stdout)
        check(pj["log"] == {"ring_size": 16384}, "plan --json: log")
        check([r["name"] for r in pj["regions"]] == ["frames", "small"]
              and pj["regions"][0]["offset"] % 4096 == 0 and pj["regions"][1]["align"] == 64,
              "plan --json: regions, aligned")
        check(run("create", "--config", desc.name, NAME).returncode == 0, "create")
        ij = json.loads(run("info", NAME, "--json").stdout)
        check(ij["log"] == {"ring_size": 16384, "dropped": [0, 0]}, "info --json: log")
        check(ij["regions"] == pj["regions"], "info --json: the regions where plan put them")
        it = run("info", NAME).stdout
        check("log: 16 KiB per CPU, 0 lines dropped" in it and "frames" in it, "info text")

        # a one-shot dump, merged, escaped
        write("a53", "first", "evil \x1b[2J here")
        write("r5f", "third")
        write("a53", "fourth")
        out = run("log", NAME)
        lines = out.stdout.splitlines()
        check(out.returncode == 0 and len(lines) == 4, "log prints the 4 lines: %r" % lines)
        parsed = [LINE.match(l) for l in lines]
        check(all(parsed), "each line is '[cpu] seconds.micros : text'")
        if all(parsed):
            check([m.group(4) for m in parsed] == ["first", "evil \\x1b[2J here", "third",
                                                   "fourth"],
                  "in time order, the escape shown as \\x1b")
            check([m.group(1) for m in parsed] == ["a53", "a53", "r5f", "a53"], "CPU names")
        check([l.split(" : ")[1] for l in run("log", NAME, "--cpu", "r5f").stdout.splitlines()]
              == ["third"], "--cpu by name")
        check(len(run("log", NAME, "--cpu", "0").stdout.splitlines()) == 3, "--cpu by id")
        check(len(run("log", NAME, "--cpu", "0", "--cpu", "r5f").stdout.splitlines()) == 4,
              "--cpu twice")
        lj = json.loads(run("log", NAME, "--json").stdout)
        check([l["text"] for l in lj["lines"]] == ["first", "evil \x1b[2J here", "third",
                                                    "fourth"], "--json: the lines, raw text")
        check(lj["lines"][0]["cpu_name"] == "a53" and lj["lines"][2]["cpu"] == 1
              and re.fullmatch(r"\d+\.\d{6}", lj["lines"][0]["time"])
              and lj["lines"][3]["number"] == 2, "--json: cpu, time, number")
        check([(c["name"], c["lines"], c["lost"], c["dropped"]) for c in lj["cpus"]]
              == [("a53", 3, 0, 0), ("r5f", 1, 0, 0)], "--json: per-CPU counts")
        check(lj["name"] == NAME and lj["ring_size"] == 16384, "--json: the system")

        # --follow until SIGINT
        for extra in ([], ["--json"]):
            f = subprocess.Popen([IPCC, "log", NAME, "--follow", *extra],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, deadline = b"", time.monotonic() + 20
            write("r5f", "followed 1", "followed 2")
            # Unbuffered reads: select() knows nothing of a file object's buffer.
            while time.monotonic() < deadline and b"followed 2" not in out:
                r, _, _ = select.select([f.stdout], [], [], 1)
                if r:
                    out += os.read(f.stdout.fileno(), 65536)
            f.send_signal(signal.SIGINT)
            rest, err = f.communicate(timeout=10)
            err = err.decode()
            got = [g for g in (out + rest).decode().splitlines() if g.strip()]
            if extra:
                objs = [json.loads(g) for g in got]
                check([o["text"] for o in objs][-2:] == ["followed 1", "followed 2"]
                      and len(objs) == 8, "--follow --json: one object per line")
            else:
                check(len(got) == 6 and got[-1].endswith(" : followed 2"),
                      "--follow: the old lines, then the new ones: %r" % got)
            check(f.returncode == 0 and err == "", "--follow ends cleanly on Ctrl-C (%s, %r)"
                  % (f.returncode, err))

        # errors: one line, the right status
        e = run("log", NAME, "--cpu", "nope")
        check(e.returncode == 1 and e.stderr.strip() ==
              "ipcc: cannot read the log of %s: it has no CPU 'nope'" % NAME, "unknown --cpu")
        e = run("log")
        check(e.returncode == 2 and "missing NAME" in e.stderr, "missing NAME")
        e = run("log", NAME, "--bogus")
        check(e.returncode == 2 and "unknown option '--bogus'" in e.stderr, "unknown option")
        e = run("log", NAME, "--cpu")
        check(e.returncode == 2 and "needs a value" in e.stderr, "--cpu without a value")
        e = run("log", "/ipcc-log-cli-none-%d" % os.getpid())
        check(e.returncode == 1 and "no such object" in e.stderr
              and len(e.stderr.splitlines()) == 1, "no such system")
        check(run("create", BARE).returncode == 0, "create a system without a log")
        e = run("log", BARE)
        check(e.returncode == 1 and "it has no log" in e.stderr, "a system without a log")
        bj = json.loads(run("info", BARE, "--json").stdout)
        check(bj["log"] is None and bj["regions"] == [], "info --json without log or regions")
        h = run("log", "--help")
        check(h.returncode == 0 and "log NAME" in h.stdout, "--help")
    finally:
        run("rm", "-f", NAME)
        run("rm", "-f", BARE)
        os.unlink(desc.name)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
