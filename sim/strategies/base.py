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

from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..market import BudgetLedger
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

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

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

    def labels(self, market) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def select(self, market, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class Strategy(PluginParams):
    """Common parameters: budget (currency, for the whole run), channel, calendar, holdout."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False)
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

    _market: Any = PrivateAttr(None)
    _index: int = PrivateAttr(-1)
    _ledger: BudgetLedger | None = PrivateAttr(None)
    _stats: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _window(self):
        if self.end_day is not None and self.end_day < self.start_day:
            raise ValueError(f"end_day ({self.end_day}) is before start_day ({self.start_day})")
        return self

    @field_validator("channel", mode="after")
    @classmethod
    def _channel_needed(cls, v: str | None) -> str | None:
        """A plug-in whose class has a default channel contacts customers: null is refused (only
        plug-ins that contact no one, whose default is null, may have none)."""
        default = cls.model_fields["channel"].default
        if v is None and default is not None:
            raise ValueError(f"{cls.__name__} contacts customers and needs a channel (default {default!r}); "
                             "null is only for plug-ins that contact no one")
        return v

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
            self.act(market, market.now)
            t += self.every_days

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
