"""A customer as a Mesa agent: a view on one row of :class:`sim.state.CustomerState`.

The agent holds no state of its own, so the batched engine and the agent see the same
customer. ``step`` runs the shared rule kernels on this one row; it is what the per-agent
path (``engine.mode=agents``) calls through ``model.agents.shuffle_do("step")``.
"""
from __future__ import annotations

import mesa
import numpy as np


class Customer(mesa.Agent):
    """One person in the market as a Mesa agent: a view on row ``row`` of the market's customer arrays.

    Its properties read the person's stage, firm, latent traits and money from those arrays; ``step`` runs the person's
    own events for the current processing window (the per-agent path).
    """

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = int(row)
        self._rows = np.array([self.row], dtype=np.int64)

    # --- read-only views -------------------------------------------------------------
    @property
    def stage(self) -> str:
        """The name of the ladder stage the customer is on now."""
        return self.model.stage_names[self.model.s.stage[self.row]]

    @property
    def stage_index(self) -> int:
        """The index of the customer's current ladder stage."""
        return int(self.model.s.stage[self.row])

    @property
    def firm(self) -> int:
        """The index of the firm the customer buys from (0 is the focal firm)."""
        return int(self.model.s.firm[self.row])

    @property
    def satisfaction(self) -> float:
        """The customer's latent satisfaction with the focal firm."""
        return float(self.model.s.satisfaction[self.row])

    @property
    def trust(self) -> float:
        """The customer's latent trust in the focal firm."""
        return float(self.model.s.trust[self.row])

    @property
    def attitude(self) -> float:
        """The customer's latent attitude towards the focal firm."""
        return float(self.model.s.attitude[self.row])

    @property
    def patronage(self) -> float:
        """The customer's patronage now: their habit of buying, decayed since their last purchase."""
        return float(self.model.current_patronage(self._rows)[0])

    @property
    def loyalty(self) -> str:
        """The customer's Dick & Basu loyalty quadrant (from relative attitude and patronage)."""
        from ..metrics import QUADRANTS
        return QUADRANTS[int(self.model.loyalty_quadrant(self._rows)[0])]

    @property
    def spend(self) -> float:
        """The customer's typical basket size."""
        return float(self.model.s.spend[self.row])

    @property
    def channel(self) -> str:
        """The name of the channel the customer prefers."""
        return self.model.channel_names[self.model.s.channel[self.row]]

    @property
    def acquired_at(self) -> float:
        """The simulated day the customer was acquired (NaN if never)."""
        return float(self.model.s.acquired_at[self.row])

    @property
    def n_purchases(self) -> int:
        """How many purchases the customer has made so far."""
        return int(self.model.s.n_purchases[self.row])

    @property
    def revenue(self) -> float:
        """The customer's revenue to the firm so far, in currency units (stored in cents)."""
        return self.model.s.revenue[self.row] / 100.0

    @property
    def clv(self) -> float:
        """The customer's lifetime value as last computed by the market."""
        return float(self.model.s.clv[self.row])

    def history(self):
        """This customer's transactions so far (timestamp, amount, channel)."""
        cid, t, cents, ch = self.model.transactions()
        m = cid == self.row
        return list(zip(t[m].tolist(), (cents[m] / 100).tolist(),
                        [self.model.channel_names[c] for c in ch[m]], strict=True))

    # --- per-agent path ----------------------------------------------------------------
    def step(self) -> None:
        """Run this customer's events (purchases, ladder moves, churn) in the market's current processing window."""
        t0, t1, H0, H1, parts = self.model._window
        self.model._window_events += self.model.process_rows(self._rows, t0, t1, H0, H1, parts)

    def __repr__(self) -> str:
        return f"Customer(row={self.row}, stage={self.stage}, satisfaction={self.satisfaction:.2f})"
