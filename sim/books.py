"""The focal firm's books: every amount in integer cents, per customer and in total.

The profit and loss statement (``Books.pnl``) is complete: revenue, cost of goods (revenue −
gross margin), cost to serve, contact costs, offer costs (discounts, coupons, points and free
service, paid per redemption), other marketing spend (advertising, referral rewards) and fixed
overheads per period. Marketing money spent on a customer before its first purchase becomes
its acquisition cost (CLV per 000: discounted margin minus the costs of acquiring, selling to
and serving the customer). An amount that would not fit the books exactly stops the run with
an error; nothing wraps around.
"""
from __future__ import annotations

import numpy as np

MAX_CENTS = 2 ** 62  # books stop with an error before any int64 total could wrap


class BooksOverflow(ArithmeticError):
    """An amount too large to keep in exact integer cents."""


class BudgetLedger:
    """Money a strategy may spend (cents). Never goes below zero."""

    def __init__(self, cents: int):
        self.budget = int(cents)
        self.spent = 0

    @property
    def remaining(self) -> int:
        """Cents still available."""
        return self.budget - self.spent

    def affordable(self, unit_cents: int, wanted: int) -> int:
        """How many of ``wanted`` items at ``unit_cents`` each the remaining budget pays for."""
        if unit_cents <= 0:
            return wanted
        return int(min(wanted, self.remaining // unit_cents))

    def charge(self, cents: int) -> None:
        """Spend ``cents``; refuses to overspend."""
        if cents > self.remaining:
            raise RuntimeError(f"overspend: {cents} > remaining {self.remaining}")
        self.spent += int(cents)


def _check(cents: np.ndarray, what: str) -> None:
    if cents.size == 0:
        return
    finite = cents.dtype.kind in "iu" or np.all(np.isfinite(cents))  # whole numbers are always finite
    if not finite or np.abs(cents).max() >= MAX_CENTS:
        raise BooksOverflow(f"books: a {what} amount ({np.abs(cents).max():.4g} cents) does not fit exact "
                            "integer cents; a money parameter is far too large")


def to_cents(amount) -> np.ndarray:
    """Currency to whole cents, refusing non-finite or oversized amounts."""
    cents = np.rint(np.asarray(amount, dtype=np.float64) * 100)
    _check(cents, "money")
    return cents.astype(np.int64)


class Books:
    """Totals and per-customer money of the focal firm."""

    KEYS = ("revenue", "margin", "service_cost", "contact_cost", "offer_cost", "other_spend", "fixed_cost")

    def __init__(self, s, discount_rate: float, margin_share: float):
        self.s = s
        self.discount_rate = discount_rate
        self.margin_share = margin_share
        self.totals = {k: 0 for k in self.KEYS}
        self.acquisition_spend = 0.0   # discounted currency attributed to customers at acquisition
        self._txn: list[tuple[np.ndarray, ...]] = []

    # ------------------------------------------------------------------ helpers
    def discount(self, t) -> np.ndarray:
        """Discount factor at time(s) ``t`` (days) for the annual discount rate."""
        return np.power(1.0 + self.discount_rate, -np.maximum(np.asarray(t, float), 0.0) / 365.0)

    def _add(self, key: str, per_row: np.ndarray, column: np.ndarray | None, rows) -> None:
        total = int(per_row.sum())
        new = self.totals[key] + total
        if abs(new) >= MAX_CENTS:
            raise BooksOverflow(f"books: total {key} would exceed {MAX_CENTS} cents")
        if column is not None:
            after = column[rows].astype(np.float64) + per_row
            if after.size and np.abs(after).max() >= MAX_CENTS:
                raise BooksOverflow(f"books: a customer's {key} would exceed {MAX_CENTS} cents")
            np.add.at(column, rows, per_row)
        self.totals[key] = new

    def _add_unique(self, key: str, per_row: np.ndarray, column: np.ndarray, rows: np.ndarray) -> None:
        """:meth:`_add` for distinct ``rows`` and amounts below ``MAX_CENTS`` (a sale's): the same
        checks and sums, in integers (no amount or customer total near the limit can wrap int64)."""
        if not per_row.any():  # nothing to add (a rival's sales with no cost to serve)
            return
        total = int(per_row.sum())
        new = self.totals[key] + total
        if abs(new) >= MAX_CENTS:
            raise BooksOverflow(f"books: total {key} would exceed {MAX_CENTS} cents")
        after = column[rows] + per_row
        # a float sum (as in _add) can differ from the exact one by under 2**11 at this size: near
        # the limit, judge as _add does
        if after.size and np.abs(after).max() >= MAX_CENTS - 4096 \
                and np.abs(column[rows].astype(np.float64) + per_row).max() >= MAX_CENTS:
            raise BooksOverflow(f"books: a customer's {key} would exceed {MAX_CENTS} cents")
        column[rows] = after
        self.totals[key] = new

    # ------------------------------------------------------------------ entries
    def sale(self, rows: np.ndarray, t: np.ndarray, cents: np.ndarray, service_cents: np.ndarray,
             channel: np.ndarray, margin_share: float | np.ndarray | None = None) -> None:
        """Book purchases: revenue, gross margin at ``margin_share`` and cost to serve."""
        _check(cents, "purchase")
        share = self.margin_share if margin_share is None else margin_share
        marg = np.rint(cents * share).astype(np.int64)
        s = self.s
        # rows are distinct (one purchase each), so per-customer sums need no np.add.at
        self._add_unique("revenue", cents, s.revenue, rows)
        self._add_unique("margin", marg, s.margin, rows)
        self._add_unique("service_cost", service_cents, s.service_cost, rows)
        s.clv[rows] += self.discount(t) * (marg - service_cents) / 100.0
        self._txn.append((rows.astype(np.int64), np.asarray(t, float).copy(), cents, channel.copy()))

    def margin_only(self, rows: np.ndarray, cents: np.ndarray, t: float) -> None:
        """Margin earned outside a purchase (e.g. a Markov migration model's per-period margin)."""
        self._add("margin", cents, self.s.margin, rows)
        np.add.at(self.s.clv, rows, float(self.discount(t)) * cents / 100.0)

    def customer_cost(self, rows: np.ndarray, cents: np.ndarray, t: float, kind: str = "contact") -> None:
        """Marketing money spent on identified customers: a contact or an offer redeemed.

        Before a customer's first purchase it is held as pending acquisition cost; after, it
        lowers the customer's CLV (discounted at ``t``).
        """
        key = "contact_cost" if kind == "contact" else "offer_cost"
        column = self.s.contact_cost if kind == "contact" else self.s.offer_cost
        self._add(key, cents, column, rows)
        s = self.s
        disc = float(self.discount(t)) * cents / 100.0
        pre = np.isnan(s.acquired_at[rows])
        np.add.at(s.pending_acq_cost, rows[pre], disc[pre])
        np.subtract.at(s.clv, rows[~pre], disc[~pre])

    def firm_spend(self, cents: int) -> None:
        """Marketing money not tied to a customer (advertising, programme overheads)."""
        self._add("other_spend", np.array([int(cents)]), None, None)

    def overhead(self, cents: int) -> None:
        """Fixed costs of running the business for a period (not marketing)."""
        self._add("fixed_cost", np.array([int(cents)]), None, None)

    def acquired(self, rows: np.ndarray) -> None:
        """Customers made their first purchase: their pending cost becomes acquisition cost."""
        s = self.s
        pending = s.pending_acq_cost[rows]
        s.acq_cost[rows] = pending
        s.clv[rows] -= pending
        self.acquisition_spend += float(pending.sum())
        s.pending_acq_cost[rows] = 0.0

    # ------------------------------------------------------------------ statements
    def marketing_spend(self) -> int:
        """Contacts, offers and other marketing spend (cents)."""
        t = self.totals
        return t["contact_cost"] + t["offer_cost"] + t["other_spend"]

    def profit(self) -> int:
        """Operating profit (cents): gross margin − cost to serve − marketing − fixed costs."""
        t = self.totals
        return t["margin"] - t["service_cost"] - self.marketing_spend() - t["fixed_cost"]

    def pnl(self) -> dict[str, float]:
        """The profit and loss statement, in currency."""
        t = self.totals
        return {
            "revenue": t["revenue"] / 100.0,
            "cost_of_goods": (t["revenue"] - t["margin"]) / 100.0,
            "gross_margin": t["margin"] / 100.0,
            "service_cost": t["service_cost"] / 100.0,
            "contact_cost": t["contact_cost"] / 100.0,
            "offer_cost": t["offer_cost"] / 100.0,
            "other_marketing_spend": t["other_spend"] / 100.0,
            "marketing_spend": self.marketing_spend() / 100.0,
            "fixed_cost": t["fixed_cost"] / 100.0,
            "profit": self.profit() / 100.0,
        }

    def transactions(self):
        """The transaction log sorted by time: (customer rows, times, cents, channel codes)."""
        if not self._txn:
            return (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int16))
        cols = [np.concatenate([x[i] for x in self._txn]) for i in range(4)]
        order = np.lexsort((cols[0], cols[1]))
        return tuple(c[order] for c in cols)

    def n_transactions(self) -> int:
        """Purchases logged so far (without assembling the log)."""
        return int(sum(x[0].size for x in self._txn))
