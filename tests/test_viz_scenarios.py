"""Scenario presets (sim/configs/scenario) and the teaching view's model, without a browser."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.strategies import ServiceShock
from sim.viz import SCENARIOS, TeachingMarket, stage_panel_html, teaching_overrides

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["market.n_customers=600", "market.days=180", "engine.progress=false"]


def _kinds(cfg) -> set[str]:
    from sim.strategies import build_strategies
    return {s.kind for s in build_strategies(cfg.strategy)}


def test_presets_compose_validate_and_differ():
    assert {"acquisition_only", "retention_focused", "bad_service_shock"} <= set(SCENARIOS)
    default = sim.load(SMALL)
    acq = sim.load(SMALL + ["+scenario=acquisition_only"])
    ret = sim.load(SMALL + ["+scenario=retention_focused"])
    shock = sim.load(SMALL + ["+scenario=bad_service_shock"])
    assert _kinds(acq) == {"acquisition"}
    assert "acquisition" not in _kinds(ret) and "retention" in _kinds(ret)
    assert set(shock.strategy) == set(default.strategy) | {"service_shock"}
    assert shock.strategy["service_shock"]["_target_"] == "sim.strategies.ServiceShock"
    assert shock.paired_control is True
    # command-line overrides still apply on top of a preset
    assert list(sim.load(SMALL + ["+scenario=bad_service_shock", "strategy=none"]).strategy) == ["service_shock"]
    with pytest.raises(sim.ConfigError, match="quality_drop"):
        sim.build(sim.load(SMALL + ["+scenario=bad_service_shock", "strategy.service_shock.quality_drop=2"]))


def test_bad_service_shock_lowers_satisfaction_and_raises_churn():
    base = sim.simulate(sim.load(SMALL), progress=False)
    shock = sim.simulate(sim.load(SMALL + ["+scenario=bad_service_shock"]), progress=False)

    def mean_sat(m):
        return m.s.satisfaction[m.role[m.s.stage] == 2].mean()

    assert shock.quality_shift == pytest.approx(-0.3) and base.quality_shift == 0.0
    assert mean_sat(shock) < mean_sat(base) - 0.05
    assert shock.defections > base.defections
    assert shock.profit_cents() < base.profit_cents()


def test_service_shock_timing_and_recovery():
    cfg = sim.load(SMALL + ["+scenario=bad_service_shock", "strategy=none",
                            "strategy.service_shock.start_day=20", "strategy.service_shock.duration_days=30"])
    m = sim.build(cfg)
    assert isinstance(m.strategies[0], ServiceShock) and m.strategies[0].kind == "event"
    m.start()
    seen = {}
    while not m.finished:
        m.step()
        seen[round(m.now)] = m.quality_shift
    assert seen[19] == 0.0 and seen[20] == pytest.approx(-0.3) and seen[49] == pytest.approx(-0.3)
    assert seen[50] == pytest.approx(0.0) and seen[180] == pytest.approx(0.0)
    assert m.marketing_spend() == 0   # an event spends nothing


def test_preset_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "sim", "+scenario=bad_service_shock", "market.n_customers=300", "market.days=90",
         "engine.progress=false", "output.report=false", f"output.dir={out}", f"hydra.run.dir={tmp_path / 'h'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategies"]["service_shock"]["kind"] == "event"
    # the paired control lives through the shock too: strategy cost is the strategies' spend only
    assert summary["paired"]["strategy_cost"] == pytest.approx(summary["marketing_spend"])


def test_teaching_market_from_keywords_steps_and_conserves():
    m = TeachingMarket(n_customers=300, days_per_step=7, service_quality=0.6, seed=2)
    assert m.cfg.service.quality == 0.6 and m.cfg.engine.dt == 7 and m.n == 300
    assert len(m.customer_agents) == 300
    before = m.stage_counts().copy()
    for _ in range(6):
        m.step()
    assert m.now == pytest.approx(42, abs=1e-6) and m.steps == 6
    assert m.stage_counts().sum() == 300 and not np.array_equal(before, m.stage_counts())
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 7 and df["t"].iloc[-1] == pytest.approx(42, abs=1e-6)
    # agents are views on the same rows
    assert [a.stage_index for a in m.customer_agents] == m.s.stage.tolist()


def test_teaching_market_runs_to_the_end_and_stops():
    m = TeachingMarket(n_customers=100, days=60, days_per_step=30)
    while m.running:
        m.step()
    assert m.finished and m.now == pytest.approx(60, abs=1e-6) and m.steps == 2


def test_stage_names_follow_the_locale():
    en = TeachingMarket(n_customers=100, scenario="retention_focused")
    fa = TeachingMarket(n_customers=100, locale="fa")
    h_en, h_fa = stage_panel_html(en), stage_panel_html(fa)
    assert "First-time buyer" in h_en and "retention focused" in h_en
    fa_names = [s.fa for s in fa.cfg.ladder.stages]
    assert all(name in h_fa for name in fa_names) and "First-time buyer" not in h_fa
    assert "dir='rtl'" in h_fa
    # the counts in the page are the market's
    for name, c in zip(en.stage_names, en.stage_counts(), strict=True):
        assert f"data-testid='count-{name}' style='text-align:right'>{c}<" in h_en


def test_teaching_overrides_reject_unknown_scenario():
    with pytest.raises(ValueError, match="scenario: not one of the offered choices"):
        teaching_overrides(scenario="nope")
    ov = teaching_overrides(scenario="bad_service_shock", strategy="none", extra=["+scenario=acquisition_only"])
    assert ov.count("+scenario=bad_service_shock") == 1 and "+scenario=acquisition_only" not in ov
    ov = teaching_overrides(scenario="default", extra=["+scenario=acquisition_only"])
    assert not any(o.startswith("+scenario=") for o in ov)


def test_app_choices_win_over_command_line_overrides(monkeypatch):
    monkeypatch.setenv("SIM_VIZ_OVERRIDES", "output.locale=fa seed=5 +scenario=bad_service_shock")
    m = TeachingMarket(n_customers=100, locale="en", seed=3, scenario="default")
    assert m.cfg.output.locale == "en" and m.cfg.seed == 3 and "service_shock" not in m.cfg.strategy
    m = TeachingMarket(n_customers=100, locale="fa", scenario="bad_service_shock")
    assert m.cfg.output.locale == "fa" and "service_shock" in m.cfg.strategy


def test_paired_control_keeps_market_events_and_drops_firm_actions():
    """The no-action control of a shock scenario lives through the same shock."""
    cfg = sim.load(SMALL + ["+scenario=bad_service_shock"])
    control = sim.build(cfg, with_strategies=False)
    assert [type(s).__name__ for s in control.strategies] == ["ServiceShock"]
    control.run(progress=False)
    assert control.quality_shift < 0 and control.marketing_spend() == 0
    plain = sim.simulate(sim.load(SMALL + ["strategy=none"]), progress=False)
    assert control.defections > plain.defections
