"""Plug-ins for a competitive market: a standing price promotion (any firm) and a rival's
competitive response to the focal firm's moves, after a delay.

Both act through the firm's view only. A rival sees its own customers' records and the focal
firm's public moves (``crm.market_signals()``: when its loyalty programme's member benefits and
its acquisition push were first seen), never the focal firm's records.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from .base import Strategy
from .retention import LoyaltyProgramme


class Promotion(Strategy):
    """A standing price promotion from ``start_day`` (to ``end_day``): every purchase at the
    firm gets ``discount`` × the basket off, paid per redemption from the budget. The offer
    raises the firm's share of its customers' wallets (``sim.wallet``; the lift saturates as in
    ``economics.offer_*``). It stops when the budget is spent."""

    kind: ClassVar[str] = "pricing"
    rival_ok: ClassVar[bool] = True
    channel: str | None = None
    discount: float = Field(0.05, ge=0, le=0.9, description="share of the basket given back on every purchase")

    def setup(self, crm) -> None:
        """Start with the promotion off, note each customer's revenue so far and listen to purchases."""
        self._live = False
        self._base = crm.record("revenue").copy()
        crm.on("purchase", self._on_purchase)

    def process(self, clock):
        """The promotion's calendar: start it on ``start_day`` and stop it on ``end_day`` if one is set."""
        yield clock.at(self.start_day, priority=1)
        self.count("actions")
        self.act(self.crm, clock.now)
        if self.end_day is not None:
            yield clock.at(self.end_day, priority=1)
            self._stop()

    def act(self, crm, t: float) -> None:
        """Start the promotion: note the revenue so far and make the discount the rival's standing offer."""
        self._base = crm.record("revenue").copy()
        self._live = True
        crm.set_offer(self.discount)

    def _stop(self) -> None:
        self._live = False
        self.crm.set_offer(0.0)

    def _on_purchase(self, rows, t) -> None:
        if not self._live:
            return
        paid = pay_discount(self.crm, self._base, rows, self.discount)
        self.count("redemptions", paid.size)
        if paid.size < rows.size:
            self._stop()


def pay_discount(crm, base: np.ndarray, rows: np.ndarray, discount: float) -> np.ndarray:
    """Pay ``discount`` × each row's latest recorded purchase (revenue since ``base``, which is
    updated); returns the rows the budget paid for."""
    revenue = crm.record("revenue")
    amount = revenue[rows] - base[rows]
    base[rows] = revenue[rows]
    return crm.charge_rows(rows, np.rint(amount * discount).astype(np.int64), "offer")


class CompetitiveResponse(Strategy):
    """A rival watching the focal firm (every ``every_days``): ``delay_days`` after the focal
    firm's loyalty programme is first seen it launches its own (``programme``, a
    :class:`LoyaltyProgramme` with its own budget) among its own customers; ``delay_days`` after
    the focal firm's acquisition push (advertising, offers to prospects) is first seen it counters
    with a standing offer of ``counter_discount`` for ``counter_days``, paid from this plug-in's
    budget. Only a rival runs it."""

    kind: ClassVar[str] = "rival"
    rival_ok: ClassVar[bool] = True
    rival_only: ClassVar[bool] = True
    every_days: float = 7.0
    delay_days: float = Field(180.0, ge=0, le=36_500, description="days between seeing a move and answering it")
    match_loyalty: bool = True
    programme: LoyaltyProgramme | None = Field(None, description="the matching programme (default: "
                                               "LoyaltyProgramme's defaults with this plug-in's budget)")
    counter_acquisition: bool = False
    counter_discount: float = Field(0.05, ge=0, le=0.9)
    counter_days: float = Field(90.0, gt=0, le=36_500)

    def setup(self, crm) -> None:
        """Start with nothing matched or countered, note each customer's revenue so far and listen to purchases."""
        self._matched = False
        self._counter_until: float | None = None
        self._countering = False
        self._base = crm.record("revenue").copy()
        crm.on("purchase", self._on_purchase)

    def act(self, crm, t: float) -> None:
        """Look at the focal firm's public moves and respond once each is ``delay_days`` old.

        Matches its loyalty programme with one of the rival's own, and counters its acquisition push with a discount
        offer for ``counter_days``.
        """
        seen = crm.market_signals()
        since = seen["loyalty_programme_since"]
        if self.match_loyalty and not self._matched and since is not None and t >= since + self.delay_days:
            prog = self.programme or LoyaltyProgramme(budget=self.budget, channel=self.channel)
            prog = prog.model_copy(update={"name": prog.name or f"{self.name}.loyalty", "start_day": t})
            crm.launch(prog)
            self._matched = True
            self.count("matched_loyalty_on_day", int(round(t)))
        push = seen["acquisition_push_since"]
        if (self.counter_acquisition and self._counter_until is None and push is not None
                and t >= push + self.delay_days):
            self._counter_until = t + self.counter_days
            self._base = crm.record("revenue").copy()
            self._countering = True
            crm.set_offer(self.counter_discount)
            self.count("countered_on_day", int(round(t)))
        if self._countering and t >= self._counter_until:
            self._countering = False
            crm.set_offer(0.0)

    def _on_purchase(self, rows, t) -> None:
        if not self._countering:
            return
        paid = pay_discount(self.crm, self._base, rows, self.counter_discount)
        if paid.size < rows.size:  # budget spent: the counter-offer ends
            self._countering = False
            self.crm.set_offer(0.0)
