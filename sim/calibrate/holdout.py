"""Simulating the calibrated market and comparing it with the log, week by week.

Two simulations, both over several replications:

* :func:`simulate_engine`: the project's engine (``sim.run.build``, no strategy) started from the
  real customers (:mod:`sim.calibrate.population`) at the simulation start and run for the
  holdout span: the digital twin's forecast, conditional on each customer's history;
* :func:`simulate_from_birth`: the fitted model alone, every customer drawn from the population
  distribution at its real first purchase and run over the whole log (FHL 2005's tracking
  plot): the check of the fit over the calibration period, and its unconditional forecast.

Repeat transactions are purchases after a customer's first (same-day purchases collapsed).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .fit import PurchaseFit


def weekly_counts(days: np.ndarray, n_weeks: int) -> np.ndarray:
    """Counts per 7-day bin of times in days since the bins' start, over ``n_weeks`` bins."""
    d = np.asarray(days, float)
    d = d[(d >= 0) & (d < n_weeks * 7)]
    return np.bincount((d // 7).astype(int), minlength=n_weeks)[:n_weeks].astype(float)


def actual_repeat_days(tx: pd.DataFrame, start: pd.Timestamp) -> np.ndarray:
    """Days (since ``start``) of every repeat transaction in the collapsed log."""
    d = tx.sort_values(["customer_id", "date"])
    rep = d["customer_id"].duplicated(keep="first").to_numpy()
    return (d["date"][rep] - start).dt.days.to_numpy(float)


def same_day_collapsed(cid: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A simulated log counted like a real one: one transaction per customer and day (the
    day's first purchase time), so simulated and actual counts follow the same convention."""
    if cid.size == 0:
        return cid, t
    day = np.floor(t)
    order = np.lexsort((t, day, cid))
    c, d = cid[order], day[order]
    keep = np.r_[True, (c[1:] != c[:-1]) | (d[1:] != d[:-1])]
    return c[keep], t[order][keep]


def engine_config(market: dict, ladder: dict, *, seed: int, replication: int, strategy: str = "none",
                  crm: dict | None = None):
    """A validated run config: the project's defaults (``sim/configs/config.yaml``) with the
    calibrated market and ladder, no paired control, no progress bar."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from ..config import CONFIG_DIR, validate
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        c = compose("config", overrides=[f"strategy={strategy}"])
    d = OmegaConf.to_container(c, resolve=True)
    d.pop("hydra", None)
    d["market"] = dict(market)
    d["ladder"] = ladder
    if crm:
        d.setdefault("crm", {}).update(crm)
    d.update(seed=int(seed), replication=int(replication), paired_control=False)
    d["engine"]["progress"] = False
    return validate(d)


def simulate_engine(market: dict, ladder: dict, pop_path, pop: pd.DataFrame, *, replications: int, seed: int,
                    n_weeks: int, progress: bool = True) -> dict:
    """Run the engine (no strategy) ``replications`` times from the population file
    ``pop_path`` (``market.population``: the engine places the real customers itself); per
    replication the weekly repeat transactions (purchases of real customers, and of new
    customers after their first) and each real customer's purchase count over the horizon."""
    from tqdm.auto import tqdm

    from ..run import build
    k = len(pop)
    weekly = np.zeros((replications, n_weeks))
    per_cust = np.zeros((replications, k))
    revenue = np.zeros(replications)
    for rep in tqdm(range(replications), desc="holdout simulation", unit="run", disable=not progress):
        cfg = engine_config({**market, "population": str(pop_path)}, ladder, seed=seed, replication=rep)
        m = build(cfg, with_strategies=False, materialize=False).run(progress=False)
        cid, t, cents, _ = m.transactions()
        cid, t = same_day_collapsed(cid, t)
        new = cid >= k
        # a new customer's first simulated purchase is its first purchase, not a repeat
        order = np.lexsort((t, cid))
        first_of_new = np.zeros(cid.size, bool)
        sc = cid[order]
        firsts = np.r_[True, sc[1:] != sc[:-1]]
        first_of_new[order[firsts]] = True
        repeat = ~(new & first_of_new)
        weekly[rep] = weekly_counts(t[repeat], n_weeks)
        per_cust[rep] = np.bincount(cid[~new], minlength=k)[:k]
        revenue[rep] = cents.sum() / 100.0
    return {"weekly": weekly, "per_customer": per_cust, "revenue": revenue}


def simulate_from_birth(fit: PurchaseFit, birth_days: np.ndarray, end_day: float, *, replications: int,
                        seed: int) -> np.ndarray:
    """Repeat transactions of the fitted model with every customer born at its real first
    purchase: per replication, (customer index, day since the log's start) arrays."""
    out = []
    b = np.asarray(birth_days, float)
    n = b.size
    for rep in range(replications):
        g = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rep, 29)))
        p = fit.params
        lam = g.gamma(p["r"], 1.0 / p["alpha"], n)
        horizon = end_day - b
        if fit.kind == "pareto_nbd":
            mu = g.gamma(p["s"], 1.0 / p["beta"], n)
            life = g.exponential(1.0, n) / np.maximum(mu, 1e-300)
            stop = np.minimum(horizon, life)
            k = g.poisson(lam * stop)
            idx = np.repeat(np.arange(n), k)
            times = b[idx] + g.random(idx.size) * stop[idx]
            who = idx
        else:
            drop = g.beta(p["a"], p["b"], n)
            t = np.zeros(n)
            alive = np.ones(n, bool)
            chunks, whos = [], []
            while alive.any():
                i = np.flatnonzero(alive)
                t[i] += g.exponential(1.0, i.size) / np.maximum(lam[i], 1e-300)
                buy = t[i] < horizon[i]
                chunks.append(b[i[buy]] + t[i[buy]])
                whos.append(i[buy])
                alive[i[~buy]] = False
                dies = buy & (g.random(i.size) < drop[i])
                alive[i[dies]] = False
            times = np.concatenate(chunks) if chunks else np.zeros(0)
            who = np.concatenate(whos) if whos else np.zeros(0, int)
        who, times = same_day_collapsed(np.asarray(who, np.int64), np.floor(times))
        # a repeat purchase on the day of the first one merges into it
        same_as_birth = times == np.floor(b[who])
        out.append((who[~same_as_birth], times[~same_as_birth]))   # a log has days: a purchase counts on its day
    return out


def holdout_table(start: pd.Timestamp, actual: np.ndarray, sim_weekly: np.ndarray) -> pd.DataFrame:
    """The ``holdout.csv`` table: week_start, actual_repeat, simulated_repeat (mean over
    replications), simulated_low / simulated_high (5th and 95th percentiles: a 90 % band)."""
    n = actual.size
    return pd.DataFrame({
        "week_start": [str((start + pd.Timedelta(days=7 * w)).date()) for w in range(n)],
        "actual_repeat": actual.astype(int),
        "simulated_repeat": sim_weekly.mean(axis=0),
        "simulated_low": np.percentile(sim_weekly, 5, axis=0),
        "simulated_high": np.percentile(sim_weekly, 95, axis=0),
    })


def cumulative_error(actual: np.ndarray, sim_weekly: np.ndarray) -> dict:
    """Error of the cumulative holdout total: simulated mean minus actual, absolute and in %,
    with the 90 % band of the simulated total."""
    a = float(actual.sum())
    tot = sim_weekly.sum(axis=1)
    s = float(tot.mean())
    return {"actual": a, "simulated": s, "error": s - a, "error_pct": 100.0 * (s - a) / a if a > 0 else math.nan,
            "simulated_low": float(np.percentile(tot, 5)), "simulated_high": float(np.percentile(tot, 95)),
            "weekly_mape_pct": float(100 * np.mean(np.abs(sim_weekly.mean(0) - actual) / np.maximum(actual, 1)))}


def conditional_expectations(x_cal: np.ndarray, actual_future: np.ndarray, sim_future: np.ndarray,
                             top: int = 7) -> pd.DataFrame:
    """Mean future purchases per customer by repeat purchases in the calibration period
    (x = 0 .. top-1, and top+), actual and simulated (FHL 2005 Figure 4)."""
    grp = np.minimum(np.asarray(x_cal, int), top)
    rows = []
    for k in range(top + 1):
        m = grp == k
        if not m.any():
            continue
        rows.append({"x": f"{k}+" if k == top else str(k), "customers": int(m.sum()),
                     "actual": float(actual_future[m].mean()), "simulated": float(sim_future[m].mean())})
    return pd.DataFrame(rows)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` as CSV without the index, atomically."""
    from ..outputs import atomic_write_text
    atomic_write_text(Path(path), df.to_csv(index=False))
