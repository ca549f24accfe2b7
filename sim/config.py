"""Validated run configuration.

Hydra composes YAML from ``sim/configs/``; :func:`validate` turns the composed config into a
:class:`SimConfig` (pydantic, ``extra="forbid"`` everywhere) before anything is simulated.
A bad value stops the run with one message naming the key, the value and what is allowed.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .profile import Profile, register_resolver

CONFIG_DIR = Path(__file__).resolve().parent / "configs"  # shipped inside the package
register_resolver()  # ${sim.profile:...} in sim/configs/profile/

Prob = float  # documented alias; bounds are set per field with Field(ge=0, le=1)
ROLES = ("pool", "lead", "customer", "lost")
EVENTS = ("exposure", "conversion", "purchase", "bad_service", "defection", "winback")


class ConfigError(ValueError):
    """A configuration problem, worded for the person who wrote the config."""


#: the largest money amount (currency) any single config figure may hold: with money kept in
#: integer cents, sums of such amounts over a run stay far inside int64 (9.2e18 cents)
MAX_MONEY = 1e6
MAX_MULTIPLIER = 1e3
#: at most this many processing windows (market.days / engine.dt) or report rows in one run
MAX_WINDOWS = 2_000_000


class _Strict(BaseModel):
    """Unknown keys, NaN and infinities are refused everywhere; ``true`` is not a number."""

    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: Any, info) -> Any:
        if isinstance(v, bool):
            ann = str(cls.model_fields[info.field_name].annotation)
            if ("int" in ann or "float" in ann) and "bool" not in ann:
                raise ValueError("a number is required, not a boolean")
        return v


class StageInit(_Strict):
    """A stage's day-0 population: its share of the market and its customers' starting traits."""

    share: float | None = Field(None, ge=0, le=1, description="share of the market in this stage on day 0 "
                                "(the shares of a ladder add up to 1; market.initial_stages overrides them)")
    satisfaction: float = Field(0.6, ge=0, le=1)
    trust: float = Field(0.0, ge=0, le=1)
    attitude: float = Field(0.3, ge=0, le=1)
    patronage: float = Field(0.0, ge=0, le=1)
    purchases: int = Field(0, ge=0, le=1_000_000)


class Stage(_Strict):
    """One rung of the loyalty ladder: its name and labels, its role and its multipliers on purchase rate and basket."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    en: str
    fa: str = ""
    role: Literal["pool", "lead", "customer", "lost"]
    purchase_rate: float = Field(1.0, ge=0, le=MAX_MULTIPLIER,
                                 description="multiplier on the customer's own purchase rate")
    spend: float = Field(1.0, ge=0, le=100, description="multiplier on the customer's own basket value")
    service_cost: float = Field(0.0, ge=0, le=MAX_MONEY, description="cost to serve one purchase, currency")
    defection: float = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="multiplier on the base defection hazard")
    word_of_mouth: float = Field(0.0, ge=0, le=MAX_MULTIPLIER, description="weight of this stage in word of mouth")
    price_sensitivity: float = Field(1.0, ge=0, le=10,
                                     description="multiplier on how much an offer's value lifts response")
    crm_min_purchases: int | None = Field(None, ge=0, le=1_000_000, description="the firm classes a customer with at "
                                          "least this many purchases at this stage or above (default: init.purchases)")
    init: StageInit = StageInit()


class Transition(_Strict):
    """A ladder move: customers on one of the ``from`` stages go to ``to`` on an event, with probability ``p``.

    Guards (``min_purchases``, ``min_satisfaction`` and the like) hold a move back until the customer qualifies.
    """

    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    event: Literal["exposure", "conversion", "purchase", "bad_service", "defection", "winback"]
    p: float = Field(1.0, ge=0, le=1)
    min_purchases: int = Field(0, ge=0, le=1_000_000)
    min_satisfaction: float = Field(0.0, ge=0, le=1)
    max_satisfaction: float = Field(1.0, ge=0, le=1)
    min_trust: float = Field(0.0, ge=0, le=1)
    min_attitude: float = Field(0.0, ge=0, le=1)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("from_", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Ladder(_Strict):
    """The ladder as data: its stages and the transitions between them, checked for consistency."""

    stages: list[Stage] = Field(min_length=2)
    transitions: list[Transition] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Ladder":
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"stage names must be unique; repeated: {dup}")
        role = {s.name: s.role for s in self.stages}
        lost = [s.name for s in self.stages if s.role == "lost"]
        if len(lost) != 1:
            raise ValueError(f"exactly one stage must have role 'lost' (churned); found {lost}")
        if not any(s.role == "customer" for s in self.stages):
            raise ValueError("at least one stage must have role 'customer'")
        allowed_from = {
            "exposure": ("pool",), "conversion": ("lead",), "purchase": ("customer",),
            "bad_service": ("customer",), "defection": ("customer",), "winback": ("lost",),
        }
        allowed_to = {
            "exposure": ("lead", "customer"), "conversion": ("customer",), "purchase": ("customer", "lost"),
            "bad_service": ("customer",), "defection": ("lost",), "winback": ("customer",),
        }
        for i, t in enumerate(self.transitions):
            where = f"ladder.transitions[{i}]"
            for n in [*t.from_, t.to]:
                if n not in role:
                    raise ValueError(f"{where}: unknown stage {n!r}; stages are {names}")
            for f in t.from_:
                if role[f] not in allowed_from[t.event]:
                    raise ValueError(
                        f"{where}: event={t.event!r} starts from stages with role {allowed_from[t.event]}, "
                        f"but {f!r} has role {role[f]!r}")
            if role[t.to] not in allowed_to[t.event]:
                raise ValueError(
                    f"{where}: event={t.event!r} must lead to a stage with role {allowed_to[t.event]}, "
                    f"but {t.to!r} has role {role[t.to]!r}")
        shares = {s.name: s.init.share for s in self.stages if s.init.share is not None}
        if shares and abs(sum(shares.values()) - 1) > 1e-6:
            raise ValueError(f"stages[*].init.share: the stages' shares must add up to 1, they add up to "
                             f"{sum(shares.values()):g} ({shares})")
        for s in self.stages:
            if s.role == "customer" and not any(
                    t.event == "defection" and s.name in t.from_ for t in self.transitions):
                raise ValueError(f"customer stage {s.name!r} has no defection transition to the lost stage")
        return self

    def index(self, name: str) -> int:
        """The position of stage ``name`` on the ladder."""
        return [s.name for s in self.stages].index(name)

    def initial_shares(self, override: dict[str, float] | None = None) -> dict[str, float]:
        """Day-0 share of every stage: ``override`` (``market.initial_stages``) if given, else the
        stages' own ``init.share`` (stages without one start empty)."""
        if override is not None:
            return {s.name: float(override.get(s.name, 0.0)) for s in self.stages}
        return {s.name: float(s.init.share or 0.0) for s in self.stages}


class Competitor(_Strict):
    """A rival firm: where defectors go, a share of its customers' wallets, and its own plug-ins."""

    name: str
    attractiveness: float = Field(gt=0, le=1e6, description="relative weight when a defector picks a firm, and in the "
                                  "split of a customer's wallet among rivals")
    margin: float | None = Field(None, ge=0, le=1, description="the rival's gross margin share "
                                 "(default: economics.margin)")
    service_cost: float = Field(0.0, ge=0, le=1e6, description="the rival's cost to serve one purchase, currency")
    strategy: dict[str, dict[str, Any]] = Field(default_factory=dict, description="the rival's plug-ins, "
                                                "name -> {_target_: ..., ...} as in `strategy`")


class Wallet(_Strict):
    """How a customer splits its category purchases among the firms (share of wallet, see sim.wallet)."""

    enabled: bool = Field(True, description="split purchases among firms (only with market.purchase.kind=ladder)")
    rival_share: float = Field(0.25, ge=0, lt=1, description="share of a focal customer's purchases that go to "
                               "rivals at the reference attitude, with no switching cost and no offers")
    reference_attitude: float = Field(0.7, ge=0, le=1)
    attitude_sensitivity: float = Field(0.5, ge=0, le=20, description="focal share odds x exp(this x "
                                        "(attitude - reference))")
    switching_sensitivity: float = Field(0.5, ge=0, le=20, description="rival odds x exp(-this x switching cost "
                                         "to the focal firm); a rival's own programme works the other way")


class ChannelResponse(_Strict):
    """Chance that one contact persuades, by who is contacted (before offer lift and fatigue)."""

    prospect: float = Field(ge=0, le=1, description="someone who has not bought yet")
    existing: float = Field(ge=0, le=1, description="a current customer")
    lapsed: float = Field(ge=0, le=1, description="a former customer now buying from a rival")


class Channel(_Strict):
    """A contact channel: the cost of one contact, how customers respond to it and how many prefer it."""

    cost: float = Field(ge=0, le=MAX_MONEY, description="cost of one contact, currency")
    response: ChannelResponse
    preference: float = Field(0.0, ge=0, le=1e6, description="share of customers preferring this channel (normalised)")


class PurchaseProcess(_Strict):
    """How customers buy: the ladder's own rates, or a Pareto/NBD or BG/NBD process with gamma heterogeneity."""

    kind: Literal["ladder", "pareto_nbd", "bgnbd"] = "ladder"
    # Pareto/NBD & BG/NBD heterogeneity (per-day rates): lambda ~ Gamma(r, 1/alpha)
    r: float = Field(1.5, gt=0, le=1e6)
    alpha: float = Field(45.0, gt=0, le=1e6, description="gamma scale inverse, in days: mean rate = r/alpha")
    # Pareto/NBD lifetime: mu ~ Gamma(s, 1/beta)
    s: float = Field(1.0, gt=0, le=1e6)
    beta: float = Field(730.0, gt=0, le=1e6)
    # BG/NBD dropout after each purchase: p ~ Beta(a, b)
    a: float = Field(1.0, gt=0, le=1e6)
    b: float = Field(8.0, gt=0, le=1e6)


class Market(_Strict):
    """The market: its size, horizon, basket values, purchase process and hazards of each ladder move.

    The hazards are the Bass acquisition coefficients, conversion, defection and the natural return of lost customers.
    """

    # the largest market a 24 GiB machine holds: about 550 bytes a customer at peak (benchmarks/stress.py)
    n_customers: int = Field(gt=0, le=40_000_000)
    days: float = Field(gt=0, le=36_500)
    start_date: str = "2026-01-01"
    initial_stages: dict[str, float] | None = Field(
        None, description="day-0 share by stage name; null: the ladder's own init.share of each stage")
    # value: basket value ~ LogNormal with this mean and log-sd (skew → Pareto-like split)
    mean_spend: float = Field(gt=0, le=MAX_MONEY)
    spend_sigma: float = Field(ge=0, le=4)
    basket_noise: float = Field(0.25, ge=0, le=2)
    purchase: PurchaseProcess = PurchaseProcess()
    # acquisition hazards (per day)
    innovation: float = Field(ge=0, le=1, description="Bass p: external influence on suspects, per day")
    imitation: float = Field(ge=0, le=10, description="Bass q: word-of-mouth coefficient, per day")
    conversion: float = Field(ge=0, le=1, description="prospect → first purchase hazard, per day")
    # retention
    defection: float = Field(ge=0, le=1, description="base defection hazard per day at reference satisfaction")
    defection_sensitivity: float = Field(ge=0, le=50)
    reference_satisfaction: float = Field(ge=0, le=1)
    natural_return: float = Field(ge=0, le=1, description="lost → won back without contact, per day")
    dissatisfied_below: float = Field(0.4, ge=0, le=1, description="satisfaction below which a customer who is "
                                      "hurt or leaves tells others")
    negative_wom_reach: float = Field(0.0, ge=0, le=100, description="people a dissatisfied customer tells (mean)")
    negative_wom_effect: float = Field(0.0, ge=0, le=20, description="exposure and conversion fall by "
                                       "exp(-effect × share of non-customers told)")
    negative_wom_memory_days: float = Field(180.0, gt=0, le=3650, description="how long a story is retold")
    competitors: list[Competitor] = Field(min_length=2)
    # a market calibrated from a transaction log (python -m sim.calibrate; README "Bring your own data")
    population: str | None = Field(None, description="population.parquet written by sim.calibrate: its real "
                                   "customers take the first rows, each carrying its history")
    source: str | None = Field(None, description="the transaction log the market was calibrated from "
                               "(named in the summary and the report)")
    wallet: Wallet = Wallet()

    @field_validator("start_date")
    @classmethod
    def _date(cls, v: str) -> str:
        import datetime as dt
        dt.date.fromisoformat(v)
        return v

    @model_validator(mode="after")
    def _population_fits(self) -> "Market":
        if self.population is None:
            return self
        import pyarrow.parquet as pq
        try:
            rows = pq.read_metadata(self.population).num_rows
        except (OSError, ValueError) as e:
            raise ValueError(f"market.population = {self.population!r}: cannot be read as Parquet ({e})") from None
        if rows > self.n_customers:
            raise ValueError(f"market.population holds {rows} customers but market.n_customers = "
                             f"{self.n_customers}: it must be at least {rows}")
        return self


class Service(_Strict):
    """The focal firm's service: quality and its spread, bad experiences, complaints and how satisfaction learns."""

    quality: float = Field(ge=0, le=1, description="mean service quality of the focal firm")
    quality_sd: float = Field(ge=0, le=1)
    bad_threshold: float = Field(ge=0, le=1, description="an encounter below this quality is a bad experience")
    complaint_prob: float = Field(ge=0, le=1)
    complaint_penalty: float = Field(ge=0, le=1, description="extra satisfaction lost by an unresolved complaint")
    satisfaction_learning: float = Field(gt=0, le=1)
    trust_learning: float = Field(ge=0, le=1)
    attitude_learning: float = Field(ge=0, le=1)
    patronage_memory_days: float = Field(gt=0, le=36_500)
    patronage_gain: float = Field(ge=0, le=1)
    forgiveness: float = Field(0.0, ge=0, le=1, description="a bad experience's chance to send a customer down "
                               "is multiplied by 1 - forgiveness × trust")


class Economics(_Strict):
    """The firm's economics: margin, discount rate, fixed costs, tenure growth of baskets and the lift of offers."""

    margin: float = Field(ge=0, le=1, description="gross margin share of revenue")
    annual_discount_rate: float = Field(ge=0, le=1)
    fixed_cost_per_month: float = Field(0.0, ge=0, le=1e9, description="fixed overheads, currency per month")
    tenure_spend_growth: float = Field(0.0, ge=0, le=1, description="basket growth per year of tenure")
    tenure_growth_years: float = Field(5.0, ge=0, le=50, description="tenure growth stops after this many years")
    offer_max_lift: float = Field(0.0, ge=0, le=20, description="an offer multiplies response by at most 1 + this")
    offer_half_value: float = Field(0.1, gt=0, le=10, description="offer value (share of the basket) that gives "
                                    "half the maximum lift")
    contact_fatigue: float = Field(0.0, ge=0, le=10, description="response × exp(-fatigue × contacts in the last "
                                   "30 days)")
    upsell_memory_days: float = Field(365.0, gt=0, le=36500, description="an up-sold basket fades back with this "
                                      "time constant unless renewed")
    annoyance_wrong_channel: float = Field(ge=0, le=1)
    annoyance_excess: float = Field(ge=0, le=1)
    contact_tolerance: float = Field(gt=0, le=1e6,
                                     description="contacts per 30 days a customer accepts before annoyance")


class Crm(_Strict):
    """How the firm reads its own records (see ``sim.crm``)."""

    lapsed_after_days: float = Field(180.0, gt=0, le=36500, description="no purchase for this long: the firm "
                                     "classes the customer as lapsed (lost)")


class Engine(_Strict):
    """How the engine runs: batched or per-agent, the processing window, the report interval and progress display."""

    mode: Literal["batched", "agents"] = "batched"
    dt: float = Field(1.0, gt=0, le=30, description="processing window in days (not a model tick)")
    report_every: float = Field(7.0, gt=0, le=36_500)
    agents_max: int = Field(5000, ge=0, le=50_000_000,
                            description="sim.build / sim.simulate make Mesa Customer agents up to this size "
                                        "(runs writing outputs never do)")
    progress: bool = True


class Output(_Strict):
    """What a run writes: the output directory, which tables and the report, the language and the currency."""

    dir: str | None = None
    transactions: bool = True
    customers: bool = True
    report: bool = True
    locale: Literal["en", "fa"] = "en"
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$",
                          description="ISO 4217 code naming the unit of every money figure "
                                      "(a label; nothing is converted)")


class SimConfig(_Strict):
    """One run's validated config: seeds, market, ladder, service, economics, CRM, channels, strategies and more."""

    seed: int = Field(ge=0, lt=2**63)
    replication: int = Field(0, ge=0, lt=2**32)
    paired_control: bool = True
    market: Market
    ladder: Ladder
    service: Service
    economics: Economics
    crm: Crm = Crm()
    channels: dict[str, Channel] = Field(min_length=1)
    strategy: dict[str, dict[str, Any]] = {}
    engine: Engine = Engine()
    output: Output = Output()
    profile: Profile | None = None  # the business profile the engine values came from (sim/configs/profile/)

    @model_validator(mode="after")
    def _cross(self) -> "SimConfig":
        names = [s.name for s in self.ladder.stages]
        override = self.market.initial_stages
        if override is not None:
            for k, v in override.items():
                if k not in names:
                    raise ValueError(f"market.initial_stages: unknown stage {k!r}; stages are {names}")
                if not (0 <= v <= 1) or math.isnan(v):
                    raise ValueError(f"market.initial_stages.{k} = {v!r}: a share must be in [0, 1]")
            total = sum(override.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"market.initial_stages: shares must add up to 1, they add up to {total:g}")
        elif not any(s.init.share is not None for s in self.ladder.stages):
            raise ValueError("no initial stage mix: give each ladder stage an init.share (they add up to 1) "
                             "or set market.initial_stages")
        for key, step in (("engine.dt", self.engine.dt), ("engine.report_every", self.engine.report_every)):
            n = self.market.days / step
            if n > MAX_WINDOWS:
                raise ValueError(f"{key} = {step!r}: market.days / {key} = {n:,.0f} steps, at most "
                                 f"{MAX_WINDOWS:,} (a run this fine would take hours); use a larger {key}")
        if not any(c.preference > 0 for c in self.channels.values()):
            raise ValueError("channels: at least one channel needs preference > 0")
        for name, spec in self.strategy.items():
            if not isinstance(spec, dict) or "_target_" not in spec:
                raise ValueError(f"strategy.{name}: needs a _target_ naming a strategy class")
        return self


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = "from" if part == "from_" else part
            out += ("." if out else "") + str(part)
    return out


def format_errors(err: ValidationError, prefix: str = "") -> str:
    """A pydantic error as one line per problem, each naming its config key (under ``prefix``)."""
    lines = []
    for e in err.errors():
        key = _loc(tuple(x for x in e["loc"] if x not in ("function-after",)))
        key = f"{prefix}{'.' if prefix and key else ''}{key}" if prefix else key
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            lines.append(f"{key}: missing required key")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (typo?) — value {e.get('input')!r}")
        elif key and isinstance(e.get("input"), (dict, list)) and len(repr(e.get("input"))) > 80:
            # a whole section: name it, do not dump it
            lines.append(f"{key}: {msg}")
        elif key:
            lines.append(f"{key} = {e.get('input')!r}: {msg}")
        else:
            lines.append(msg)
    return "invalid configuration:\n  " + "\n  ".join(lines)


def resolve(cfg: Any) -> dict:
    """A composed config as a plain dict, interpolations resolved; an error raised by a resolver (e.g.
    a bad business profile) becomes a :class:`ConfigError` carrying the resolver's own message."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as e:
        err: BaseException | None = e
        while err is not None and isinstance(err, OmegaConfBaseException):
            err = err.__cause__ or err.__context__
        raise ConfigError(str(err) if isinstance(err, ValueError) else str(e)) from None


def validate(cfg: Any) -> SimConfig:
    """Validate a composed config (DictConfig or dict); raise :class:`ConfigError`."""
    try:
        from omegaconf import DictConfig
        if isinstance(cfg, DictConfig):
            cfg = resolve(cfg)
    except ImportError:  # pragma: no cover - omegaconf ships with hydra-core
        pass
    if isinstance(cfg, dict):
        cfg = {k: v for k, v in cfg.items() if k != "hydra"}
    try:
        return SimConfig.model_validate(cfg)
    except ValidationError as e:
        raise ConfigError(format_errors(e)) from None


def compose(overrides: list[str] | None = None, config_name: str = "config",
            config_dir: str | Path | None = None):
    """Compose the Hydra config outside ``python -m sim`` (scripts, notebooks, tests, the app).

    Args:
        overrides: command-line style overrides, e.g. ``["market.n_customers=2000", "strategy=win_back"]``.
        config_name: the primary config (``config``, or a study's name with ``config_dir="experiments"``).
        config_dir: a folder of your own laid over the packaged configs, as ``python -m sim --config-dir``
            does: its files win over packaged files of the same name, and its new options (e.g.
            ``strategy/my_strategy.yaml``) join the packaged ones.

    Returns:
        The composed ``DictConfig`` (not validated; :func:`load` validates).
    """
    from hydra import compose as _compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    overrides = list(overrides or [])
    primary = CONFIG_DIR
    if config_dir is not None:
        check_config_dir(config_dir)  # no name in both folders, so their order does not matter
        user = Path(config_dir).resolve()
        if (user / f"{config_name}.yaml").is_file():  # a primary config of the user's (a study)
            primary, extra = user, CONFIG_DIR
        else:
            extra = user
        overrides.append(f"hydra.searchpath=[file://{extra}]")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(primary), version_base=None):
        return _compose(config_name=config_name, overrides=overrides)


def shadowed_files(config_dir: str | Path) -> list[str]:
    """Files of a user's config folder that a packaged file of the same name would hide (Hydra reads
    the packaged configs first, so a user's ``market/default.yaml`` would be silently ignored)."""
    root = Path(config_dir)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml")
                  if (CONFIG_DIR / p.relative_to(root)).is_file())


def check_config_dir(config_dir: str | Path) -> None:
    """Raise :class:`ConfigError` if ``config_dir`` is missing or holds a file a packaged one hides."""
    if not Path(config_dir).is_dir():
        raise ConfigError(f"config directory not found: {config_dir}")
    hidden = shadowed_files(config_dir)
    if hidden:
        raise ConfigError(f"{config_dir}: {', '.join(hidden)} would be hidden by the packaged file(s) of the same "
                          f"name in {CONFIG_DIR}; give yours another name (e.g. market/mine.yaml, then market=mine) "
                          f"or set values in a config of your own (--config-name, with defaults: [config, _self_])")


def load(overrides: list[str] | None = None, config_name: str = "config",
         config_dir: str | Path | None = None) -> SimConfig:
    """Compose (see :func:`compose`) and validate a config: the usual start of a script.

    Raises:
        ConfigError: a bad value, named by its key (the message ``python -m sim`` prints).
    """
    return validate(compose(overrides, config_name, config_dir))
