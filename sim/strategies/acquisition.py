"""Acquisition: mass advertising, targeted acquisition, referral programme."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from ..ladder import LEAD, POOL
from ..crm import CAUSE
from .base import Strategy, stable_order


class MassAdvertising(Strategy):
    """Buys impressions each period; raises every suspect's exposure hazard (Bass p) while on air.

    Cost per period = cpm × suspects on the firm's list / 1000 × impressions_per_person. Each
    impression adds ``hazard_per_impression`` to the daily exposure hazard, spread over the
    period (003: mass media for awareness).
    """

    kind: ClassVar[str] = "acquisition"
    channel: str | None = None
    every_days: float = 30.0
    impressions_per_person: float = Field(20.0, gt=0, le=1e4)
    cpm: float = Field(8.0, ge=0, le=1e4, description="cost per thousand impressions")
    hazard_per_impression: float = Field(0.0005, ge=0, le=1)

    def act(self, crm, t: float) -> None:
        """Buy this period's impressions for the whole pool if the budget allows and air the ad; else take it off."""
        pool = crm.count_with_role(POOL)
        cost = round(self.cpm * pool / 1000.0 * self.impressions_per_person * 100)
        if pool and crm.charge(cost):
            crm.advertise(self.hazard_per_impression * self.impressions_per_person / self.every_days)
            self.count("impressions", int(pool * self.impressions_per_person))
        else:
            crm.advertise(0.0)


class TargetedAcquisition(Strategy):
    """One-to-one contacts to registered leads (and suspects on the firm's list when
    ``include_suspects``), freshest leads first, with a first-purchase offer worth ``offer``;
    a responder who takes the offer makes a first purchase."""

    kind: ClassVar[str] = "acquisition"
    channel: str | None = "call_centre"
    every_days: float = 14.0
    max_contacts: int | None = 200
    include_suspects: bool = False
    offer: float = Field(0.0, ge=0, le=1e6, description="first-purchase offer, currency per redemption")

    def choose(self, crm) -> np.ndarray:
        """Leads to contact, freshest first (then listed suspects if ``include_suspects``), within contact limits."""
        cap = self._cap(crm)
        if cap == 0 and not self.include_suspects:  # the budget (or the contact cap) reaches nobody
            return np.zeros(0, dtype=np.int64)
        leads = crm.rows_with_role(LEAD)
        leads = leads[stable_order(-crm.record("lead_at")[leads], cap)]
        if self.include_suspects:
            leads = np.concatenate([leads, crm.rows_with_role(POOL)])
        return self.targets(crm, leads)

    def act(self, crm, t: float) -> None:
        """Contact the chosen leads with the first-purchase offer; those who redeem it are converted."""
        resp = crm.redeem(crm.contact(self.choose(crm), offer=self.offer), self.offer)
        self.count("acquired", crm.convert(resp, cause="contact").size)


class ReferralProgramme(Strategy):
    """Advocates bring prospects: word of mouth is amplified while the programme runs, and each
    referral (a lead that came by word of mouth, recorded by its referral code) earns its
    referrer a reward."""

    kind: ClassVar[str] = "acquisition"
    channel: str | None = None
    every_days: float = 30.0
    wom_uplift: float = Field(1.0, ge=0, le=100, description="word of mouth × (1 + uplift) while funded")
    reward: float = Field(5.0, ge=0, le=1e6, description="paid per referred lead")

    def setup(self, crm) -> None:
        """Start unfunded and listen to new leads (to reward the referrals among them)."""
        self._funded = False
        crm.on("lead", self._on_lead)

    def _on_lead(self, rows, t) -> None:
        crm = self.crm
        ref = rows[crm.record("acquired_via")[rows] == CAUSE["word_of_mouth"]]
        if ref.size == 0 or not self._funded:
            return
        paid = crm.charge_rows(ref, round(self.reward * 100), "offer")
        self.count("referrals", paid.size)
        if paid.size < ref.size:
            self._funded = False
            crm.amplify_word_of_mouth(1.0)

    def act(self, crm, t: float) -> None:
        """Amplify word of mouth this period if the budget can still pay a reward; else set it back to normal."""
        self._funded = crm.remaining_budget >= round(self.reward * 100)
        crm.amplify_word_of_mouth(1.0 + self.wom_uplift if self._funded else 1.0)
