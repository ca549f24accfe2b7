"""Customer-lifecycle simulation and CRM strategy testbed.

From a script or a notebook::

    import sim
    from sim import metrics

    cfg = sim.load(["market.n_customers=2000", "strategy=win_back"])   # compose + validate
    market = sim.simulate(cfg)                                          # run, nothing written
    ts = metrics.timeseries(market)                                     # pandas DataFrames
    summary = sim.run(cfg, "outputs/demo")                              # + paired control, all files
    study = sim.study({"strategy.win_back.offer": [0, 10]}, "multirun/demo",
                      overrides=["strategy=win_back"], seeds=range(3))  # study.runs, study.comparison

:func:`load` / :func:`compose` read the packaged configs (``sim/configs``, optionally with a
folder of your own: ``config_dir=``); :func:`validate` checks any dict; :func:`build` makes a
:class:`Market` without running it. Every output column is described in :mod:`sim.schema`.
``sim.Market`` (the market as a Mesa model) loads Mesa when first used; a run does not need it.
"""
from .config import ConfigError, SimConfig, compose, load, validate
from .run import build, run, simulate, study

__all__ = ["ConfigError", "SimConfig", "Market", "compose", "load", "validate", "build", "run", "simulate",
           "study"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``sim.Market`` on first use: importing it loads Mesa (about 0.6 s), which a run does not need."""
    if name == "Market":
        from .market import Market
        return Market
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
