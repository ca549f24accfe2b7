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
    ("+market.initial_stages.vip=0.0", "market.initial_stages", "unknown stage 'vip'"),
    ("ladder.transitions.2.to=platinum", "ladder", "unknown stage 'platinum'"),
    ("market.initial_stages.suspect=0.9", "market.initial_stages", "add up to 1"),
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
    """So that any parameter can be overridden from the command line without '+'."""
    from hydra.utils import get_class
    for p in sorted(glob.glob(str(sim.config.CONFIG_DIR / "strategy" / "*.yaml"))):
        data = yaml.safe_load(Path(p).read_text())
        if not data or "defaults" in data:
            continue
        (_, spec), = data.items()
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
