#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The rows issue 13 added, in a tiny run: the spin-2line, eventfd-epoll and eventfd-uring
baselines, the second reference (baseline2) of the library rows, and the mesh rows.

Structure only: no timing value is judged. Exit 0 when the document conforms, 1 with one line
per violation otherwise, 77 (Meson's skip) when ipcc-bench cannot run here.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

LATENCY = ["min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"]
BASELINE = {"spin": "spin-2line", "adaptive": "spin-2line", "futex": "raw-futex",
            "eventfd": "eventfd-epoll", "uring": "eventfd-uring"}
BASELINE2 = {"spin": "raw-spin", "adaptive": "raw-spin", "eventfd": "eventfd",
             "uring": "io_uring"}
MESH_CPUS = [2, 3]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def available(bench):
    """Transport name -> whether --list says it can run here."""
    out = subprocess.run([bench, "--list"], stdout=subprocess.PIPE, text=True, timeout=60).stdout
    return {l.split()[0]: l.rstrip().endswith(" ok") for l in out.splitlines()[1:] if l.split()}


def check(doc, avail, errors):
    res = doc["results"]
    if doc["options"].get("mesh_cpus") != MESH_CPUS:
        errors.append(f"options.mesh_cpus {doc['options'].get('mesh_cpus')!r}, not {MESH_CPUS}")
    for name in ["spin-2line", "eventfd-epoll", "eventfd-uring"]:
        if not avail.get(name):
            continue
        for p in ["half-duplex", "simplex"]:
            rows = [r for r in res if r["transport"] == name and r["pattern"] == p]
            if len(rows) != 1:
                errors.append(f"{len(rows)} {name} {p} rows, expected 1")
                continue
            r = rows[0]
            if r["size"] != 8 or r["baseline"] is not None or r["baseline2"] is not None:
                errors.append(f"{name} {p}: size 8 and no baseline expected, got {r}")
            if not all(is_int(r[k]) for k in LATENCY) or r["msgs_per_s"] is not None:
                errors.append(f"{name} {p}: latency fields wrong")
    for i, r in enumerate(res):
        where = f"results[{i}] ({r['transport']} {r['wait']} {r['pattern']})"
        if r["transport"] not in ("ipcc", "notify") or r["pattern"] == "mesh":
            continue
        want, want2 = BASELINE.get(r["wait"]), BASELINE2.get(r["wait"])
        if r["baseline"] != want:
            errors.append(f"{where}: baseline {r['baseline']!r}, expected {want!r}")
        if r["baseline2"] != want2:
            errors.append(f"{where}: baseline2 {r['baseline2']!r}, expected {want2!r}")
        if want2 is not None and r["baseline2"] == want2:
            if not is_num(r["ratio2"]) or r["ratio2"] <= 0:
                errors.append(f"{where}: ratio2 {r['ratio2']!r}")
            elif not isinstance(r["versus2"], str) or not any(
                    w in r["versus2"] for w in ("slower", "faster", "same")):
                errors.append(f"{where}: versus2 {r['versus2']!r}")
    mesh = [r for r in res if r["pattern"] == "mesh"]
    got = sorted((r["transport"], r["wait"], r["cpus"]) for r in mesh)
    want = sorted(("ipcc", w, k) for w in ("futex", "adaptive") for k in MESH_CPUS)
    if got != want:
        errors.append(f"mesh rows {got}, expected {want}")
    for r in mesh:
        where = f"mesh {r['wait']} {r['cpus']}"
        k = r["cpus"]
        if not is_int(k) or r["links"] != k * (k - 1) // 2:
            errors.append(f"{where}: links {r['links']!r} for {k!r} CPUs")
            continue
        if not is_int(r["iterations"]) or r["iterations"] <= 0 or r["iterations"] % (k * (k - 1)):
            errors.append(f"{where}: {r['iterations']!r} messages, not whole rounds")
        if not is_num(r["msgs_per_s"]) or r["msgs_per_s"] <= 0:
            errors.append(f"{where}: msgs_per_s {r['msgs_per_s']!r}")
        vals = [r[k2] for k2 in LATENCY]
        if not all(is_int(v) for v in vals) or vals != sorted(vals):
            errors.append(f"{where}: latency fields {vals}")
        if r["baseline"] is not None or r["baseline2"] is not None or r["ratio"] is not None:
            errors.append(f"{where}: a mesh row has no baseline")
        if not isinstance(r["runs_p50_ns"], list) or len(r["runs_p50_ns"]) != 1:
            errors.append(f"{where}: runs_p50_ns {r['runs_p50_ns']!r}")
    for r in res:
        if r["pattern"] != "mesh" and (r["cpus"] is not None or r["links"] is not None):
            errors.append(f"{r['transport']} {r['pattern']}: cpus/links set outside the mesh")


def check_csv(path, doc, errors):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows or "baseline2" not in rows[0] or "ratio2" not in rows[0]:
        errors.append("CSV without baseline2 and ratio2 columns")
        return
    if len(rows) != len(doc["results"]):
        errors.append(f"CSV has {len(rows)} rows, the JSON {len(doc['results'])}")
    for c, j in zip(rows, doc["results"]):
        if c["pattern"] == "mesh" and not c["msgs_per_s"]:
            errors.append("a mesh CSV row without msgs_per_s")
        if (c["baseline2"] or None) != j["baseline2"]:
            errors.append(f"CSV baseline2 {c['baseline2']!r}, JSON {j['baseline2']!r}")


def main():
    bench = sys.argv[1]
    avail = available(bench)
    with tempfile.TemporaryDirectory() as tmp:
        out, out_csv = os.path.join(tmp, "rows.json"), os.path.join(tmp, "rows.csv")
        cmd = [bench, "--patterns", "half-duplex,simplex,mesh", "--sizes", "8",
               "--mesh-cpus", ",".join(map(str, MESH_CPUS)), "--time", "10",
               "--warmup-time", "2", "--json", out, "--csv", out_csv]
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=600)
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:])
            print(f"ipcc-bench exited {run.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)
        errors = []
        check(doc, avail, errors)
        check_csv(out_csv, doc, errors)
    for e in errors:
        print(e)
    print(f"{len(doc['results'])} results checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
