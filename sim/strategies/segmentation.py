"""Segmentation: RFM, value (Pareto) and ladder stage.

A segmenter is used inside an acting strategy (its ``segment:``) to choose and order the
customers it contacts, or on its own through :class:`Segmentation`, which records segment
sizes over the run (the "analyse" step of Russell's web-CRM cycle, 003).
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from .base import Segmenter, Strategy

RFM_SEGMENTS = ("champions", "loyal", "potential", "new", "at_risk", "hibernating", "other")


def _quintile(x: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 by rank (ties broken by position, so the split is even)."""
    if x.size == 0:
        return np.zeros(0, dtype=np.int8)
    order = np.argsort(x if higher_is_better else -x, kind="stable")
    ranks = np.empty(x.size, dtype=np.int64)
    ranks[order] = np.arange(x.size)
    return (1 + (5 * ranks) // x.size).astype(np.int8)


class RFM(Segmenter):
    """Recency, frequency, monetary quintile scores of current and former customers.

    Named cells (a common convention): champions R≥4 F≥4; loyal F≥4; new R≥4 F≤1;
    potential R≥3 F≤3; at_risk R≤2 F≥3; hibernating R≤2 F≤2; other.
    """

    select_segments: list[Literal["champions", "loyal", "potential", "new", "at_risk", "hibernating", "other"]] = \
        Field(default_factory=lambda: ["at_risk"])
    order_by: Literal["monetary", "recency", "frequency"] = "monetary"

    def scores(self, market, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = market.s
        rec = market.now - np.nan_to_num(s.last_purchase_at[rows], nan=-1e9)
        return (_quintile(rec, higher_is_better=False), _quintile(s.n_purchases[rows].astype(float)),
                _quintile(s.revenue[rows].astype(float)))

    def cells(self, market, rows: np.ndarray) -> np.ndarray:
        r, f, _ = self.scores(market, rows)
        out = np.full(rows.size, RFM_SEGMENTS.index("other"), dtype=np.int8)
        rules = [("hibernating", (r <= 2) & (f <= 2)), ("at_risk", (r <= 2) & (f >= 3)),
                 ("potential", (r >= 3) & (f <= 3)), ("new", (r >= 4) & (f <= 1)),
                 ("loyal", f >= 4), ("champions", (r >= 4) & (f >= 4))]
        for name, m in rules:  # later rules win
            out[m] = RFM_SEGMENTS.index(name)
        return out

    def _known(self, market) -> np.ndarray:
        return np.flatnonzero(~np.isnan(market.s.acquired_at))

    def labels(self, market) -> np.ndarray:
        lab = np.full(market.n, -1, dtype=np.int8)
        rows = self._known(market)
        lab[rows] = self.cells(market, rows)
        return lab

    def select(self, market, rows: np.ndarray) -> np.ndarray:
        known = self._known(market)
        cells = np.full(market.n, -1, dtype=np.int8)
        cells[known] = self.cells(market, known)
        want = np.isin(cells[rows], [RFM_SEGMENTS.index(n) for n in self.select_segments])
        rows = rows[want]
        key = {"monetary": -market.s.revenue[rows].astype(float),
               "recency": -np.nan_to_num(market.s.last_purchase_at[rows], nan=-1e9),
               "frequency": -market.s.n_purchases[rows].astype(float)}[self.order_by]
        return rows[np.argsort(key, kind="stable")]


class ValueSegment(Segmenter):
    """Pareto split: the top ``top_share`` of customers by value, or the rest."""

    top_share: float = Field(0.2, gt=0, le=1)
    by: Literal["revenue", "clv", "spend_level"] = "revenue"
    select_part: Literal["top", "rest"] = "top"

    def _value(self, market, rows):
        s = market.s
        return {"revenue": s.revenue[rows].astype(float), "clv": s.clv[rows], "spend_level": s.spend[rows]}[self.by]

    def labels(self, market) -> np.ndarray:
        rows = np.flatnonzero(~np.isnan(market.s.acquired_at))
        lab = np.full(market.n, -1, dtype=np.int8)
        v = self._value(market, rows)
        k = int(round(self.top_share * rows.size))
        order = np.argsort(-v, kind="stable")
        lab[rows] = 0
        lab[rows[order[:k]]] = 1
        return lab

    def select(self, market, rows: np.ndarray) -> np.ndarray:
        lab = self.labels(market)
        rows = rows[lab[rows] == (1 if self.select_part == "top" else 0)]
        return rows[np.argsort(-self._value(market, rows), kind="stable")]


class StageSegment(Segmenter):
    """Customers in the listed ladder stages, most valuable first."""

    stages: list[str] = Field(min_length=1)

    def labels(self, market) -> np.ndarray:
        return market.s.stage.astype(np.int16)

    def select(self, market, rows: np.ndarray) -> np.ndarray:
        unknown = [s for s in self.stages if s not in market.stage_names]
        if unknown:
            raise ValueError(f"segment stages {unknown} are not ladder stages {market.stage_names}")
        idx = [market.stage_names.index(s) for s in self.stages]
        rows = rows[np.isin(market.s.stage[rows], idx)]
        return rows[np.argsort(-market.s.spend[rows], kind="stable")]


class Segmentation(Strategy):
    """Segments the customer base on a calendar and records segment sizes (no cost, no contact)."""

    kind: ClassVar[str] = "segmentation"
    channel: str | None = None
    method: Segmenter = Field(default_factory=RFM)

    def act(self, market, t: float) -> None:
        lab = self.method.labels(market)
        vals, counts = np.unique(lab[lab >= 0], return_counts=True)
        if isinstance(self.method, RFM):
            names = [RFM_SEGMENTS[v] for v in vals]
        elif isinstance(self.method, ValueSegment):
            names = ["rest" if v == 0 else "top" for v in vals]
        else:
            names = [market.stage_names[v] for v in vals]
        self._stats.setdefault("sizes", []).append({"t": t, **{n: int(c) for n, c in zip(names, counts)}})
