"""Firms: the focal firm (index 0) and its rivals (1..K).

Each firm keeps its own books (:class:`sim.books.Books`, integer cents) over its own CRM table:
the focal firm's table is the customer state's recorded columns; a rival's is a
:class:`FirmRecords` with the same recorded columns, filled only for the customers who bought
from that rival (its transactions, contacts, points). A rival runs plug-ins from the same
library as the focal firm (``market.competitors[i].strategy``), each acting through a
:class:`sim.crm.RivalView` on its own table only. Rivals are part of the focal firm's
environment: their plug-ins stay in the paired no-action control.
"""
from __future__ import annotations

import numpy as np

from ..books import Books
from ..clock import Hooks
from ..state import CustomerState

#: Customer events a rival observes about its own customers.
RIVAL_EVENTS = ("purchase", "acquisition")

_PROTO = CustomerState(0)


class FirmRecords:
    """A rival's CRM table: the focal table's recorded and money columns, allocated on first use
    (one row per person in the market; only the rival's own customers ever get a value)."""

    def __init__(self, n: int):
        self.n = n

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in _PROTO.columns():
            raise AttributeError(name)
        dtype = CustomerState._dtypes.get(name, np.float64)
        arr = np.full(self.n, np.nan) if name in CustomerState._nan else np.zeros(self.n, dtype=dtype)
        object.__setattr__(self, name, arr)
        return arr


class Firm:
    """One firm: its index, name, books, CRM table, observed events and plug-ins."""

    def __init__(self, index: int, name: str, attractiveness: float, records, books: Books,
                 service_cents: int = 0, hooks: Hooks | None = None):
        self.index, self.name, self.attractiveness = index, name, attractiveness
        self.records, self.books = records, books
        self.service_cents = int(service_cents)
        self.hooks = hooks or Hooks(RIVAL_EVENTS)
        self.strategies: list = []

    @property
    def slug(self) -> str:
        """A column-safe name (``focal`` for the focal firm)."""
        if self.index == 0:
            return "focal"
        return "".join(c if c.isalnum() else "_" for c in self.name.lower()).strip("_") or f"rival_{self.index}"

    def customers(self, market) -> np.ndarray:
        """Rows of the customers whose main supplier this firm is now (focal: current customers;
        rival: customers who defected to it)."""
        return np.flatnonzero(market.s.firm == self.index)

    def sale(self, rows: np.ndarray, t: np.ndarray, cents: np.ndarray, channel: np.ndarray) -> None:
        """A rival's sales to ``rows`` (unique): its books, its records, its observed events."""
        rec = self.records
        self.books.sale(rows, t, cents, np.full(rows.size, self.service_cents, np.int64), channel)
        new = np.isnan(rec.acquired_at[rows])
        rec.n_purchases[rows] += 1
        rec.last_purchase_at[rows] = t
        if new.any():
            rec.acquired_at[rows[new]] = t[new]
            self.books.acquired(rows[new])
            self.hooks.emit("acquisition", rows[new], t[new])
        self.hooks.emit("purchase", rows, t)


def firms_from_config(cfg, s: CustomerState, books: Books, hooks: Hooks) -> list[Firm]:
    """The focal firm (over the customer state and its books) and one rival per competitor."""
    n = s.n
    ec = cfg.economics
    out = [Firm(0, "Focal firm", 1.0, s, books, hooks=hooks)]
    for i, c in enumerate(cfg.market.competitors):
        rec = FirmRecords(n)
        margin = ec.margin if c.margin is None else c.margin
        out.append(Firm(i + 1, c.name, c.attractiveness, rec, Books(rec, ec.annual_discount_rate, margin),
                        service_cents=round(c.service_cost * 100)))
    return out
