"""Which assumptions drive the answer: ``python -m sim.sensitivity [--config-name STUDY] [overrides...]``.

A global sensitivity study (Sobol indices, computed with SALib) of the objective over market
parameters the strategist is unsure of. The study (default ``experiments/sensitivity.yaml``) names

* the uncertain parameters and their plausible ranges: ``hydra.sweeper.params`` as ``interval(a, b)``;
* the options to compare: ``study.options``, each a list of overrides (e.g. ``[strategy=win_back]``).

Saltelli/Sobol' sampling (``SALib.sample.sobol``, seeded) draws ``--samples`` × (d + 2) plausible
worlds (d parameters; ``--samples`` a power of 2). In every world each option runs against the same
no-action control, all on one seed (common random numbers: the worlds differ by their parameters only,
not by noise). Then, per option, first-order (S1) and total (ST) Sobol indices of its objective with
95 % intervals (``SALib.analyze.sobol``), and for the recommendation (the best option on average):

* the share of worlds in which it stays the best option: does the recommendation survive what we don't know?
* the Sobol indices of its lead over the runner-up: which assumption could overturn it.

Writes ``sensitivity.json`` and ``sensitivity.html`` into ``--out`` (default
``multirun/<study>_sensitivity``, or ``multirun/<study>`` when the study's name ends in "sensitivity"),
atomically.
"""
from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import decide, units
from .allocate import STUDIES, compose_study, search_space


def _config(study: str, overrides: list[str], config_dir: Path = STUDIES):
    from omegaconf import OmegaConf

    from .config import resolve, validate
    c = compose_study(study, overrides, config_dir)
    cfg = resolve(OmegaConf.masked_copy(c, [k for k in c.keys() if k != "hydra"]))
    for k in ("sweep", "study"):
        cfg.pop(k, None)
    return validate(cfg)


def _fmt_value(v: float) -> str:
    return f"{v:.6g}"


def sensitivity(study: str = "sensitivity", overrides: list[str] | None = None, *, samples: int = 16,
                seed: int = 0, progress: bool = True, config_dir: str | Path = STUDIES) -> dict:
    """Sample, simulate and analyse; returns a JSON-ready dict (see the module docstring)."""
    from omegaconf import OmegaConf
    from SALib.sample import sobol as sobol_sample
    from tqdm.auto import tqdm

    from . import metrics
    from .run import paired, simulate
    from .sweep import metric

    if samples < 2 or samples & (samples - 1):
        raise ValueError(f"--samples = {samples}: must be a power of 2 (Sobol' sequences), e.g. 8, 16, 32")
    overrides = list(overrides or [])
    config_dir = Path(config_dir)
    cfg0 = compose_study(study, overrides, config_dir)
    space = search_space(OmegaConf.to_container(cfg0.hydra.sweeper.params, resolve=True))
    bad = [k for k, (kind, _) in space.items() if kind != "float"]
    if bad:
        raise ValueError(f"hydra.sweeper.params: {bad} must be interval(a, b) for a sensitivity study")
    options = OmegaConf.to_container(OmegaConf.select(cfg0, "study.options"), resolve=True) or {}
    if len(options) < 1:
        raise ValueError("study.options: name at least one option (a list of overrides)")
    objective = OmegaConf.select(cfg0, "sweep.objective") or decide.OBJECTIVE
    names = list(space)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(space[k][1]) for k in names]}
    X = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    Y = np.full((len(X), len(options)), np.nan)
    bar = tqdm(total=len(X) * len(options), desc="sensitivity", unit="run", disable=not progress)
    for i, x in enumerate(X):
        world = [f"{k}={_fmt_value(v)}" for k, v in zip(names, x, strict=True)] + [f"seed={seed}"]
        control = None
        for j, ovs in enumerate(options.values()):
            cfg = _config(study, [*overrides, *ovs, *world], config_dir)
            treated = metrics.summary(simulate(cfg, progress=False, materialize=False))
            if control is None:  # the control has no strategies: the same for every option of this world
                control = metrics.summary(simulate(cfg, with_strategies=False, progress=False, materialize=False))
            treated["paired"] = paired(treated, control)
            Y[i, j] = metric(treated, objective)
            bar.update(1)
    bar.close()
    out = analyse(problem, X, Y, list(options), objective, seed=seed)
    out.update(study=study, samples=int(samples),
               options={o: {"overrides": options[o], **v} for o, v in out["options"].items()},
               currency=_config(study, [*overrides, *options[out["recommendation"]]], config_dir).output.currency,
               samples_table=pd.DataFrame(np.column_stack([X, Y]), columns=[*names, *options]).to_dict(orient="list"))
    out["verdict"] = verdict(out)
    return out


def analyse(problem: dict, X: np.ndarray, Y: np.ndarray, opts: list[str], objective: str, *, seed: int = 0) -> dict:
    """Sobol indices of each option's objective (columns of ``Y``, rows the worlds ``X``), the
    recommendation (best mean), the share of worlds in which it stays best, and the indices of its lead
    over the runner-up."""
    from SALib.analyze import sobol as sobol_analyze

    names = problem["names"]
    means = np.nanmean(Y, axis=0)
    minimise = objective in decide.MINIMISE
    order = np.argsort(means if minimise else -means, kind="stable")
    best = int(order[0])

    def indices(y: np.ndarray) -> dict:
        y = np.nan_to_num(y, nan=float(np.nanmean(y)))
        if np.allclose(y, y[0]):
            return {k: {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for k in names}
        r = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed, print_to_console=False)
        return {k: {"S1": float(r["S1"][n]), "S1_conf": float(r["S1_conf"][n]),
                    "ST": float(r["ST"][n]), "ST_conf": float(r["ST_conf"][n])} for n, k in enumerate(names)}

    out = {
        "objective": objective, "worlds": int(len(X)), "seed": seed,
        "parameters": {k: {"low": float(b[0]), "high": float(b[1])}
                       for k, b in zip(names, problem["bounds"], strict=True)},
        "options": {o: {"mean": float(means[j]), "min": float(np.nanmin(Y[:, j])), "max": float(np.nanmax(Y[:, j])),
                        "sobol": indices(Y[:, j])} for j, o in enumerate(opts)},
        "recommendation": opts[best],
    }
    if len(opts) > 1:
        second = int(order[1])
        lead = (Y[:, best] - Y[:, second]) * (-1 if minimise else 1)
        wins = (np.argmin(Y, axis=1) if minimise else np.argmax(Y, axis=1)) == best
        out["runner_up"] = opts[second]
        out["stays_best_share"] = float(np.mean(wins))
        out["lead"] = {"mean": float(np.mean(lead)), "min": float(np.min(lead)), "max": float(np.max(lead)),
                       "sobol": indices(lead)}
    out["verdict"] = verdict(out)
    return out


def verdict(res: dict) -> str:
    """One sentence: does the recommendation survive the uncertainty, and which assumption drives it."""
    obj, cur = res["objective"], res.get("currency")
    best = res["recommendation"]
    f = lambda x: units.fmt(obj, x, cur)  # noqa: E731
    o = res["options"][best]
    if "lead" not in res:
        top = max(o["sobol"].items(), key=lambda kv: kv[1]["ST"])
        return (f"Over {res['worlds']} plausible worlds, {best} earns {f(o['min'])} to {f(o['max'])} "
                f"(mean {f(o['mean'])}); {top[0]} drives it most (total Sobol index {top[1]['ST']:.2f}).")
    lead = res["lead"]
    top = max(lead["sobol"].items(), key=lambda kv: kv[1]["ST"])
    share = res["stays_best_share"]
    how = ("survives what we don't know" if share >= 0.95 else "mostly holds" if share >= 0.75
           else "is fragile")
    return (f"The recommendation, {best}, stays best in {units.percent(share)} of {res['worlds']} plausible worlds "
            f"(its lead over {res['runner_up']} ranges from {units.fmt_diff(obj, lead['min'], cur)} to "
            f"{units.fmt_diff(obj, lead['max'], cur)}), so it {how}; the assumption that moves the lead most is "
            f"{top[0]} (total Sobol index {top[1]['ST']:.2f} ± {top[1]['ST_conf']:.2f}).")


def sensitivity_html(res: dict) -> str:
    """The sensitivity page as HTML: first-order and total Sobol' indices per parameter, option and lead."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = ([("lead", f"lead of {res['recommendation']} over {res['runner_up']}", res["lead"]["sobol"])]
              if "lead" in res else [])
    panels += [(o, f"{units.label(res['objective'])}: {o}", v["sobol"]) for o, v in res["options"].items()]
    rows = len(panels)
    height = 300 * rows + 80 * max(0, rows - 1) + 100
    fig = make_subplots(rows=rows, cols=1, subplot_titles=[p[1] for p in panels],
                        vertical_spacing=(80 / height) if rows > 1 else 0.0)
    for i, (_, _, sob) in enumerate(panels):
        names = list(sob)
        for key, colour in (("S1", "#6baed6"), ("ST", "#08519c")):
            fig.add_trace(go.Bar(y=names, x=[sob[n][key] for n in names], orientation="h", name=key,
                                 marker_color=colour, showlegend=(i == 0),
                                 error_x=dict(type="data", array=[sob[n][key + "_conf"] for n in names])),
                          row=i + 1, col=1)
    fig.update_xaxes(range=[0, 1.05], tickformat=".1f")
    fig.update_yaxes(automargin=True, autorange="reversed")
    fig.update_layout(barmode="group", height=height, template="plotly_white", margin=dict(l=60, r=20, t=70, b=40),
                      title="Sobol indices: first order (S1, the parameter alone) "
                            "and total (ST, with its interactions)")
    chart = fig.to_html(full_html=False, include_plotlyjs=True, div_id="sens-sobol", config={"displaylogo": False})
    obj, cur = res["objective"], res.get("currency")
    prow = "".join(f"<tr><td>{html.escape(k)}</td><td>{v['low']:g}</td><td>{v['high']:g}</td></tr>"
                   for k, v in res["parameters"].items())
    orow = "".join(f"<tr><td>{html.escape(o)}</td><td>{units.fmt(obj, v['mean'], cur)}</td>"
                   f"<td>{units.fmt(obj, v['min'], cur)}</td><td>{units.fmt(obj, v['max'], cur)}</td></tr>"
                   for o, v in res["options"].items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sensitivity: {html.escape(res['study'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px}}
.tbl{{border-collapse:collapse;font-size:0.9em}}.tbl td,.tbl th{{padding:2px 10px;border-bottom:1px solid #ddd}}
.tbl td{{text-align:right}}.tbl td:first-child{{text-align:left}}
.verdict{{font-size:1.1em;border-left:4px solid #2ca02c;padding:0.4em 0.8em;background:#f6fbf6}}</style>
</head><body><h1>Which assumptions drive the answer</h1>
<p id="verdict" class="verdict">{html.escape(res['verdict'])}</p>
<p>{res['worlds']} plausible worlds (Saltelli/Sobol' sample, seed {res['seed']}), each option in each world against the
same no-action control on one seed. Objective: <code>{html.escape(obj)}</code>.</p>
<h2>Uncertain parameters (plausible ranges)</h2>
<table class="tbl"><tr><th>parameter</th><th>low</th><th>high</th></tr>{prow}</table>
<h2>Options over the worlds</h2>
<table class="tbl" id="options"><tr><th>option</th><th>mean</th><th>worst world</th><th>best world</th></tr>{orow}</table>
{chart}
<p>S1: the share of the objective's variance due to the parameter alone; ST: including its interactions with
the others. A parameter with ST near 0 does not matter over its range; intervals are 95 % bootstrap intervals
(SALib), wide with few samples.</p>
</body></html>
"""  # noqa: E501 - the page's HTML lines, kept as written so the page is unchanged


def write(res: dict, out: str | Path) -> dict[str, Path]:
    """Write the sensitivity results as JSON and the HTML page under ``out``; return their paths."""
    from .outputs import atomic_write_json, atomic_write_text

    out = Path(out)
    files = {"json": out / "sensitivity.json", "html": out / "sensitivity.html"}
    atomic_write_json(files["json"], res)
    atomic_write_text(files["html"], sensitivity_html(res))
    return files


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m sim.sensitivity``: Sobol' indices of a study's parameters; return the exit code."""
    ap = argparse.ArgumentParser(prog="python -m sim.sensitivity", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config-name", default="sensitivity", help="a study in experiments/ (default %(default)s)")
    ap.add_argument("--config-dir", default=str(STUDIES), help="directory of the study (default experiments/)")
    ap.add_argument("--samples", type=int, default=16, help="Sobol' base samples, a power of 2 (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="simulation seed and sampling seed (default %(default)s)")
    ap.add_argument("--out", default=None, help="output directory (default multirun/<study>_sensitivity)")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. market.n_customers=2000")
    a = ap.parse_args(argv)
    from .config import ConfigError
    try:
        res = sensitivity(a.config_name, a.overrides, samples=a.samples, seed=a.seed, progress=not a.no_progress,
                          config_dir=a.config_dir)
    except (ConfigError, ValueError, KeyError) as e:
        print(f"sim.sensitivity: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - Hydra's own errors (unknown study, bad override) name the problem
        if type(e).__module__.startswith(("hydra", "omegaconf")):
            print(f"sim.sensitivity: {e}", file=sys.stderr)
            return 2
        raise
    name = a.config_name if a.config_name.endswith("sensitivity") else f"{a.config_name}_sensitivity"
    files = write(res, a.out or Path("multirun") / name)
    print(res["verdict"])
    for k, p in files.items():
        print(f"{k}: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
