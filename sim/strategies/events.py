"""Time-triggered market events (not marketing actions): plug-ins like strategies, kind ``event``.

They spend nothing and contact no one; they change the market at a given day. Used by the
classroom scenarios in ``configs/scenario/`` (e.g. ``+scenario=bad_service_shock``).
"""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from .base import Strategy


class ServiceShock(Strategy):
    """From ``start_day`` the focal firm's service quality drops by ``quality_drop``.

    The shift is additive (``market.quality_shift``), so every later service encounter is
    worse: more bad experiences, complaints, falls down the ladder and defections. With
    ``duration_days`` set, quality recovers after that many days; otherwise it stays low.
    """

    kind: ClassVar[str] = "event"
    environment: ClassVar[bool] = True
    channel: str | None = None
    quality_drop: float = Field(0.3, ge=0, le=1, description="service quality lost during the shock (0..1 scale)")
    duration_days: float | None = Field(None, gt=0, description="days until quality recovers; null: never")

    def process(self, market):
        # events due at or after the horizon end never fire (Market.at)
        yield market.at(self.start_day, priority=1)
        self.count("actions")
        self.act(market, market.now)
        if self.duration_days is not None:
            yield market.at(self.start_day + self.duration_days, priority=1)
            self.count("actions")
            market.quality_shift += self.quality_drop

    def act(self, market, t: float) -> None:
        market.quality_shift -= self.quality_drop
