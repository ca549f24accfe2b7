"""``python -m sim.validation <model> [overrides...]``: a full-size validation study.

<model> is bass | markov | pareto_nbd | bgnbd (the configs in experiments/validation/), a
path to a study YAML, or ``stylised`` (the default market beside published figures,
:mod:`sim.validation.stylised`). Extra Hydra overrides are appended (e.g. ``market.n_customers=5000``).
Writes report.html (simulated against analytic) and results.json to the study's output folder.
"""
from __future__ import annotations

import argparse
import json

from .studies import MODELS, run_study


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m sim.validation", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help=f"one of {', '.join(MODELS)}, stylised, or a study YAML path")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. market.n_customers=5000")
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--output", default=None, help="output folder (default: the study's `output`)")
    a = ap.parse_args(argv)
    if a.model == "stylised":
        from .stylised import run_stylised
        res = run_stylised(a.overrides, a.output)
        for f in res["facts"]:
            sim_v = "–" if f["simulated"] is None else f"{f['simulated']:.4g}"
            print(f"{'ok ' if f['inside'] else 'OUT'} {f['figure']}: {sim_v} (published {f['low']:g}-{f['high']:g})")
        print(f"report: {res['output']}/report.html")
        return
    res = run_study(a.model, a.overrides, replications=a.replications, output=a.output)
    brief = {k: v for k, v in res.items() if not isinstance(v, (list, dict)) or k in ("mle",)}
    print(json.dumps(brief, indent=2, default=float))


if __name__ == "__main__":
    main()
