"""Stress study (issue 8): the largest market this machine holds.

    .venv/bin/python benchmarks/stress.py [--days 90] [--sizes 5e6 1e7 2e7 4e7]

Runs the default config at growing sizes, each in a fresh subprocess, and prints wall time,
peak resident memory and bytes per customer; stops at the first size that fails (e.g. out of
memory) and reports it. Memory is dominated by customer state (about 350 bytes a customer)
plus the transaction log (26 bytes a transaction).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import sim
n, days = int(float(sys.argv[1])), float(sys.argv[2])
cfg = sim.load([f"market.n_customers={n}", f"market.days={days}", "engine.progress=false"])
t0 = time.perf_counter(); m = sim.build(cfg); m.run(progress=False); t1 = time.perf_counter()
print(json.dumps({"n": n, "days": days, "wall_s": t1 - t0, "state_mib": m.s.nbytes() / 2**20,
                  "transactions": m.n_transactions(),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    """Run the default market at growing sizes in fresh interpreters; print time and memory up to the first failure."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=90.0)
    ap.add_argument("--sizes", type=float, nargs="+", default=[5e6, 1e7, 2e7, 4e7])
    args = ap.parse_args()
    print(f"{'customers':>12} {'days':>5} {'wall s':>8} {'state MiB':>10} {'peak MiB':>10} {'B/customer':>11} "
          f"{'transactions':>13}")
    for n in args.sizes:
        r = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.days)], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{int(n):>12,} failed (exit {r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
            break
        d = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{d['n']:>12,} {d['days']:>5.0f} {d['wall_s']:>8.1f} {d['state_mib']:>10,.0f} "
              f"{d['peak_rss_mib']:>10,.0f} "
              f"{d['peak_rss_mib'] * 2**20 / d['n']:>11,.0f} {d['transactions']:>13,}", flush=True)


if __name__ == "__main__":
    main()
