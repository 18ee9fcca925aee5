#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run ipcc-bench --quick --json and check the output against bench/SCHEMA.md.

Structure and types only: no timing value is judged. Also the row set: the procedure (ipcc),
Notify and RPMessage rows in every wait mode that runs here, each with the baseline its mode
maps to. Exit 0 when the document conforms, 1 with one line per violation otherwise, 77
(Meson's skip) when ipcc-bench cannot run here.
"""
import json
import subprocess
import sys
import tempfile

TRANSPORTS = {"ipcc", "notify", "rpmsg", "raw-spin", "spin-2line", "raw-futex", "eventfd",
              "eventfd-epoll", "pipe", "unix", "io_uring", "eventfd-uring"}
LIBRARY = {"ipcc", "notify", "rpmsg"}  # the rows with a ratio to a baseline
PATTERNS = {"simplex", "half-duplex", "stream"}
# The baseline of a library row by wait mode (latency patterns); every stream row's is pipe.
BASELINE = {"spin": "spin-2line", "adaptive": "spin-2line", "futex": "raw-futex",
            "eventfd": "eventfd-epoll", "uring": "eventfd-uring"}
# The second reference (baseline2) by wait mode; none for futex and for streams.
BASELINE2 = {"spin": "raw-spin", "adaptive": "raw-spin", "eventfd": "eventfd",
             "uring": "io_uring"}
NOTIFY_SIZE = 4  # one 32-bit Notify queue entry
# RPMessage's own payload sizes by pattern (the default and the linux buffer profiles).
RPMSG_SIZES = {"half-duplex": [16, 64, 112, 496], "stream": [64]}
LATENCY = ["min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"]
TOP = {"tool", "options", "complete", "stopped_by", "machine", "results"}
OPTIONS = {"quick", "modes", "transports", "no_baselines", "patterns", "sizes", "cpus", "time_ms",
           "warmup_time_ms", "iterations", "warmup", "timeout_s", "repeat", "mesh_cpus", "json",
           "csv", "plot"}
WARNINGS = {"below_floor", "outliers", "unstable"}
MACHINE = {"cpu_model": str, "online_cpus": int, "allowed_cpus": int, "kernel": dict,
           "virtualized": bool, "virt_evidence": str, "clock": str, "vdso": bool,
           "clock_res_ns": int, "clock_read_ns": int, "cpus": list, "date": str}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def check(doc, errors):
    if not isinstance(doc, dict) or set(doc) != TOP:
        errors.append(f"top level must be an object with exactly {sorted(TOP)}")
        return
    tool = doc["tool"]
    if tool.get("name") != "ipcc-bench" or not isinstance(tool.get("version"), str):
        errors.append("tool.name or tool.version wrong")
    if not isinstance(tool.get("libipcc_version"), str):
        errors.append("tool.libipcc_version is not a string")
    if "commit" not in tool or not (tool["commit"] is None or isinstance(tool["commit"], str)):
        errors.append("tool.commit is neither a string nor null")
    opts = doc["options"]
    if set(opts) != OPTIONS:
        errors.append(f"options keys {sorted(opts)}, expected {sorted(OPTIONS)}")
    elif opts["quick"] is not True or opts["repeat"] != 1 or opts["json"] is None:
        errors.append("options do not record --quick, the default --repeat and --json")
    elif opts["patterns"] != ["simplex", "half-duplex", "stream"] or opts["sizes"] != [8, 64, 512]:
        errors.append("options do not record the default patterns and sizes")
    if doc["complete"] is not True or doc["stopped_by"] is not None:
        errors.append("a run that was not stopped is not complete")
    m = doc["machine"]
    for key, typ in MACHINE.items():
        if key not in m:
            errors.append(f"machine.{key} missing")
        elif typ is int and not is_int(m[key]) or typ is not int and not isinstance(m[key], typ):
            errors.append(f"machine.{key} has type {type(m[key]).__name__}")
    if m.get("clock") != "CLOCK_MONOTONIC":
        errors.append("machine.clock is not CLOCK_MONOTONIC")
    if not isinstance(m.get("cpus"), list) or len(m["cpus"]) != 2:
        errors.append("machine.cpus is not a pair")
    res = doc["results"]
    if not isinstance(res, list) or not res:
        errors.append("results is empty")
        return
    seen = set()
    waits = set()
    for i, r in enumerate(res):
        where = f"results[{i}]"
        if r.get("transport") not in TRANSPORTS:
            errors.append(f"{where}.transport {r.get('transport')!r}")
        if r.get("pattern") not in PATTERNS:
            errors.append(f"{where}.pattern {r.get('pattern')!r}")
        if not isinstance(r.get("wait"), str):
            errors.append(f"{where}.wait is not a string")
        for key in ["size", "iterations"]:
            if not is_int(r.get(key)) or r[key] <= 0:
                errors.append(f"{where}.{key} is not a positive integer")
        stream = r.get("pattern") == "stream"
        for key in LATENCY + ["mean_ns", "msgs_per_s", "baseline", "ratio", "baseline2",
                              "ratio2", "versus2", "cpus", "links"]:
            if key not in r:
                errors.append(f"{where}.{key} missing (every key is always present)")
        if stream:
            if not is_num(r.get("msgs_per_s")) or r["msgs_per_s"] <= 0:
                errors.append(f"{where}: stream row without msgs_per_s")
            if any(r.get(k) is not None for k in LATENCY):
                errors.append(f"{where}: stream row with latency fields")
        else:
            vals = [r.get(k) for k in LATENCY]
            if not all(is_int(v) for v in vals):
                errors.append(f"{where}: latency fields are not integers")
            elif vals != sorted(vals):
                errors.append(f"{where}: min <= p50 <= p90 <= p99 <= p99.9 <= max fails")
            if not is_num(r.get("mean_ns")):
                errors.append(f"{where}.mean_ns is not a number")
            if r.get("msgs_per_s") is not None:
                errors.append(f"{where}: latency row with msgs_per_s")
        if not ((r.get("baseline") is None) == (r.get("ratio") is None) == (r.get("versus") is None)):
            errors.append(f"{where}: baseline, ratio and versus must be all null or all set")
        elif r.get("ratio") is not None:
            word = "slower" if r["ratio"] >= 1.005 else "faster" if r["ratio"] <= 0.995 else "same"
            if word not in r["versus"]:
                errors.append(f"{where}: versus {r['versus']!r} for ratio {r['ratio']}")
        if not ((r.get("baseline2") is None) == (r.get("ratio2") is None)
                == (r.get("versus2") is None)):
            errors.append(f"{where}: baseline2, ratio2 and versus2 must be all null or all set")
        if r.get("cpus") is not None or r.get("links") is not None:
            errors.append(f"{where}: cpus and links are for mesh rows only")
        if r.get("runs") != 1:
            errors.append(f"{where}.runs is {r.get('runs')!r} without --repeat")
        runs_key = "runs_msgs_per_s" if stream else "runs_p50_ns"
        if not isinstance(r.get(runs_key), list) or len(r[runs_key]) != 1:
            errors.append(f"{where}.{runs_key} is not a list of one run")
        if r.get("spread_pct") is not None:
            errors.append(f"{where}.spread_pct is set for a single run")
        if not isinstance(r.get("warnings"), list) or not set(r["warnings"]) <= WARNINGS:
            errors.append(f"{where}.warnings {r.get('warnings')!r}")
        if r.get("transport") in LIBRARY:
            want = "pipe" if stream else BASELINE.get(r.get("wait"))
            if r.get("baseline") is None:
                errors.append(f"{where}: {r['transport']} row without a baseline in a full run")
            elif r["baseline"] != want:
                errors.append(f"{where}: baseline {r['baseline']!r}, expected {want!r}")
            want2 = None if stream else BASELINE2.get(r.get("wait"))
            if r.get("baseline2") != want2:
                errors.append(f"{where}: baseline2 {r.get('baseline2')!r}, expected {want2!r}")
        if r.get("transport") == "notify" and r.get("size") != NOTIFY_SIZE:
            errors.append(f"{where}: notify row of size {r.get('size')!r}, not {NOTIFY_SIZE}")
        seen.add((r.get("transport"), r.get("pattern")))
        waits.add((r.get("transport"), r.get("wait"), r.get("pattern")))
    for need in [("ipcc", "simplex"), ("ipcc", "half-duplex"), ("ipcc", "stream"),
                 ("notify", "simplex"), ("notify", "half-duplex"), ("notify", "stream"),
                 ("raw-spin", "half-duplex"), ("pipe", "stream")]:
        if need not in seen:
            errors.append(f"no {need[0]} {need[1]} row")
    # Notify runs in every wait mode the procedures run in, each pattern once (one size).
    for wait in sorted({w for t, w, _ in waits if t == "ipcc"}):
        for p in sorted(PATTERNS):
            n = sum(1 for r in res if (r.get("transport"), r.get("wait"), r.get("pattern"))
                    == ("notify", wait, p))
            if n != 1:
                errors.append(f"{n} notify {wait} {p} rows, expected 1")
    check_rpmsg_rows(res, sorted({w for t, w, _ in waits if t == "ipcc"}), errors)


def check_rpmsg_rows(res, modes, errors):
    """The RPMessage rows of each wait mode in `modes`: exactly its own sizes per pattern."""
    for wait in modes:
        for p in PATTERNS:
            got = sorted(r.get("size") for r in res
                         if (r.get("transport"), r.get("wait"), r.get("pattern"))
                         == ("rpmsg", wait, p))
            if got != RPMSG_SIZES.get(p, []):
                errors.append(f"rpmsg {wait} {p} rows at sizes {got}, "
                              f"expected {RPMSG_SIZES.get(p, [])}")


def main():
    bench = sys.argv[1]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([bench, "--quick", "--json", out.name], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=600)
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:])
            print(f"ipcc-bench exited {run.returncode}")
            return 1
        with open(out.name) as f:
            doc = json.load(f)
    errors = []
    check(doc, errors)
    for e in errors:
        print(e)
    print(f"{len(doc.get('results', []))} results checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
