"""Strategy plug-in base classes.

A strategy is one class (a pydantic model: its fields are its parameters, validated with
clear messages) and one YAML file in ``configs/strategy/`` naming it with ``_target_``.
The engine never needs to know about a new strategy:

* ``act(market, t)`` runs on the strategy's SimPy calendar (``start_day``, ``every_days``);
* ``setup(market)`` may register hooks (``market.on("purchase", fn)``, ``"bad_service"``,
  ``"exposure"``, ``"acquisition"``, ``"defection"``) that run inside customer events;
* everything costs money through ``market.contact`` / ``market.charge`` from the strategy's
  own budget, which is never overspent.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ..market import BudgetLedger
from ..rng import stream_id


class Segmenter(BaseModel):
    """Chooses and orders customers (rows) for a strategy; see ``segmentation.py``."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "segmentation"

    def labels(self, market) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def select(self, market, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class Strategy(BaseModel):
    """Common parameters: budget (currency, for the whole run), channel, calendar, holdout."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: ClassVar[str] = "other"
    #: True for plug-ins that change the market rather than act for the firm (e.g. a service
    #: shock): they stay in the paired no-action control, which removes only firm actions.
    environment: ClassVar[bool] = False

    name: str = ""
    budget: float = Field(0.0, ge=0, description="currency available to this strategy for the whole run")
    channel: str | None = Field("email", description="contact channel (a key of `channels`)")
    start_day: float = Field(0.0, ge=0)
    every_days: float = Field(30.0, gt=0, description="days between actions")
    end_day: float | None = Field(None, ge=0)
    holdout: float = Field(0.0, ge=0, lt=1, description="share of targeted customers kept as a control group")
    max_contacts: int | None = Field(None, ge=0, description="contacts per action at most")
    segment: Segmenter | None = None
    pacing: Literal["none", "even"] = Field(
        "none", description="even: each action may spend the remaining budget / the actions left, and a "
                            "per-action contact cap is raised to what that share buys")

    _market: Any = PrivateAttr(None)
    _index: int = PrivateAttr(-1)
    _ledger: BudgetLedger | None = PrivateAttr(None)
    _stats: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _window(self):
        if self.end_day is not None and self.end_day < self.start_day:
            raise ValueError(f"end_day ({self.end_day}) is before start_day ({self.start_day})")
        return self

    # ------------------------------------------------------------------ engine side
    def bind(self, market, index: int) -> None:
        if index >= 64:
            raise ValueError("at most 64 strategies in one run")
        if self.channel is not None:
            market.channel_index(self.channel)  # fails early with the list of channels
        self._market, self._index = market, index
        self._ledger = BudgetLedger(round(self.budget * 100))
        self._stats = {"contacts": 0, "responders": 0, "actions": 0}
        self.setup(market)

    def count(self, what: str, k: int = 1) -> None:
        self._stats[what] = self._stats.get(what, 0) + int(k)

    @property
    def index(self) -> int:
        return self._index

    @property
    def ledger(self) -> BudgetLedger:
        return self._ledger

    @property
    def stream(self) -> int:
        return stream_id("strategy:" + self.name)

    def process(self, market):
        """SimPy process: act on the strategy's calendar until the run (or end_day) ends.

        An action falls on the first window boundary at or after its day; one that would fall on
        the horizon end never fires (``Market.at``), so nothing is spent after the final report.
        """
        t = self.start_day
        end = market.days if self.end_day is None else min(self.end_day, market.days)
        while t < end:
            yield market.at(t, priority=1)
            self.count("actions")
            self.paced_act(market, market.now, math.ceil((end - t) / self.every_days))
            t += self.every_days

    def paced_act(self, market, t: float, actions_left: int) -> None:
        """Act once; with ``pacing: even`` the action may spend at most the remaining budget divided by
        the actions left (this one included; what it leaves rolls over), and ``max_contacts`` is raised
        to the contacts that share buys on the strategy's channel. Spending in hooks between actions
        (points, complaint handling) is not paced."""
        if self.pacing == "none" or self._ledger is None:
            self.act(market, t)
            return
        ledger, cap, budget = self._ledger, self.max_contacts, self._ledger.budget
        share = ledger.remaining // max(1, actions_left)
        cost = round(market.cfg.channels[self.channel].cost * 100) if self.channel is not None else 0
        if cap is not None and cost > 0:
            self.max_contacts = max(cap, share // cost)
        ledger.budget = ledger.spent + share
        try:
            self.act(market, t)
        finally:
            ledger.budget, self.max_contacts = budget, cap

    def setup(self, market) -> None:
        """Register hooks; default none."""

    def act(self, market, t: float) -> None:
        """Do this period's work; default nothing."""

    # ------------------------------------------------------------------ helpers
    def targets(self, market, rows: np.ndarray) -> np.ndarray:
        """Apply the segment (if any) and the per-action cap."""
        if self.segment is not None:
            rows = self.segment.select(market, rows)
        if self.max_contacts is not None:
            rows = rows[: self.max_contacts]
        return rows

    def rows_in(self, market, stages: list[str]) -> np.ndarray:
        idx = [market.stage_names.index(s) for s in stages if s in market.stage_names]
        return np.flatnonzero(np.isin(market.s.stage, idx))

    def report(self) -> dict:
        return {
            "kind": self.kind,
            "class": type(self).__name__,
            "budget": self.budget,
            "spend": self.ledger.spent / 100.0 if self.ledger else 0.0,
            **self._stats,
        }


class DoNothing(Strategy):
    """The no-action baseline: spends nothing, does nothing."""

    kind: ClassVar[str] = "baseline"
    channel: str | None = None
