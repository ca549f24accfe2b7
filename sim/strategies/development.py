"""Development: cross-sell and up-sell to established customers (000: move customers up the ladder)."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from .base import Strategy, by_value


class CrossSell(Strategy):
    """Offers a complementary product to customers the firm classes in ``eligible_stages``,
    most valuable first: a responder who takes the offer buys it now (``basket`` × the usual
    basket, at gross margin ``product_margin``) and, holding more of the firm's products,
    gains switching cost."""

    kind: ClassVar[str] = "development"
    every_days: float = 30.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["upper"], description="stage names or groups "
                                         "(sim.ladder.STAGE_GROUPS); default: the upper half of the customer stages")
    basket: float = Field(0.5, gt=0, le=100)
    product_margin: float | None = Field(None, ge=0, le=1, description="gross margin of the product sold "
                                         "(default: economics.margin)")
    offer: float = Field(0.0, ge=0, le=1e6, description="discount on the product, currency per redemption")
    switching_cost_gain: float = Field(0.05, ge=0, le=1)

    def choose(self, crm) -> np.ndarray:
        """Customers on the eligible stages to offer the product to, most valuable first (or in the segment's order)."""
        cap = self._cap(crm)
        if cap == 0:  # the budget (or the contact cap) reaches nobody: no one to rank
            return np.zeros(0, dtype=np.int64)
        rows = crm.rows_in(self.eligible_stages)
        return self.targets(crm, rows if self.segment is not None else by_value(crm, rows, cap))

    def act(self, crm, t: float) -> None:
        """Contact the chosen customers; responders buy the product and their switching cost rises."""
        resp = crm.redeem(crm.contact(self.choose(crm), offer=self.offer), self.offer)
        bought = crm.sell(resp, self.basket, self.product_margin)
        crm.adjust(bought, more_switching_cost=self.switching_cost_gain)
        self.count("cross_sales", bought.size)


class UpSell(Strategy):
    """Offers a premium version: a responder's basket rises by ``uplift`` (at most
    ``max_uplift`` in all), and fades back unless renewed (``economics.upsell_memory_days``)."""

    kind: ClassVar[str] = "development"
    every_days: float = 60.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["upper"], description="stage names or groups "
                                         "(sim.ladder.STAGE_GROUPS); default: the upper half of the customer stages")
    uplift: float = Field(0.1, gt=0, le=10)
    max_uplift: float = Field(0.5, ge=0, le=10)
    offer: float = Field(0.0, ge=0, le=1e6, description="incentive to upgrade, currency per redemption")

    def choose(self, crm) -> np.ndarray:
        """Customers on the eligible stages to offer the premium version, most valuable first (or in segment order)."""
        cap = self._cap(crm)
        if cap == 0:  # the budget (or the contact cap) reaches nobody: no one to rank
            return np.zeros(0, dtype=np.int64)
        rows = crm.rows_in(self.eligible_stages)
        return self.targets(crm, rows if self.segment is not None else by_value(crm, rows, cap))

    def act(self, crm, t: float) -> None:
        """Contact the chosen customers with the offer; responders' baskets are upgraded."""
        resp = crm.redeem(crm.contact(self.choose(crm), offer=self.offer), self.offer)
        self.count("upgraded", crm.upgrade(resp, self.uplift, self.max_uplift).size)
