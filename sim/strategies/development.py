"""Development: cross-sell and up-sell to established customers."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from .base import Strategy


class CrossSell(Strategy):
    """Offers a complementary product: a responder buys it now (``basket`` × the usual basket)
    and, holding more of the firm's products, gains switching cost."""

    kind: ClassVar[str] = "development"
    every_days: float = 30.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["client", "loyal", "advocate"])
    basket: float = Field(0.5, gt=0)
    switching_cost_gain: float = Field(0.05, ge=0, le=1)

    def act(self, market, t: float) -> None:
        rows = self.rows_in(market, self.eligible_stages)
        if self.segment is None:
            rows = rows[np.argsort(-market.s.spend[rows], kind="stable")]
        rows = self.targets(market, rows)
        resp = market.contact(self, rows)
        bought = market.extra_purchase(resp, self.basket)
        if bought.size:
            market.adjust(bought, switching_cost=np.minimum(
                1.0, market.s.switching_cost[bought] + self.switching_cost_gain))
        self.count("cross_sales", bought.size)


class UpSell(Strategy):
    """Offers a premium version: a responder's basket value rises by ``uplift`` (capped)."""

    kind: ClassVar[str] = "development"
    every_days: float = 60.0
    eligible_stages: list[str] = Field(default_factory=lambda: ["client", "loyal", "advocate"])
    uplift: float = Field(0.1, gt=0)
    max_multiplier: float = Field(1.5, ge=1)

    def act(self, market, t: float) -> None:
        rows = self.rows_in(market, self.eligible_stages)
        rows = rows[market.s.upsell[rows] < self.max_multiplier]
        if self.segment is None:
            rows = rows[np.argsort(-market.s.spend[rows], kind="stable")]
        rows = self.targets(market, rows)
        resp = market.contact(self, rows)
        if resp.size:
            market.adjust(resp, upsell=np.minimum(self.max_multiplier, market.s.upsell[resp] * (1 + self.uplift)))
        self.count("upgraded", resp.size)
