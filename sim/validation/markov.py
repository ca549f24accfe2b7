"""Customer migration as a Markov chain (Pfeifer & Carraway 2000).

Customers sit in one of S states (recency classes or ladder stages); each period a customer in
state i moves to state j with probability P[i, j] and earns margin R[i] in the state it is in.
With a per-period discount rate d, the expected discounted value of a customer by starting
state is

    V_T = sum_{t=0}^{T} (1+d)^{-t} P^t R          (finite horizon, T+1 periods booked)
    V   = (I - P/(1+d))^{-1} R                     (infinite horizon)

:func:`clv_closed_form` gives both. :class:`MarkovMigration` is the simulator's mechanism: a
strategy plug-in with no channel and no budget that, once per period, books every customer's
margin R[state] (``Market.book_margin``, discounted by the market's own ``discount(t)``) and
then moves it according to P (``Market.migrate``) with the market's counter-based random
numbers. The margin booked at period k is discounted by (1 + annual)^(-k·period/365), i.e. a
per-period rate :func:`period_rate`.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from ..strategies.base import MarketEvent


def period_rate(annual_rate: float, period_days: float) -> float:
    """Per-period discount rate equivalent to ``annual_rate`` (the market discounts by (1+d)^(-t/365))."""
    return (1.0 + annual_rate) ** (period_days / 365.0) - 1.0


def clv_closed_form(P, R, d: float, T: int | None = None) -> np.ndarray:
    """Expected discounted margin by starting state: sum_{t=0}^{T} (1+d)^{-t} P^t R, or the
    infinite-horizon (I - P/(1+d))^{-1} R when ``T`` is None."""
    P, R = np.asarray(P, float), np.asarray(R, float)
    if T is None:
        return np.linalg.solve(np.eye(P.shape[0]) - P / (1.0 + d), R)
    V = np.zeros_like(R)
    M = np.eye(P.shape[0])
    for t in range(T + 1):
        V += (1.0 + d) ** (-t) * (M @ R)
        M = M @ P
    return V


def clv_variance(P, R, d: float, T: int) -> np.ndarray:
    """Exact variance of the discounted finite-horizon value by starting state (backward
    recursion on the first two moments: W_k = R + P (W_{k+1}) / (1+d))."""
    P, R = np.asarray(P, float), np.asarray(R, float)
    g = 1.0 / (1.0 + d)
    m1 = R.copy()              # value of the last booked period (t = T)
    m2 = R ** 2
    for _ in range(T):
        n1 = R + g * (P @ m1)
        n2 = R ** 2 + 2 * g * R * (P @ m1) + g * g * (P @ m2)
        m1, m2 = n1, n2
    return m2 - m1 ** 2


def state_distribution(P, x0, t: int) -> np.ndarray:
    """Distribution over states after ``t`` periods from the initial distribution ``x0``."""
    return np.asarray(x0, float) @ np.linalg.matrix_power(np.asarray(P, float), t)


def recency_chain(p_buy, margin: float, contact_cost: float) -> tuple[np.ndarray, np.ndarray]:
    """Pfeifer & Carraway's recency model: state i = 'last purchase i periods ago' (state 1 =
    bought this period), the last state is 'inactive' (absorbing when its p_buy is 0). A
    customer in state i buys with probability p_buy[i] and returns to state 1, else ages one
    state. Margin: state 1 earns ``margin - contact_cost``; others ``-contact_cost`` while
    they are still contacted (p_buy > 0), 0 otherwise."""
    p = np.asarray(p_buy, float)
    S = p.size
    P = np.zeros((S, S))
    for i in range(S):
        P[i, 0] += p[i]
        P[i, min(i + 1, S - 1)] += 1.0 - p[i]
    R = np.where(p > 0, -contact_cost, 0.0)
    R[0] = margin - contact_cost
    return P, R


class MarkovMigration(MarketEvent):
    """Mechanism: per-period Markov migration between ladder stages with per-state margins.

    ``states`` are customer-role stages (so a move never counts as an acquisition or a
    defection); ``P`` is the row-stochastic transition matrix between them and ``R`` the margin
    per period (currency, may be negative) earned in each state. Spends nothing.
    """

    kind: ClassVar[str] = "mechanism"
    environment: ClassVar[bool] = False  # the migration is the treatment: the control has none
    every_days: float = Field(30.0, gt=0, description="length of one period, days")
    states: list[str] = Field(min_length=1)
    P: list[list[float]]
    R: list[float]

    _idx: np.ndarray | None = PrivateAttr(None)
    _pos: np.ndarray | None = PrivateAttr(None)
    _period: int = PrivateAttr(0)
    _history: list = PrivateAttr(default_factory=list)
    _cum: np.ndarray | None = PrivateAttr(None)
    _cents: np.ndarray | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _shapes(self):
        S = len(self.states)
        P = np.asarray(self.P, float)
        if P.shape != (S, S):
            raise ValueError(f"P must be {S}x{S} (one row and column per state), got shape {P.shape}")
        if (P < 0).any() or np.abs(P.sum(axis=1) - 1).max() > 1e-9:
            raise ValueError(f"P must be row-stochastic (non-negative rows summing to 1); row sums {P.sum(axis=1)}")
        if len(self.R) != S:
            raise ValueError(f"R must have one margin per state ({S}), got {len(self.R)}")
        return self

    def setup(self, market) -> None:
        """Check the states and period against the ladder and processing window, and prepare the chain.

        Builds the cumulative transition rows, the per-state margins in cents and the state index of each stage.
        """
        names = market.stage_names
        bad = [s for s in self.states if s not in names]
        if bad:
            raise ValueError(f"MarkovMigration.states: unknown stage(s) {bad}; stages are {names}")
        dt = market.cfg.engine.dt
        for what, v in (("every_days", self.every_days), ("start_day", self.start_day)):
            if abs(v / dt - round(v / dt)) > 1e-9:
                raise ValueError(f"MarkovMigration.{what} = {v:g} must be a multiple of engine.dt = {dt:g}: "
                                 f"periods run at window boundaries")
        self._idx = np.array([names.index(s) for s in self.states], dtype=np.int16)
        if (market.role[self._idx] != 2).any():
            raise ValueError("MarkovMigration.states must all be stages with role 'customer'")
        self._pos = np.full(market.n_stages, -1, dtype=np.int64)  # stage index -> state position
        self._pos[self._idx] = np.arange(len(self.states))
        self._cum = np.cumsum(np.asarray(self.P, float), axis=1)
        self._cum[:, -1] = 1.0
        self._cents = np.rint(np.asarray(self.R, float) * 100).astype(np.int64)
        self._period = 0
        self._history = []

    @property
    def history(self) -> np.ndarray:
        """Customers per state at each period, before that period's margin and move: [periods, S]."""
        return np.array(self._history, dtype=np.int64).reshape(-1, len(self.states))

    def act(self, market, t: float) -> None:
        """Book each state's margin for this period, then move customers between states with the transition matrix."""
        s = market.s
        pos = self._pos[s.stage]
        rows = np.flatnonzero(pos >= 0)
        self._history.append(np.bincount(pos[rows], minlength=len(self.states)))
        if rows.size == 0:
            return
        i = pos[rows]
        market.book_margin(rows, self._cents[i], t)
        u = market.crng.uniform(self.stream, rows, self._period)
        j = (u[:, None] > self._cum[i]).sum(axis=1)
        change = j != i
        if change.any():
            market.migrate(rows[change], self._idx[j[change]], t)
        self._period += 1
        self.count("moves", int(change.sum()))
