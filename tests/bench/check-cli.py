#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ipcc-bench as a tool: argument checks, stop signals, --repeat, --compare and the plot.

Usage: check-cli.py IPCC_BENCH args|signal|repeat|compare|plot

Structure and behaviour only: no timing value is judged. Exit 0 when every check holds, 1 with
one line per failed check otherwise, 77 (Meson's skip) when the bench cannot run here.
"""
import glob
import shutil
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def run(bench, *args, timeout=300):
    return subprocess.run([bench, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def ncpus():
    return len(os.sched_getaffinity(0))


def test_args(bench, tmp):
    """Every bad argument is refused before any work, in one line naming the value."""
    missing_dir = os.path.join(tmp, "no-such-dir")
    cases = [
        (["--cpus", "0,0"], "0,0"),
        (["--cpus", "0,99999"], "99999"),
        (["--cpus", "0"], "'0'"),
        (["--json", os.path.join(missing_dir, "out.json")], missing_dir),
        (["--csv", os.path.join(missing_dir, "out.csv")], missing_dir),
        (["--plot", os.path.join(missing_dir, "out.svg")], missing_dir),
        (["--json", tmp], tmp),  # a directory
        (["--plot", os.path.join(tmp, "out.png")], "out.png"),
        (["--sizes", "2M"], "2M"),
        (["--sizes", "8,12x"], "12x"),
        (["--repeat", "0"], "'0'"),
        (["--repeat", "100"], "100"),
        (["--modes", "warp"], "warp"),
        (["--patterns", "duplex"], "duplex"),
        (["--transports", "carrier-pigeon"], "carrier-pigeon"),
        (["--time", "soon"], "soon"),
        (["--threshold", "-3"], "-3"),
        (["--no-such-option"], "--no-such-option"),
        (["--compare", "old.json"], "old.json"),
        (["--compare", os.path.join(tmp, "missing.json"), os.path.join(tmp, "missing2.json")],
         "missing.json"),
    ]
    for args, bad in cases:
        before = set(os.listdir(tmp))
        r = run(bench, *args, timeout=30)
        lines = r.stderr.splitlines()
        name = " ".join(args)
        check(r.returncode == 2, f"{name}: exit {r.returncode}, expected 2")
        check(len(lines) == 1, f"{name}: {len(lines)} lines on stderr, expected one: {r.stderr!r}")
        check(bad in r.stderr, f"{name}: the error does not name {bad!r}: {r.stderr!r}")
        check(r.stdout == "", f"{name}: work started before the check (stdout {r.stdout[:80]!r})")
        check(set(os.listdir(tmp)) == before, f"{name}: the check left a file behind")
    # Sizes with k and M are accepted (--list stops after the parse), and so is an output
    # file that exists, which the check does not truncate.
    r = run(bench, "--sizes", "8,64k,1M", "--list", timeout=30)
    check(r.returncode == 0, f"--sizes 8,64k,1M refused: {r.stderr!r}")
    keep = os.path.join(tmp, "keep.json")
    with open(keep, "w") as f:
        f.write("old")
    r = run(bench, "--json", keep, "--list", timeout=30)
    check(r.returncode == 0, f"--json on an existing file refused: {r.stderr!r}")
    check(open(keep).read() == "old", "the writability check truncated an existing file")
    if ncpus() >= 2:
        cpus = sorted(os.sched_getaffinity(0))[:2]
        r = run(bench, "--cpus", f"{cpus[1]},{cpus[0]}", "--list", timeout=30)
        check(r.returncode == 0, f"--cpus {cpus[1]},{cpus[0]} refused: {r.stderr!r}")


def bench_objects(pid):
    return glob.glob(f"/dev/shm/ipcc-bench-{pid}-*")


def printed_rows(stdout):
    names = ("ipcc ", "notify ", "rpmsg ", "raw-spin ", "spin-2line ", "raw-futex ", "eventfd ",
             "eventfd-epoll ", "pipe ", "unix ", "io_uring ", "eventfd-uring ")
    return [l for l in stdout.splitlines() if l.startswith(names)]


def stop_run(bench, tmp, sig, group, select=("-T", "ipcc,notify", "-m", "futex,adaptive")):
    """Stop a run while a library row holds its shm object; check what is left and printed.

    `select` picks the rows (at least three library rows): tests/bench/check-rpmsg.py
    stops a run of RPMessage rows with it."""
    out = os.path.join(tmp, f"stopped-{sig}.json")
    csv = os.path.join(tmp, f"stopped-{sig}.csv")
    p = subprocess.Popen([bench, "--quick", *select,
                          "--json", out, "--csv", csv], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    name = signal.Signals(sig).name
    # Two rows done (two progress lines), then wait for the next row's object to exist.
    progress = [p.stderr.readline(), p.stderr.readline()]
    # One line per row even on a pipe: where the run is, its elapsed time, what is left.
    check(all(l.startswith("ipcc-bench: [") and " s elapsed, about " in l and " s left" in l
              for l in progress), f"{name}: progress lines {progress!r}")
    seen = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not seen:
        seen = bool(bench_objects(p.pid))
        if not seen:
            time.sleep(0.002)
    check(seen, f"{name}: no /dev/shm/ipcc-bench-{p.pid}-* object seen during the run")
    if group:
        os.killpg(p.pid, sig)  # what Ctrl-C does: the whole foreground group
    else:
        os.kill(p.pid, sig)  # the parent only: it must end the sides itself
    stdout, stderr = p.communicate(timeout=60)
    check(p.returncode == 128 + sig, f"{name}: exit {p.returncode}, expected {128 + sig}")
    left = bench_objects(p.pid)
    check(not left, f"{name}: shm objects left behind: {left}")
    for f in left:
        os.unlink(f)
    rows = printed_rows(stdout)
    check(len(rows) >= 2, f"{name}: {len(rows)} rows printed, expected the two done")
    check("stopped by" in stdout, f"{name}: the output does not say the run was stopped")
    if check(os.path.exists(out), f"{name}: no JSON of the rows done"):
        doc = json.load(open(out))
        check(doc.get("complete") is False, f"{name}: JSON complete is {doc.get('complete')!r}")
        check(doc.get("stopped_by") == name, f"{name}: JSON stopped_by {doc.get('stopped_by')!r}")
        check(len(doc.get("results", [])) == len(rows),
              f"{name}: {len(doc.get('results', []))} JSON rows, {len(rows)} printed")
    if check(os.path.exists(csv), f"{name}: no CSV of the rows done"):
        check(len(open(csv).read().splitlines()) == len(rows) + 1,
              f"{name}: the CSV rows differ from the printed ones")


def test_signal(bench, tmp):
    stop_run(bench, tmp, signal.SIGINT, group=True)
    stop_run(bench, tmp, signal.SIGTERM, group=False)


def repeated_run(bench, tmp, extra=()):
    out = os.path.join(tmp, "repeat.json")
    r = run(bench, "--repeat", "3", "-T", "raw-futex,pipe,ipcc", "-m", "futex",
            "-p", "half-duplex,stream", "-s", "8", "-n", "300", "--json", out, *extra)
    if not check(r.returncode == 0, f"--repeat run exited {r.returncode}: {r.stderr[-500:]}"):
        return None, r
    return json.load(open(out)), r


def test_repeat(bench, tmp):
    doc, r = repeated_run(bench, tmp)
    if doc is None:
        return
    check(doc["options"]["repeat"] == 3, "options.repeat is not 3")
    check("runs:sprd" in r.stdout, "the table has no runs:spread column")
    check(len(doc["results"]) == 5, f"{len(doc['results'])} rows, expected 5")
    for x in doc["results"]:
        where = f"{x['transport']} {x['pattern']}"
        check(x["runs"] == 3, f"{where}: runs {x['runs']}")
        stream = x["pattern"] == "stream"
        runs = x["runs_msgs_per_s" if stream else "runs_p50_ns"]
        if not check(isinstance(runs, list) and len(runs) == 3, f"{where}: runs list {runs!r}"):
            continue
        med = sorted(runs)[1]
        value = x["msgs_per_s" if stream else "p50_ns"]
        check(abs(value - med) <= 0.5, f"{where}: reported {value}, median of the runs {med}")
        want = round((max(runs) - min(runs)) / med * 100, 2) if med else None
        # The runs' msgs/s are written rounded to integers, the spread from the exact values:
        # each rounding moves (max - min) / med by up to 0.5 / med (a slow run on a loaded
        # machine makes med small).
        tol = 0.02 + (100.0 / med if stream and med else 0)
        check(x["spread_pct"] is not None and abs(x["spread_pct"] - want) < tol,
              f"{where}: spread_pct {x['spread_pct']}, expected {want}")
        if not stream:
            check(isinstance(x["runs_p99_ns"], list) and len(x["runs_p99_ns"]) == 3,
                  f"{where}: runs_p99_ns {x['runs_p99_ns']!r}")
            check(x["spread_p99_pct"] is not None, f"{where}: no spread_p99_pct")
        if x["spread_pct"] > 10:
            check("unstable" in x["warnings"], f"{where}: spread {x['spread_pct']}% unflagged")
    # A document compared with itself: every row is in both and nothing changed.
    path = os.path.join(tmp, "repeat.json")
    c = run(bench, "--compare", path, path, timeout=30)
    check(c.returncode == 0, f"a run compared with itself exits {c.returncode}")
    check("5 rows in both: 0 regressions, 0 faster, 5 within noise" in c.stdout,
          f"self-compare summary: {c.stdout.splitlines()[-1:]!r}")


def row(transport, wait, pattern, size, p50=None, p99=None, mps=None, spread=None,
        spread99=None):
    return {"transport": transport, "wait": wait, "pattern": pattern, "size": size,
            "p50_ns": p50, "p99_ns": p99, "msgs_per_s": mps, "spread_pct": spread,
            "spread_p99_pct": spread99}


def doc(rows):
    return {"tool": {"name": "ipcc-bench", "version": "0", "commit": "abc"},
            "machine": {"cpu_model": "test", "date": "2026-12-02T00:00:00Z"}, "results": rows}


def test_compare(bench, tmp):
    old = doc([
        row("ipcc", "futex", "half-duplex", 8, 1000, 2000),      # 30 % slower: regression
        row("ipcc", "futex", "simplex", 8, 1000, 2000),          # 5 %: noise
        row("ipcc", "spin", "half-duplex", 8, 1000, 2000, spread=40, spread99=50),  # 30 % < 40
        row("ipcc", "futex", "stream", 8, mps=1e6),              # twice the msgs/s: faster
        row("pipe", "blocking", "stream", 8, mps=1e6),           # half the msgs/s: regression
        row("unix", "blocking", "half-duplex", 8, 1000, 1000),   # only in old
    ])
    new = doc([
        row("ipcc", "futex", "half-duplex", 8, 1300, 2000),
        row("ipcc", "futex", "simplex", 8, 1050, 4000),
        row("ipcc", "spin", "half-duplex", 8, 1300, 2000, spread=10, spread99=10),
        row("ipcc", "futex", "stream", 8, mps=2e6),
        row("pipe", "blocking", "stream", 8, mps=0.5e6),
        row("raw-spin", "spin", "half-duplex", 8, 100, 100),     # only in new
    ])
    po, pn = os.path.join(tmp, "old.json"), os.path.join(tmp, "new.json")
    json.dump(old, open(po, "w"))
    json.dump(new, open(pn, "w"))
    r = run(bench, "--compare", po, pn, timeout=30)
    check(r.returncode == 1, f"--compare with regressions exits {r.returncode}, expected 1")
    lines = {l.split("  ")[0].strip(): l for l in r.stdout.splitlines() if l.startswith("ipcc ")
             or l.startswith("pipe ")}
    expect = {
        "ipcc futex half-duplex 8": ("+30.0%", "REGRESSION"),
        "ipcc futex simplex 8": ("+5.0%", "p99 slower"),
        "ipcc spin half-duplex 8": ("+30.0%", "within noise"),
        "ipcc futex stream 8": ("-50.0%", "faster"),
        "pipe blocking stream 8": ("+100.0%", "REGRESSION"),
    }
    for name, (chg, verdict) in expect.items():
        line = next((l for k, l in lines.items() if k.startswith(name)), None)
        if check(line is not None, f"--compare: no line for {name}"):
            check(chg in line, f"--compare {name}: change {chg} missing: {line!r}")
            check(line.rstrip().endswith(verdict), f"--compare {name}: not {verdict!r}: {line!r}")
    check("5 rows in both: 2 regressions, 1 faster, 2 within noise; 1 only in old, 1 only in new"
          in r.stdout, f"--compare summary: {r.stdout.splitlines()[-2:]!r}")
    check("40.0%" in lines.get("ipcc spin half-duplex 8", ""),
          "--compare does not allow the larger --repeat spread")
    r = run(bench, "--compare", po, po, timeout=30)
    check(r.returncode == 0, f"--compare of a file with itself exits {r.returncode}")
    r = run(bench, "--compare", po, pn, "--threshold", "200", timeout=30)
    check(r.returncode == 0, f"--threshold 200 still flags a regression: {r.returncode}")


def test_plot(bench, tmp):
    svg = os.path.join(tmp, "plot.svg")
    doc, r = repeated_run(bench, tmp, ["--plot", svg, "-p", "simplex,half-duplex,stream"])
    if doc is None:
        return
    root = ET.parse(svg).getroot()
    panels = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "panel"]
    got = {(g.get("data-pattern"), g.get("data-wait")) for g in panels}
    for pattern in ["simplex", "half-duplex"]:
        check((pattern, "futex") in got, f"no {pattern} futex panel in the plot: {sorted(got)}")
    for g in panels:
        where = f"panel {g.get('data-pattern')} {g.get('data-wait')}"
        series = [e for e in g.iter() if e.get("class") in ("series", "baseline")]
        check(any(e.get("class") == "baseline" for e in series), f"{where}: no baseline series")
        check(any(e.get("class") == "median" for e in g.iter()), f"{where}: no median mark")
    bars = [e for e in root.iter() if e.get("class") == "bar"]
    check(len(bars) == 2, f"{len(bars)} throughput bars, expected 2 (ipcc futex and pipe)")
    check(sum(e.get("data-baseline") == "1" for e in bars) == 1, "the pipe bar is not a baseline")
    # A real renderer reads it too, where one is installed (librsvg2-bin; optional).
    rsvg = shutil.which("rsvg-convert")
    if rsvg:
        png = os.path.join(tmp, "plot.png")
        r = subprocess.run([rsvg, svg, "-o", png], stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0 and os.path.getsize(png) > 1000,
              f"rsvg-convert cannot render the plot: {r.stderr.strip()!r}")
    else:
        print("rsvg-convert not installed: the plot was not rendered")


def main():
    bench, what = sys.argv[1], sys.argv[2]
    if ncpus() < 2 and what in ("signal", "repeat", "plot"):
        print("needs two CPUs")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        {"args": test_args, "signal": test_signal, "repeat": test_repeat,
         "compare": test_compare, "plot": test_plot}[what](bench, tmp)
    for e in errors:
        print(e)
    print(f"{what}: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
