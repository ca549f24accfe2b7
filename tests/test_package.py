"""The market shadows no attribute of the installed ``mesa.Model`` (nor those newer Mesa adds)."""
from __future__ import annotations

import sys
from pathlib import Path

import mesa

import sim
from sim.market import Market

SMALL = ["market.n_customers=300", "market.days=30", "engine.progress=false"]


#: Attributes newer Mesa releases give ``Model`` that the installed one may lack: Mesa 3.5 drives
#: ``step()`` from ``Model.time`` and has a ``Model.scenario`` property (issue 17's report).
NEWER_MESA = {"time", "scenario"}
#: What Mesa expects a model to set or override.
MESA_EXPECTS = {"step", "running", "__init__"}


def test_the_market_shadows_no_mesa_model_attribute(monkeypatch):
    base = mesa.Model()
    mesa_names = (set(dir(mesa.Model)) | set(vars(base)) | NEWER_MESA) - MESA_EXPECTS
    # methods and properties the market's own classes define
    own = {k for c in Market.__mro__ if c not in mesa.Model.__mro__ for k in vars(c)
           if not (k.startswith("__") and k.endswith("__"))}
    assert not own & mesa_names, sorted(own & mesa_names)
    # attributes the market's code assigns while it is built and run (Mesa's own assignments aside)
    assigned: set[str] = set()
    mesa_dir = Path(mesa.__file__).parent

    def spy(self, name, value):
        if not Path(sys._getframe(1).f_code.co_filename).is_relative_to(mesa_dir):
            assigned.add(name)
        object.__setattr__(self, name, value)

    monkeypatch.setattr(Market, "__setattr__", spy)
    for mode in ("batched", "agents"):
        sim.simulate(sim.load(SMALL + [f"engine.mode={mode}"]), progress=False)
    assert assigned and not assigned & mesa_names, sorted(assigned & mesa_names)
