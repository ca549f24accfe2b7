"""What writing the outputs costs a full run (issue 16): prints shares and peaks, asserts nothing.

    .venv/bin/python benchmarks/bench_outputs.py            # 1,000,000 customers x 365 d
    .venv/bin/python benchmarks/bench_outputs.py --quick    # 100,000 x 90 d

Runs ``sim.run.run`` (what ``python -m sim`` does: treated run, paired control, every output
table, the report) in a fresh subprocess, timing its phases from inside, and prints the share of
the run spent building and writing outputs and the peak resident memory (``ru_maxrss``) against
the peak of the treated simulation alone (another fresh subprocess). Goals at 1M x 365: output
writing at most 10 % of the run, peak at most 1.2 GiB.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import importlib, json, resource, sys, tempfile, time
import sim
R = importlib.import_module("sim.run")  # the module (sim.run is also the function)
n, days, what = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
cfg = sim.load([f"market.n_customers={n}", f"market.days={days}", "engine.progress=false"])
t = {}
if what == "sim":
    t0, c0 = time.perf_counter(), time.process_time()
    sim.build(cfg).run(progress=False)
    t["run"], t["run_cpu"] = time.perf_counter() - t0, time.process_time() - c0
else:
    real = R.write_outputs
    def timed(*a, **k):
        t0, c0 = time.perf_counter(), time.process_time()
        out = real(*a, **k)
        t["outputs"], t["outputs_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        return out
    R.write_outputs = timed
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        R.run(cfg, d, progress=False)
        t["run"], t["run_cpu"] = time.perf_counter() - t0, time.process_time() - c0
t["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(t))
"""


def child(n: int, days: int, what: str) -> dict:
    """Run a market (``what``: the simulation alone or the full run) in a fresh interpreter; return its figures."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(days), what],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Time full runs against the simulation alone and print the outputs' share of the time and the memory peaks."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    n, days = (100_000, 90) if a.quick else (1_000_000, 365)
    full, alone = [], []
    for _ in range(a.repeats):  # interleaved
        alone.append(child(n, days, "sim"))
        full.append(child(n, days, "full"))
    share = statistics.median(r["outputs"] / r["run"] for r in full)
    share_cpu = statistics.median(r["outputs_cpu"] / r["run_cpu"] for r in full)
    ratio = statistics.median(f["run_cpu"] / s["run_cpu"] for f, s in zip(full, alone, strict=True))
    peak = max(r["peak_mib"] for r in full)
    peak_sim = max(r["peak_mib"] for r in alone)
    print(f"python -m sim's run() at {n:,} customers x {days} d (median of {a.repeats}):")
    print(f"  output building and writing: {share:.1%} of the run's wall time, {share_cpu:.1%} of its CPU time "
          f"(goal <= 10 %: {'met' if share <= 0.10 else 'NOT met'} by wall time)")
    print(f"  whole run (treated + paired control + outputs) / treated simulation alone, CPU time: {ratio:.2f}")
    print(f"  peak memory {peak:,.0f} MiB (treated simulation alone {peak_sim:,.0f} MiB; "
          f"goal <= 1,229 MiB: {'met' if peak <= 1229 else 'NOT met'})")


if __name__ == "__main__":
    main()
