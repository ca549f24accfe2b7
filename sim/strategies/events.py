"""Time-triggered market events (not marketing actions): they change the world at a given day.

They spend nothing and contact no one, and they stay in the paired no-action control. Used by
the classroom scenarios in ``sim/configs/scenario/`` (e.g. ``+scenario=bad_service_shock``).
"""
from __future__ import annotations

from pydantic import Field

from .base import MarketEvent


class ServiceShock(MarketEvent):
    """From ``start_day`` the focal firm's service quality drops by ``quality_drop``.

    The shift is additive, so every later service encounter is worse: more bad experiences,
    complaints, falls down the ladder, defections and negative word of mouth. With
    ``duration_days`` set, quality recovers after that many days; otherwise it stays low.
    """

    quality_drop: float = Field(0.3, ge=0, le=1, description="service quality lost during the shock (0..1 scale)")
    duration_days: float | None = Field(None, gt=0, le=36_500, description="days until quality recovers; null: never")

    def process(self, clock):
        """The shock's calendar: drop quality on ``start_day``; with ``duration_days``, restore it afterwards."""
        # events due at or after the horizon end never fire (Clock.fire)
        yield clock.at(self.start_day, priority=1)
        self.count("actions")
        self.act(self._market, clock.now)
        if self.duration_days is not None:
            yield clock.at(self.start_day + self.duration_days, priority=1)
            self.count("actions")
            self._market.quality_shift += self.quality_drop

    def act(self, market, t: float) -> None:
        """Lower the focal firm's service quality by ``quality_drop``."""
        market.quality_shift -= self.quality_drop
