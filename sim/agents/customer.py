"""A customer as a Mesa agent: a view on one row of :class:`sim.state.CustomerState`.

The agent holds no state of its own, so the batched engine and the agent see the same
customer. ``step`` runs the shared rule kernels on this one row; it is what the per-agent
path (``engine.mode=agents``) calls through ``model.agents.shuffle_do("step")``.
"""
from __future__ import annotations

import mesa
import numpy as np


class Customer(mesa.Agent):
    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = int(row)
        self._rows = np.array([self.row], dtype=np.int64)

    # --- read-only views -------------------------------------------------------------
    @property
    def stage(self) -> str:
        return self.model.stage_names[self.model.s.stage[self.row]]

    @property
    def stage_index(self) -> int:
        return int(self.model.s.stage[self.row])

    @property
    def firm(self) -> int:
        return int(self.model.s.firm[self.row])

    @property
    def satisfaction(self) -> float:
        return float(self.model.s.satisfaction[self.row])

    @property
    def trust(self) -> float:
        return float(self.model.s.trust[self.row])

    @property
    def attitude(self) -> float:
        return float(self.model.s.attitude[self.row])

    @property
    def patronage(self) -> float:
        return float(self.model.current_patronage(self._rows)[0])

    @property
    def loyalty(self) -> str:
        from ..metrics import QUADRANTS
        return QUADRANTS[int(self.model.loyalty_quadrant(self._rows)[0])]

    @property
    def spend(self) -> float:
        return float(self.model.s.spend[self.row])

    @property
    def channel(self) -> str:
        return self.model.channel_names[self.model.s.channel[self.row]]

    @property
    def acquired_at(self) -> float:
        return float(self.model.s.acquired_at[self.row])

    @property
    def n_purchases(self) -> int:
        return int(self.model.s.n_purchases[self.row])

    @property
    def revenue(self) -> float:
        return self.model.s.revenue[self.row] / 100.0

    @property
    def clv(self) -> float:
        return float(self.model.s.clv[self.row])

    def history(self):
        """This customer's transactions so far (timestamp, amount, channel)."""
        cid, t, cents, ch = self.model.transactions()
        m = cid == self.row
        return list(zip(t[m].tolist(), (cents[m] / 100).tolist(),
                        [self.model.channel_names[c] for c in ch[m]]))

    # --- per-agent path ----------------------------------------------------------------
    def step(self) -> None:
        t0, t1, H0, H1, parts = self.model._window
        self.model._window_events += self.model.process_rows(self._rows, t0, t1, H0, H1, parts)

    def __repr__(self) -> str:
        return f"Customer(row={self.row}, stage={self.stage}, satisfaction={self.satisfaction:.2f})"
