"""Customer state as a struct of numpy arrays (one row per customer).

Mesa ``Customer`` agents (``sim.agents.customer``) are views on one row; the engine works
on whole columns. Money is held in integer cents so that every identity is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

NOT_YET = np.nan
NO_FIRM = -1
FOCAL = 0


@dataclass
class CustomerState:
    """Every customer's state as columns of numpy arrays, one row per person: ladder, firm, traits, money and clocks."""

    n: int
    # ladder & firm
    stage: np.ndarray = field(init=False)          # int16 stage index
    firm: np.ndarray = field(init=False)           # int16: 0 focal, 1..K competitors, -1 none
    channel: np.ndarray = field(init=False)        # int16 preferred channel
    acquired_via: np.ndarray = field(init=False)   # int8 (see ACQUISITION_CAUSES)
    # individual traits
    spend: np.ndarray = field(init=False)          # float64 basket value, currency
    rate: np.ndarray = field(init=False)           # float64 own purchase rate per day
    lifetime_rate: np.ndarray = field(init=False)  # float64 Pareto/NBD death rate per day
    dropout: np.ndarray = field(init=False)        # float64 BG/NBD dropout probability
    susceptibility: np.ndarray = field(init=False) # float64 multiplier on exposure hazard
    # psychology (0..1)
    satisfaction: np.ndarray = field(init=False)
    trust: np.ndarray = field(init=False)
    attitude: np.ndarray = field(init=False)
    patronage: np.ndarray = field(init=False)      # at last_purchase_at; decays after
    switching_cost: np.ndarray = field(init=False) # 0..1, e.g. loyalty programme
    rate_boost: np.ndarray = field(init=False)     # multiplier on purchase rate (>= 0)
    upsell: np.ndarray = field(init=False)         # extra basket share from an up-sell (decays back to 0)
    upsell_at: np.ndarray = field(init=False)      # when the up-sell was last renewed
    service_boost: np.ndarray = field(init=False)  # additive service quality (priority service)
    complaint_open: np.ndarray = field(init=False) # bool: a voiced complaint not yet resolved (recorded)
    n_complaints: np.ndarray = field(init=False)   # int32 complaints received (recorded)
    recent_contacts: np.ndarray = field(init=False)  # decaying count (30-day memory)
    points: np.ndarray = field(init=False)         # loyalty points balance, currency
    # counters
    n_purchases: np.ndarray = field(init=False)    # int32
    n_contacts: np.ndarray = field(init=False)     # int32
    n_responses: np.ndarray = field(init=False)    # int32 contacts answered (recorded)
    ev: np.ndarray = field(init=False)             # uint64 touch counter (random-number key)
    treated: np.ndarray = field(init=False)        # uint64 bitmask of strategies that contacted
    held_out: np.ndarray = field(init=False)       # uint64 bitmask of strategies that held out
    # times (days since start; NaN = never)
    acquired_at: np.ndarray = field(init=False)
    first_churn_at: np.ndarray = field(init=False)
    churned_at: np.ndarray = field(init=False)
    last_purchase_at: np.ndarray = field(init=False)
    last_contact_at: np.ndarray = field(init=False)
    lead_at: np.ndarray = field(init=False)        # when the firm registered the lead (prospect)
    customer_since: np.ndarray = field(init=False) # start of the current spell as a focal customer
    surveyed_at: np.ndarray = field(init=False)    # last survey answer (sim.strategies.Survey)
    surveyed_satisfaction: np.ndarray = field(init=False)  # its noisy satisfaction score (recorded)
    # clocks
    t_buy: np.ndarray = field(init=False)          # next purchase time (inf: none)
    t_move: np.ndarray = field(init=False)         # next stage-hazard event (inf: none)
    r_buy: np.ndarray = field(init=False)          # current purchase rate
    r_move: np.ndarray = field(init=False)         # current stage hazard
    h_expose: np.ndarray = field(init=False)       # exposure threshold in cumulative-hazard units
    # money (cents) and value
    revenue: np.ndarray = field(init=False)        # int64
    margin: np.ndarray = field(init=False)         # int64
    service_cost: np.ndarray = field(init=False)   # int64
    contact_cost: np.ndarray = field(init=False)   # int64
    offer_cost: np.ndarray = field(init=False)     # int64 offers redeemed (discounts, points, coupons)
    acq_cost: np.ndarray = field(init=False)       # float64 marketing spent to acquire (at acquisition)
    clv: np.ndarray = field(init=False)            # float64 discounted, currency
    pending_acq_cost: np.ndarray = field(init=False)  # float64 discounted pre-acquisition contacts

    _dtypes = {
        "stage": np.int16, "firm": np.int16, "channel": np.int16, "acquired_via": np.int8,
        "complaint_open": np.bool_, "n_purchases": np.int32, "n_contacts": np.int32,
        "n_responses": np.int32, "n_complaints": np.int32, "offer_cost": np.int64,
        "ev": np.uint64, "treated": np.uint64, "held_out": np.uint64,
        "revenue": np.int64, "margin": np.int64, "service_cost": np.int64, "contact_cost": np.int64,
    }
    _nan = ("acquired_at", "first_churn_at", "churned_at", "last_purchase_at", "last_contact_at", "lead_at",
            "customer_since", "surveyed_at", "surveyed_satisfaction", "upsell_at")
    _inf = ("t_buy", "t_move", "h_expose")
    _one = ("susceptibility", "rate_boost")

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "n":
                continue
            dtype = self._dtypes.get(f.name, np.float64)
            if f.name in self._nan:
                arr = np.full(self.n, np.nan)
            elif f.name in self._inf:
                arr = np.full(self.n, np.inf)
            elif f.name in self._one:
                arr = np.ones(self.n)
            else:
                arr = np.zeros(self.n, dtype=dtype)
            setattr(self, f.name, arr)

    def columns(self) -> list[str]:
        """The names of the state's per-customer columns."""
        return [f.name for f in fields(self) if f.name != "n"]

    def nbytes(self) -> int:
        """Memory held by the state's columns, in bytes."""
        return sum(getattr(self, c).nbytes for c in self.columns())


ACQUISITION_CAUSES = ("none", "initial", "organic", "advertising", "word_of_mouth", "contact", "winback")
CAUSE = {name: i for i, name in enumerate(ACQUISITION_CAUSES)}
