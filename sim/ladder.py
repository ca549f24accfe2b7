"""The ladder compiled from its config: per-stage arrays and the transition table.

The ladder is data (``configs/ladder/*.yaml``). Each stage has a *role* that says which clock
it runs (pool, lead, customer, lost), and multipliers that make profit per customer change
with the stage (000, after Jones 2003). Transitions fire on events in the order listed: the
first one whose conditions hold for a customer judges it.
"""
from __future__ import annotations

import numpy as np

ROLE_CODES = {"pool": 0, "lead": 1, "customer": 2, "lost": 3}
POOL, LEAD, CUSTOMER, LOST = 0, 1, 2, 3
EVENTS = ("exposure", "conversion", "purchase", "bad_service", "defection", "winback")


class Ladder:
    """Stage arrays (indexed by stage) and transitions, built once per market."""

    def __init__(self, cfg) -> None:
        lad = cfg.ladder
        ladder_mode = cfg.market.purchase.kind == "ladder"
        self.names = [s.name for s in lad.stages]
        self.n = len(self.names)
        self.role = np.array([ROLE_CODES[s.role] for s in lad.stages], dtype=np.int8)
        self.lost = int(np.flatnonzero(self.role == LOST)[0])
        self.pool = int(np.flatnonzero(self.role == POOL)[0]) if (self.role == POOL).any() else -1
        self.lead = int(np.flatnonzero(self.role == LEAD)[0]) if (self.role == LEAD).any() else -1
        # behaviour multipliers (1 in the BTYD validation markets, where the purchase process is pure)
        self.rate = np.array([s.purchase_rate if ladder_mode else 1.0 for s in lad.stages])
        self.spend = np.array([s.spend if ladder_mode else 1.0 for s in lad.stages])
        self.service_cents = np.array([round(s.service_cost * 100) for s in lad.stages], dtype=np.int64)
        self.defect = np.array([s.defection for s in lad.stages])
        self.wom = np.array([s.word_of_mouth for s in lad.stages])
        self.price_sensitivity = np.array([s.price_sensitivity for s in lad.stages])
        # the firm's classification from recorded purchases (see sim.crm): the highest customer
        # stage whose threshold a customer's purchase count reaches
        self.crm_min_purchases = np.array(
            [s.crm_min_purchases if s.crm_min_purchases is not None else s.init.purchases for s in lad.stages],
            dtype=np.int64)
        self.transitions: dict[str, list] = {k: [] for k in EVENTS}
        for t in lad.transitions:
            from_mask = np.zeros(self.n, bool)
            from_mask[[self.names.index(f) for f in t.from_]] = True
            self.transitions[t.event].append((from_mask, self.names.index(t.to), t))

    def customer_stages(self) -> np.ndarray:
        """Indices of the customer-role stages, in ladder order."""
        return np.flatnonzero(self.role == CUSTOMER)

    def index(self, names) -> list[int]:
        """Stage indices of the given names (unknown names are skipped)."""
        return [self.names.index(s) for s in names if s in self.names]
