"""The model behind the teaching view: a small :class:`sim.Market` built from keyword parameters.

Mesa's SolaraViz (re)creates its model as ``ModelClass(**params)``, so this thin subclass
turns slider/select values into Hydra overrides, composes the project's real config with
:func:`sim.load` (scenario presets are the same ``configs/scenario/*.yaml`` files the
command line loads with ``+scenario=...``), validates it, and builds the market with its
strategies. One ``step()`` is one processing window of ``days_per_step`` days; the
DataCollector records a row every window.
"""
from __future__ import annotations

import os
import shlex

from ..config import CONFIG_DIR, load
from ..market import Market
from ..strategies import build_strategies

SCENARIOS = ("default",) + tuple(sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml")))
FROM_SCENARIO = "(scenario)"
ENV_OVERRIDES = "SIM_VIZ_OVERRIDES"   # extra Hydra overrides from ``python -m sim.viz ...``


def strategy_options() -> list[str]:
    """The strategy select: the scenario's own mix, or any one ``configs/strategy`` option."""
    return [FROM_SCENARIO] + sorted(p.stem for p in (CONFIG_DIR / "strategy").glob("*.yaml"))


def extra_overrides() -> list[str]:
    """Overrides given on the ``python -m sim.viz`` command line (passed via the environment)."""
    return shlex.split(os.environ.get(ENV_OVERRIDES, ""))


def teaching_overrides(*, scenario: str = "default", strategy: str = FROM_SCENARIO, locale: str = "en",
                       n_customers: int = 400, days: int = 730, days_per_step: int = 7,
                       service_quality: float | None = None, innovation: float | None = None,
                       defection: float | None = None, conversion: float | None = None, seed: int = 0,
                       extra: list[str] | None = None) -> list[str]:
    """Hydra overrides for one teaching market (``None``: keep the config's value)."""
    ov = list(extra or [])
    if scenario and scenario != "default":
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; scenarios are {list(SCENARIOS)}")
        ov = [o for o in ov if not o.startswith("+scenario=")] + [f"+scenario={scenario}"]
    if strategy and strategy != FROM_SCENARIO:
        ov.append(f"strategy={strategy}")
    ov += [
        f"market.n_customers={int(n_customers)}", f"market.days={int(days)}",
        f"engine.dt={int(days_per_step)}", f"engine.report_every={int(days_per_step)}",
        f"engine.agents_max={max(int(n_customers), 1)}", "engine.progress=false",
        f"output.locale={locale}", f"seed={int(seed)}",
    ]
    for key, v in (("service.quality", service_quality), ("market.innovation", innovation),
                   ("market.defection", defection), ("market.conversion", conversion)):
        if v is not None:
            ov.append(f"{key}={float(v)!r}")
    return ov


class TeachingMarket(Market):
    """A :class:`sim.Market` with Mesa agents, built from keyword parameters and started."""

    def __init__(self, scenario: str = "default", strategy: str = FROM_SCENARIO, locale: str = "en",
                 n_customers: int = 400, days: int = 730, days_per_step: int = 7,
                 service_quality: float | None = None, innovation: float | None = None,
                 defection: float | None = None, conversion: float | None = None, seed: int = 0):
        self.overrides = teaching_overrides(
            scenario=scenario, strategy=strategy, locale=locale, n_customers=n_customers, days=days,
            days_per_step=days_per_step, service_quality=service_quality, innovation=innovation,
            defection=defection, conversion=conversion, seed=seed, extra=extra_overrides())
        cfg = load(self.overrides)
        strategies = build_strategies(cfg.strategy, [s.name for s in cfg.ladder.stages], list(cfg.channels))
        super().__init__(cfg, strategies, materialize=True)
        self.scenario = scenario
        self.locale = cfg.output.locale
        self.start()
        self.env.run(until=1e-9)  # fire day 0: first DataCollector row, strategies' first actions

    def step(self) -> None:
        super().step()
        self.running = not self.finished
