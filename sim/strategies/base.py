"""Plug-in base classes: the firm's strategies, their segmenters, and market events.

A plug-in is one class (a pydantic model: its fields are its parameters, validated with
clear messages) and one YAML file in ``configs/strategy/`` naming it with ``_target_``.

* A :class:`Strategy` acts for the firm. It receives the firm's CRM view
  (:class:`sim.crm.CrmView`) and nothing else: it reads what the firm has recorded and acts
  through the view's actions, paid from its own budget, which is never overspent.
  ``act(crm, t)`` runs on its calendar (``start_day``, ``every_days``); ``setup(crm)`` may
  listen to observed events (``crm.on("purchase" | "complaint" | "lead" | "acquisition", fn)``).
* A :class:`Segmenter` chooses and orders rows for a strategy, from the same view.
* A :class:`MarketEvent` changes the world itself (a service shock, a validation mechanism).
  It receives the market, spends nothing, and stays in the paired no-action control.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ..books import BudgetLedger
from ..rng import stream_id


class Segmenter(BaseModel):
    """Chooses and orders customers (rows) for a strategy; see ``segmentation.py``."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "segmentation"

    def labels(self, crm) -> np.ndarray:  # pragma: no cover - abstract
        """A segment label for every row (-1: not segmented)."""
        raise NotImplementedError

    def select(self, crm, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """The rows of ``rows`` in the segment, in priority order."""
        raise NotImplementedError


class Plugin(BaseModel):
    """What every plug-in has: a name, a calendar and counters for its report."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: ClassVar[str] = "other"
    #: True for plug-ins that change the market rather than act for the firm: they stay in the
    #: paired no-action control, which removes only the firm's actions.
    environment: ClassVar[bool] = False

    name: str = ""
    start_day: float = Field(0.0, ge=0, le=36_500)
    every_days: float = Field(30.0, gt=0, le=36_500, description="days between actions")
    end_day: float | None = Field(None, ge=0, le=36_500)

    _index: int = PrivateAttr(-1)
    _stats: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _window(self):
        if self.end_day is not None and self.end_day < self.start_day:
            raise ValueError(f"end_day ({self.end_day}) is before start_day ({self.start_day})")
        return self

    def count(self, what: str, k: int = 1) -> None:
        """Add ``k`` to this plug-in's counter ``what`` (shown in the run summary)."""
        self._stats[what] = self._stats.get(what, 0) + int(k)

    @property
    def index(self) -> int:
        return self._index

    @property
    def stream(self) -> int:
        """This plug-in's own random-number stream (by name)."""
        return stream_id("strategy:" + self.name)

    def _subject(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def process(self, clock):
        """SimPy process: act on the plug-in's calendar until the run (or ``end_day``) ends.

        An action falls on the first window boundary at or after its day; one that would fall
        on the horizon end never fires, so nothing is spent after the final report.
        """
        t = self.start_day
        end = clock.days if self.end_day is None else min(self.end_day, clock.days)
        while t < end:
            yield clock.at(t, priority=1)
            self.count("actions")
            self.turn(clock.now, math.ceil((end - t) / self.every_days))
            t += self.every_days

    def turn(self, t: float, actions_left: int) -> None:
        """One action on the calendar (``actions_left`` counts this one)."""
        self.act(self._subject(), t)

    def act(self, subject, t: float) -> None:
        """Do this period's work; default nothing."""

    def report(self) -> dict:
        """The plug-in's counters for the run summary."""
        return {"kind": self.kind, "class": type(self).__name__, **self._stats}


class Strategy(Plugin):
    """A firm strategy: budget (currency, whole run), channel, holdout share, segment."""

    budget: float = Field(0.0, ge=0, le=1e10, description="currency available to this strategy for the whole run")
    channel: str | None = Field("email", description="contact channel (a key of `channels`)")
    holdout: float = Field(0.0, ge=0, lt=1, description="share of targeted customers kept as a control group")
    max_contacts: int | None = Field(None, ge=0, description="contacts per action at most")
    segment: Segmenter | None = None
    pacing: Literal["none", "even"] = Field(
        "none", description="even: each action may spend the remaining budget / the actions left, and a "
                            "per-action contact cap is raised to what that share buys")

    _crm: Any = PrivateAttr(None)
    _ledger: BudgetLedger | None = PrivateAttr(None)

    def bind(self, market, index: int) -> None:
        """Engine side: give the strategy its CRM view, budget and counters."""
        from ..crm import CrmView
        if index >= 64:
            raise ValueError("at most 64 strategies in one run")
        if self.channel is not None:
            market.channel_index(self.channel)  # fails early with the list of channels
        self._index = index
        self._crm = CrmView(market, self)
        self._ledger = BudgetLedger(round(self.budget * 100))
        self._stats = {"contacts": 0, "responders": 0, "actions": 0}
        self.setup(self._crm)

    def _subject(self):
        return self._crm

    def turn(self, t: float, actions_left: int) -> None:
        """Act once; with ``pacing: even`` the action may spend at most the remaining budget divided by
        the actions left (this one included; what it leaves rolls over), and ``max_contacts`` is raised
        to the contacts that share buys on the strategy's channel. Spending in hooks between actions
        (points, complaint handling) is not paced."""
        if self.pacing == "none" or self._ledger is None:
            self.act(self._crm, t)
            return
        ledger, cap, budget = self._ledger, self.max_contacts, self._ledger.budget
        share = ledger.remaining // max(1, actions_left)
        cost = self._crm.channel_cost(self.channel) if self.channel is not None else 0
        if cap is not None and cost > 0:
            self.max_contacts = max(cap, share // cost)
        ledger.budget = ledger.spent + share
        try:
            self.act(self._crm, t)
        finally:
            ledger.budget, self.max_contacts = budget, cap

    @property
    def crm(self):
        """The firm's CRM view this strategy acts through."""
        return self._crm

    @property
    def ledger(self) -> BudgetLedger:
        return self._ledger

    def setup(self, crm) -> None:
        """Listen to observed events; default none."""

    def act(self, crm, t: float) -> None:
        """Do this period's work; default nothing."""

    def choose(self, crm) -> np.ndarray:
        """The rows this strategy would contact now, in priority order (no side effects).

        Acting strategies implement it from recorded data only; the shuffle test in
        ``tests/test_firm_view.py`` checks that latent traits never change it.
        """
        return np.zeros(0, dtype=np.int64)

    def targets(self, crm, rows: np.ndarray) -> np.ndarray:
        """Apply the segment (if any) and the per-action cap."""
        if self.segment is not None:
            rows = self.segment.select(crm, rows)
        if self.max_contacts is not None:
            rows = rows[: self.max_contacts]
        return rows

    def report(self) -> dict:
        return {**super().report(), "budget": self.budget,
                "spend": self.ledger.spent / 100.0 if self.ledger else 0.0}


class MarketEvent(Plugin):
    """Changes the market itself at given days (not a firm action); kept in the paired control."""

    kind: ClassVar[str] = "event"
    environment: ClassVar[bool] = True
    _market: Any = PrivateAttr(None)

    def bind(self, market, index: int) -> None:
        """Engine side: market events see the market."""
        self._index = index
        self._market = market
        self._stats = {"actions": 0}
        self.setup(market)

    def _subject(self):
        return self._market

    def setup(self, market) -> None:
        """Check the market and prepare; default nothing."""


class DoNothing(Strategy):
    """The no-action baseline: spends nothing, does nothing."""

    kind: ClassVar[str] = "baseline"
    channel: str | None = None


def by_value(crm, rows: np.ndarray) -> np.ndarray:
    """``rows`` ordered by recorded revenue, highest first (the firm's default priority)."""
    return rows[np.argsort(-crm.record("revenue")[rows], kind="stable")]
