"""The starting population: who is in the market on day 0, with what traits and history.

Traits are drawn once from the run's population stream (``SeedSequence``): basket value
(log-normal, the skew behind the Pareto value split), purchase rate (gamma, as in
Pareto/NBD), BTYD lifetime and dropout, preferred channel, and each stage's starting
satisfaction, trust, attitude and patronage (beta around the stage's ``init`` values).
Customers already on the ladder carry a plausible recorded history (first and last purchase,
purchase count) so that the firm's CRM view has something to read from day 0.
"""
from __future__ import annotations

import math

import numpy as np

from .ladder import CUSTOMER, LEAD, LOST, Ladder
from .state import CAUSE, FOCAL, CustomerState

_BETA_CONCENTRATION = 20.0


def stage_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Whole customers per stage from shares (largest remainders get the rest)."""
    counts = np.floor(shares * n).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(shares * n - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def init_population(cfg, ladder: Ladder, s: CustomerState, g: np.random.Generator,
                    channel_share: np.ndarray, competitor_weights: np.ndarray) -> None:
    """Fill ``s`` with the day-0 population of ``cfg`` (draws from ``g`` only)."""
    n, m = s.n, cfg.market
    mix = cfg.ladder.initial_shares(m.initial_stages)
    shares = np.array([mix[nm] for nm in ladder.names])
    s.stage[:] = g.permutation(np.repeat(np.arange(ladder.n, dtype=np.int16), stage_counts(shares, n)))
    sig = m.spend_sigma
    s.spend[:] = g.lognormal(math.log(m.mean_spend) - sig * sig / 2, sig, n) if sig > 0 else m.mean_spend
    pp = m.purchase
    s.rate[:] = g.gamma(pp.r, 1.0 / pp.alpha, n)
    s.lifetime_rate[:] = g.gamma(pp.s, 1.0 / pp.beta, n)
    s.dropout[:] = g.beta(pp.a, pp.b, n)
    s.channel[:] = g.choice(len(channel_share), size=n, p=channel_share)
    for k, st in enumerate(cfg.ladder.stages):
        rows = np.flatnonzero(s.stage == k)
        if rows.size == 0:
            continue
        for attr in ("satisfaction", "trust", "attitude", "patronage"):
            mu = getattr(st.init, attr)
            if 0 < mu < 1:
                getattr(s, attr)[rows] = g.beta(mu * _BETA_CONCENTRATION, (1 - mu) * _BETA_CONCENTRATION, rows.size)
            else:
                getattr(s, attr)[rows] = mu
        s.n_purchases[rows] = st.init.purchases
        role = ladder.role[k]
        if role in (CUSTOMER, LOST):
            s.acquired_at[rows] = -g.uniform(30, 720, rows.size)
            s.acquired_via[rows] = CAUSE["initial"]
            s.n_purchases[rows] = np.maximum(s.n_purchases[rows], 1)
            s.last_purchase_at[rows] = -g.uniform(0, 60, rows.size)
        if role == LOST:
            s.churned_at[rows] = -g.uniform(0, 365, rows.size)
            s.first_churn_at[rows] = s.churned_at[rows]
            # the last purchase came before the customer left
            s.last_purchase_at[rows] = s.churned_at[rows] + s.last_purchase_at[rows]
            s.acquired_at[rows] = np.minimum(s.acquired_at[rows], s.last_purchase_at[rows])
            s.firm[rows] = 1 + g.choice(len(competitor_weights), rows.size, p=competitor_weights)
        elif role == CUSTOMER:
            s.firm[rows] = FOCAL
            s.customer_since[rows] = 0.0
        else:
            s.firm[rows] = -1
            if role == LEAD:
                s.lead_at[rows] = -g.uniform(0, 180, rows.size)
    if m.population is not None:  # a calibrated market: the real customers take the first rows
        from .calibrate.population import load, seed_rows
        seed_rows(s, load(m.population), ladder.names, ladder.names[ladder.lost], pp.kind, g)
