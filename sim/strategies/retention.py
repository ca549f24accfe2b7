"""Retention: loyalty programme, service recovery, churn-risk outreach, win-back."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from ..ladder import CUSTOMER, LOST
from .base import Strategy, by_value, stable_order


class LoyaltyProgramme(Strategy):
    """Invites customers (by contact) into a points programme; a share ``enrol_response`` joins.

    Members earn ``points_rate`` × basket in points, which the firm pays per purchase (offer
    cost, from the budget); each ``tier_spend`` of recorded revenue lifts a tier, and every tier
    adds ``switching_cost_per_tier`` (capped) to the member's switching cost, which lowers the
    defection hazard, and ``rate_uplift_per_tier`` to the purchase rate (004: special
    treatment benefits).
    """

    kind: ClassVar[str] = "retention"
    rival_ok: ClassVar[bool] = True
    every_days: float = 30.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["repeat"], description="stage names or groups "
                                         "(sim.ladder.STAGE_GROUPS); default: every customer stage after the first")
    enrol_response: float = Field(0.1, ge=0, le=1, description="share of invited customers who join")
    points_rate: float = Field(0.02, ge=0, le=1, description="generosity: points per unit spent")
    tier_spend: float = Field(300.0, gt=0, le=1e9)
    switching_cost_per_tier: float = Field(0.12, ge=0, le=1)
    max_switching_cost: float = Field(0.5, ge=0, le=1)
    rate_uplift_per_tier: float = Field(0.04, ge=0, le=10)
    max_tiers: int = Field(4, ge=1, le=100)

    def setup(self, crm) -> None:
        """Start with nobody enrolled and listen to purchases (to credit members' points)."""
        self._member = np.zeros(crm.n, dtype=bool)
        self._base_rev = np.zeros(crm.n, dtype=np.int64)
        crm.on("purchase", self._on_purchase)

    def choose(self, crm) -> np.ndarray:
        """Non-members on the eligible stages to invite, most valuable first, within the contact limits."""
        cap = self._cap(crm)
        if cap == 0:  # the budget (or the contact cap) reaches nobody: no one to rank
            return np.zeros(0, dtype=np.int64)
        rows = crm.rows_in(self.eligible_stages)
        return self.targets(crm, by_value(crm, rows[~self._member[rows]], cap))

    def act(self, crm, t: float) -> None:
        """Invite the chosen customers; those who join become members with a switching cost."""
        resp = crm.contact(self.choose(crm), response=self.enrol_response)
        self._member[resp] = True
        self._base_rev[resp] = crm.record("revenue")[resp]
        self.count("members", resp.size)
        crm.adjust(resp, switching_cost=np.full(resp.size, self.switching_cost_per_tier))

    def _on_purchase(self, rows, t) -> None:
        crm = self.crm
        mem = rows[self._member[rows]]
        if mem.size == 0:
            return
        revenue = crm.record("revenue")
        earned = np.rint((revenue[mem] - self._base_rev[mem]) * self.points_rate).astype(np.int64)
        self._base_rev[mem] = revenue[mem]
        ok = crm.charge_rows(mem, earned, "offer")
        crm.add_points(ok, earned[: ok.size])
        if ok.size < mem.size:  # budget exhausted: the programme closes to further purchases
            self._member[mem[ok.size:]] = False
        tiers = np.minimum(self.max_tiers, 1 + (revenue[ok] / 100.0) // self.tier_spend)
        crm.adjust(ok, switching_cost=np.minimum(self.max_switching_cost, self.switching_cost_per_tier * tiers),
                   rate_boost=1.0 + self.rate_uplift_per_tier * tiers)
        self.count("points_cents", int(earned[: ok.size].sum()))


class ServiceRecovery(Strategy):
    """Complaint handling: each complaint the firm receives is handled (``cost_per_case``, from
    the budget) and resolved with ``resolve_prob``; a resolved complaint restores satisfaction
    a little above where it was (the service-recovery paradox) and stops the bad experience
    from sending the customer down the ladder."""

    kind: ClassVar[str] = "retention"
    channel: str | None = "call_centre"
    cost_per_case: float = Field(6.0, ge=0, le=1e6)
    resolve_prob: float = Field(0.8, ge=0, le=1)
    satisfaction_restore: float = Field(0.25, ge=0, le=1)

    def setup(self, crm) -> None:
        """Listen to complaints, so each one is handled as it arrives."""
        crm.on("complaint", self._on_complaint)

    def _on_complaint(self, rows, t) -> None:
        crm = self.crm
        handled = crm.charge_rows(rows, round(self.cost_per_case * 100), "offer")
        if handled.size == 0:
            return
        self.count("cases", handled.size)
        u = crm.uniform(handled, crm.record("n_complaints")[handled])
        fixed = handled[u < self.resolve_prob]
        crm.resolve_complaints(fixed)
        crm.adjust(fixed, satisfaction=self.satisfaction_restore)
        self.count("resolved", fixed.size)


class ChurnOutreach(Strategy):
    """Proactive outreach, with a retention offer worth ``offer``, to customers whose churn
    score is at or above ``threshold``.

    The churn score (0..1) is a logistic of what the firm records: how overdue the next purchase
    is against the customer's own observed rhythm, open and past complaints, and a surveyed
    satisfaction score where a survey has one. Responders take the offer (paid per redemption)
    and their satisfaction rises by ``satisfaction_boost``.
    """

    kind: ClassVar[str] = "retention"
    every_days: float = 14.0
    threshold: float = Field(0.5, ge=0, le=1)
    satisfaction_boost: float = Field(0.15, ge=0, le=1)
    offer: float = Field(3.0, ge=0, le=1e6, description="retention offer, currency per redemption")

    @staticmethod
    def score(crm, rows: np.ndarray) -> np.ndarray:
        """Churn-risk score of ``rows`` from recorded data only."""
        overdue = crm.days_since_purchase(rows) * crm.observed_rate(rows)
        surveyed = crm.record("surveyed_satisfaction")[rows]
        sat_gap = np.where(np.isnan(surveyed), 0.0, 0.6 - np.nan_to_num(surveyed))
        z = (0.5 * (np.minimum(overdue, 10.0) - 1.0) + 1.5 * crm.record("complaint_open")[rows]
             + 0.3 * np.minimum(crm.record("n_complaints")[rows], 5) + 4.0 * sat_gap - 0.5)
        return 1.0 / (1.0 + np.exp(-z))

    def choose(self, crm) -> np.ndarray:
        """Current customers whose churn score reaches the threshold, highest score first, within the contact limits."""
        cap = self._cap(crm)
        if cap == 0:  # the budget (or the contact cap) reaches nobody: no one to rank
            return np.zeros(0, dtype=np.int64)
        rows = crm.rows_with_role(CUSTOMER)
        sc = self.score(crm, rows)
        keep = sc >= self.threshold
        rows, sc = rows[keep], sc[keep]
        return self.targets(crm, rows[stable_order(-sc, cap)])

    def act(self, crm, t: float) -> None:
        """Contact the chosen customers with the retention offer; those who redeem it get a satisfaction boost.

        Their open complaints are resolved too.
        """
        resp = crm.redeem(crm.contact(self.choose(crm), offer=self.offer), self.offer)
        crm.adjust(resp, satisfaction=self.satisfaction_boost)
        crm.resolve_complaints(resp)
        self.count("saved_offers", resp.size)


class WinBack(Strategy):
    """Contacts customers the firm records as lapsed (no purchase for ``crm.lapsed_after_days``,
    at most ``max_days_since_purchase``), most valuable first, with a come-back offer. Lost
    customers who take it return to the ladder's win-back stage and buy; customers who had only
    paused buy too, and the offer subsidised a purchase that would have come anyway."""

    kind: ClassVar[str] = "retention"
    every_days: float = 30.0
    max_days_since_purchase: float = Field(730.0, gt=0, le=36_500)
    offer: float = Field(10.0, ge=0, le=1e6, description="come-back offer, currency per redemption")
    satisfaction_reset: float = Field(0.1, ge=0, le=1)

    def choose(self, crm) -> np.ndarray:
        """Lost customers whose last purchase is recent enough, most valuable first (or in the segment's order)."""
        cap = self._cap(crm)
        if cap == 0:  # the budget (or the contact cap) reaches nobody: no one to rank
            return np.zeros(0, dtype=np.int64)
        rows = crm.rows_with_role(LOST)
        rows = rows[crm.days_since_purchase(rows) <= self.max_days_since_purchase]
        return self.targets(crm, rows if self.segment is not None else by_value(crm, rows, cap))

    def act(self, crm, t: float) -> None:
        """Contact the chosen lapsed customers with the come-back offer; those who redeem it are won back."""
        resp = crm.redeem(crm.contact(self.choose(crm), offer=self.offer), self.offer)
        crm.adjust(resp, satisfaction=self.satisfaction_reset)
        self.count("won_back", crm.win_back(resp).size)
