"""Import time of what a run needs (issue 16): prints times and ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_import.py [--repeats 7]

Each import runs in a fresh interpreter, interleaved, and the medians are printed: ``import
sim.run`` (everything a run needs), ``import mesa`` alone (Mesa's package import pulls in pandas,
scipy.sparse/spatial and networkx), and the interpreter start itself. It also checks that the
teaching view (``sim.viz``), the validation code and plotly are *not* loaded by ``import sim.run``.
Goal: ``import sim.run`` in at most 0.4 s.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {"python": "pass", "mesa": "import mesa", "sim.run": "import sim.run"}
CHECK = ("import sys, sim.run; print(sorted(m for m in sys.modules if m.startswith(('sim.viz', "
         "'sim.validation', 'plotly', 'optuna', 'ray', 'numba'))))")


def once(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` (an import)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    """Time each import in fresh interpreters, interleaved, and print the medians and their ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    once("import sim.run")  # warm the file cache and the bytecode
    t = {k: [] for k in CASES}
    for _ in range(a.repeats):
        for k, code in CASES.items():
            t[k].append(once(code))
    base = statistics.median(t["python"])
    med = {k: statistics.median(v) - base for k, v in t.items()}
    print(f"import time beyond interpreter start (median of {a.repeats}, interleaved):")
    for k in ("mesa", "sim.run"):
        print(f"  {k:8} {med[k]:.2f} s")
    print(f"  sim.run / mesa: {med['sim.run'] / med['mesa']:.2f}; sim's own share: "
          f"{med['sim.run'] - med['mesa']:.2f} s")
    ok = med["sim.run"] <= 0.4
    print(f"  goal import sim.run <= 0.4 s: {'met' if ok else 'NOT met'}")
    loaded = subprocess.run([sys.executable, "-c", CHECK], check=True, capture_output=True, text=True).stdout
    print(f"  loaded by import sim.run among sim.viz, sim.validation, plotly, optuna, ray, numba: {loaded.strip()}")


if __name__ == "__main__":
    main()
