"""Business profiles (sim.profile, sim/configs/profile/): human units converted to engine parameters,
precedence of overrides, clear errors, and annual churn coming back out of a do-nothing run."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from sim import metrics
from sim.config import CONFIG_DIR, ConfigError, load
from sim.profile import Profile, engine_values
from sim.run import simulate

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted(p.stem for p in (CONFIG_DIR / "profile").glob("*.yaml") if not p.stem.startswith("_"))


def test_conversion_formulas_on_a_two_stage_ladder():
    ladder = {"stages": [
        {"name": "lead", "en": "Lead", "role": "lead"},
        {"name": "a", "en": "A", "role": "customer", "purchase_rate": 1.0, "spend": 1.0, "defection": 2.0},
        {"name": "b", "en": "B", "role": "customer", "purchase_rate": 3.0, "spend": 2.0, "defection": 0.5},
        {"name": "gone", "en": "Gone", "role": "lost"}], "transitions": []}
    p = Profile(currency="EUR", customers={"active": 300, "prospects": 100}, annual_churn=0.2,
                purchases_per_year=4, average_order_value=50, gross_margin_pct=40,
                active_mix={"a": 2, "b": 1}, channel_costs={"email": 0.2})
    v = engine_values(p, ladder, purchase_r=2.0, quality=0.65, defection_sensitivity=4.0,
                      reference_satisfaction=0.65)
    assert v["n_customers"] == 400
    assert v["initial_stages"] == pytest.approx({"lead": 0.25, "a": 0.5, "b": 0.25, "gone": 0.0})
    # per-day hazard of a 20 % yearly loss, over the mix-weighted defection multiplier (2/3·2 + 1/3·0.5)
    # times the satisfaction factor halfway between the start (0.6, the default) and quality (0.65)
    assert v["defection"] == pytest.approx(-math.log(0.8) / 365 / ((2 / 3 * 2.0 + 1 / 3 * 0.5) * math.exp(4 * 0.025)))
    # mean daily rate r/alpha × mean stage rate (2/3·1 + 1/3·3) = 4/365
    assert 2.0 / v["purchase_alpha"] * (2 / 3 + 1) == pytest.approx(4 / 365)
    # purchase-weighted stage spend: (2/3·1·1 + 1/3·3·2) / (2/3 + 1) = 1.6
    assert v["mean_spend"] == pytest.approx(50 / 1.6)
    assert v["margin"] == 0.4 and v["currency"] == "EUR" and v["channel_costs"] == {"email": 0.2}


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_composes_validates_and_names_its_sources(name):
    cfg = load([f"profile={name}"])
    assert cfg.profile is not None and cfg.profile.sources and cfg.output.currency == cfg.profile.currency
    assert cfg.market.n_customers == sum(cfg.profile.customers.model_dump().values())
    assert cfg.economics.margin == pytest.approx(cfg.profile.gross_margin_pct / 100)
    assert cfg.channels["email"].cost == cfg.profile.channel_costs["email"]
    text = (CONFIG_DIR / "profile" / f"{name}.yaml").read_text()
    for key in ("annual_churn", "average_order_value", "gross_margin_pct", "purchases_per_year"):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(key + ":"))
        assert "#" in line, f"{name}.yaml: {key} does not name its source"
    assert len(PROFILES) >= 3


def test_profile_overrides_flow_in_and_engine_overrides_win():
    base = load(["profile=retail"])
    assert load(["profile=retail", "profile.annual_churn=0.2"]).market.defection < base.market.defection
    assert load(["profile=retail", "market.defection=0.002"]).market.defection == 0.002
    assert load([]).profile is None  # no profile: the engine's own defaults


def test_a_bad_profile_value_is_named():
    with pytest.raises(ConfigError, match=r"profile\.annual_churn"):
        load(["profile=retail", "profile.annual_churn=1.5"])
    r = subprocess.run([sys.executable, "-m", "sim", "profile=b2b", "profile.customers.active=-3"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "profile.customers.active" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("churn", [0.2, 0.4])
def test_annual_churn_comes_back_out_of_a_do_nothing_run(churn):
    cfg = load(["profile=retail", "strategy=none", f"profile.annual_churn={churn}", "profile.customers.active=2000",
                "profile.customers.prospects=0", "profile.customers.suspects=0", "profile.customers.lapsed=0",
                "market.days=365", "engine.progress=false"])
    s = metrics.summary(simulate(cfg, progress=False))
    lost_share = 1 - math.exp(-s["churn_rate_annual"])  # the summary's rate is defections per customer-year
    assert lost_share == pytest.approx(churn, abs=0.05)


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_runs_on_another_ladder_with_its_own_day0_mix(name):
    # no profile names one ladder's stages: active customers take the ladder's own init.share mix
    cfg = load([f"profile={name}", "ladder=simple5"])
    stages = cfg.market.initial_stages
    active = cfg.profile.customers.active / cfg.market.n_customers
    assert stages["customer"] + stages["loyal"] == pytest.approx(active)
    share = {s.name: s.init.share for s in cfg.ladder.stages}
    assert stages["customer"] / stages["loyal"] == pytest.approx(share["customer"] / share["loyal"])
