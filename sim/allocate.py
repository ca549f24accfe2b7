"""Split a fixed budget between strategies: ``python -m sim.allocate [--config-name STUDY] [overrides...]``.

Reads an allocation study from ``experiments/`` (default ``allocate_budget``): a Hydra config whose
``hydra.sweeper.params`` are the searched keys (``interval(a, b)``, ``choice(...)``) and whose
strategy budgets follow from them (e.g. ``study.weight.<strategy>``, each strategy getting the total
× its weight / the sum of the weights). Then

1. **search**: Optuna's TPE sampler (seeded by ``hydra.sweeper.sampler.seed``, trials run one after
   another, so the search is reproducible) proposes ``--trials`` splits; each is run on ``--seeds``
   replications (seeds 0, 1, ...) and scored by the mean objective (``sweep.objective``, default
   ``incremental_net_profit``) against the no-action control, which is simulated once per seed and
   reused (it has no strategies, so no split changes it);
2. **confirm**: the ``--confirm`` best splits are run again on ``--confirm-seeds`` fresh seeds (from
   1000 on, so the choice and its assessment do not share noise: no winner's curse) and ranked by
   :func:`sim.decide.ranking`: the best split, its 95 % interval, and its paired difference to each
   runner-up.

Writes into ``--out`` (default ``multirun/<study>_allocation``): ``trials.csv`` (every search run),
``confirm.csv`` (the confirmation runs), ``ranking.csv`` and ``allocation.html`` (the verdict, the
ranking of the confirmed splits, and the search), all atomically.
"""
from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import decide, units

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "experiments"


def compose_study(name: str, overrides: list[str], config_dir: Path = STUDIES):
    """The study's composed config (with its hydra node, for the searched params)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from . import sweep  # noqa: F401 - registers the study resolvers
    from .config import CONFIG_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base=None):
        return compose(name, overrides=[f"hydra.searchpath=[file://{CONFIG_DIR}]", *overrides],
                       return_hydra_config=True)


def search_space(params: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """``hydra.sweeper.params`` as (kind, bounds or choices): interval → float, range → int, choice."""
    space = {}
    for k, v in params.items():
        m = re.fullmatch(r"\s*(interval|range|choice)\((.*)\)\s*", str(v))
        if not m:
            raise ValueError(f"hydra.sweeper.params.{k} = {v!r}: use interval(a, b), range(a, b) or choice(...)")
        args = [a.strip() for a in m.group(2).split(",")]
        if m.group(1) == "interval":
            space[k] = ("float", (float(args[0]), float(args[1])))
        elif m.group(1) == "range":
            space[k] = ("int", (int(args[0]), int(args[1]) - 1))
        else:
            space[k] = ("choice", args)
    return space


class Evaluator:
    """Runs one split on given seeds; caches each seed's no-action control."""

    def __init__(self, study: str, overrides: list[str], objective: str, config_dir: Path = STUDIES):
        self.study, self.overrides, self.objective, self.config_dir = study, list(overrides), objective, config_dir
        self._control: dict[int, dict] = {}

    def config(self, values: dict[str, Any], seed: int):
        """The validated config of the study with the split ``values`` and ``seed`` applied as overrides."""
        from omegaconf import OmegaConf

        from .config import resolve, validate
        c = compose_study(self.study, [*self.overrides, *(f"{k}={v}" for k, v in values.items()), f"seed={seed}"],
                          self.config_dir)
        cfg = resolve(OmegaConf.masked_copy(c, [k for k in c.keys() if k != "hydra"]))
        for k in ("sweep", "study"):
            cfg.pop(k, None)
        return validate(cfg)

    def run(self, values: dict[str, Any], seed: int) -> dict:
        """Run one budget split on one seed and return its row: the split, spend, objective and paired figures.

        The seed's no-action control is run once and reused for every split.
        """
        from . import metrics
        from .run import paired, simulate
        from .sweep import metric

        cfg = self.config(values, seed)
        treated = metrics.summary(simulate(cfg, progress=False, materialize=False))
        if seed not in self._control:
            control = simulate(cfg, with_strategies=False, progress=False, materialize=False)
            self._control[seed] = metrics.summary(control)
        treated["paired"] = paired(treated, self._control[seed])
        budgets = {n: float(s.get("budget", 0.0)) for n, s in cfg.strategy.items()}
        total = sum(budgets.values())
        spend = sum(float(s["spend"]) for s in treated["strategies"].values())
        row = {"seed": seed, "replication": 0, "option": split_label(budgets),
               **{f"share.{n}": (b / total if total else 0.0) for n, b in budgets.items()},
               **{f"param.{k}": v for k, v in values.items()},
               "budget": total, "spend": spend, "unspent": total - spend, "currency": cfg.output.currency,
               "objective": metric(treated, self.objective),
               **{k: treated["paired"][k] for k in ("incremental_net_profit", "roi_vs_control", "strategy_cost")}}
        return row


def split_label(budgets: dict[str, float]) -> str:
    """A readable label of a budget split, each strategy's share of the total, e.g. ``"ads 60%, win_back 40%"``."""
    total = sum(budgets.values())
    return ", ".join(f"{n} {b / total:.0%}" if total else f"{n} 0%" for n, b in budgets.items())


def allocate(study: str = "allocate_budget", overrides: list[str] | None = None, *, trials: int | None = None,
             seeds: int = 3, confirm: int = 5, confirm_seeds: int = 5, progress: bool = True,
             config_dir: str | Path = STUDIES) -> dict:
    """Search, confirm and rank; returns {"trials", "confirm", "ranking", "objective", "study"}."""
    import optuna
    from omegaconf import OmegaConf
    from tqdm.auto import tqdm

    overrides, config_dir = list(overrides or []), Path(config_dir)
    cfg = compose_study(study, overrides, config_dir)
    space = search_space(OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True))
    objective = OmegaConf.select(cfg, "sweep.objective") or decide.OBJECTIVE
    minimise = str(OmegaConf.select(cfg, "hydra.sweeper.direction") or "maximize").startswith("min")
    n_trials = int(trials if trials is not None else OmegaConf.select(cfg, "hydra.sweeper.n_trials") or 20)
    sampler_seed = int(OmegaConf.select(cfg, "hydra.sweeper.sampler.seed") or 0)
    ev = Evaluator(study, overrides, objective, config_dir)
    rows: list[dict] = []
    bar = tqdm(total=n_trials * seeds, desc="allocation search", unit="run", disable=not progress)

    def trial_fn(trial) -> float:
        values = {}
        for k, (kind, arg) in space.items():
            if kind == "float":
                values[k] = round(trial.suggest_float(k, *arg), 4)
            elif kind == "int":
                values[k] = trial.suggest_int(k, *arg)
            else:
                values[k] = trial.suggest_categorical(k, arg)
        ys = []
        for s in range(seeds):
            r = ev.run(values, s)
            r["trial"] = trial.number
            rows.append(r)
            ys.append(r["objective"])
            bar.update(1)
        return float(np.nanmean(ys))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    opt = optuna.create_study(direction="minimize" if minimise else "maximize",
                              sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    opt.optimize(trial_fn, n_trials=n_trials, n_jobs=1)
    bar.close()
    tr = pd.DataFrame(rows)
    means = tr.groupby("trial")["objective"].mean().sort_values(ascending=minimise)
    top = list(means.index[:confirm])
    crow = []
    for t in tqdm(top, desc="confirming the best splits", unit="split", disable=not progress):
        values = {k.removeprefix("param."): v for k, v in tr[tr["trial"] == t].iloc[0].items()
                  if k.startswith("param.")}
        for s in range(1000, 1000 + confirm_seeds):
            r = ev.run(values, s)
            r["trial"] = t
            r["option"] = f"trial {t}: {r['option']}"
            crow.append(r)
    conf = pd.DataFrame(crow)
    conf[objective] = conf["objective"]
    rank = decide.ranking(conf, ["option"], objective) if len(conf) else pd.DataFrame(columns=decide.COLUMNS)
    return {"trials": tr, "confirm": conf, "ranking": rank, "objective": objective, "study": study}


def allocation_html(res: dict) -> str:
    """The allocation page as HTML: the search's trials chart and the ranking of the confirmed splits."""
    import plotly.graph_objects as go

    rank, tr = res["ranking"], res["trials"]
    cur = tr["currency"].iloc[0] if len(tr) else None
    obj = res["objective"]
    per_trial = tr.groupby("trial").agg(objective=("objective", "mean"), option=("option", "first")).reset_index()
    fig = go.Figure(go.Scatter(x=per_trial["trial"], y=per_trial["objective"], mode="markers",
                               hovertext=per_trial["option"], marker=dict(size=9)))
    fig.update_layout(title=f"Search: mean {units.label(obj)} of each trial ({tr['seed'].nunique()} seeds each)",
                      xaxis_title="trial", yaxis_title=units.label(obj), template="plotly_white", height=420,
                      yaxis=units.axis_format(obj))
    chart = fig.to_html(full_html=False, include_plotlyjs=True, div_id="alloc-search", config={"displaylogo": False})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Budget allocation: {html.escape(res['study'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px}}
.tbl{{border-collapse:collapse;font-size:0.85em}}.tbl td,.tbl th{{padding:2px 8px;border-bottom:1px solid #ddd}}
.num td{{text-align:right;white-space:nowrap}}#ranking td:nth-child(2){{text-align:left;white-space:normal}}
.tbl tr.best{{font-weight:600;background:#e8f4e8}}.tbl tr.tied{{background:#f3f3f3}}
.verdict{{font-size:1.1em;border-left:4px solid #2ca02c;padding:0.4em 0.8em;background:#f6fbf6}}
.note{{color:#555;font-size:0.9em}}</style></head><body>
<h1>Budget allocation: {html.escape(res['study'])}</h1>
<p>{len(per_trial)} splits searched (Optuna TPE, seeded) on {tr['seed'].nunique()} seeds each; the
{rank.shape[0]} best were run again on {res['confirm']['seed'].nunique() if len(res['confirm']) else 0} fresh
seeds, and are ranked on those alone.</p>
{decide.ranking_html(rank, cur)}
{chart}
{decide.glossary_html([obj])}
</body></html>
"""


def write(res: dict, out: str | Path) -> dict[str, Path]:
    """Write the trials, confirmation and ranking tables and the HTML page under ``out``; return their paths."""
    from .outputs import atomic_write_text

    out = Path(out)
    files = {"trials": out / "trials.csv", "confirm": out / "confirm.csv", "ranking": out / decide.RANKING,
             "html": out / "allocation.html"}
    atomic_write_text(files["trials"], res["trials"].to_csv(index=False))
    atomic_write_text(files["confirm"], res["confirm"].to_csv(index=False))
    atomic_write_text(files["ranking"], res["ranking"].to_csv(index=False, float_format="%.6g"))
    atomic_write_text(files["html"], allocation_html(res))
    return files


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m sim.allocate``: search a study's budget splits, confirm the best, write results."""
    ap = argparse.ArgumentParser(prog="python -m sim.allocate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config-name", default="allocate_budget", help="a study in experiments/ (default %(default)s)")
    ap.add_argument("--config-dir", default=str(STUDIES), help="directory of the study (default experiments/)")
    ap.add_argument("--trials", type=int, default=None, help="splits to search (default: hydra.sweeper.n_trials)")
    ap.add_argument("--seeds", type=int, default=3, help="replications per searched split (default %(default)s)")
    ap.add_argument("--confirm", type=int, default=5, help="best splits to confirm (default %(default)s)")
    ap.add_argument("--confirm-seeds", type=int, default=5,
                    help="fresh seeds per confirmed split (default %(default)s)")
    ap.add_argument("--out", default=None, help="output directory (default multirun/<study>_allocation)")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("overrides", nargs="*",
                    help="Hydra overrides, e.g. market.n_customers=2000 study.total_budget=20000")
    a = ap.parse_args(argv)
    from .config import ConfigError
    try:
        res = allocate(a.config_name, a.overrides, trials=a.trials, seeds=a.seeds, confirm=a.confirm,
                       confirm_seeds=a.confirm_seeds, progress=not a.no_progress, config_dir=a.config_dir)
    except (ConfigError, ValueError, KeyError) as e:
        print(f"sim.allocate: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - Hydra's own errors (unknown study, bad override) name the problem
        if type(e).__module__.startswith(("hydra", "omegaconf")):
            print(f"sim.allocate: {e}", file=sys.stderr)
            return 2
        raise
    files = write(res, a.out or Path("multirun") / f"{a.config_name}_allocation")
    cur = res["trials"]["currency"].iloc[0] if len(res["trials"]) else None
    print(decide.verdict(res["ranking"], cur))
    print(decide.ranking_text(res["ranking"], cur))
    for k, p in files.items():
        print(f"{k}: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
