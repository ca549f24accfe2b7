"""The ladder compiled from its config: per-stage arrays and the transition table.

The ladder is data (``sim/configs/ladder/*.yaml``). Each stage has a *role* that says which clock
it runs (pool, lead, customer, lost), and multipliers that make profit per customer change
with the stage (000, after Jones 2003). Transitions fire on events in the order listed: the
first one whose conditions hold for a customer judges it.
"""
from __future__ import annotations

import numpy as np

ROLE_CODES = {"pool": 0, "lead": 1, "customer": 2, "lost": 3}
POOL, LEAD, CUSTOMER, LOST = 0, 1, 2, 3
EVENTS = ("exposure", "conversion", "purchase", "bad_service", "defection", "winback")

#: Stage groups a strategy may name instead of stages (``eligible_stages: [upper]``), so that its
#: defaults fit any ladder. They follow roles and ladder order, never a ladder's stage names.
STAGE_GROUPS = {
    "customers": "every customer-role stage",
    "repeat": "every customer-role stage after the first (all of them if there is only one)",
    "upper": "the upper half of the customer-role stages, rounded up (crm7: client, loyal, advocate)",
}


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The ``(first, last)`` index of each run of True in the boolean array ``mask``, in order."""
    padded = np.concatenate(([False], mask, [False]))
    starts = np.flatnonzero(padded[1:] & ~padded[:-1])
    ends = np.flatnonzero(padded[:-1] & ~padded[1:]) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def resolve_stages(selectors, names: list[str], roles: list[str]) -> list[str]:
    """Stage names meant by ``selectors`` (stage names and :data:`STAGE_GROUPS`), in ladder order.

    ``roles`` is the role name of each stage in ``names``. A stage name wins over a group of the
    same name. Unknown selectors raise ``ValueError`` naming the stages and groups allowed.
    """
    cust = [n for n, r in zip(names, roles, strict=True) if r == "customer"]
    groups = {"customers": cust, "repeat": cust[1:] or cust, "upper": cust[len(cust) // 2:]}
    chosen: set[str] = set()
    for x in selectors:
        if x in names:
            chosen.add(x)
        elif x in groups:
            chosen.update(groups[x])
        else:
            raise ValueError(f"unknown stage {x!r}; stages are {names}, groups are {list(groups)}")
    return [n for n in names if n in chosen]


class Ladder:
    """Stage arrays (indexed by stage) and transitions, built once per market."""

    def __init__(self, cfg) -> None:
        lad = cfg.ladder
        ladder_mode = cfg.market.purchase.kind == "ladder"
        self.names = [s.name for s in lad.stages]
        self.n = len(self.names)
        self.role = np.array([ROLE_CODES[s.role] for s in lad.stages], dtype=np.int8)
        self.role_names = [s.role for s in lad.stages]
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
        """Stage indices of the given names or :data:`STAGE_GROUPS` (unknown names are skipped)."""
        known = [x for x in names if x in self.names or x in STAGE_GROUPS]
        return [self.names.index(s) for s in resolve_stages(known, self.names, self.role_names)]
