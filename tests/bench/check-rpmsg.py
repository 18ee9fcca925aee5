#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The RPMessage rows of ipcc-bench in a tiny configuration, against bench/SCHEMA.md.

Usage: check-rpmsg.py IPCC_BENCH

Runs the rpmsg rows of every wait mode available with their baselines, 200 measured iterations
per row and --repeat 2, and checks the row set (half-duplex at 16, 64, 112 and 496 bytes,
stream at 64, no simplex), each row's baseline, ratio and words, the --repeat fields, the
printed rows and progress lines; then that SIGINT during a run of rpmsg rows leaves no shm
object and writes the rows done (check-cli.py's stop test, with rpmsg rows). Structure only:
no timing value is judged. Exit 0 when every check holds, 1 with one line per failed check,
77 (Meson's skip) when the bench cannot run here.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check_cli", os.path.join(HERE, "check-cli.py"))
cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cli)
check = cli.check

SIZES = {"half-duplex": [16, 64, 112, 496], "stream": [64]}
# The baseline waits the way the row does; the second reference is the plain floor.
BASELINE = {"spin": "spin-2line", "adaptive": "spin-2line", "futex": "raw-futex",
            "eventfd": "eventfd-epoll", "uring": "eventfd-uring"}
BASELINE2 = {"spin": "raw-spin", "adaptive": "raw-spin", "futex": None,
             "eventfd": "eventfd", "uring": "io_uring"}
LATENCY = ["min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"]
ITERATIONS = 200
REPEAT = 2
SELECT = ("rpmsg,raw-spin,spin-2line,raw-futex,eventfd,eventfd-epoll,io_uring,eventfd-uring,"
          "pipe")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def available_modes(bench):
    """The wait modes whose rpmsg transport --list calls ok."""
    r = cli.run(bench, "--list", timeout=30)
    modes = []
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "rpmsg":
            check(f[3] == "half-duplex,stream", f"--list: rpmsg {f[1]} patterns {f[3]!r}")
            check(f[4] == "16,64,112,496", f"--list: rpmsg {f[1]} sizes {f[4]!r}")
            if f[5] == "ok":
                modes.append(f[1])
    check({"spin", "futex", "adaptive", "eventfd"} <= set(modes),
          f"--list: rpmsg modes available {modes}, expected spin, futex, adaptive, eventfd")
    return modes


def check_row(r, modes):
    where = f"rpmsg {r.get('wait')} {r.get('pattern')} {r.get('size')}"
    stream = r.get("pattern") == "stream"
    check(r.get("wait") in modes, f"{where}: a wait mode not asked for")
    check(r.get("iterations") == ITERATIONS, f"{where}: iterations {r.get('iterations')!r}")
    want = "pipe" if stream else BASELINE.get(r.get("wait"))
    check(r.get("baseline") == want, f"{where}: baseline {r.get('baseline')!r}, not {want!r}")
    want2 = None if stream else BASELINE2.get(r.get("wait"))
    check(r.get("baseline2") == want2,
          f"{where}: baseline2 {r.get('baseline2')!r}, not {want2!r}")
    ratio = r.get("ratio")
    if check(isinstance(ratio, (int, float)) and ratio > 0, f"{where}: ratio {ratio!r}"):
        word = "slower" if ratio >= 1.005 else "faster" if ratio <= 0.995 else "same"
        check(isinstance(r.get("versus"), str) and word in r["versus"],
              f"{where}: versus {r.get('versus')!r} for ratio {ratio}")
    if stream:
        check(isinstance(r.get("msgs_per_s"), (int, float)) and r["msgs_per_s"] > 0,
              f"{where}: no msgs_per_s")
        check(all(r.get(k) is None for k in LATENCY), f"{where}: stream row with latency")
    else:
        vals = [r.get(k) for k in LATENCY]
        check(all(is_int(v) for v in vals) and vals == sorted(vals),
              f"{where}: latency fields {vals}")
        check(r.get("msgs_per_s") is None, f"{where}: latency row with msgs_per_s")
    check(r.get("runs") == REPEAT, f"{where}: runs {r.get('runs')!r}, expected {REPEAT}")
    runs = r.get("runs_msgs_per_s" if stream else "runs_p50_ns")
    check(isinstance(runs, list) and len(runs) == REPEAT, f"{where}: runs list {runs!r}")
    check(isinstance(r.get("spread_pct"), (int, float)), f"{where}: no spread_pct")
    check(isinstance(r.get("warnings"), list), f"{where}: warnings {r.get('warnings')!r}")


def test_rows(bench, tmp):
    modes = available_modes(bench)
    out = os.path.join(tmp, "rpmsg.json")
    r = cli.run(bench, "-T", SELECT, "-m", ",".join(modes), "-p", "half-duplex,stream",
                "-s", "64", "-n", str(ITERATIONS), "-w", "50", "--repeat", str(REPEAT),
                "--json", out)
    if not check(r.returncode == 0, f"the rpmsg run exited {r.returncode}: "
                 f"{r.stdout[-1500:]} {r.stderr[-1500:]}"):
        return
    doc = json.load(open(out))
    opts = doc["options"]
    check(opts["repeat"] == REPEAT and opts["iterations"] == ITERATIONS,
          f"options do not record --repeat and --iterations: {opts}")
    check(opts["transports"] == SELECT.split(","), f"options.transports {opts['transports']}")
    check(doc["complete"] is True, "the run is not complete")
    res = doc["results"]
    rows = [x for x in res if x.get("transport") == "rpmsg"]
    for wait in modes:
        for pattern in ["simplex", "half-duplex", "stream"]:
            got = sorted(x["size"] for x in rows
                         if x["wait"] == wait and x["pattern"] == pattern)
            check(got == SIZES.get(pattern, []),
                  f"rpmsg {wait} {pattern}: sizes {got}, expected {SIZES.get(pattern, [])}")
    for x in rows:
        check_row(x, modes)
    # Every row printed as it completed, and one progress line each on stderr.
    printed = cli.printed_rows(r.stdout)
    check(len(printed) == len(res), f"{len(printed)} rows printed, {len(res)} in the JSON")
    check(sum(1 for l in printed if l.startswith("rpmsg ")) == len(rows),
          "the printed rpmsg rows differ from the JSON's")
    progress = [l for l in r.stderr.splitlines() if l.startswith("ipcc-bench: [")]
    check(len(progress) == len(res), f"{len(progress)} progress lines for {len(res)} rows")
    check(any("rpmsg futex half-duplex 496 B" in l for l in progress),
          "no progress line names the 496-byte futex echo")


def main():
    bench = sys.argv[1]
    if cli.ncpus() < 2:
        print("needs two CPUs")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        test_rows(bench, tmp)
        cli.stop_run(bench, tmp, signal.SIGINT, group=True, select=("-T", "rpmsg", "-m", "futex"))
    for e in cli.errors:
        print(e)
    print(f"rpmsg: {len(cli.errors)} problems")
    return 1 if cli.errors else 0


if __name__ == "__main__":
    sys.exit(main())
