"""``python -m sim.validation <model> [overrides...]``: a full-size validation study.

<model> is bass | markov | pareto_nbd | bgnbd (the configs in experiments/validation/), a
path to a study YAML, or ``stylised`` (the default market beside published figures,
:mod:`sim.validation.stylised`). Extra Hydra overrides are appended (e.g. ``market.n_customers=5000``).
Writes report.html (simulated against analytic) and results.json to the study's output folder.
Bad input (an unknown model, ``--replications 0``, an override that does not compose or
validate) stops with exit code 2 and one message, as ``python -m sim`` does.
"""
from __future__ import annotations

import argparse
import json
import sys

from .studies import MODELS, run_study

MAX_REPLICATIONS = 10_000


def _replications(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= n <= MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_REPLICATIONS:,}, got {n}")
    return n


def check_overrides(overrides: list[str]) -> str | None:
    """The message ``python -m sim`` would give for these overrides, or None."""
    from ..cli_check import check_command_line

    msg = check_command_line(overrides)
    return msg.replace("sim: ", "sim.validation: ", 1) if msg else None


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m sim.validation``: run a validation study or the stylised facts; return exit code."""
    ap = argparse.ArgumentParser(prog="python -m sim.validation", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help=f"one of {', '.join(MODELS)}, stylised, or a study YAML path")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. market.n_customers=5000")
    ap.add_argument("--replications", type=_replications, default=None)
    ap.add_argument("--output", default=None, help="output folder (default: the study's `output`)")
    a = ap.parse_args(argv)  # argparse itself exits 2 with a message on bad flags
    if a.model == "stylised":
        msg = check_overrides(a.overrides)
        if msg:
            print(msg, file=sys.stderr)
            return 2
        from .stylised import run_stylised
        res = run_stylised(a.overrides, a.output)
        for f in res["facts"]:
            sim_v = "–" if f["simulated"] is None else f"{f['simulated']:.4g}"
            print(f"{'ok ' if f['inside'] else 'OUT'} {f['figure']}: {sim_v} (published {f['low']:g}-{f['high']:g})")
        print(f"report: {res['output']}/report.html")
        return 0
    from ..config import ConfigError
    from .studies import load_study
    import yaml
    try:
        spec = load_study(a.model)
        reps = spec["replications"] if a.replications is None else a.replications
        if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= MAX_REPLICATIONS:
            raise SystemExit(f"{a.model}: replications must be a whole number between 1 and "
                             f"{MAX_REPLICATIONS:,}, got {reps!r}")
        if not isinstance(spec["overrides"], list):
            raise SystemExit(f"{a.model}: overrides must be a list of Hydra overrides")
    except SystemExit as e:
        print(f"sim.validation: {e}", file=sys.stderr)
        return 2
    except (yaml.YAMLError, AttributeError) as e:
        print(f"sim.validation: {a.model}: not a study YAML ({' '.join(str(e).split())})", file=sys.stderr)
        return 2
    msg = check_overrides([*spec["overrides"], *a.overrides])
    if msg:
        print(msg, file=sys.stderr)
        return 2
    try:
        res = run_study(a.model, a.overrides, replications=a.replications, output=a.output)
    except ConfigError as e:
        print(f"sim.validation: {e}", file=sys.stderr)
        return 2
    brief = {k: v for k, v in res.items() if not isinstance(v, (list, dict)) or k in ("mle",)}
    print(json.dumps(brief, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
