"""The market as a Mesa model: the engine of :mod:`sim.engine`, with every customer a Mesa agent.

A ``Customer`` agent (:mod:`sim.agents.customer`) holds no state of its own: it is a view on one
row of the engine's arrays, so the batched engine and the agent see the same customer. The same
rule kernels run in two ways: ``engine.mode=batched`` handles all due customers of a window in
one vectorised call; ``engine.mode=agents`` has every agent step itself through
``model.agents.shuffle_do("step")``.

Mesa is loaded through this module only (the agents and the teaching view are built on it). A
run that writes its outputs uses :class:`sim.engine.MarketEngine` and never loads Mesa
(:func:`sim.run.build` chooses; see ``engine.agents_max``).
"""
from __future__ import annotations

import mesa
import numpy as np

from .config import SimConfig
from .engine import MarketEngine


class Market(MarketEngine, mesa.Model):
    """Customer lifecycle market as a Mesa model. ``strategies`` are built plug-ins (see ``sim.strategies``).

    Args:
        cfg: a validated config.
        strategies: the built plug-ins (``sim.run.strategies_for``).
        mode: ``"batched"`` or ``"agents"``; default ``cfg.engine.mode``.
        materialize: make the Mesa ``Customer`` agents (default: for the per-agent path, or up to
            ``engine.agents_max`` customers). False gives a Mesa model without agents.
    """

    def __init__(self, cfg: SimConfig, strategies: list | None = None, *, mode: str | None = None,
                 materialize: bool | None = None):
        MarketEngine.__init__(self, cfg, strategies, mode=mode)
        mesa.Model.__init__(self, rng=np.random.default_rng(self._model_ss))
        want = self.mode == "agents" or (materialize if materialize is not None else self.n <= cfg.engine.agents_max)
        if want:
            from .agents.customer import Customer
            self.customer_agents = Customer.create_agents(self, self.n, row=np.arange(self.n))
            # Mesa 3.3 numbers agents through a class-level dict keyed by model, which keeps every
            # model that made agents alive for the life of the process (mesa#3179, fixed upstream
            # by moving the counter onto the model). The customers are numbered 1..n; drop the entry.
            ids = getattr(mesa.Agent, "_ids", None)
            if isinstance(ids, dict):
                ids.pop(self, None)

    def _process_window(self, t0, t1, H0, H1, parts) -> int:
        """Batched as the engine; per agent (``engine.mode=agents``): every agent steps its own row."""
        if self.mode != "agents":
            return MarketEngine._process_window(self, t0, t1, H0, H1, parts)
        self._window = (t0, t1, H0, H1, parts)
        self._window_events = 0
        self.agents.shuffle_do("step")
        return self._window_events
