"""Plug-in base classes: the firm's strategies, their segmenters, and market events.

A plug-in is one class (a pydantic model: its fields are its parameters, validated with
clear messages) and one YAML file in ``sim/configs/strategy/`` naming it with ``_target_``.

* A :class:`Strategy` acts for the firm. It receives the firm's CRM view
  (:class:`sim.crm.CrmView`) and nothing else: it reads what the firm has recorded and acts
  through the view's actions, paid from its own budget, which is never overspent.
  ``act(crm, t)`` runs on its calendar (``start_day``, ``every_days``); ``setup(crm)`` may
  listen to observed events (``crm.on("purchase" | "complaint" | "lead" | "acquisition", fn)``).
* A :class:`Segmenter` chooses and orders rows for a strategy, from the same view.
* A rival firm runs plug-ins from the same library (``market.competitors[i].strategy``) through
  its own view (:class:`sim.crm.RivalView`); a plug-in that can work for a rival says so
  (``rival_ok``), one that only makes sense for a rival says that (``rival_only``).
* A :class:`MarketEvent` changes the world itself (a service shock, a validation mechanism).
  It receives the market, spends nothing, and stays in the paired no-action control.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..books import BudgetLedger
from ..rng import stream_id


#: no numeric plug-in parameter (a price, a rate, a multiplier, ...) may exceed this in size, and no
#: budget MAX_BUDGET: with money in integer cents, a per-customer amount of 1e6 (1e8 cents) times
#: 5e7 customers, or a whole budget, stays far inside int64 (9.2e18 cents)
MAX_PARAMETER = 1e6
MAX_BUDGET = 1e10
#: bounds for the common fields, enforced for subclasses that redeclare a field with a new default
#: (a redeclared field loses the base's ``Field(...)`` constraints): (low, low inclusive?, high)
COMMON_BOUNDS: dict[str, tuple[float, bool, float]] = {
    "budget": (0.0, True, MAX_BUDGET),
    "start_day": (0.0, True, 36_500.0),
    "every_days": (0.0, False, 36_500.0),
    "end_day": (0.0, True, 36_500.0),
    "holdout": (0.0, True, 0.999999),
    "max_contacts": (0, True, 50_000_000),
}


def _bounded_numbers(v: Any, what: str) -> Any:
    """Refuse any number (also inside lists and mappings) that is not finite or exceeds MAX_PARAMETER."""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        if not (abs(v) <= MAX_PARAMETER):
            raise ValueError(f"{what} must be finite and at most {MAX_PARAMETER:g} in size")
    elif isinstance(v, (list, tuple)):
        for x in v:
            _bounded_numbers(x, what)
    elif isinstance(v, dict):
        for x in v.values():
            _bounded_numbers(x, what)
    return v


class PluginParams(BaseModel):
    """Parameter checks shared by every plug-in (strategies and segmenters)."""

    # defer_build: a plug-in class builds its validator when first used, so a run pays only for those it runs
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: Any, info) -> Any:
        """``true`` is not a number: a bool given for a numeric field is refused (pydantic would
        read it as 1)."""
        if isinstance(v, bool):
            ann = str(cls.model_fields[info.field_name].annotation)
            if ("int" in ann or "float" in ann) and "bool" not in ann:
                raise ValueError("a number is required, not a boolean")
        return v

    @field_validator("*", mode="after")
    @classmethod
    def _finite_bounds(cls, v: Any, info) -> Any:
        """Every numeric parameter (also inside lists, e.g. a migration matrix) is finite and at
        most MAX_PARAMETER in size; the common fields have their own bounds (a budget up to
        MAX_BUDGET), kept even when a subclass redeclares them with another default."""
        name = info.field_name
        if name not in COMMON_BOUNDS:
            _bounded_numbers(v, name)
        elif v is not None:
            lo, incl, hi = COMMON_BOUNDS[name]
            if not ((v >= lo if incl else v > lo) and v <= hi):
                raise ValueError(f"{name} must be {'>=' if incl else '>'} {lo:g} and <= {hi:g}")
        return v


class Segmenter(PluginParams):
    """Chooses and orders customers (rows) for a strategy; see ``segmentation.py``."""

    kind: ClassVar[str] = "segmentation"

    def labels(self, crm) -> np.ndarray:  # pragma: no cover - abstract
        """A segment label for every row (-1: not segmented)."""
        raise NotImplementedError

    def select(self, crm, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """The rows of ``rows`` in the segment, in priority order."""
        raise NotImplementedError


class Plugin(PluginParams):
    """What every plug-in has: a name, a calendar and counters for its report."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False, defer_build=True)
    kind: ClassVar[str] = "other"
    #: True for plug-ins that change the market rather than act for the firm: they stay in the
    #: paired no-action control, which removes only the firm's actions.
    environment: ClassVar[bool] = False

    name: str = ""
    start_day: float = Field(0.0, ge=0)
    every_days: float = Field(30.0, gt=0, description="days between actions")
    end_day: float | None = Field(None, ge=0)

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
        """The plug-in's position among its firm's plug-ins (set when it is bound to a market)."""
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

    #: True for plug-ins a rival firm may run (they use only what a rival's view offers).
    rival_ok: ClassVar[bool] = False
    #: True for plug-ins only a rival may run (they watch the focal firm's public moves).
    rival_only: ClassVar[bool] = False

    budget: float = Field(0.0, ge=0, description="currency available to this strategy for the whole run")
    channel: str | None = Field("email", description="contact channel (a key of `channels`)")
    holdout: float = Field(0.0, ge=0, lt=1, description="share of targeted customers kept as a control group")
    max_contacts: int | None = Field(None, ge=0, description="contacts per action at most")
    segment: Segmenter | None = None
    pacing: Literal["none", "even"] = Field(
        "none", description="even: each action may spend the remaining budget / the actions left, and a "
                            "per-action contact cap is raised to what that share buys")

    _crm: Any = PrivateAttr(None)
    _ledger: BudgetLedger | None = PrivateAttr(None)

    @field_validator("channel", mode="after")
    @classmethod
    def _channel_needed(cls, v: str | None) -> str | None:
        """A strategy whose class has a default channel contacts customers: null is refused (only
        strategies that contact no one, whose default is null, may have none)."""
        default = cls.model_fields["channel"].default
        if v is None and default is not None:
            raise ValueError(f"{cls.__name__} contacts customers and needs a channel (default {default!r}); "
                             "null is only for plug-ins that contact no one")
        return v

    def bind(self, market, index: int, firm=None) -> None:
        """Engine side: give the strategy its CRM view (the focal firm's, or ``firm``'s when it is
        a rival), budget and counters."""
        from ..crm import CrmView, RivalView
        if index >= 64:
            raise ValueError("at most 64 strategies in one run")
        if self.channel is not None:
            market.channel_index(self.channel)  # fails early with the list of channels
        self._index = index
        self._crm = RivalView(market, firm, self) if firm is not None and firm.index > 0 else CrmView(market, self)
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
        """The strategy's budget ledger (what it may still spend), once bound."""
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

    def _cap(self, crm) -> int | None:
        """How many rows of an ordered list passed through :meth:`targets` to ``crm.contact`` on
        the strategy's channel can be reached at most (None: any number): the contact cap and what
        the budget pays for. A strategy need only order that many (a segment filters the whole
        list first); at 0 (a spent budget) it chooses nobody without reading its records."""
        if self.segment is not None:
            return None
        k, b = self.max_contacts, crm.contacts_affordable()
        return b if k is None else k if b is None else min(k, b)

    def targets(self, crm, rows: np.ndarray) -> np.ndarray:
        """Apply the segment (if any) and the per-action cap."""
        if self.segment is not None:
            rows = self.segment.select(crm, rows)
        if self.max_contacts is not None:
            rows = rows[: self.max_contacts]
        return rows

    def report(self) -> dict:
        """The plug-in's counters with its budget and what it has spent, in currency."""
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
    rival_ok: ClassVar[bool] = True
    channel: str | None = None


def by_value(crm, rows: np.ndarray, k: int | None = None) -> np.ndarray:
    """``rows`` ordered by recorded revenue, highest first (the firm's default priority); only the
    first ``k`` of that order when ``k`` is given."""
    return rows[stable_order(-crm.record("revenue")[rows], k)]


def stable_order(keys: np.ndarray, k: int | None = None) -> np.ndarray:
    """``np.argsort(keys, kind="stable")[:k]``, without sorting everything when ``k`` is small.

    The ``k`` smallest are found by partition; ties are resolved as the stable sort does: every
    key strictly below the ``k``-th smallest (in stable order), then the keys equal to it in
    index order. Keys with NaN take the full sort (which puts NaN last).
    """
    n = keys.size
    if k is None or k >= n or 4 * k >= n:
        return np.argsort(keys, kind="stable")[:k]
    if k <= 0:
        return np.zeros(0, np.intp)
    if keys.dtype.kind == "f" and np.isnan(keys).any():
        return np.argsort(keys, kind="stable")[:k]
    kth = np.partition(keys, k - 1)[k - 1]
    below = np.flatnonzero(keys < kth)
    below = below[np.argsort(keys[below], kind="stable")]
    equal = np.flatnonzero(keys == kth)[: k - below.size]
    return np.concatenate([below, equal])
