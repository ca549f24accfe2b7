"""Retention: loyalty programme, service recovery, churn-risk outreach, win-back."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from .base import Strategy


class LoyaltyProgramme(Strategy):
    """Enrols customers (by contact) into a points programme.

    Members earn ``points_rate`` × basket in points the firm pays for (the programme's cost,
    from its budget); each ``tier_spend`` of revenue lifts a tier, and every tier adds
    ``switching_cost_per_tier`` (capped) to the member's switching cost, which lowers the
    defection hazard, and ``rate_uplift_per_tier`` to the purchase rate (004: special
    treatment benefits).
    """

    kind: ClassVar[str] = "retention"
    every_days: float = 30.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["repeat_buyer", "client", "loyal", "advocate"])
    points_rate: float = Field(0.02, ge=0, le=1, description="generosity: points per unit spent")
    tier_spend: float = Field(300.0, gt=0)
    switching_cost_per_tier: float = Field(0.12, ge=0, le=1)
    max_switching_cost: float = Field(0.5, ge=0, le=1)
    rate_uplift_per_tier: float = Field(0.04, ge=0)
    max_tiers: int = Field(4, ge=1)

    def setup(self, market) -> None:
        self._member = np.zeros(market.n, dtype=bool)
        self._base_rev = np.zeros(market.n, dtype=np.int64)
        market.on("purchase", self._on_purchase)

    def act(self, market, t: float) -> None:
        rows = self.rows_in(market, self.eligible_stages)
        rows = rows[~self._member[rows]]
        rows = self.targets(market, rows[np.argsort(-market.s.spend[rows], kind="stable")])
        resp = market.contact(self, rows)
        self._member[resp] = True
        self._base_rev[resp] = market.s.revenue[resp]
        self.count("members", resp.size)
        market.adjust(resp, switching_cost=np.maximum(market.s.switching_cost[resp], self.switching_cost_per_tier))

    def _on_purchase(self, rows, t) -> None:
        m = self._market
        mem = rows[self._member[rows]]
        if mem.size == 0:
            return
        s = m.s
        # the points for this purchase: points_rate × the basket just bought
        basket = s.revenue[mem] - self._base_rev[mem]
        earned = np.rint(basket * self.points_rate).astype(np.int64)
        self._base_rev[mem] = s.revenue[mem]
        ok = m.affordable_rows(self, mem, earned)
        if ok.size:
            m.charge(self, 0, rows=ok, per_row_cents=earned[: ok.size])
            s.points[ok] += earned[: ok.size] / 100.0
        if ok.size < mem.size:  # budget exhausted: the programme closes to further purchases
            self._member[mem[ok.size:]] = False
        tiers = np.minimum(self.max_tiers, 1 + (s.revenue[ok] / 100.0) // self.tier_spend)
        s.switching_cost[ok] = np.minimum(self.max_switching_cost, self.switching_cost_per_tier * tiers)
        s.rate_boost[ok] = 1.0 + self.rate_uplift_per_tier * tiers
        self.count("points_cents", int(earned[: ok.size].sum()))


class ServiceRecovery(Strategy):
    """Complaint handling: each complaint is handled (cost per case, from the budget) and
    resolved with ``resolve_prob``; a resolved complaint restores satisfaction a little above
    where it was (the service-recovery paradox) and stops the bad experience from sending
    the customer down the ladder."""

    kind: ClassVar[str] = "retention"
    channel: str | None = "call_centre"
    cost_per_case: float = Field(6.0, ge=0)
    resolve_prob: float = Field(0.8, ge=0, le=1)
    satisfaction_restore: float = Field(0.25, ge=0, le=1)

    def setup(self, market) -> None:
        market.on("bad_service", self._on_complaint)

    def _on_complaint(self, rows, t) -> None:
        m = self._market
        if rows.size == 0:
            return
        cents = round(self.cost_per_case * 100)
        ok = m.affordable_rows(self, rows, cents)
        if ok.size == 0:
            return
        m.charge(self, 0, rows=ok, per_row_cents=np.full(ok.size, cents))
        self.count("cases", ok.size)
        from .. import rng as R
        u = m.crng.uniform(self.stream ^ R.COMPLAINT, ok, m.s.ev[ok])
        fixed = ok[u < self.resolve_prob]
        m.s.complaint_open[fixed] = False
        m.s.satisfaction[fixed] = np.clip(m.s.satisfaction[fixed] + self.satisfaction_restore, 0, 1)
        self.count("resolved", fixed.size)


class ChurnOutreach(Strategy):
    """Proactive outreach to customers whose churn score is at or above ``threshold``.

    Churn score (0..1, a simple logistic the firm could fit from its data): low satisfaction,
    an open complaint, long time since the last purchase relative to the customer's own rhythm.
    Responders get ``satisfaction_boost`` and a retention offer costing ``offer_cost``.
    """

    kind: ClassVar[str] = "retention"
    every_days: float = 14.0
    threshold: float = Field(0.5, ge=0, le=1)
    satisfaction_boost: float = Field(0.15, ge=0, le=1)
    offer_cost: float = Field(3.0, ge=0)

    @staticmethod
    def score(market, rows: np.ndarray) -> np.ndarray:
        s = market.s
        gap = (market.now - np.nan_to_num(s.last_purchase_at[rows], nan=market.now)) * np.maximum(s.rate[rows], 1e-6)
        z = 4.0 * (0.6 - s.satisfaction[rows]) + 1.5 * s.complaint_open[rows] + 0.5 * (gap - 1.0) - 0.5
        return 1.0 / (1.0 + np.exp(-z))

    def act(self, market, t: float) -> None:
        rows = np.flatnonzero(market.role[market.s.stage] == 2)
        sc = self.score(market, rows)
        keep = sc >= self.threshold
        rows, sc = rows[keep], sc[keep]
        rows = self.targets(market, rows[np.argsort(-sc, kind="stable")])
        resp = market.contact(self, rows)
        resp = market.affordable_rows(self, resp, round(self.offer_cost * 100))
        if resp.size:
            market.charge(self, 0, rows=resp, per_row_cents=np.full(resp.size, round(self.offer_cost * 100)))
            market.adjust(resp, satisfaction=self.satisfaction_boost)
            market.s.complaint_open[resp] = False
        self.count("saved_offers", resp.size)


class WinBack(Strategy):
    """Contacts customers lost to competitors (most valuable first) with a come-back offer;
    responders return to the ladder's win-back stage and buy."""

    kind: ClassVar[str] = "retention"
    every_days: float = 30.0
    max_days_since_churn: float = Field(365.0, gt=0)
    offer_cost: float = Field(10.0, ge=0)
    satisfaction_reset: float = Field(0.1, ge=0, le=1)

    def act(self, market, t: float) -> None:
        s = market.s
        rows = np.flatnonzero((market.role[s.stage] == 3) & (t - s.churned_at <= self.max_days_since_churn))
        if self.segment is None:
            rows = rows[np.argsort(-s.revenue[rows], kind="stable")]
        rows = self.targets(market, rows)
        resp = market.contact(self, rows)
        resp = market.affordable_rows(self, resp, round(self.offer_cost * 100))
        if resp.size:
            market.charge(self, 0, rows=resp, per_row_cents=np.full(resp.size, round(self.offer_cost * 100)))
            market.adjust(resp, satisfaction=self.satisfaction_reset)
            back = market.win_back(resp)
            self.count("won_back", back.size)
