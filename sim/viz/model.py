"""The models behind the teaching view, with no browser dependencies.

:class:`TeachingMarket` is a small :class:`sim.Market` built from keyword parameters: they
become Hydra overrides, the project's real config is composed with :func:`sim.load`
(scenario presets are the same ``sim/configs/scenario/*.yaml`` files the command line loads with
``+scenario=...``), validated, and the market is built with its strategies. One
:meth:`TeachingMarket.advance_window` is one processing window of ``days_per_step`` days; the
market's collector (:class:`sim.metrics.Collector`) records a row every window.

**Nothing from a browser is trusted** (issue 11): every value is checked here, on the server,
against an allow-list (scenarios, strategies, languages, comparisons) or a numeric range
(:data:`RANGES`) before it goes near a Hydra override; strings are never interpolated unless
they are one of the allow-listed names. A refused value raises :class:`InputError`, whose
message is short and never repeats the value.

**Mesa compatibility** (issue 17): the app never calls Mesa's ``Model.step`` wrapper (Mesa 3.5
drives it from its own ``Model.time``) and sets no attribute that ``mesa.Model`` defines
(``scenario`` is a Mesa 3.5 property: the preset's name lives in ``preset``).
"""
from __future__ import annotations

import functools
import html
import math
import os
import shlex
from dataclasses import dataclass, fields, replace

from ..config import CONFIG_DIR, load
from ..market import Market
from ..report import STAGE_COLOURS, stage_labels
from ..run import strategies_for

SCENARIOS = ("default",) + tuple(sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml")))
FROM_SCENARIO = "(scenario)"
#: The comparison market: the same config without the firm's strategies (the paired no-action
#: control on common random numbers), or the same market under another scenario preset.
CONTROL = "(control)"
ENV_OVERRIDES = "SIM_VIZ_OVERRIDES"   # extra Hydra overrides from ``python -m sim.viz ...``
LOCALES = ("en", "fa")

#: Strategies a class may pick: firm actions only. Not ``markov_migration`` (a validation
#: mechanism), not ``do_nothing`` (``none`` is the no-action choice), not ``default_mix``'s parts
#: twice. Every name is a ``sim/configs/strategy`` option (a test checks each one builds).
TEACHING_STRATEGIES = (
    FROM_SCENARIO, "none", "default_mix", "mass_advertising", "targeted_acquisition", "loyalty_programme",
    "service_recovery", "churn_outreach", "win_back", "cross_sell", "up_sell", "referral_programme",
    "stage_targeting", "value_targeting", "rfm_segmentation",
)

#: Numeric inputs: (lowest, highest, integer?). The sliders use the same bounds.
RANGES: dict[str, tuple[float, float, bool]] = {
    "n_customers": (100, 1000, True),
    "days": (60, 1095, True),
    "days_per_step": (1, 30, True),
    "service_quality": (0.2, 1.0, False),
    "innovation": (0.0, 0.003, False),
    "conversion": (0.0, 0.02, False),
    "defection": (0.0, 0.006, False),
    "seed": (0, 10_000, True),
}


class InputError(ValueError):
    """A value from the browser that is not one of the offered choices or is out of range."""


def check_choice(name: str, value, allowed) -> str:
    """``value`` if it is exactly one of ``allowed`` (strings); else :class:`InputError`."""
    if not isinstance(value, str) or value not in allowed:
        raise InputError(f"{name}: not one of the offered choices")
    return value


def check_number(name: str, value):
    """``value`` as an int or float inside :data:`RANGES` ``[name]``; else :class:`InputError`.

    Booleans, strings, NaN and infinities are refused: only real numbers reach an override.
    """
    lo, hi, integer = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name}: must be a number")
    if not lo <= value <= hi:
        raise InputError(f"{name}: must be between {lo:g} and {hi:g}")
    if integer:
        if value != int(value):
            raise InputError(f"{name}: must be a whole number")
        return int(value)
    return float(value)


def strategy_options() -> list[str]:
    """The strategy select: the scenario's own mix, or one teaching strategy."""
    return list(TEACHING_STRATEGIES)


def extra_overrides() -> list[str]:
    """Overrides given on the ``python -m sim.viz`` command line (the operator's, passed via the
    environment and validated at start-up; never from a browser)."""
    return shlex.split(os.environ.get(ENV_OVERRIDES, ""))


@functools.cache
def _default_size_and_overheads() -> tuple[int, float]:
    """The default market's size and fixed overheads (read once from the project's config)."""
    cfg = load([])
    return cfg.market.n_customers, cfg.economics.fixed_cost_per_month


def teaching_overrides(*, scenario: str = "default", strategy: str = FROM_SCENARIO, locale: str = "en",
                       n_customers: int = 400, days: int = 365, days_per_step: int = 7,
                       service_quality: float | None = None, innovation: float | None = None,
                       defection: float | None = None, conversion: float | None = None, seed: int = 0,
                       extra: list[str] | None = None) -> list[str]:
    """Hydra overrides for one teaching market (``None``: keep the config's value).

    Every argument is checked against its allow-list or range first (:class:`InputError`).
    """
    scenario = check_choice("scenario", scenario, SCENARIOS)
    strategy = check_choice("strategy", strategy, TEACHING_STRATEGIES)
    locale = check_choice("language", locale, LOCALES)
    nums = {k: check_number(k, v) for k, v in (
        ("n_customers", n_customers), ("days", days), ("days_per_step", days_per_step), ("seed", seed))}
    opt = {k: (None if v is None else check_number(k, v)) for k, v in (
        ("service_quality", service_quality), ("innovation", innovation),
        ("defection", defection), ("conversion", conversion))}
    # the app's own choices replace the command line's starting scenario (later overrides win)
    ov = [o for o in (extra or []) if not o.startswith("+scenario=")]
    if scenario != "default":
        ov.append(f"+scenario={scenario}")
    if strategy != FROM_SCENARIO:
        ov.append(f"strategy={strategy}")
    n, dt = nums["n_customers"], nums["days_per_step"]
    base_n, base_fixed = _default_size_and_overheads()
    ov += [
        f"market.n_customers={n}", f"market.days={nums['days']}",
        # overheads scale with the classroom market, so its operating margin is the default market's
        f"economics.fixed_cost_per_month={base_fixed * n / base_n:.2f}",
        f"engine.dt={dt}", f"engine.report_every={dt}", f"engine.agents_max={n}", "engine.progress=false",
        f"output.locale={locale}", f"seed={nums['seed']}",
    ]
    for key, name in (("service.quality", "service_quality"), ("market.innovation", "innovation"),
                      ("market.defection", "defection"), ("market.conversion", "conversion")):
        if opt[name] is not None:
            ov.append(f"{key}={opt[name]!r}")
    return ov


class TeachingMarket(Market):
    """A :class:`sim.Market` with Mesa agents, built from keyword parameters and started.

    ``with_strategies=False`` builds the paired no-action control of the same config (market
    events such as a service shock stay), as :func:`sim.run.build` does.
    """

    def __init__(self, scenario: str = "default", strategy: str = FROM_SCENARIO, locale: str = "en",
                 n_customers: int = 400, days: int = 365, days_per_step: int = 7,
                 service_quality: float | None = None, innovation: float | None = None,
                 defection: float | None = None, conversion: float | None = None, seed: int = 0,
                 with_strategies: bool = True):
        self.overrides = teaching_overrides(
            scenario=scenario, strategy=strategy, locale=locale, n_customers=n_customers, days=days,
            days_per_step=days_per_step, service_quality=service_quality, innovation=innovation,
            defection=defection, conversion=conversion, seed=seed, extra=extra_overrides())
        cfg = load(self.overrides)
        super().__init__(cfg, strategies_for(cfg, with_strategies=bool(with_strategies)), materialize=True)
        self.preset = scenario           # not ``scenario``: a mesa.Model property since Mesa 3.5
        self.locale = cfg.output.locale
        self.start()
        self.env.run(until=1e-9)  # fire day 0: the first time-series row, strategies' first actions

    def advance_window(self) -> None:
        """One processing window (``engine.dt`` days), without Mesa's step wrapper."""
        Market.step(self)
        self.running = not self.finished

    def step(self) -> None:
        """Mesa API: one processing window."""
        self.advance_window()

    def events(self) -> list[tuple[float, str, str]]:
        """Known dated events of this market, for the time charts: ``(day, kind, name)``.

        ``kind`` is ``shock`` / ``recovery`` (a service shock starts / ends) or ``campaign``
        (a firm strategy's first action, when it is after day 0).
        """
        out = []
        for st in self.strategies:
            if st.kind == "event":
                out.append((float(st.start_day), "shock", st.name))
                dur = getattr(st, "duration_days", None)
                if dur is not None:
                    out.append((float(st.start_day + dur), "recovery", st.name))
            elif st.kind != "baseline" and st.start_day > 0:
                out.append((float(st.start_day), "campaign", st.name))
        return sorted(e for e in out if e[0] <= self.days)


@dataclass(frozen=True)
class Settings:
    """Everything that defines one classroom run (market A and its comparison B)."""

    scenario: str = "default"
    strategy: str = FROM_SCENARIO
    compare: str = CONTROL          # CONTROL or a scenario name for market B
    n_customers: int = 400
    days: int = 365
    days_per_step: int = 7
    service_quality: float | None = None
    innovation: float | None = None
    conversion: float | None = None
    defection: float | None = None
    seed: int = 0

    def checked(self) -> "Settings":
        """A copy with every value checked (:class:`InputError` names the first bad one)."""
        check_choice("scenario", self.scenario, SCENARIOS)
        check_choice("strategy", self.strategy, TEACHING_STRATEGIES)
        check_choice("compare", self.compare, (CONTROL,) + SCENARIOS)
        vals = {}
        for f in fields(self):
            if f.name in RANGES:
                v = getattr(self, f.name)
                vals[f.name] = None if v is None and f.default is None else check_number(f.name, v)
        return replace(self, **vals)

    def with_value(self, name: str, value) -> "Settings":
        """These settings with one value from the browser changed, checked."""
        if name not in {f.name for f in fields(self)}:
            raise InputError("unknown setting")
        return replace(self, **{name: value}).checked()

    def market_kwargs(self) -> dict:
        """Keyword arguments for :class:`TeachingMarket` (every setting except the comparison)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "compare"}


class Pair:
    """Market A and its comparison B on common random numbers (same seed), stepping together.

    B is A's no-action control (``compare=CONTROL``) or the same market under another scenario
    preset (the strategy choice then follows B's scenario).
    """

    def __init__(self, settings: Settings):
        self.settings = settings.checked()
        kw = self.settings.market_kwargs()
        self.a = TeachingMarket(**kw)
        if self.settings.compare == CONTROL:
            self.b = TeachingMarket(**kw, with_strategies=False)
        else:
            self.b = TeachingMarket(**{**kw, "scenario": self.settings.compare, "strategy": FROM_SCENARIO})

    @property
    def finished(self) -> bool:
        """Whether both markets have reached the horizon."""
        return self.a.finished and self.b.finished

    @property
    def day(self) -> float:
        """The current simulated day of market A."""
        return self.a.now

    def step(self) -> None:
        """Advance each market that is not finished by one processing window."""
        for m in (self.a, self.b):
            if not m.finished:
                m.advance_window()

    def events(self) -> list[tuple[float, str, str]]:
        """Both markets' notable events, merged and sorted by time."""
        return sorted(set(self.a.events()) | set(self.b.events()))


def customers_now(m: Market) -> int:
    """The firm's current customers (stages whose role is ``customer``)."""
    return int((m.role[m.s.stage] == 2).sum())


def stage_colour(k: int) -> str:
    """The colour of stage ``k`` (the palette repeats for long ladders)."""
    return STAGE_COLOURS[k % len(STAGE_COLOURS)]


def _money(cents: int) -> str:
    return f"{cents / 100:,.0f}"


def stage_panel_html(model: Market, locale: str | None = None, texts: dict | None = None) -> str:
    """The stage table (names in ``locale``) and money so far, as HTML; read by the browser tests."""
    from .texts import ui
    locale = locale or model.cfg.output.locale
    tx = texts or ui(locale)
    labels = stage_labels(model, locale)
    counts = model.stage_counts()
    rtl = locale == "fa"
    rows = "".join(
        f"<tr data-stage='{name}'><td><span style='display:inline-block;width:12px;height:12px;"
        f"background:{stage_colour(k)}'></span> {k + 1}</td><td>{html.escape(labels[k])}</td>"
        f"<td class='stage-count' data-testid='count-{name}' style='text-align:right'>{int(c)}</td></tr>"
        for k, (name, c) in enumerate(zip(model.stage_names, counts, strict=True)))
    t = model.totals
    money = "".join(
        f"<tr><td>{html.escape(tx['kpi_' + k])}</td>"
        f"<td data-testid='kpi-{k}' dir='ltr' style='text-align:end'>{v}</td></tr>"
        for k, v in (("revenue", _money(t["revenue"])), ("gross", _money(t["margin"])),
                     ("service", _money(t["service_cost"])),
                     ("marketing", _money(model.marketing_spend())),
                     ("fixed", _money(t["fixed_cost"])), ("profit", _money(model.profit_cents()))))
    from .texts import name
    preset = name(getattr(model, "preset", "default"), locale)
    day = tx["day_of"].format(day=f"{model.now:.0f}", days=f"{model.days:g}")
    return (
        f"<div id='stage-panel' data-day='{model.now:.0f}' lang='{locale}' dir='{'rtl' if rtl else 'ltr'}' "
        "style='font-family:sans-serif;font-size:14px'>"
        "<style>#stage-panel td,#stage-panel th{padding:1px 8px}</style>"
        f"<b>{html.escape(day)}</b> · {html.escape(tx['scenario'])} <i>{html.escape(preset)}</i>"
        f"<table id='stage-counts' style='border-collapse:collapse;margin:4px 0'>"
        f"<tr><th>#</th><th>{html.escape(tx['stage'])}</th><th>n</th></tr>{rows}</table>"
        f"<table id='money' style='border-collapse:collapse'>{money}</table>"
        f"<small>{html.escape(tx['money_note'])}</small></div>")
