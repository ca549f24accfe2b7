"""The firm sees only its CRM database: strategies target from records, never latent state."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.crm import RECORDED, CrmView
from sim.state import CustomerState

LATENT = ("spend", "rate", "lifetime_rate", "dropout", "susceptibility", "satisfaction", "trust", "attitude",
          "patronage", "switching_cost", "rate_boost", "upsell", "service_boost", "stage", "firm", "churned_at",
          "first_churn_at", "t_buy", "t_move", "r_buy", "r_move", "h_expose")
ACTING = ["targeted_acquisition", "loyalty_programme", "churn_outreach", "win_back", "cross_sell", "up_sell",
          "value_targeting", "stage_targeting", "survey"]


def _mid_run(strategy: str, *extra: str):
    cfg = sim.load(["market.n_customers=1500", "market.days=400", "engine.progress=false",
                    f"strategy={strategy}", *extra])
    m = sim.build(cfg)
    m.start()
    m.clock.env.run(until=200.5)  # half way: records exist, strategies have acted
    return m


def _shuffle_latent(m, seed: int = 1) -> None:
    g = np.random.default_rng(seed)
    perm = g.permutation(m.n)
    for col in LATENT:
        arr = getattr(m.s, col)
        arr[:] = arr[perm]


@pytest.mark.parametrize("strategy", ACTING)
def test_shuffling_latent_traits_leaves_every_targeting_decision_unchanged(strategy):
    m = _mid_run(strategy, "strategy.stage_targeting.threshold=0.2" if strategy == "stage_targeting" else
                 "seed=0")
    before = {st.name: st.choose(st.crm).copy() for st in m.strategies}
    assert any(v.size for v in before.values()), "the strategy chose nobody: the test would prove nothing"
    _shuffle_latent(m)
    after = {st.name: st.choose(st.crm) for st in m.strategies}
    for name in before:
        assert np.array_equal(before[name], after[name]), name


def test_a_rivals_targeting_ignores_latent_traits_and_the_focal_firms_records():
    """A rival's loyalty programme chooses from the rival's own records only."""
    cfg = sim.load(["market.n_customers=1500", "market.days=400", "engine.progress=false", "strategy=win_back"])
    cfg.market.competitors[0].strategy = {"club": {"_target_": "sim.strategies.LoyaltyProgramme", "budget": 5000,
                                                   "every_days": 60}}
    m = sim.build(cfg)
    m.start()
    m.clock.env.run(until=200.5)
    club = m.firms[1].strategies[0]
    before = club.choose(club.crm).copy()
    assert before.size
    _shuffle_latent(m)
    g = np.random.default_rng(2)
    for arr in (m.world.wallet.lock, m.world.wallet.attitude, m.world.wallet.boost):
        arr[:] = arr[g.permutation(m.n)]
    for col in RECORDED:  # the focal firm's records do not matter to the rival either
        a = getattr(m.s, col)
        a[:] = a[g.permutation(m.n)]
    assert np.array_equal(before, club.choose(club.crm))


def test_shuffling_latent_traits_changes_what_a_latent_ranking_would_choose():
    """The shuffle test has teeth: a ranking by the true spend level does change."""
    m = _mid_run("cross_sell")
    rows = np.flatnonzero(m.s.n_purchases > 0)
    by_spend = rows[np.argsort(-m.s.spend[rows], kind="stable")][:100]
    _shuffle_latent(m)
    assert not np.array_equal(by_spend, rows[np.argsort(-m.s.spend[rows], kind="stable")][:100])


def test_the_view_exposes_records_only():
    m = _mid_run("win_back")
    crm = m.strategies[0].crm
    for col in RECORDED:
        a = crm.record(col)
        assert not a.flags.writeable
    for col in ("satisfaction", "spend", "rate", "dropout", "attitude", "trust", "stage"):
        with pytest.raises(KeyError, match="not in the firm's CRM records"):
            crm.record(col)
    # no public attribute of the view leads to the market or the customer state
    for name in dir(crm):
        if name.startswith("_"):
            continue
        v = getattr(crm, name)
        assert not isinstance(v, (CustomerState, sim.Market)), name
    with pytest.raises(ValueError, match="unobservable"):
        crm.on("defection", lambda rows, t: None)


def test_the_firm_classifies_stages_from_records():
    m = _mid_run("win_back")
    crm = CrmView(m, None)
    st = crm.stage()
    lad = m.ladder
    n = m.s.n_purchases
    assert (lad.role[st[n == 0]] <= 1).all()  # never bought: suspect or lead
    lapsed = (n > 0) & (m.now - m.s.last_purchase_at > m.cfg.crm.lapsed_after_days)
    assert (st[lapsed] == lad.lost).all()
    # the firm does not see defection as it happens: some customers it still counts are gone
    truly_lost = lad.role[m.s.stage] == 3
    assert (truly_lost & (lad.role[st] == 2)).any()


STRATEGY_MODULES = ["acquisition.py", "development.py", "retention.py", "segmentation.py", "rivals.py"]
FORBIDDEN_ATTRS = {"s", "world", "books", "ladder", "_m", "_market", "crng"}


@pytest.mark.parametrize("module", STRATEGY_MODULES)
def test_strategy_code_never_reaches_past_the_view(module):
    """A boundary in the code: the strategy modules name no market internals."""
    src = (Path(sim.__file__).parent / "strategies" / module).read_text()
    tree = ast.parse(src)
    bad = sorted({(node.attr, node.lineno) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS})
    assert not bad, f"{module} reaches market internals: {bad}"
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imports & {"market", "world", "state", "books"}, imports
