"""Segmentation from the firm's records: RFM, value (Pareto) and ladder stage.

A segmenter is used inside an acting strategy (its ``segment:``) to choose and order the
customers it contacts, or on its own through :class:`Segmentation`, which records segment
sizes over the run (the "analyse" step of Russell's web-CRM cycle, 003). The seeds speak of
frequency, amount and purchase period (000); RFM is the standard analytical-CRM form of it.
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


def _buyers(crm) -> np.ndarray:
    return np.flatnonzero(crm.record("n_purchases") > 0)


class RFM(Segmenter):
    """Recency, frequency, monetary quintile scores of everyone who has bought.

    Named cells (a common convention): champions R≥4 F≥4; loyal F≥4; new R≥4 F≤1;
    potential R≥3 F≤3; at_risk R≤2 F≥3; hibernating R≤2 F≤2; other.
    """

    select_segments: list[Literal["champions", "loyal", "potential", "new", "at_risk", "hibernating", "other"]] = \
        Field(default_factory=lambda: ["at_risk"])
    order_by: Literal["monetary", "recency", "frequency"] = "monetary"

    def scores(self, crm, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """R, F and M quintile scores (1..5) of ``rows``."""
        return (_quintile(np.minimum(crm.days_since_purchase(rows), 1e9), higher_is_better=False),
                _quintile(crm.record("n_purchases")[rows].astype(float)),
                _quintile(crm.record("revenue")[rows].astype(float)))

    def cells(self, crm, rows: np.ndarray) -> np.ndarray:
        """The named RFM cell (index into ``RFM_SEGMENTS``) of ``rows``."""
        r, f, _ = self.scores(crm, rows)
        out = np.full(rows.size, RFM_SEGMENTS.index("other"), dtype=np.int8)
        rules = [("hibernating", (r <= 2) & (f <= 2)), ("at_risk", (r <= 2) & (f >= 3)),
                 ("potential", (r >= 3) & (f <= 3)), ("new", (r >= 4) & (f <= 1)),
                 ("loyal", f >= 4), ("champions", (r >= 4) & (f >= 4))]
        for name, m in rules:  # later rules win
            out[m] = RFM_SEGMENTS.index(name)
        return out

    def labels(self, crm) -> np.ndarray:
        """RFM segment index of every customer (-1 for those who have never bought)."""
        lab = np.full(crm.n, -1, dtype=np.int8)
        rows = _buyers(crm)
        lab[rows] = self.cells(crm, rows)
        return lab

    def select(self, crm, rows: np.ndarray) -> np.ndarray:
        """The ``rows`` in the selected RFM segments, ordered by ``order_by`` (best first)."""
        lab = self.labels(crm)
        rows = rows[np.isin(lab[rows], [RFM_SEGMENTS.index(n) for n in self.select_segments])]
        key = {"monetary": -crm.record("revenue")[rows].astype(float),
               "recency": np.minimum(crm.days_since_purchase(rows), 1e9),
               "frequency": -crm.record("n_purchases")[rows].astype(float)}[self.order_by]
        return rows[np.argsort(key, kind="stable")]


class ValueSegment(Segmenter):
    """Pareto split of everyone who has bought: the top ``top_share`` by recorded value, or the rest."""

    top_share: float = Field(0.2, gt=0, le=1)
    by: Literal["revenue", "clv", "order_value"] = "revenue"
    select_part: Literal["top", "rest"] = "top"

    def _value(self, crm, rows):
        if self.by == "order_value":
            return crm.avg_order_value(rows)
        return crm.record(self.by)[rows].astype(float)

    def labels(self, crm) -> np.ndarray:
        """Value segment of everyone: 1 for the top ``top_share`` of buyers by value, 0 the rest, -1 non-buyers."""
        rows = _buyers(crm)
        lab = np.full(crm.n, -1, dtype=np.int8)
        k = int(round(self.top_share * rows.size))
        order = np.argsort(-self._value(crm, rows), kind="stable")
        lab[rows] = 0
        lab[rows[order[:k]]] = 1
        return lab

    def select(self, crm, rows: np.ndarray) -> np.ndarray:
        """The ``rows`` in the selected part (top or rest), most valuable first."""
        lab = self.labels(crm)
        rows = rows[lab[rows] == (1 if self.select_part == "top" else 0)]
        return rows[np.argsort(-self._value(crm, rows), kind="stable")]


class StageSegment(Segmenter):
    """Customers the firm classes in the listed ladder stages, most valuable first.

    ``stages`` are stage names or groups of :data:`sim.ladder.STAGE_GROUPS` (e.g. ``upper``).
    """

    stages: list[str] = Field(min_length=1)

    def labels(self, crm) -> np.ndarray:
        """Each customer's ladder stage as the firm classes it, used as the segment."""
        return crm.stage().astype(np.int16)

    def select(self, crm, rows: np.ndarray) -> np.ndarray:
        """The ``rows`` on the listed stages, highest recorded revenue first."""
        rows = rows[np.isin(rows, crm.rows_in(self.stages))]
        return rows[np.argsort(-crm.record("revenue")[rows], kind="stable")]


class Segmentation(Strategy):
    """Segments the customer base on a calendar and records segment sizes (no cost, no contact)."""

    kind: ClassVar[str] = "segmentation"
    channel: str | None = None
    method: Segmenter = Field(default_factory=RFM)

    def act(self, crm, t: float) -> None:
        """Label everyone with the segmenting method and record the size of each segment at ``t``."""
        lab = self.method.labels(crm)
        vals, counts = np.unique(lab[lab >= 0], return_counts=True)
        if isinstance(self.method, RFM):
            names = [RFM_SEGMENTS[v] for v in vals]
        elif isinstance(self.method, ValueSegment):
            names = ["rest" if v == 0 else "top" for v in vals]
        else:
            names = [crm.stage_names[v] for v in vals]
        self._stats.setdefault("sizes", []).append({"t": t, **{n: int(c) for n, c in zip(names, counts, strict=True)}})


class Survey(Strategy):
    """Asks a random sample of current customers how satisfied they are (003: build the
    customer database). A share ``response`` answers; answers are noisy (sd ``noise_sd``) and
    recorded, so other strategies (churn outreach) can use them. Costs the channel's contact
    cost per person asked."""

    kind: ClassVar[str] = "segmentation"
    every_days: float = 90.0
    sample_size: int = Field(200, ge=0, le=10_000_000)
    response: float = Field(0.1, ge=0, le=1, description="share of those asked who answer")
    noise_sd: float = Field(0.1, ge=0, le=1, description="noise of a stated satisfaction score")

    def choose(self, crm) -> np.ndarray:
        """A random sample of current customers (``sample_size``), within the contact limits."""
        from ..ladder import CUSTOMER
        rows = crm.rows_with_role(CUSTOMER)
        order = np.argsort(crm.uniform(rows, self._stats.get("actions", 0)), kind="stable")
        return self.targets(crm, rows[order][: self.sample_size])

    def act(self, crm, t: float) -> None:
        """Survey the chosen sample and count the answers received."""
        self.count("answers", crm.record_survey(self.choose(crm), response=self.response,
                                                noise_sd=self.noise_sd).size)
