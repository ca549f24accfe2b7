"""The calibration, start to finish: log → fits → placement → population and market config →
(holdout simulation) → calibration.json, calibration.html, holdout.csv."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import fit as F
from . import holdout as HO
from .ladder import STEP_NAMES, PlacementRules, calibrated_ladder, place
from .log import read_log
from .population import market_config, population_frame

MARKET_NAME = "calibrated"


@dataclass
class Options:
    """Options of a calibration: the log's columns, holdout, simulation replications and horizon, seed and models."""

    customer_col: str = "customer_id"
    date_col: str = "date"
    amount_col: str = "amount"
    holdout_start: str | None = None
    replications: int = 20
    days: float = 365.0          # horizon of the calibrated market when there is no holdout
    seed: int = 0
    models: tuple = ("bgnbd", "pareto_nbd")
    rules: PlacementRules = field(default_factory=PlacementRules)
    progress: bool = True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def calibrate(log_path, out_dir, opts: Options | None = None) -> dict:
    """Run the whole calibration; returns the content of ``calibration.json``."""
    from tqdm.auto import tqdm

    from ..outputs import atomic_write_json, atomic_write_parquet, atomic_write_text
    opts = opts or Options()
    log_path, out = Path(log_path).resolve(), Path(out_dir).resolve()
    steps = ["read log", "fit purchases", "fit spend and arrivals", "place customers"]
    if opts.holdout_start:
        steps.append("simulate holdout")
    steps.append("write report")
    bar = tqdm(total=len(steps), desc="calibrate", unit="step", disable=not opts.progress)

    def step(name):
        bar.set_postfix_str(name)
    step(steps[0])
    tx, rep = read_log(log_path, opts.customer_col, opts.date_col, opts.amount_col)
    start = tx["date"].min()
    log_end = tx["date"].max() + pd.Timedelta(days=1)      # observation ends after the last logged day
    if opts.holdout_start:
        try:
            H = pd.Timestamp(opts.holdout_start).normalize()
        except (ValueError, TypeError):
            raise CalibrationError(f"--holdout-start {opts.holdout_start!r} is not a date") from None
        if not (start < H < log_end):
            raise CalibrationError(f"--holdout-start {H.date()} must fall inside the log, after {start.date()} and "
                          f"on or before {tx['date'].max().date()}")
    else:
        H = log_end
    R = F.rfm(tx, start, H)
    if len(R) < 10:
        raise CalibrationError(f"only {len(R)} customers bought before {H.date()}; the models need more")
    bar.update(1)
    step(steps[1])
    best, fits = F.fit_purchases(R["x"], R["t_x"], R["T"], kinds=opts.models)
    bar.update(1)
    step(steps[2])
    try:
        spend = F.fit_spend(R["x"], R["mbar"])
    except ValueError as e:
        raise CalibrationError(str(e)) from None
    H_day = float((H - start).days)
    arrivals = F.fit_arrivals(R["b"], H_day)
    bar.update(1)
    step(steps[3])
    post = F.posterior(best, R["x"], R["t_x"], R["T"])
    spost = F.spend_posterior(spend, R["x"], R["mbar"])
    days_since_last = H_day - R["last"].to_numpy(float)
    stages = place(R["n"].to_numpy(), days_since_last, opts.rules, list(STEP_NAMES), "churned")
    pop = population_frame(R, post, spost, spend, stages, H_day, opts.rules, list(STEP_NAMES))
    horizon = float((log_end - H).days) if opts.holdout_start else float(opts.days)
    pop_path = out / "population.parquet"
    market, pool = market_config(best, spend, arrivals, n_real=len(pop), days=horizon, start_date=str(H.date()),
                                 population=str(pop_path), source=str(log_path))
    ladder = calibrated_ladder(opts.rules, arrivals=pool > 0)
    bar.update(1)

    result = {
        "log": {**rep.as_dict(), "sha256": _sha256(log_path)},
        "calibration_period": {"start": str(start.date()), "end_exclusive": str(H.date()), "days": H_day,
                               "customers": int(len(R)), "repeat_transactions": int(R["x"].sum())},
        "purchase_model": {"chosen": best.kind,
                           "criterion": "lowest AIC = 2k - 2 log L on the calibration period (k = 4 for both)",
                           "units": "days (alpha, beta in days); *_weekly: weeks as in FHL 2005",
                           "fits": {k: {"params": f.params, "se": f.se, "params_weekly": f.weekly()[0],
                                        "se_weekly": f.weekly()[1], "loglik": f.loglik, "aic": f.aic,
                                        "converged": f.converged} for k, f in fits.items()}},
        "spend_model": {"kind": "gamma_gamma", "params": spend.params, "se": spend.se, "loglik": spend.loglik,
                        "customers": spend.n, "mean_spend": spend.mean_spend, "converged": spend.converged,
                        "input": "mean repeat-transaction amount of customers with repeats and a positive mean"},
        "arrivals": {"kind": arrivals.kind, "params": arrivals.params, "se": arrivals.se, "aic": arrivals.aic,
                     "reason": arrivals.reason, "first_purchases": arrivals.first_purchases,
                     "pool_customers": pool},
        "placement": {"rules": opts.rules.as_dict(), "described": opts.rules.describe(),
                      "counts": {k: int(v) for k, v in pd.Series(stages).value_counts().items()},
                      "expected_alive": float(pop["p_alive"].sum())},
        "market": {"config": str(out / f"{MARKET_NAME}.yaml"),
                   "market_config": str(out / "market" / f"{MARKET_NAME}.yaml"),
                   "population": str(pop_path), "days": horizon, "start_date": str(H.date()),
                   "select_with": f"python -m sim --config-dir {out} --config-name {MARKET_NAME}"},
    }

    # the model over the whole log, from each customer's birth (calibration fit and tracking)
    n_weeks_all = int(math.ceil(((log_end - start).days) / 7))
    birth = HO.simulate_from_birth(best, R["b"].to_numpy(), float((log_end - start).days),
                                   replications=max(opts.replications, 5), seed=opts.seed)
    actual_days = HO.actual_repeat_days(tx, start)
    tracking = pd.DataFrame({"week": np.arange(n_weeks_all),
                             "week_start": [str((start + pd.Timedelta(days=7 * w)).date()) for w in range(n_weeks_all)],
                             "actual_repeat": HO.weekly_counts(actual_days, n_weeks_all)})
    bw = np.array([HO.weekly_counts(d, n_weeks_all) for _, d in birth])
    tracking["model_repeat"] = bw.mean(0)
    tracking["model_low"], tracking["model_high"] = np.percentile(bw, 5, 0), np.percentile(bw, 95, 0)
    cw = np.cumsum(bw, axis=1)   # a band of cumulative totals comes from each replication's running total
    tracking["model_cum_low"], tracking["model_cum_high"] = np.percentile(cw, 5, 0), np.percentile(cw, 95, 0)
    # frequency histogram over the calibration period: actual vs model (from birth)
    top = 7
    hist_act = np.bincount(np.minimum(R["x"].to_numpy(int), top), minlength=top + 1)
    hist_sim = [np.bincount(np.minimum(np.bincount(c[d < H_day], minlength=len(R)), top), minlength=top + 1)
                for c, d in birth]
    freq = pd.DataFrame({"x": [str(k) if k < top else f"{top}+" for k in range(top + 1)],
                         "actual": hist_act, "model": np.mean(hist_sim, axis=0)})

    holdout_df = cond = holdout_cum = None
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(pop_path, pop)
    if opts.holdout_start:
        step("simulate holdout")
        n_weeks = int(math.ceil(horizon / 7))
        simr = HO.simulate_engine(market, ladder, pop_path, pop, replications=opts.replications, seed=opts.seed,
                                  n_weeks=n_weeks, progress=opts.progress)
        hold_days = actual_days - H_day
        actual_w = HO.weekly_counts(hold_days, n_weeks)
        holdout_df = HO.holdout_table(H, actual_w, simr["weekly"])
        offset = float(actual_days[actual_days < H_day].size)
        cum = offset + np.cumsum(simr["weekly"], axis=1)
        holdout_cum = pd.DataFrame({"week_start": holdout_df["week_start"], "mean": cum.mean(0),
                                    "low": np.percentile(cum, 5, 0), "high": np.percentile(cum, 95, 0)})
        fut = tx[(tx["date"] >= H)].groupby("customer_id").size().reindex(R.index, fill_value=0).to_numpy(float)
        cond = HO.conditional_expectations(R["x"].to_numpy(), fut, simr["per_customer"].mean(0))
        hb = np.array([HO.weekly_counts(d - H_day, n_weeks) for _, d in birth])
        actual_rev = float(tx.loc[tx["date"] >= H, "amount"].sum())
        result["holdout"] = {
            "start": str(H.date()), "end_exclusive": str(log_end.date()), "days": horizon, "weeks": n_weeks,
            "replications": opts.replications,
            "cumulative_repeat": HO.cumulative_error(actual_w, simr["weekly"]),
            "cumulative_repeat_model_from_birth": HO.cumulative_error(actual_w, hb),
            "revenue": {"actual": actual_rev, "simulated": float(simr["revenue"].mean()),
                        "error_pct": 100 * (float(simr["revenue"].mean()) - actual_rev) / actual_rev
                        if actual_rev > 0 else math.nan},
            "note": ("cumulative_repeat: the engine started from the real customers (conditional on each "
                     "history); cumulative_repeat_model_from_birth: the fitted model run from each first purchase"),
        }
        bar.update(1)

    step("write report")
    atomic_write_text(out / "market" / f"{MARKET_NAME}.yaml", _market_yaml(market, ladder, result))
    atomic_write_text(out / f"{MARKET_NAME}.yaml", _run_yaml(opts.rules, result))
    if holdout_df is not None:
        HO.write_csv(holdout_df, out / "holdout.csv")
    from .report import write_report
    write_report(out / "calibration.html", result, fits, best, spend, arrivals, tracking, freq, holdout_df, cond,
                 holdout_cum=holdout_cum)
    atomic_write_json(out / "calibration.json", result)
    bar.update(1)
    bar.close()
    return result


def _market_yaml(market: dict, ladder: dict, result: dict) -> str:
    """``market/calibrated.yaml``: the market and its ladder (a ``_global_`` package, so that
    selecting the market selects its ladder too)."""
    head = (f"# @package _global_\n"
            f"# Calibrated market from {result['log']['path']} (sha256 {result['log']['sha256'][:12]}),\n"
            f"# fitted on {result['calibration_period']['start']} .. {result['calibration_period']['end_exclusive']}"
            f" (exclusive) by python -m sim.calibrate. Run it with:\n"
            f"#   {result['market']['select_with']}\n"
            f"# Purchases: {result['purchase_model']['chosen']} (per-day rates); spend: Gamma-Gamma; arrivals: "
            f"{result['arrivals']['kind']}. Every figure comes from calibration.json.\n")
    return head + yaml.safe_dump({"market": market, "ladder": ladder}, sort_keys=False, allow_unicode=True)


def _run_yaml(rules: PlacementRules, result: dict) -> str:
    """``calibrated.yaml``: the project's config with the calibrated market, the firm's lapse
    rule set to the placement's, and no fixed overheads (a log does not record them). A primary
    config, so that its settings come after ``sim/configs/config.yaml``'s own."""
    return (f"# The project's run config with the market calibrated from {result['log']['path']}. Run it with:\n"
            f"#   {result['market']['select_with']} [strategy=...] [other overrides]\n"
            + yaml.safe_dump({
                "defaults": ["config", {"override /market": MARKET_NAME}, "_self_"],
                "crm": {"lapsed_after_days": float(rules.lapsed_days)},
                "economics": {"fixed_cost_per_month": 0.0},
            }, sort_keys=False)
            + "# fixed_cost_per_month: a transaction log has no overheads; "
              "set yours to see the firm's operating profit\n")


class CalibrationError(ValueError):
    """A calibration request that cannot be met (exit 2)."""
