"""What the paired no-action control costs a sweep (issue 16): prints ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_controls.py            # 4 strategies x 2 seeds, 50,000 x 365 d
    .venv/bin/python benchmarks/bench_controls.py --quick    # small sizes, a smoke check

The same Hydra sweep (``python -m sim -m strategy=... seed=...``, basic launcher) runs with
``paired_control=true`` (the control is shared: one per seed, see ``sim.control_cache``) and with
``paired_control=false``; the two are interleaved and repeated and the ratio of the medians is
printed, since the machine's absolute speed varies. Goal: at most 1.3.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = "churn_outreach,win_back,loyalty_programme,up_sell"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sweep(n: int, days: int, seeds: str, paired: bool, d: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one sweep in a child process."""
    args = [sys.executable, "-m", "sim", "-m", f"strategy={STRATEGIES}", f"seed={seeds}",
            f"market.n_customers={n}", f"market.days={days}", "engine.progress=false",
            "output.report=false", "output.customers=false", "output.transactions=false",
            f"paired_control={str(paired).lower()}", f"hydra.sweep.dir={d}"]
    t0, c0 = time.perf_counter(), _cpu()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0, _cpu() - c0


def main() -> None:
    """Run the sweep with and without paired controls, interleaved, and print the ratio of the medians."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    n, days, seeds = (5_000, 90, "0,1") if a.quick else (50_000, 365, "0,1")
    with_c, without = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeats):
            without.append(sweep(n, days, seeds, False, Path(tmp) / f"off{r}"))
            with_c.append(sweep(n, days, seeds, True, Path(tmp) / f"on{r}"))
            print(f"repeat {r + 1}: with controls {with_c[-1][0]:.1f} s wall / {with_c[-1][1]:.1f} s CPU, "
                  f"without {without[-1][0]:.1f} s / {without[-1][1]:.1f} s", flush=True)
        n_ctrl = sum(1 for _ in Path(tmp, "on0", ".control_cache").iterdir())
    jobs = len(STRATEGIES.split(",")) * len(seeds.split(","))
    wall = statistics.median(w[0] / o[0] for w, o in zip(with_c, without, strict=True))
    cpu = statistics.median(w[1] / o[1] for w, o in zip(with_c, without, strict=True))
    print(f"sweep of {jobs} jobs ({n:,} customers x {days} d): {n_ctrl} controls computed (one per seed)")
    print(f"sweep with paired controls / without, median of {a.repeats} interleaved pairs: "
          f"CPU time {cpu:.2f}, wall time {wall:.2f} (wall is noisy on a shared machine); "
          f"goal <= 1.3: {'met' if cpu <= 1.3 else 'NOT met'} (by CPU time)")


if __name__ == "__main__":
    main()
