"""Import time of what a run needs (issue 16): prints times and ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_import.py [--repeats 7]

Each import runs in a fresh interpreter, interleaved, and the medians are printed twice: the
time of the import statement, timed inside the interpreter (what ``python -X importtime`` sums,
and the goal's measure), and the whole process beyond an empty interpreter's, which also counts
tearing down every loaded module at exit (a sweep worker pays that once, not per job): ``import
sim.run`` (everything a run needs to start), ``import sim.run`` plus ``pyarrow.parquet`` (which a
run imports when it writes its files, so it is counted here too), ``import mesa`` alone (Mesa's
package import pulls in pandas, scipy.sparse/spatial and networkx), and the interpreter start
itself. It also prints which of pandas, Mesa, pyarrow, the teaching view (``sim.viz``), the
validation code, plotly, optuna, Ray and numba ``import sim.run`` loads (the last six should never
be). Goal: ``import sim.run`` in at most 0.4 s.

``import sim.run`` is what a run needs to start; a run then imports more as it goes (composing its
config with Hydra, pyarrow to write, plotly's figure classes for the report). The last cases time
those too: a fresh interpreter makes a small run (200 customers, 20 days) with and without its
report and lists every module it loaded; the benchmark then imports exactly those modules in
another fresh interpreter, so the figure is the import time of a whole run, not of its start.

Python normally caches compiled bytecode (``__pycache__``), so every import after the first reads
it instead of compiling the source. An environment with ``PYTHONDONTWRITEBYTECODE=1`` (as some
sandboxes and CI images set) never writes that cache for an editable install, and then compiles
this package's modules at every start, while the installed libraries (Mesa included) ship their
bytecode. So the children get a private bytecode cache (``PYTHONPYCACHEPREFIX``, a temporary
directory), warmed once, as a user's second import would find it. ``import sim.run`` is also timed
with ``PYTHONDONTWRITEBYTECODE=1`` and no prefix, for comparison: the libraries' shipped bytecode is
used, this package's sources are compiled (unless a ``__pycache__`` of it already exists).
"""
from __future__ import annotations

import argparse
import statistics
import os
import subprocess
import sys
import tempfile
import time

CASES = {"python": "pass", "mesa": "import mesa", "sim.run": "import sim.run",
         "sim.run+pyarrow.parquet": "import sim.run, pyarrow.parquet"}
WATCH = ("pandas", "mesa", "pyarrow", "sim.viz", "sim.validation", "plotly", "optuna", "ray", "numba")
CHECK = ("import sys, sim.run; print(sorted({'.'.join(m.split('.')[:2 if m.startswith('sim.') else 1]) "
         f"for m in sys.modules if m.startswith({WATCH!r})}}))")


LOADED_BY_RUN = """
import sys, tempfile
before = set(sys.modules)
import sim
cfg = sim.load(["market.n_customers=200", "market.days=20", "engine.progress=false", "output.report={report}"])
with tempfile.TemporaryDirectory() as d:
    sim.run(cfg, d)
print(" ".join(sorted(m for m in set(sys.modules) - before if m != "__main__")))
"""


def run_imports(report: bool) -> str:
    """Code importing every module a small run loads (``output.report`` on or off), in a fresh interpreter."""
    mods = subprocess.run([sys.executable, "-c", LOADED_BY_RUN.format(report=str(report).lower())],
                          check=True, capture_output=True, text=True).stdout.split()
    return ("import importlib\nfor m in %r:\n    try:\n        importlib.import_module(m)\n"
            "    except Exception:\n        pass\n" % mods)


def once(code: str, env: dict | None = None) -> tuple[float, float]:
    """Run ``code`` (an import) in a fresh interpreter in environment ``env``: the seconds the code
    itself took, timed inside the interpreter, and the seconds the whole process took."""
    timed = f"import time as _t\n_t0 = _t.perf_counter()\n{code}\nprint(_t.perf_counter() - _t0)\n"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", timed], check=True, env=env, capture_output=True, text=True)
    return float(out.stdout.split()[-1]), time.perf_counter() - t0


def main() -> None:
    """Time each import in fresh interpreters, interleaved, and print the medians and their ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    cases = {**CASES, "a run, no report": run_imports(False), "a run with its report": run_imports(True)}
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        # the libraries' shipped bytecode, but none written for this package (unless a __pycache__ exists)
        nocache = {**{k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}, "PYTHONDONTWRITEBYTECODE": "1"}
        for code in cases.values():  # warm the file cache and the bytecode cache
            once(code, env)
        t = {k: [] for k in [*cases, "sim.run, DONTWRITEBYTECODE"]}
        for _ in range(a.repeats):
            for k, code in cases.items():
                t[k].append(once(code, env))
            t["sim.run, DONTWRITEBYTECODE"].append(once(CASES["sim.run"], nocache))
    base = statistics.median(w for _, w in t["python"])
    med = {k: statistics.median(i for i, _ in v) for k, v in t.items()}        # the import itself
    proc = {k: statistics.median(w for _, w in v) - base for k, v in t.items()}  # the whole process
    print(f"import time (median of {a.repeats}, interleaved, bytecode cached unless said):")
    print(f"  {'':27} {'import':>7} {'process':>8}   (process: whole interpreter beyond an empty one,")
    print(f"  {'':27} {'':>7} {'':>8}    so also the teardown of every module at exit)")
    for k in ("mesa", "sim.run", "sim.run+pyarrow.parquet", "a run, no report", "a run with its report",
              "sim.run, DONTWRITEBYTECODE"):
        print(f"  {k:27} {med[k]:6.2f} s {proc[k]:7.2f} s")
    run, report = med["a run, no report"], med["a run with its report"]
    print(f"  sim.run / mesa: {med['sim.run'] / med['mesa']:.2f}; a run's imports / mesa: "
          f"{run / med['mesa']:.2f} (with its report {report / med['mesa']:.2f})")
    ok = med["sim.run"] <= 0.4
    print(f"  goal import sim.run <= 0.4 s (the import itself): {'met' if ok else 'NOT met'}"
          f"; the whole process {proc['sim.run']:.2f} s")
    loaded = subprocess.run([sys.executable, "-c", CHECK], check=True, capture_output=True, text=True).stdout
    print(f"  loaded by import sim.run among {', '.join(WATCH)}: {loaded.strip()}")


if __name__ == "__main__":
    main()
