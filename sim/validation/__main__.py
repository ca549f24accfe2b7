"""``python -m sim.validation <model> [overrides...]``: a full-size validation study.

<model> is bass | markov | pareto_nbd | bgnbd (the configs in experiments/validation/) or a
path to a study YAML. Extra Hydra overrides are appended (e.g. ``market.n_customers=5000``).
Writes report.html (simulated against analytic) and results.json to the study's output folder.
"""
from __future__ import annotations

import argparse
import json

from .studies import MODELS, run_study


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m sim.validation", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help=f"one of {', '.join(MODELS)} or a study YAML path")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. market.n_customers=5000")
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--output", default=None, help="output folder (default: the study's `output`)")
    a = ap.parse_args(argv)
    res = run_study(a.model, a.overrides, replications=a.replications, output=a.output)
    brief = {k: v for k, v in res.items() if not isinstance(v, (list, dict)) or k in ("mle",)}
    print(json.dumps(brief, indent=2, default=float))


if __name__ == "__main__":
    main()
