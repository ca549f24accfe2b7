"""A business described in its own units, converted to the engine's parameters.

A profile (``sim/configs/profile/<name>.yaml``, chosen with ``python -m sim profile=retail``) holds what a
strategist knows about the business: how many active customers, prospects and lapsed customers it
has, its annual churn, purchases per customer per year, average order value, gross margin, what a
contact costs per channel, and its currency. The profile files are Hydra configs in the global
package: they hold a ``profile:`` block and set the engine's keys by interpolation through the
``sim.profile`` resolver (``market.defection: ${sim.profile:defection}``), so

* a command-line override of a profile figure (``profile.annual_churn=0.3``) flows into the engine;
* a command-line override of an engine key (``market.defection=0.002``) still wins over the profile.

The conversions (:func:`engine_values`), each with the assumption it makes:

* **customers** → ``market.n_customers`` = active + prospects + lapsed + suspects, and
  ``market.initial_stages``: suspects in the ladder's pool stage, prospects in its lead stage, lapsed
  customers in its lost stage, active customers spread over its customer stages by ``active_mix``
  (default: equal shares).
* **annual churn** p (the share of customers lost in a year) → the constant per-day hazard
  h = −ln(1 − p) / 365, divided by the mean of what the engine multiplies the base hazard with:
  the stage's ``defection`` multiplier times exp(sensitivity × (reference − satisfaction)), weighted
  by the active mix, with satisfaction halfway between the stage's starting satisfaction and the
  firm's ``service.quality`` (where it settles: each encounter moves it toward the quality of service).
* **purchases per year** → the gamma purchase-rate heterogeneity (r, alpha) of the ladder market:
  r stays ``market.purchase.r`` (the spread), alpha = r × mean stage rate multiplier / (purchases / 365),
  so the mean active customer buys ``purchases_per_year`` times a year.
* **average order value** → ``market.mean_spend`` = AOV / the purchase-weighted mean stage spend
  multiplier (basket noise is mean-preserving).
* **gross margin %** → ``economics.margin``; **channel costs** → ``channels.<name>.cost``;
  **currency** → ``output.currency``.

The summary's ``churn_rate_annual`` is defections per average active customer per year: for a
constant hazard that is −ln(1 − p), e.g. 22.3 % for p = 20 %.
"""
from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, ValidationError, field_validator


class Customers(BaseModel):
    """The business's customer counts: active buyers, known prospects, lapsed customers and the unaware rest."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # validator built only when a profile is used
    active: int = Field(gt=0, description="customers who bought in the last year")
    prospects: int = Field(0, ge=0, description="known leads who have not bought yet")
    lapsed: int = Field(0, ge=0, description="former customers now buying elsewhere")
    suspects: int = Field(0, ge=0, description="the rest of the reachable market, not yet aware")


class Profile(BaseModel):
    """A business in human units (see the module docstring for how each figure is used)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = ""
    description: str = ""
    sources: list[str] = Field(default_factory=list, description="where the figures come from")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    customers: Customers
    annual_churn: float = Field(gt=0, lt=1, description="share of active customers lost in a year")
    purchases_per_year: float = Field(gt=0, le=3650, description="orders per active customer per year")
    average_order_value: float = Field(gt=0, description="mean order value, currency")
    gross_margin_pct: float = Field(ge=0, le=100, description="gross margin, % of revenue")
    channel_costs: dict[str, NonNegativeFloat] = Field(default_factory=dict,
                                                       description="cost of one contact, currency")
    active_mix: dict[str, NonNegativeFloat] | None = Field(None,
                                                           description="active customers' shares over customer stages "
                                                                       "(default: the ladder's own day-0 mix)")

    @field_validator("active_mix")
    @classmethod
    def _mix(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and sum(v.values()) <= 0:
            raise ValueError("shares must add up to more than 0")
        return v


class ProfileError(ValueError):
    """A profile that cannot be converted, worded for the person who wrote it."""


def _plain(x: Any) -> Any:
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
        if isinstance(x, (DictConfig, ListConfig)):
            return OmegaConf.to_container(x, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    return x


def load_profile(block: Any) -> Profile:
    """Validate a ``profile:`` block; a bad value raises :class:`ProfileError` naming the key."""
    try:
        return Profile.model_validate(_plain(block))
    except ValidationError as e:
        from .config import format_errors
        raise ProfileError(format_errors(e, prefix="profile")) from None


def _stage_table(ladder: Any) -> list[dict]:
    from .config import Stage
    return [Stage.model_validate(s).model_dump() for s in _plain(ladder)["stages"]]


def _ladder_mix(customer_stages: list[dict]) -> dict[str, float]:
    """The ladder's own day-0 mix of its customer stages (their ``init.share``), or equal shares if it gives none."""
    mix = {s["name"]: float(s["init"].get("share") or 0.0) for s in customer_stages}
    return mix if sum(mix.values()) > 0 else {k: 1.0 for k in mix}


def engine_values(profile: Profile | dict, ladder: Any, *, purchase_r: float = 1.5, quality: float = 0.72,
                  defection_sensitivity: float = 4.0, reference_satisfaction: float = 0.65) -> dict[str, Any]:
    """The engine parameters of ``profile`` on ``ladder`` (a ``ladder`` config block), as a flat dict:
    ``n_customers``, ``initial_stages``, ``defection``, ``purchase_alpha``, ``mean_spend``, ``margin``,
    ``currency`` and ``channel_costs``."""
    p = profile if isinstance(profile, Profile) else load_profile(profile)
    stages = _stage_table(ladder)
    by_role: dict[str, list[dict]] = {}
    for s in stages:
        by_role.setdefault(s["role"], []).append(s)
    cust = by_role.get("customer", [])
    c = p.customers
    n = c.active + c.prospects + c.lapsed + c.suspects
    shares = {s["name"]: 0.0 for s in stages}
    for role, count, what in (("pool", c.suspects, "suspects"), ("lead", c.prospects, "prospects"),
                              ("lost", c.lapsed, "lapsed")):
        if count:
            if role not in by_role:
                raise ProfileError(f"profile.customers.{what} = {count}: the ladder has no stage with role {role!r}")
            shares[by_role[role][0]["name"]] += count / n
    names = [s["name"] for s in cust]
    mix = p.active_mix or _ladder_mix(cust)
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise ProfileError(f"profile.active_mix: {unknown} are not customer stages of the ladder; they are {names}")
    total = sum(mix.values())
    w = {s["name"]: mix.get(s["name"], 0.0) / total for s in cust}
    for k, v in w.items():
        shares[k] += v * c.active / n
    rate = sum(w[s["name"]] * s["purchase_rate"] for s in cust)
    spend = sum(w[s["name"]] * s["purchase_rate"] * s["spend"] for s in cust) / rate if rate > 0 else 1.0
    # satisfaction: halfway between where each stage's customers start and where encounters move it
    # (the firm's service quality), i.e. its level over the first year or so
    hazard_mult = sum(w[s["name"]] * s["defection"] * math.exp(
        defection_sensitivity * (reference_satisfaction - 0.5 * (s["init"]["satisfaction"] + quality))) for s in cust)
    daily = -math.log(1.0 - p.annual_churn) / 365.0
    if rate <= 0 or hazard_mult <= 0:
        raise ProfileError("profile: the ladder's customer stages neither buy nor defect (all multipliers 0)")
    return {
        "n_customers": n,
        "initial_stages": shares,
        "defection": daily / hazard_mult,
        "purchase_alpha": purchase_r * rate / (p.purchases_per_year / 365.0),
        "mean_spend": p.average_order_value / spend,
        "margin": p.gross_margin_pct / 100.0,
        "currency": p.currency,
        "channel_costs": dict(p.channel_costs),
    }


def _resolve(key: str, *args: str, _root_: Any) -> Any:
    """``${sim.profile:KEY}`` / ``${sim.profile:channel_cost,NAME}``: an engine value of the chosen profile."""
    root = _root_
    market = root.get("market") or {}
    service = root.get("service") or {}
    purchase = market.get("purchase") or {}
    try:
        vals = engine_values(load_profile(root.get("profile")), root.get("ladder"),
                             purchase_r=float(purchase.get("r", 1.5)), quality=float(service.get("quality", 0.72)),
                             defection_sensitivity=float(market.get("defection_sensitivity", 4.0)),
                             reference_satisfaction=float(market.get("reference_satisfaction", 0.65)))
    except ProfileError:
        raise
    except (TypeError, ValueError) as e:
        raise ProfileError(f"profile: {e}") from None
    if key == "channel_cost":
        name = args[0]
        if name not in vals["channel_costs"]:
            raise ProfileError(f"profile.channel_costs: no cost for channel {name!r}")
        return vals["channel_costs"][name]
    if key not in vals:
        raise ProfileError(f"sim.profile: unknown key {key!r}; keys are {sorted(vals)} and channel_cost,NAME")
    return vals[key]


def register_resolver() -> None:
    """Register the ``sim.profile`` resolver with OmegaConf, once, so configs can read values from a profile."""
    from omegaconf import OmegaConf
    if not OmegaConf.has_resolver("sim.profile"):
        OmegaConf.register_new_resolver("sim.profile", _resolve)


def in_units(profile: Profile, summary: dict, mean_active: float) -> list[tuple[str, str, str]]:
    """A run's figures back in the profile's units: (figure, the profile's value, the run's value).

    The profile's figures describe the business at the start; as customers climb the ladder they buy
    more often and spend more per order, so the run's figures drift from them as the ladder says."""
    from . import units
    cur = profile.currency
    years = float(summary.get("days", 365)) / 365.0
    rate = float(summary.get("churn_rate_annual") or 0.0)
    n_tx = float(summary.get("events_transactions") or 0.0)
    revenue = float(summary.get("revenue") or 0.0)
    c = profile.customers
    return [
        ("active customers (start → end)", units.number(c.active, decimals=0),
         units.number(summary.get("customers_end"), decimals=0)),
        ("annual churn (share of customers lost in a year)", units.percent(profile.annual_churn),
         units.percent(1.0 - math.exp(-rate))),
        ("purchases per active customer per year", units.number(profile.purchases_per_year, decimals=1),
         units.number(n_tx / years / mean_active, decimals=1) if mean_active > 0 else "–"),
        ("average order value", units.money(profile.average_order_value, cur),
         units.money(revenue / n_tx, cur) if n_tx else "–"),
        ("gross margin", units.percent(profile.gross_margin_pct / 100.0),
         units.percent(float(summary.get("gross_margin") or 0.0) / revenue) if revenue else "–"),
        ("revenue per year", "–", units.money(revenue / years, cur)),
        ("profit per year", "–", units.money(float(summary.get("profit") or 0.0) / years, cur)),
    ]
