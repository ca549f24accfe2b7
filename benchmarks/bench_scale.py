"""Scale benchmark (issue 5): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_scale.py            # full: 10k, 100k, 1M × 365 days + naive Mesa
    .venv/bin/python benchmarks/bench_scale.py --quick    # small sizes, a smoke check of the script

Each measurement runs in a fresh subprocess so its peak memory (ru_maxrss) is its own.
The batched engine runs the default config (default strategy mix) with `engine.mode=batched`;
the naive baseline is the same model with `engine.mode=agents`: every customer a Mesa agent
stepped with `model.agents.shuffle_do("step")` once per processing window, each agent running
the same rule code on its own row (see README, "Scale and benchmarks").
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import sim
n, days, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
cfg = sim.load([f"market.n_customers={n}", f"market.days={days}", f"engine.mode={mode}",
                "engine.progress=false", f"engine.agents_max={max(n, 5000) if mode == 'agents' else 5000}"])
t0 = time.perf_counter()
m = sim.build(cfg)
t1 = time.perf_counter()
m.run(progress=False)
t2 = time.perf_counter()
print(json.dumps({"n": n, "days": days, "mode": mode, "build_s": t1 - t0, "run_s": t2 - t1,
                  "wall_s": t2 - t0, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "transactions": m.n_transactions(),
                  "customers_end": int((m.role[m.s.stage] == 2).sum())}))
"""


def measure(n: int, days: float, mode: str) -> dict:
    """Run the default market of ``n`` customers for ``days`` in ``mode`` in a fresh interpreter; return its figures."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(days), mode],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["customer_days_per_s"] = n * days / r["wall_s"]
    return r


def row(r: dict) -> str:
    """One line of the results table: size, times, customer-days per second, peak memory and transactions."""
    return (f"{r['mode']:>8} {r['n']:>10,} {r['days']:>6.0f} {r['wall_s']:>9.2f} {r['run_s']:>8.2f} "
            f"{r['customer_days_per_s']:>14,.0f} {r['peak_rss_mib']:>10,.0f} {r['transactions']:>12,}")


def main() -> None:
    """Print the batched engine's scaling in customers and its speed against the naive Mesa baseline."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes only (seconds)")
    ap.add_argument("--naive-n", type=int, nargs="+", default=[20_000, 100_000],
                    help="sizes at which the naive Mesa baseline is compared, same size")
    ap.add_argument("--naive-days", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=3,
                    help="batched runs at each comparison size; the median is used (they take a fraction of a second)")
    args = ap.parse_args()
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000]
    days = 60.0 if args.quick else 365.0
    naive_ns = [2_000] if args.quick else args.naive_n
    naive_days = 10.0 if args.quick else args.naive_days

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    hdr = (f"{'mode':>8} {'customers':>10} {'days':>6} {'wall s':>9} {'run s':>8} {'cust-days/s':>14} "
           f"{'peak MiB':>10} {'transactions':>12}")
    print("\nLinear scaling in customers (batched engine, default strategy mix):")
    print(hdr)
    results = []
    for n in sizes:
        r = measure(n, days, "batched")
        results.append(r)
        print(row(r), flush=True)
    print("\nLinear scaling in simulated time (batched, {:,} customers):".format(sizes[1]))
    print(hdr)
    for d in (days / 4, days / 2, days):
        print(row(measure(sizes[1], d, "batched")), flush=True)

    print(f"\nNaive Mesa baseline × {naive_days:g} days (same model, one agent at a time), "
          f"against the batched engine at the same size (median of {args.repeats}):")
    print(hdr)
    ratios, naive = [], None
    for nn in naive_ns:
        naive = measure(nn, naive_days, "agents")
        print(row(naive), flush=True)
        runs = sorted((measure(nn, naive_days, "batched") for _ in range(args.repeats)),
                      key=lambda r: r["wall_s"])
        same = runs[len(runs) // 2]
        print(row(same), flush=True)
        ratios.append((nn, same["customer_days_per_s"] / naive["customer_days_per_s"]))
    big = results[-1]
    print()
    for nn, ratio in ratios:
        print(f"speed-up per customer-day, same size ({nn:,} × {naive_days:g} d): {ratio:,.0f}×")
    print(f"speed-up per customer-day, batched at {big['n']:,} × {big['days']:g} d vs naive at "
          f"{naive['n']:,}: {big['customer_days_per_s'] / naive['customer_days_per_s']:,.0f}×")
    if not args.quick:
        ok_t = big["wall_s"] < 60
        ok_m = big["peak_rss_mib"] < 4096
        print(f"\ntarget 1M × 365 d under 60 s: {'met' if ok_t else 'MISSED'} ({big['wall_s']:.1f} s); "
              f"under 4 GiB: {'met' if ok_m else 'MISSED'} ({big['peak_rss_mib']:,.0f} MiB)")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"\nbenchmark took {time.perf_counter() - t:.0f} s")
