"""The starting population (one row per real customer) and the calibrated market config.

``population.parquet`` holds each customer's observed history (times in days relative to the
simulation start, so negative), its ladder placement, and its fitted individual parameters:
P(alive) and the posterior distributions of its purchase rate, dropout and spend
(:func:`sim.calibrate.fit.posterior`, :func:`sim.calibrate.fit.spend_posterior`).

:func:`seed_rows` turns those rows into simulated customers: each is alive with its P(alive);
alive, it is placed on its customer step (by its purchase count) and buys with a rate drawn
from its posterior; otherwise it starts in the lost stage (it dropped out at its last purchase,
the BG/NBD convention, used for Pareto/NBD too). So the simulated base continues the fitted
model conditionally on what each customer did, not from the population average.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .fit import ArrivalFit, PurchaseFit, SpendFit
from .ladder import PlacementRules, step_by_count

POPULATION_COLUMNS = (
    "customer_id", "n_purchases", "first_purchase_day", "last_purchase_day", "revenue", "repeat_purchases",
    "stage", "stage_if_alive", "p_alive", "purchase_rate", "post_r", "post_alpha", "post_a", "post_b", "post_s",
    "post_beta",
    "spend", "gg_p", "gg_shape", "gg_rate")

CONSTANT_DECAY = 0.05   # constant arrivals: the pool's hazard uses up 5 % of it over the horizon


def market_config(purchase: PurchaseFit, spend: SpendFit, arrivals: ArrivalFit, *, n_real: int, days: float,
                  start_date: str, population: str | None, source: str | None) -> tuple[dict, int]:
    """The market section of the calibrated config, and the number of pool rows (future
    customers) behind the real ones. Rates are per day.

    * purchase: the chosen model's fitted parameters (``market.purchase``);
    * spend: a new customer's basket value is log-normal with the Gamma-Gamma population mean
      p gamma/(q-1) and the log-sd that gives its coefficient of variation 1/sqrt(q-2)
      (q <= 2: infinite variance, capped at the schema's maximum 4); each purchase varies
      around it with log-sd sqrt(ln(1 + 1/p)), the Gamma(p, nu) amount's CV 1/sqrt(p);
    * arrivals: Bass p, q over a pool of m - (customers seen) suspects; a constant rate c as a
      pool of c D / (1 - e^-0.05) suspects with hazard 0.05 / D, so the arrival rate stays within
      +-2.5 % of c over the horizon D; a closed cohort has no pool.
    """
    pp = {"kind": purchase.kind, **{k: float(v) for k, v in purchase.params.items()}}
    p, q = spend.params["p"], spend.params["q"]
    cv2 = 1.0 / (q - 2.0) if q > 2 else float("inf")
    spend_sigma = min(math.sqrt(math.log1p(cv2)), 4.0) if math.isfinite(cv2) else 4.0
    pool, innovation, imitation = 0, 0.0, 0.0
    if arrivals.kind == "bass":
        pool = int(round(arrivals.remaining(n_real)))
        innovation, imitation = arrivals.params["p"], arrivals.params["q"]
    elif arrivals.kind == "constant":
        c = arrivals.params["rate"]
        pool = int(math.ceil(c * days / (1 - math.exp(-CONSTANT_DECAY))))
        innovation = CONSTANT_DECAY / days
    m = {
        "n_customers": int(n_real + pool),
        "days": float(days),
        "start_date": start_date,
        "initial_stages": {"suspect": 1.0} if pool > 0 else {"first_time_buyer": 1.0},
        "mean_spend": float(spend.mean_spend) if math.isfinite(spend.mean_spend) else float(spend.params["gamma"]),
        "spend_sigma": float(spend_sigma),
        "basket_noise": float(min(math.sqrt(math.log1p(1.0 / p)), 2.0)),
        "purchase": pp,
        "innovation": float(min(innovation, 1.0)),
        "imitation": float(min(imitation, 10.0)),
        "conversion": 0.0,
        "defection": 0.0,
        "defection_sensitivity": 0.0,
        "reference_satisfaction": 0.65,
        "natural_return": 0.0,
        "competitors": [{"name": "Competitor A", "attractiveness": 1.0},
                        {"name": "Competitor B", "attractiveness": 1.0}],
    }
    if population is not None:
        m["population"] = population
    if source is not None:
        m["source"] = source
    return m, pool


def load(path) -> pd.DataFrame:
    """Read a population file, checking its columns."""
    pop = pd.read_parquet(path)
    missing = [c for c in POPULATION_COLUMNS if c not in pop.columns]
    if missing:
        raise ValueError(f"{path}: not a population file written by sim.calibrate (missing columns {missing})")
    return pop


def seed_rows(s, pop: pd.DataFrame, stage_names: list[str], lost_stage: str, kind: str,
              g: np.random.Generator) -> np.ndarray:
    """Overwrite rows 0..len(pop)-1 of the customer state ``s`` with the real customers (see
    the module docstring), drawing from ``g`` only. Returns those rows; the caller (re)starts
    their clocks."""
    from ..state import CAUSE, FOCAL
    k = len(pop)
    if k > s.n:
        from ..config import ConfigError
        raise ConfigError(f"market.population has {k} customers but market.n_customers is {s.n}")
    unknown = sorted(set(pop["stage_if_alive"]) - set(stage_names))
    if unknown:
        from ..config import ConfigError
        raise ConfigError(f"market.population places customers on stages {unknown} that the ladder lacks "
                         f"(stages: {stage_names})")
    rows = np.arange(k)
    col = {c: pop[c].to_numpy() for c in pop.columns}
    alive = g.random(k) < col["p_alive"]
    s.rate[rows] = g.gamma(col["post_r"], 1.0 / col["post_alpha"])
    if kind == "bgnbd":
        s.dropout[rows] = g.beta(col["post_a"], col["post_b"])
    elif kind == "pareto_nbd":
        s.lifetime_rate[rows] = g.gamma(col["post_s"], 1.0 / col["post_beta"])
    s.spend[rows] = col["gg_p"] / g.gamma(col["gg_shape"], 1.0 / col["gg_rate"])
    idx = {nm: i for i, nm in enumerate(stage_names)}
    alive_stage = np.array([idx[n] for n in col["stage_if_alive"]], dtype=s.stage.dtype)
    s.stage[rows] = np.where(alive, alive_stage, idx[lost_stage])
    s.n_purchases[rows] = col["n_purchases"]
    s.acquired_at[rows] = col["first_purchase_day"]
    s.acquired_via[rows] = CAUSE["initial"]
    s.last_purchase_at[rows] = col["last_purchase_day"]
    s.firm[rows] = np.where(alive, FOCAL, 1 + g.integers(0, 2, k))
    s.churned_at[rows] = np.where(alive, np.nan, col["last_purchase_day"])
    s.first_churn_at[rows] = s.churned_at[rows]
    s.customer_since[rows] = np.where(alive, 0.0, np.nan)   # spells at risk are counted from the start
    s.revenue[rows] = np.rint(col["revenue"] * 100).astype(np.int64)   # the firm's records: the history
    s.lead_at[rows] = np.nan
    s.h_expose[rows] = np.inf
    s.t_buy[rows] = np.inf
    s.r_buy[rows] = 0.0
    s.t_move[rows] = np.inf
    s.r_move[rows] = 0.0
    return rows


def population_frame(R: pd.DataFrame, post: pd.DataFrame, spost: pd.DataFrame, spend: SpendFit,
                     stages: np.ndarray, sim_start_day: float, rules: PlacementRules,
                     customer_stages: list[str]) -> pd.DataFrame:
    """One row per real customer (schema :data:`POPULATION_COLUMNS`). ``stage_if_alive`` is
    the customer step it holds in the simulation if the model has it alive: its observed
    stage, or for a customer observed as lapsed the step its purchase count gives."""
    out = pd.DataFrame({
        "customer_id": R.index.astype(str),
        "n_purchases": R["n"].to_numpy(np.int64),
        "first_purchase_day": (R["b"] - sim_start_day).to_numpy(float),
        "last_purchase_day": (R["last"] - sim_start_day).to_numpy(float),
        "revenue": R["revenue"].to_numpy(float),
        "repeat_purchases": R["x"].to_numpy(np.int64),
        "stage": np.asarray(stages, dtype=object).astype(str),
    })
    by_count = np.array(customer_stages, dtype=object)[
        np.minimum(step_by_count(R["n"].to_numpy(), rules), len(customer_stages) - 1)]
    out["stage_if_alive"] = np.where(np.isin(out["stage"], customer_stages), out["stage"], by_count).astype(str)
    for c in ("p_alive", "purchase_rate", "post_r", "post_alpha", "post_a", "post_b", "post_s", "post_beta"):
        out[c] = post[c].to_numpy(float) if c in post else np.nan
    out["spend"] = spost["spend"].to_numpy(float)
    out["gg_p"] = float(spend.params["p"])
    out["gg_shape"] = spost["gg_shape"].to_numpy(float)
    out["gg_rate"] = spost["gg_rate"].to_numpy(float)
    return out[list(POPULATION_COLUMNS)]


__all__ = ["POPULATION_COLUMNS", "load", "market_config", "population_frame", "seed_rows"]
