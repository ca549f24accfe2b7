"""Ladder transitions, money identities, population conservation, determinism, agent/batch paths."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import sim
from sim import metrics


@pytest.fixture(scope="module")
def market():
    cfg = sim.load(["market.n_customers=1500", "market.days=365", "engine.progress=false"])
    return sim.simulate(cfg, progress=False)


def test_population_is_conserved_at_every_report(market):
    ts = metrics.timeseries(market)
    stage_cols = [f"stage_{n}" for n in market.stage_names]
    assert (ts[stage_cols].sum(axis=1) == market.n).all()
    assert (ts[stage_cols] >= 0).all().all()
    assert len(ts) == int(np.ceil(market.days / market.cfg.engine.report_every)) + 1


def test_stock_changes_equal_recorded_flows(market):
    ts = metrics.timeseries(market)
    fl = metrics.flows(market)
    first, last = ts.iloc[0], ts.iloc[-1]
    for name in market.stage_names:
        inflow = fl.loc[fl.to_stage == name, "count"].sum()
        outflow = fl.loc[fl.from_stage == name, "count"].sum()
        assert last[f"stage_{name}"] - first[f"stage_{name}"] == inflow - outflow, name


def test_every_move_follows_a_configured_transition(market):
    allowed = set()
    for t in market.cfg.ladder.transitions:
        for f in t.from_:
            allowed.add((f, t.to))
    fl = metrics.flows(market)
    seen = set(zip(fl.from_stage, fl.to_stage, strict=True))
    assert seen, "a year of a 1,500-customer market must move someone"
    assert seen <= allowed, seen - allowed
    # the ladder is climbed, and customers defect and come back
    assert ("first_time_buyer", "repeat_buyer") in seen
    assert ("churned", "repeat_buyer") in seen
    assert any(to == "churned" for _, to in seen)


def test_repeat_transition_needs_the_second_purchase():
    cfg = sim.load(["market.n_customers=400", "market.days=120", "strategy=none", "engine.progress=false"])
    m = sim.simulate(cfg, progress=False)
    rep = m.stage_names.index("repeat_buyer")
    first = m.stage_names.index("first_time_buyer")
    cust = metrics.customers(m)
    moved_up = m.flows[first, rep]
    assert moved_up > 0
    # nobody who is a first-time buyer at the end has 2+ purchases made while first-time buyer:
    # min_purchases=2 with p=1 moves them on their second purchase
    ftb = cust[cust.stage == "first_time_buyer"]
    assert (ftb.n_purchases < 2).all()


def test_purchase_transition_conditions_and_probability():
    """A client → loyal move needs attitude ≥ 0.62 and satisfaction ≥ 0.6; with p=1 it always fires."""
    cfg = sim.load(["market.n_customers=200", "market.days=10", "strategy=none", "engine.progress=false"])
    for t in cfg.ladder.transitions:
        if t.from_ == ["client"] and t.to == "loyal":
            t.p = 1.0
    cfg.service.quality_sd = 0.0
    cfg.service.quality = 0.9
    m = sim.build(cfg)
    client, loyal = m.stage_names.index("client"), m.stage_names.index("loyal")
    rows = np.flatnonzero(m.s.stage == client)[:20]
    m.s.attitude[rows[:10]] = 0.95
    m.s.satisfaction[rows[:10]] = 0.95
    m.s.attitude[rows[10:]] = 0.1  # fails the attitude condition
    m.world.purchase(rows, np.zeros(rows.size), wallet=False)  # a purchase at the focal firm (no wallet split)
    assert (m.s.stage[rows[:10]] == loyal).all()
    assert (m.s.stage[rows[10:]] == client).all()


def test_money_identities_are_exact(market):
    s, t = market.s, market.totals
    tx = metrics.transactions(market)
    assert s.revenue.sum() == t["revenue"]
    assert round(tx.amount.sum() * 100) == t["revenue"]
    assert s.margin.sum() == t["margin"]
    assert s.service_cost.sum() == t["service_cost"]
    assert s.contact_cost.sum() == t["contact_cost"]
    assert s.offer_cost.sum() == t["offer_cost"]
    spent = sum(st.ledger.spent for st in market.strategies)
    assert spent == t["contact_cost"] + t["offer_cost"] + t["other_spend"] == market.marketing_spend()
    assert t["fixed_cost"] == round(market.cfg.economics.fixed_cost_per_month * 100 * market.days * 12 / 365)
    assert market.profit_cents() == t["margin"] - t["service_cost"] - spent - t["fixed_cost"]
    summ = metrics.summary(market)
    ts = metrics.timeseries(market)
    assert ts["cum_profit"].iloc[-1] == pytest.approx(summ["profit"], abs=1e-6)
    assert (ts["revenue"] >= 0).all() and (ts["marketing_spend"] >= 0).all()
    # per-customer revenue equals that customer's transactions
    per = tx.groupby("customer_id")["amount"].sum()
    assert np.allclose(per.values, s.revenue[per.index.values] / 100.0)


@pytest.mark.parametrize("days,dt", [(31, 7.0), (60, 1.0), (45, 10.0)])
def test_nothing_is_spent_after_the_final_report(days, dt):
    # monthly actions whose next boundary is the horizon end (31 with dt=7; 60 = 2 x 30) are dropped;
    # the last report then holds every cent the summary counts
    m = sim.simulate(sim.load(["market.n_customers=300", f"market.days={days}", f"engine.dt={dt}",
                               "engine.report_every=1", "strategy=default_mix", "engine.progress=false"]),
                     progress=False)
    ts = metrics.timeseries(m)
    assert round(ts["cum_profit"].iloc[-1] * 100) == m.profit_cents()
    assert round((ts["cum_contact_cost"].iloc[-1] + ts["cum_offer_cost"].iloc[-1]
                  + ts["cum_other_spend"].iloc[-1]) * 100) == m.marketing_spend()
    for st in m.strategies:
        acts = st.report()["actions"]
        starts = np.arange(st.start_day, days - 1e-9, st.every_days)
        # an action falls on the first boundary at/after its day, and only if that boundary is before the end
        assert acts == int(sum(min(np.ceil(a / dt) * dt, days) < days for a in starts))


def test_clv_is_zero_for_never_acquired(market):
    s = market.s
    never = np.isnan(s.acquired_at)
    assert never.any() and (s.contact_cost[never] > 0).any()  # money was spent on some of them
    assert np.all(s.clv[never] == 0.0)


def test_clv_is_discounted_net_margin():
    base = ["market.n_customers=400", "market.days=365", "strategy=none", "engine.progress=false"]
    flat = sim.simulate(sim.load(base + ["economics.annual_discount_rate=0"]), progress=False)
    s = flat.s
    assert np.allclose(s.clv, (s.margin - s.service_cost) / 100.0)
    cfg = sim.load(base + ["economics.annual_discount_rate=0.2"])
    for st in cfg.ladder.stages:
        st.service_cost = 0.0  # every cash flow positive, so discounting bounds are simple
    disc = sim.simulate(cfg, progress=False)
    gain = disc.s.margin / 100.0
    pos = gain > 0
    # all flows fall within one year: 1/1.2 <= discount factor <= 1 (strictly < 1 after t=0)
    assert np.all(disc.s.clv[pos] <= gain[pos] + 1e-9)
    assert np.all(disc.s.clv[pos] >= gain[pos] / 1.2 - 1e-9)
    assert disc.s.clv[pos].sum() < gain[pos].sum()


def test_pareto_like_value_split_emerges(market):
    share = metrics.top_share(market.s.revenue.astype(float))
    assert 0.55 < share < 0.95, share


def test_defectors_go_to_competitors_and_customers_to_the_focal_firm(market):
    s = market.s
    role = market.role[s.stage]
    assert np.all(s.firm[role == 3] >= 1)
    assert np.all(s.firm[role == 3] <= len(market.cfg.market.competitors))
    assert np.all(s.firm[role == 2] == 0)
    # both rivals receive defectors, and the summary counts customers per firm
    assert len(np.unique(s.firm[role == 3])) == 2
    per_firm = metrics.summary(market)["firm_customers_end"]
    assert list(per_firm) == ["Focal firm", "Rival A", "Rival B"]
    assert per_firm["Focal firm"] == np.count_nonzero(role == 2)
    assert per_firm["Rival A"] + per_firm["Rival B"] == np.count_nonzero(role == 3)


def test_events_happen_in_continuous_time():
    cfg = sim.load(["market.n_customers=400", "market.days=120", "strategy=none", "engine.progress=false"])
    tx = metrics.transactions(sim.simulate(cfg, progress=False))
    # without campaigns (which act on calendar days) no purchase falls on a window boundary
    assert (tx.timestamp != np.floor(tx.timestamp)).all()
    assert tx.timestamp.is_monotonic_increasing
    # and coarser processing windows do not move events onto a grid either
    tx5 = metrics.transactions(sim.simulate(sim.load(["market.n_customers=400", "market.days=120",
                                                      "strategy=none", "engine.dt=5"]), progress=False))
    assert (tx5.timestamp % 5 != 0).all()


def test_same_seed_same_result_and_different_seed_differs():
    base = ["market.n_customers=500", "market.days=120", "engine.progress=false"]
    a = sim.simulate(sim.load(base), progress=False)
    b = sim.simulate(sim.load(base), progress=False)
    c = sim.simulate(sim.load(base + ["seed=1"]), progress=False)
    assert a.totals == b.totals and np.array_equal(a.s.stage, b.s.stage)
    assert a.totals != c.totals


def test_replications_are_independent_streams():
    base = ["market.n_customers=500", "market.days=60", "engine.progress=false"]
    a = sim.build(sim.load(base + ["replication=0"]))
    b = sim.build(sim.load(base + ["replication=1"]))
    assert a.key != b.key
    assert not np.array_equal(a.s.spend, b.s.spend)


def test_per_agent_path_equals_batched_path():
    cfg = sim.load(["market.n_customers=300", "market.days=90", "engine.progress=false"])
    a = sim.simulate(cfg, progress=False, mode="batched")
    b = sim.simulate(cfg, progress=False, mode="agents")
    assert a.totals == b.totals
    for col in ("stage", "revenue", "n_purchases", "satisfaction", "clv"):
        assert np.array_equal(getattr(a.s, col), getattr(b.s, col)), col


def test_customer_agent_is_a_view_on_its_row():
    m = sim.build(sim.load(["market.n_customers=100", "market.days=30", "engine.progress=false"]))
    m.run(progress=False)
    agent = list(m.agents)[7]
    r = agent.row
    assert agent.stage == m.stage_names[m.s.stage[r]]
    assert agent.satisfaction == pytest.approx(m.s.satisfaction[r])
    assert agent.revenue == m.s.revenue[r] / 100
    assert sum(a for _, a, _ in agent.history()) == pytest.approx(agent.revenue)
    m.s.satisfaction[r] = 0.123
    assert agent.satisfaction == pytest.approx(0.123)


def test_large_markets_are_the_engine_alone_and_give_the_same_results():
    from sim.engine import MarketEngine
    from sim.market import Market
    cfg = sim.load(["market.n_customers=6000", "market.days=60", "engine.progress=false"])
    m = sim.build(cfg)
    assert type(m) is MarketEngine and m.customer_agents is None
    # the same market as a Mesa model with its agents: identical customers and books
    a = sim.build(cfg, materialize=True)
    assert isinstance(a, Market) and len(a.agents) == 6000
    m.run(progress=False)
    a.run(progress=False)
    assert m.totals == a.totals
    for k in ("stage", "revenue", "satisfaction", "last_purchase_at"):
        np.testing.assert_array_equal(getattr(m.s, k), getattr(a.s, k))


def test_a_market_with_mesa_agents_is_freed_when_dropped():
    import gc
    import weakref
    m = sim.simulate(sim.load(["market.n_customers=300", "market.days=10", "engine.progress=false"]), progress=False)
    assert len(m.agents) == 300 and sorted(a.unique_id for a in m.agents) == list(range(1, 301))
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None  # Mesa's class-level id counter no longer holds it


def test_a_run_that_writes_its_outputs_loads_neither_mesa_nor_pandas(tmp_path):
    # both installed: a run (its report, and a second run reading the control from the cache) loads neither
    code = ("import sys, sim\n"
            "cfg = sim.load(['market.n_customers=300', 'market.days=30', 'engine.progress=false', 'strategy=win_back',"
            " 'output.report=true'])\n"
            f"for r in ('a', 'b'): sim.run(cfg, {str(tmp_path)!r} + '/' + r, control_cache={str(tmp_path / 'c')!r})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mesa', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
    assert (tmp_path / "b" / "report.html").read_bytes() == (tmp_path / "a" / "report.html").read_bytes()
