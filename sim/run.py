"""Run a configured simulation (and its paired no-action control) and write its outputs."""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from . import metrics
from .config import SimConfig, validate
from .market import Market
from .outputs import SUMMARY, atomic_write_json, finished_summary, write_outputs
from .strategies import build_strategies


def strategies_for(cfg: SimConfig, *, with_strategies: bool = True) -> list:
    """The plug-ins of a validated config, checked against its ladder and channels; without
    strategies (the no-action control) only market events (``environment`` plug-ins) stay."""
    strategies = build_strategies(cfg.strategy, [s.name for s in cfg.ladder.stages], list(cfg.channels),
                                  [s.role for s in cfg.ladder.stages])
    return strategies if with_strategies else [s for s in strategies if s.environment]


def build(cfg: SimConfig | Any, *, with_strategies: bool = True, mode: str | None = None,
          materialize: bool | None = None) -> Market:
    """A ready (not yet run) market. Validates first: nothing is built from a bad config."""
    if not isinstance(cfg, SimConfig):
        cfg = validate(cfg)
    return Market(cfg, strategies_for(cfg, with_strategies=with_strategies), mode=mode, materialize=materialize)


def simulate(cfg: SimConfig | Any, *, with_strategies: bool = True, mode: str | None = None,
             progress: bool | None = None, desc: str = "simulating") -> Market:
    return build(cfg, with_strategies=with_strategies, mode=mode).run(progress=progress, desc=desc)


def _holdout_estimates(m: Market) -> dict[str, dict]:
    """In-run control groups: treated vs held-out customers of each strategy with a holdout."""
    s = m.s
    value = (s.margin - s.service_cost).astype(float) / 100.0
    out = {}
    for st in m.strategies:
        if getattr(st, "holdout", 0) <= 0:
            continue
        tr, ho = metrics.strategy_groups(m, st)
        spend = st.ledger.spent / 100.0
        if tr.sum() == 0 or ho.sum() == 0:
            out[st.name] = {"treated": int(tr.sum()), "held_out": int(ho.sum())}
            continue
        diff = value[tr].mean() - value[ho].mean()
        se = math.sqrt(value[tr].var(ddof=1) / max(tr.sum(), 2) + value[ho].var(ddof=1) / max(ho.sum(), 2)) \
            if tr.sum() > 1 and ho.sum() > 1 else float("nan")
        incr = diff * tr.sum()
        out[st.name] = {
            "treated": int(tr.sum()), "held_out": int(ho.sum()),
            "uplift_per_customer": float(diff), "uplift_se": float(se),
            "incremental_profit": float(incr),
            "roi": float((incr - spend) / spend) if spend > 0 else float("nan"),
        }
    return out


def paired(treated: dict, control: dict) -> dict:
    """The strategies against the no-action control under common random numbers.

    ROI is defined once, here: (incremental profit before strategy cost − strategy cost) /
    strategy cost, where strategy cost is the marketing spend the strategies added. Fixed
    overheads are the same in both runs and cancel.
    """
    cost = treated["marketing_spend"] - control["marketing_spend"]
    net = treated["profit"] - control["profit"]
    return {
        "control_profit": control["profit"],
        "control_revenue": control["revenue"],
        "control_churn_rate_annual": control["churn_rate_annual"],
        "control_customers_end": control["customers_end"],
        "control_mean_clv": control["mean_clv"],
        "control_stage_counts_end": control["stage_counts_end"],
        "strategy_cost": cost,
        "incremental_profit": net + cost,  # before strategy cost
        "incremental_net_profit": net,
        "roi_vs_control": net / cost if cost > 0 else float("nan"),
        "incremental_revenue": treated["revenue"] - control["revenue"],
        "churn_rate_change": treated["churn_rate_annual"] - control["churn_rate_annual"],
        "customers_end_change": treated["customers_end"] - control["customers_end"],
    }


def run(cfg: SimConfig | Any, out_dir: str | os.PathLike, *, progress: bool | None = None) -> dict:
    """Validate, simulate (treated, then the paired control), write every output, return the summary.

    The summary (``summary.json``) is written last and atomically: its presence marks a
    finished run; an interrupted run leaves no summary (and no half-written file).
    """
    if not isinstance(cfg, SimConfig):
        cfg = validate(cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    market = build(cfg)
    market.run(progress=progress, desc="treated")
    summ = metrics.summary(market)
    summ["holdout"] = _holdout_estimates(market)
    if cfg.paired_control and any(not s.environment for s in market.strategies):
        ctrl = build(cfg, with_strategies=False).run(progress=progress, desc="control")
        control_summary = metrics.summary(ctrl)
        summ["paired"] = paired(summ, control_summary)
        summ["roi"] = summ["paired"]["roi_vs_control"]
        control_ts = metrics.timeseries(ctrl)
    else:
        control_ts = None
    summ["seed"] = {
        "seed": cfg.seed, "replication": cfg.replication,
        "entropy": int(market.seed_seq.entropy), "spawn_key": list(market.seed_seq.spawn_key),
        "counter_rng_key": str(market.key),
    }
    summ["status"] = "complete"
    write_outputs(market, out, summ, control_ts=control_ts)
    atomic_write_json(out / "config.json", cfg.model_dump(mode="json", by_alias=True))
    atomic_write_json(out / SUMMARY, summ)  # last: marks the run finished
    summ["elapsed_seconds"] = round(time.perf_counter() - t0, 3)  # not written: outputs stay byte-identical
    return summ


def is_finished(out_dir: str | os.PathLike) -> bool:
    return finished_summary(out_dir) is not None
