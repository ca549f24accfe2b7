"""Each shipped strategy changes the behaviour it targets, in the expected direction, against
its no-action control under common random numbers; budgets are never overspent."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import metrics
from sim.run import _holdout_estimates, paired
from sim.state import CAUSE

N, DAYS = 1500, 365


def pair(strategy: str, *extra: str, n: int = N, days: int = DAYS):
    own = [e for e in extra if e.startswith("strategy.")]  # parameters of the strategy under test
    base = [f"market.n_customers={n}", f"market.days={days}", "engine.progress=false",
            *[e for e in extra if e not in own]]
    treated = sim.simulate(sim.load(base + [f"strategy={strategy}", *own]), progress=False)
    control = sim.simulate(sim.load(base + ["strategy=none"]), progress=False)
    return treated, control


def flow(m, a, b):
    return int(m.flows[m.stage_names.index(a), m.stage_names.index(b)])


def test_mass_advertising_brings_more_exposures():
    t, c = pair("mass_advertising")
    adv = np.count_nonzero(t.s.acquired_via == CAUSE["advertising"])
    assert adv > 0 and np.count_nonzero(c.s.acquired_via == CAUSE["advertising"]) == 0
    assert flow(t, "suspect", "prospect") > flow(c, "suspect", "prospect")
    assert t.strategies[0].ledger.spent > 0


def test_targeted_acquisition_acquires_more_customers():
    t, c = pair("targeted_acquisition")
    assert t.acquisitions > c.acquisitions
    assert np.count_nonzero(t.s.acquired_via == CAUSE["contact"]) > 0


def test_referral_programme_brings_more_word_of_mouth_prospects():
    t, c = pair("referral_programme", "strategy.referral_programme.wom_uplift=3")
    wom_t = np.count_nonzero(t.s.acquired_via == CAUSE["word_of_mouth"])
    wom_c = np.count_nonzero(c.s.acquired_via == CAUSE["word_of_mouth"])
    assert wom_t > wom_c
    assert t.strategies[0]._stats["referrals"] > 0


def test_loyalty_programme_raises_switching_cost_and_cuts_defection():
    t, c = pair("loyalty_programme")
    members = t.strategies[0]._member
    assert members.sum() > 0 and (t.s.switching_cost[members] > 0).all()
    assert t.defections < c.defections


def test_service_recovery_restores_satisfaction_and_prevents_falls():
    t, c = pair("service_recovery", "service.quality=0.55")
    st = t.strategies[0]._stats
    assert st["resolved"] > 0

    def falls(m):
        return flow(m, "loyal", "client") + flow(m, "advocate", "loyal") + flow(m, "client", "repeat_buyer")

    assert falls(t) < falls(c)

    def active(m):
        return m.role[m.s.stage] == 2

    assert t.s.satisfaction[active(t)].mean() > c.s.satisfaction[active(c)].mean()


def test_churn_outreach_cuts_defection():
    t, c = pair("churn_outreach", "strategy.churn_outreach.threshold=0.3",
                "strategy.churn_outreach.channel=call_centre")
    assert t.strategies[0]._stats["responders"] > 0
    assert t.defections < c.defections


def test_churn_score_ranks_risky_records_higher():
    """The score reads only records: an overdue purchase and an open complaint raise it."""
    from sim.crm import CrmView
    from sim.strategies import ChurnOutreach
    m = sim.build(sim.load(["market.n_customers=200", "market.days=10"]))
    rows = np.flatnonzero(m.role[m.s.stage] == 2)[:3]
    m.s.acquired_at[rows] = -300.0
    m.s.n_purchases[rows] = 10                 # a purchase every 30 days on record
    m.s.last_purchase_at[rows] = [-5.0, -90.0, -5.0]
    m.s.complaint_open[rows] = [False, False, True]
    sc = ChurnOutreach.score(CrmView(m, None), rows)
    assert sc[1] > sc[0] and sc[2] > sc[0]


def test_win_back_returns_more_lost_customers():
    t, c = pair("win_back")
    assert flow(t, "churned", "repeat_buyer") > flow(c, "churned", "repeat_buyer")
    assert t.strategies[0]._stats["won_back"] > 0


def test_cross_sell_adds_purchases_by_established_customers():
    t, c = pair("cross_sell", "strategy.cross_sell.channel=call_centre", "strategy.cross_sell.budget=20000")
    assert t.strategies[0]._stats["cross_sales"] > 0
    assert t.totals["revenue"] > c.totals["revenue"]
    assert int(t.s.n_purchases.sum()) > int(c.s.n_purchases.sum())


def test_up_sell_raises_basket_value_of_responders():
    t, c = pair("up_sell", "strategy.up_sell.channel=call_centre", "strategy.up_sell.budget=20000")
    up = t.s.upsell > 0
    assert up.any()
    tx_t, tx_c = metrics.transactions(t), metrics.transactions(c)
    rows = np.flatnonzero(up)

    def late(tx):
        return tx[(tx.customer_id.isin(rows)) & (tx.timestamp > 200)].amount.mean()

    assert late(tx_t) > late(tx_c)


def test_segmenters_select_what_they_say():
    from sim.crm import CrmView
    from sim.strategies import RFM, StageSegment, ValueSegment
    m = sim.simulate(sim.load(["market.n_customers=800", "market.days=200", "strategy=none"]), progress=False)
    crm = CrmView(m, None)
    known = np.flatnonzero(m.s.n_purchases > 0)
    top = ValueSegment(top_share=0.2).select(crm, known)
    assert abs(top.size - round(0.2 * known.size)) <= 1
    assert m.s.revenue[top].min() >= np.sort(m.s.revenue[known])[::-1][top.size - 1]
    loyal = StageSegment(stages=["loyal", "advocate"]).select(crm, np.arange(m.n))
    assert loyal.size and set(np.asarray(m.stage_names)[crm.stage()[loyal]]) <= {"loyal", "advocate"}
    rfm = RFM(select_segments=["champions"])
    champs = rfm.select(crm, known)
    r, f, _ = rfm.scores(crm, known)
    assert champs.size > 0
    pos = np.searchsorted(known, champs)
    assert (r[pos] >= 4).all() and (f[pos] >= 4).all()


def test_segmentation_strategy_records_segment_sizes():
    t, _ = pair("rfm_segmentation", n=500, days=200)
    sizes = t.strategies[0]._stats["sizes"]
    assert len(sizes) == 3 and sum(v for k, v in sizes[-1].items() if k != "t") > 0


@pytest.mark.parametrize("strategy", ["default_mix", "loyalty_programme", "targeted_acquisition", "churn_outreach"])
def test_budget_is_never_overspent(strategy):
    t, _ = pair(strategy, n=800, days=200)
    small = [f"strategy.{s.name}.budget=37.5" for s in t.strategies if s.name != "do_nothing"]
    t, _ = pair(strategy, *small, n=800, days=200)
    for st in t.strategies:
        assert 0 <= st.ledger.spent <= st.ledger.budget == 3750
    assert t.marketing_spend() == sum(st.ledger.spent for st in t.strategies)


def test_paired_roi_is_deterministic_per_seed():
    def once(seed):
        t, c = pair("default_mix", f"seed={seed}", n=800, days=200)
        return paired(metrics.summary(t), metrics.summary(c))
    a, b, other = once(3), once(3), once(4)
    assert a == b
    assert a["roi_vs_control"] != other["roi_vs_control"]


def test_common_random_numbers_leave_untouched_customers_identical():
    t, c = pair("win_back", n=800, days=200)
    # customers the strategy never touched and who were never lost live identical lives
    untouched = (t.s.n_contacts == 0) & np.isnan(t.s.first_churn_at) & np.isnan(c.s.first_churn_at)
    assert untouched.sum() > 100
    assert np.array_equal(t.s.revenue[untouched], c.s.revenue[untouched])


def test_holdout_customers_are_never_contacted_and_uplift_is_estimated():
    t, _ = pair("churn_outreach", "strategy.churn_outreach.holdout=0.3", "strategy.churn_outreach.threshold=0.3")
    st = t.strategies[0]
    bit = np.uint64(1) << np.uint64(st.index)
    held = (t.s.held_out & bit) != 0
    treated = (t.s.treated & bit) != 0
    assert held.sum() > 0 and treated.sum() > 0
    assert not (held & treated).any()
    assert (t.s.n_contacts[held & ~treated] == 0).all()
    est = _holdout_estimates(t)[st.name]
    assert est["treated"] == treated.sum() and "roi" in est
    share = held.sum() / (held.sum() + treated.sum())
    assert 0.2 < share < 0.4
    # the summary carries each strategy's spend, churn and ladder-stage mix of contacted and held-out
    rep = metrics.summary(t)["strategies"][st.name]
    assert rep["spend"] == st.ledger.spent / 100 > 0
    for group in ("treated", "held_out"):
        g = rep[group]
        assert g["customers"] == (treated.sum() if group == "treated" else (held & ~treated).sum())
        assert sum(g["stage_mix_end"].values()) == pytest.approx(1.0)
        assert 0 <= g["churned_share_end"] <= g["ever_churned_share"] <= 1


def test_stable_order_is_the_stable_argsort_prefix():
    from sim.strategies.base import stable_order
    g = np.random.default_rng(7)
    for trial in range(300):
        n = int(g.integers(1, 400))
        kind = trial % 3
        keys = (g.integers(0, 6, n) if kind == 0 else np.round(g.normal(size=n), 1) if kind == 1
                else g.choice([-0.0, 0.0, 1.0, -1.5], n))
        for k in (None, 0, 1, 2, n // 10, n // 5, n - 1, n, n + 3):
            np.testing.assert_array_equal(stable_order(keys, k), np.argsort(keys, kind="stable")[:k])
    with_nan = np.array([3.0, np.nan, 1.0, 1.0, 2.0] * 20)
    np.testing.assert_array_equal(stable_order(with_nan, 3), np.argsort(with_nan, kind="stable")[:3])


def test_a_spent_budget_chooses_nobody_without_reading_the_records(monkeypatch):
    """Once a strategy's budget pays no contact, choose() returns nobody (as ranking would) and
    skips reading and ranking every customer; with budget left it still chooses."""
    from sim.crm import CrmView
    m = sim.build(sim.load(["market.n_customers=1500", "market.days=60", "engine.progress=false"]))
    m.clock.env.run(until=20.5)
    names = {"ChurnOutreach", "WinBack", "LoyaltyProgramme", "CrossSell", "TargetedAcquisition"}
    acting = [st for st in m.strategies if type(st).__name__ in names]
    assert len(acting) == len(names)
    for st in acting:
        assert st.choose(st.crm).size > 0, type(st).__name__
        st.ledger.spent = st.ledger.budget
    def unread(*a, **k):
        raise AssertionError("read the records")

    for name in ("rows_in", "rows_with_role", "record"):
        monkeypatch.setattr(CrmView, name, unread)
    for st in acting:
        got = st.choose(st.crm)
        assert got.size == 0 and got.dtype == np.int64, type(st).__name__
