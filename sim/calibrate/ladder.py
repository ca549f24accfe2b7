"""Placing real customers on the ladder from their observed history, and the calibrated ladder.

Rules (each threshold is a parameter of :class:`PlacementRules` and a command-line option),
applied in this order, to a customer's purchase count n (same-day purchases collapsed) and
the days since its last purchase at the simulation start:

1. lapsed: no purchase for more than ``lapsed_days`` → the ladder's **lost** stage (churned);
2. loyal: n >= ``loyal_min_purchases`` and a purchase within ``loyal_recent_days`` (frequent
   AND recent) → the fourth customer stage;
3. client: n >= ``client_min_purchases`` → the third customer stage;
4. repeat buyer: n >= 2 → the second customer stage;
5. first-time buyer: n = 1 → the first customer stage.

Stages are found by their **role** (the ladder's customer stages in order, and its one lost
stage), so the rules hold for any ladder with enough customer stages; with fewer, the higher
steps fold into the last customer stage. A log cannot see advocacy (recommendations), so no
one is placed above loyal.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

STEP_NAMES = ("first_time_buyer", "repeat_buyer", "client", "loyal")


@dataclass
class PlacementRules:
    """The rules that place each customer of a transaction log on a ladder stage (lost, loyal, client and so on)."""

    lapsed_days: float = 180.0
    client_min_purchases: int = 4
    loyal_min_purchases: int = 8
    loyal_recent_days: float = 60.0

    def as_dict(self) -> dict:
        """The rules as a plain dict (for the calibration's JSON results)."""
        return asdict(self)

    def describe(self) -> list[str]:
        """The rules in words, one line per stage, for the calibration report."""
        return [f"lost (churned): no purchase for more than {self.lapsed_days:g} days",
                f"loyal: at least {self.loyal_min_purchases} purchases and one in the last "
                f"{self.loyal_recent_days:g} days",
                f"client: at least {self.client_min_purchases} purchases",
                "repeat buyer: 2 or more purchases", "first-time buyer: 1 purchase"]


def step_by_count(n, rules: PlacementRules, recency_days=None) -> np.ndarray:
    """Customer step 0..3 (first-time, repeat, client, loyal) from purchase counts; loyal needs
    ``recency_days`` (days since the last purchase), without it nobody is loyal."""
    n = np.asarray(n)
    step = np.where(n >= rules.client_min_purchases, 2, np.where(n >= 2, 1, 0))
    if recency_days is not None:
        loyal = (n >= rules.loyal_min_purchases) & (np.asarray(recency_days) <= rules.loyal_recent_days)
        step = np.where(loyal, 3, step)
    return step


def place(n, days_since_last, rules: PlacementRules, customer_stages: list[str], lost_stage: str) -> np.ndarray:
    """Stage name of every customer (see the module docstring for the rules)."""
    step = step_by_count(n, rules, days_since_last)
    names = np.array(customer_stages, dtype=object)[np.minimum(step, len(customer_stages) - 1)]
    return np.where(np.asarray(days_since_last) > rules.lapsed_days, lost_stage, names)


def calibrated_ladder(rules: PlacementRules, arrivals: bool) -> dict:
    """The calibrated market's ladder, as config data: crm7's names for the steps a log can see,
    with their roles. New customers (if arrivals are simulated) are ``suspect`` (pool) until
    their first purchase; each purchase moves a customer up by the same count rules as the
    placement; a customer who drops out (the fitted BTYD process) is ``churned`` (lost), and a
    win-back returns it as a repeat buyer. Every stage that has bought counts in word of mouth
    (weight 1), so the Bass hazard p + q (adopters / market size) continues the fitted curve.
    Stage costs are 0: a transaction log does not record cost to serve."""
    st = []
    if arrivals:
        st.append({"name": "suspect", "en": "Suspect", "fa": "مشتری احتمالی", "role": "pool"})
    fa = {"first_time_buyer": "مشتری بالفعل با خرید آزمایشی", "repeat_buyer": "مشتری بالفعل با خرید مکرر",
          "client": "مشتری اصلی", "loyal": "مشتری وفادار"}
    en = {"first_time_buyer": "First-time buyer", "repeat_buyer": "Repeat buyer", "client": "Client", "loyal": "Loyal"}
    # the firm's CRM view classes recorded customers by the same counts (crm_min_purchases)
    mins = {"first_time_buyer": 1, "repeat_buyer": 2, "client": rules.client_min_purchases,
            "loyal": rules.loyal_min_purchases}
    for nm in STEP_NAMES:
        st.append({"name": nm, "en": en[nm], "fa": fa[nm], "role": "customer", "word_of_mouth": 1.0,
                   "crm_min_purchases": mins[nm], "init": {"purchases": mins[nm]}})
    st.append({"name": "churned", "en": "Churned", "fa": "مشتری از دست رفته", "role": "lost", "word_of_mouth": 1.0})
    tr = []
    if arrivals:
        tr.append({"from": "suspect", "to": "first_time_buyer", "event": "exposure"})
    tr += [{"from": "first_time_buyer", "to": "repeat_buyer", "event": "purchase", "min_purchases": 2},
           {"from": "repeat_buyer", "to": "client", "event": "purchase", "min_purchases": rules.client_min_purchases},
           {"from": "client", "to": "loyal", "event": "purchase", "min_purchases": rules.loyal_min_purchases},
           {"from": list(STEP_NAMES), "to": "churned", "event": "defection"},
           {"from": "churned", "to": "repeat_buyer", "event": "winback"}]
    return {"stages": st, "transitions": tr}
