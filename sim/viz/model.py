"""The model behind the teaching view: a small :class:`sim.Market` built from keyword parameters.

Mesa's SolaraViz (re)creates its model as ``ModelClass(**params)``, so this thin subclass
turns slider/select values into Hydra overrides, composes the project's real config with
:func:`sim.load` (scenario presets are the same ``configs/scenario/*.yaml`` files the
command line loads with ``+scenario=...``), validates it, and builds the market with its
strategies. One ``step()`` is one processing window of ``days_per_step`` days; the
DataCollector records a row every window.
"""
from __future__ import annotations

import html
import os
import shlex

from ..config import CONFIG_DIR, load
from ..market import Market
from ..report import STAGE_COLOURS, stage_labels
from ..run import strategies_for

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
    # the app's own choices replace the command line's starting scenario (later overrides win)
    ov = [o for o in (extra or []) if not o.startswith("+scenario=")]
    if scenario and scenario != "default":
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; scenarios are {list(SCENARIOS)}")
        ov.append(f"+scenario={scenario}")
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
        super().__init__(cfg, strategies_for(cfg), materialize=True)
        self.scenario = scenario
        self.locale = cfg.output.locale
        self.start()
        self.env.run(until=1e-9)  # fire day 0: first DataCollector row, strategies' first actions

    def step(self) -> None:
        super().step()
        self.running = not self.finished


def stage_colour(k: int) -> str:
    return STAGE_COLOURS[k % len(STAGE_COLOURS)]


def _money(cents: int) -> str:
    return f"{cents / 100:,.0f}"


def stage_panel_html(model: Market) -> str:
    """The app's stage table (names in ``model.cfg.output.locale``) and money so far, as HTML."""
    locale = model.cfg.output.locale
    labels = stage_labels(model, locale)
    counts = model.stage_counts()
    rtl = locale == "fa"
    rows = "".join(
        f"<tr data-stage='{name}'><td><span style='display:inline-block;width:12px;height:12px;"
        f"background:{stage_colour(k)}'></span> {k + 1}</td><td>{html.escape(labels[k])}</td>"
        f"<td class='stage-count' data-testid='count-{name}' style='text-align:right'>{int(c)}</td></tr>"
        for k, (name, c) in enumerate(zip(model.stage_names, counts)))
    t = model.totals
    cost = t["service_cost"] + model.marketing_spend()
    profit = model.profit_cents()
    roi = f"{profit / cost:.2f}" if cost > 0 else "–"
    money = "".join(
        f"<tr><td>{k}</td><td data-testid='kpi-{k.split()[0]}' style='text-align:right'>{v}</td></tr>"
        for k, v in (("revenue", _money(t["revenue"])), ("gross margin", _money(t["margin"])),
                     ("service cost", _money(t["service_cost"])),
                     ("marketing spend", _money(model.marketing_spend())),
                     ("profit", _money(profit)), ("ROI", roi)))
    head = "مرحله" if rtl else "stage"
    scenario = getattr(model, "scenario", "default")
    return (
        f"<div id='stage-panel' data-day='{model.now:.0f}' style='font-family:sans-serif;font-size:14px'>"
        "<style>#stage-panel td,#stage-panel th{padding:1px 8px}</style>"
        f"<b>Day {model.now:.0f} of {model.days:g}</b> · scenario <i>{html.escape(scenario)}</i>"
        f"<table id='stage-counts' lang='{locale}' dir='{'rtl' if rtl else 'ltr'}' "
        f"style='border-collapse:collapse;margin:4px 0'>"
        f"<tr><th>#</th><th>{head}</th><th>n</th></tr>{rows}</table>"
        f"<table id='money' style='border-collapse:collapse'>{money}</table>"
        "<small>money so far, in currency; ROI = profit / (service cost + marketing spend)</small></div>")
