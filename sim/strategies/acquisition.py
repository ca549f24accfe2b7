"""Acquisition: mass advertising, targeted acquisition, referral programme."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from .base import Strategy


class MassAdvertising(Strategy):
    """Buys impressions each period; raises every suspect's exposure hazard (Bass p) while on air.

    Cost per period = cpm × suspects/1000 × impressions_per_person. Each impression adds
    ``hazard_per_impression`` to the daily exposure hazard, spread over the period
    (003: mass media for awareness).
    """

    kind: ClassVar[str] = "acquisition"
    channel: str | None = None
    every_days: float = 30.0
    impressions_per_person: float = Field(20.0, gt=0)
    cpm: float = Field(8.0, ge=0, description="cost per thousand impressions")
    hazard_per_impression: float = Field(0.0005, ge=0)

    def act(self, market, t: float) -> None:
        pool = np.count_nonzero(market.role[market.s.stage] == 0)
        cost = round(self.cpm * pool / 1000.0 * self.impressions_per_person * 100)
        if pool and market.charge(self, cost):
            market.ad_pressure = self.hazard_per_impression * self.impressions_per_person / self.every_days
            self.count("impressions", int(pool * self.impressions_per_person))
        else:
            market.ad_pressure = 0.0


class TargetedAcquisition(Strategy):
    """One-to-one contacts to prospects (and suspects when ``include_suspects``), most
    valuable-looking first; a responding prospect makes a first purchase."""

    kind: ClassVar[str] = "acquisition"
    channel: str | None = "call_centre"
    every_days: float = 14.0
    max_contacts: int | None = 200
    include_suspects: bool = False

    def act(self, market, t: float) -> None:
        roles = (1, 0) if self.include_suspects else (1,)
        rows = np.flatnonzero(np.isin(market.role[market.s.stage], roles))
        if self.segment is None:
            rows = rows[np.argsort(-market.s.spend[rows], kind="stable")]
        rows = self.targets(market, rows)
        resp = market.contact(self, rows)
        conv = market.convert(resp, cause="contact")
        self.count("acquired", conv.size)


class ReferralProgramme(Strategy):
    """Advocates bring prospects: word of mouth is amplified while the programme runs, and
    each referral (a suspect exposed by word of mouth) earns its referrer a reward."""

    kind: ClassVar[str] = "acquisition"
    channel: str | None = None
    every_days: float = 30.0
    wom_uplift: float = Field(1.0, ge=0, description="word of mouth × (1 + uplift) while funded")
    reward: float = Field(5.0, ge=0, description="paid per referred prospect")

    def setup(self, market) -> None:
        market.on("exposure", self._on_exposure)

    def _on_exposure(self, rows, t) -> None:
        from ..state import CAUSE
        m = self._market
        ref = rows[m.s.acquired_via[rows] == CAUSE["word_of_mouth"]]
        if ref.size == 0 or m.wom_boost == 1.0:
            return
        ok = m.affordable_rows(self, ref, round(self.reward * 100))
        if ok.size:
            m.charge(self, 0, rows=ok, per_row_cents=np.full(ok.size, round(self.reward * 100)))
            self.count("referrals", ok.size)
        if ok.size < ref.size:
            m.wom_boost = 1.0

    def act(self, market, t: float) -> None:
        funded = self.ledger.remaining >= round(self.reward * 100)
        market.wom_boost = 1.0 + self.wom_uplift if funded else 1.0
