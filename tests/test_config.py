"""A bad config stops at start with one clear message naming the key."""
from __future__ import annotations

import glob
from pathlib import Path

import pytest
import yaml

import sim
from sim.config import ConfigError

BASE = ["market.n_customers=100", "market.days=10"]


@pytest.mark.parametrize("override, key, words", [
    ("market.n_customers=-5", "market.n_customers", "greater than 0"),
    ("ladder.transitions.3.p=1.5", "ladder.transitions[3].p", "less than or equal to 1"),
    ("service.complaint_prob=-0.1", "service.complaint_prob", "greater than or equal to 0"),
    ("strategy.loyalty_programme.budget=-10", "strategy.loyalty_programme.budget", "greater than or equal to 0"),
    ("~market.mean_spend", "market.mean_spend", "missing required key"),
    ("market.initial_stages={suspect: 0.5, vip: 0.5}", "market.initial_stages", "unknown stage 'vip'"),
    ("ladder.transitions.2.to=platinum", "ladder", "unknown stage 'platinum'"),
    ("market.initial_stages={suspect: 0.9}", "market.initial_stages", "add up to 1"),
    ("ladder.stages.0.init.share=0.9", "init.share", "add up to 1"),
    ("strategy.cross_sell.eligible_stages=[top]", "strategy.cross_sell.eligible_stages", "groups are"),
    ("strategy.win_back.channel=fax", "strategy.win_back.channel", "channels are"),
    ("strategy.cross_sell.eligible_stages=[client,vip]", "strategy.cross_sell.eligible_stages", "unknown stage"),
    ("strategy.loyalty_programme._target_=sim.strategies.Nope", "strategy.loyalty_programme._target_", "cannot import"),
    ("strategy.loyalty_programme._target_=sim.market.Market", "strategy.loyalty_programme._target_",
     "not a sim.strategies.Strategy"),
    ("service.quality=abc", "service.quality", "valid number"),
    ("engine.mode=fast", "engine.mode", "'batched' or 'agents'"),
    ("+market.n_custmers=5", "market.n_custmers", "unknown key"),
])
def test_bad_config_names_the_key(override, key, words):
    with pytest.raises(ConfigError) as e:
        sim.build(sim.load(BASE + [override]))
    msg = str(e.value)
    assert key in msg and words in msg, msg
    assert msg.count("\n") <= 3, msg  # one clear message, not a traceback dump


def test_ladder_roles_are_checked():
    cfg = sim.compose(BASE)
    from omegaconf import OmegaConf
    d = OmegaConf.to_container(cfg, resolve=True)
    d["ladder"]["transitions"][0]["event"] = "winback"  # suspect is not a lost stage
    with pytest.raises(ConfigError, match=r"ladder.*winback.*role"):
        sim.validate(d)
    d = OmegaConf.to_container(cfg, resolve=True)
    d["ladder"]["stages"][7]["role"] = "customer"  # no lost stage left
    with pytest.raises(ConfigError, match="exactly one stage must have role 'lost'"):
        sim.validate(d)


def test_every_strategy_yaml_lists_every_parameter():
    """So that any parameter of the project's own plug-ins can be overridden from the command line
    without '+'. A user's strategy file (a ``_target_`` outside ``sim``) may list only what it sets."""
    from hydra.utils import get_class
    for p in sorted(glob.glob(str(sim.config.CONFIG_DIR / "strategy" / "*.yaml"))):
        data = yaml.safe_load(Path(p).read_text())
        if not data or "defaults" in data:
            continue
        (_, spec), = data.items()
        if not str(spec.get("_target_", "")).startswith("sim."):
            continue
        cls = get_class(spec["_target_"])
        missing = set(cls.model_fields) - set(spec) - {"name"}
        if "method" in missing and "method" in spec:
            missing.discard("method")
        assert not missing, f"{p} lacks {sorted(missing)}"


NEEDS = {"markov_migration": ["ladder=recency5", "market=markov"]}  # options made for another ladder


def test_every_strategy_option_builds():
    for p in sorted(glob.glob(str(sim.config.CONFIG_DIR / "strategy" / "*.yaml"))):
        name = Path(p).stem
        m = sim.build(sim.load(BASE + NEEDS.get(name, []) + [f"strategy={name}"]))
        assert all(st.ledger.spent == 0 for st in m.strategies if hasattr(st, "ledger"))


def test_a_plug_in_that_does_not_fit_the_ladder_is_a_config_error():
    with pytest.raises(ConfigError, match=r"strategy\.markov_migration: .*unknown stage"):
        sim.build(sim.load(BASE + ["strategy=markov_migration"]))


def test_stage_groups_follow_roles_on_any_ladder():
    from sim.ladder import resolve_stages

    def groups(cfg, *sel):
        lad = cfg.ladder
        return resolve_stages(list(sel), [s.name for s in lad.stages], [s.role for s in lad.stages])

    crm7, simple5 = sim.load(BASE), sim.load(BASE + ["ladder=simple5"])
    assert groups(crm7, "upper") == ["client", "loyal", "advocate"]
    assert groups(crm7, "repeat") == ["repeat_buyer", "client", "loyal", "advocate"]
    assert groups(crm7, "customers") == ["first_time_buyer", "repeat_buyer", "client", "loyal", "advocate"]
    assert groups(crm7, "churned", "upper", "client") == ["client", "loyal", "advocate", "churned"]
    assert groups(simple5, "upper") == groups(simple5, "repeat") == ["loyal"]
    assert groups(simple5, "customers") == ["customer", "loyal"]
    with pytest.raises(ValueError, match="groups are"):
        groups(simple5, "client")


def test_initial_mix_comes_from_the_ladder_and_can_be_overridden():
    cfg = sim.load(BASE)
    assert cfg.market.initial_stages is None
    assert cfg.ladder.initial_shares(None) == {
        "suspect": 0.55, "prospect": 0.15, "first_time_buyer": 0.06, "repeat_buyer": 0.08,
        "client": 0.06, "loyal": 0.04, "advocate": 0.01, "churned": 0.05}
    m = sim.build(sim.load(BASE + ["market.initial_stages={prospect: 0.5, loyal: 0.5}"]))
    assert dict(zip(m.stage_names, m.stage_counts().tolist(), strict=True)) == {
        **{n: 0 for n in m.stage_names}, "prospect": 50, "loyal": 50}
    with pytest.raises(ConfigError, match="no initial stage mix"):
        sim.load(BASE + [f"ladder.stages.{i}.init.share=null" for i in range(8)])


def test_a_five_stage_ladder_runs_with_the_default_strategy_mix(tmp_path):
    """sim/configs/ladder/simple5.yaml with the default market and strategies: nothing names crm7's stages."""
    import json
    import subprocess
    import sys

    from sim.report import stage_colours
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "sim", "ladder=simple5", "market.n_customers=800", "market.days=240",
                        "engine.progress=false", f"output.dir={out}", f"hydra.run.dir={tmp_path / 'hydra'}"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    summ = json.loads((out / "summary.json").read_text())
    assert set(summ["strategies"]) == {"mass_advertising", "targeted_acquisition", "loyalty_programme",
                                       "service_recovery", "churn_outreach", "win_back", "cross_sell"}
    for name in ("loyalty_programme", "cross_sell", "win_back", "churn_outreach"):
        assert summ["strategies"][name]["contacts"] > 0, name  # each found its (role-relative) stages
    colours = stage_colours(sim.load(["ladder=simple5"]).ladder)
    assert colours[0] == "#c7c7c7" and colours[1] == "#969696"  # pool and lead: greys
    assert colours[4] == "#d62728"  # lost: red
    assert colours[2] != colours[3] and all(c[1:3] < c[5:7] for c in colours[2:4])  # customers: blues
    assert json.dumps(colours).replace(" ", "") in (out / "report.html").read_text()
