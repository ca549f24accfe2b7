"""Competitive market: share of wallet, rivals' books and views, competitive response (small markets)."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from _browser import launch
from sim import metrics
from sim.config import ConfigError
from sim.crm import RivalView
from sim.run import paired
from sim.state import CustomerState

SMALL = ["market.n_customers=800", "market.days=300", "engine.progress=false"]
LOYALTY = {"budget": 15000, "channel": "email", "every_days": 30, "enrol_response": 0.1, "points_rate": 0.02,
           "tier_spend": 300, "switching_cost_per_tier": 0.06, "max_switching_cost": 0.25,
           "rate_uplift_per_tier": 0.02}


def _cfg(*extra, rival_a=None):
    cfg = sim.load([*SMALL, *extra])
    if rival_a is not None:
        cfg.market.competitors[0].strategy = rival_a
    return cfg


def _promo(discount):
    return {"promo": {"_target_": "sim.strategies.Promotion", "discount": discount, "budget": 1e7}}


def _response(match: bool, delay: float = 100.0):
    return {"response": {"_target_": "sim.strategies.CompetitiveResponse", "match_loyalty": match,
                         "delay_days": delay, "programme": LOYALTY}}


@pytest.fixture(scope="module")
def busy():
    """Rival A runs a promotion and a loyalty programme; the focal firm its default mix."""
    spec = {**_promo(0.05), "club": {"_target_": "sim.strategies.LoyaltyProgramme", **LOYALTY}}
    return sim.simulate(_cfg("seed=3", rival_a=spec), progress=False)


def test_the_firms_books_add_up(busy):
    m = busy
    w = m.world
    # every purchase went to exactly one firm: the firms' sales add up to all purchases, in count and value
    assert sum(f.books.n_transactions() for f in m.firms) == w.purchases_all
    assert sum(f.books.totals["revenue"] for f in m.firms) == w.purchase_cents_all
    assert all(f.books.totals["revenue"] > 0 for f in m.firms)
    for f in m.firms:  # each firm's books equal its own CRM table, to the cent
        rec, t = f.records, f.books.totals
        for k, col in (("revenue", "revenue"), ("margin", "margin"), ("contact_cost", "contact_cost"),
                       ("offer_cost", "offer_cost")):
            assert int(getattr(rec, col).sum()) == t[k], (f.name, k)
        rows, _, cents, _ = f.books.transactions()
        assert np.array_equal(np.bincount(rows, weights=cents, minlength=m.n).astype(np.int64), rec.revenue)
    # no purchase event is in two firms' logs
    keys = np.concatenate([np.stack(f.books.transactions()[:2], axis=1) for f in m.firms])
    assert np.unique(keys, axis=0).shape[0] == keys.shape[0]
    summ = metrics.summary(m)
    assert sum(v["market_share"] for v in summ["firms"].values()) == pytest.approx(1.0)
    assert summ["firms"]["Rival A"]["profit"] == pytest.approx(m.firms[1].books.profit() / 100)
    assert summ["firms"]["Rival A"]["marketing_spend"] > 0


def test_assignment_sends_each_purchase_to_one_firm_in_proportion_to_the_shares():
    m = sim.build(_cfg("strategy=none"))
    wal = m.world.wallet
    rows = np.repeat(np.flatnonzero(m.ladder.role[m.s.stage] == 2)[:5], 40_000)
    firm = wal.assign(rows, np.arange(rows.size, dtype=np.uint64))
    assert set(np.unique(firm)) <= {0, 1, 2}
    sh = wal.shares(rows[::40_000])
    for i in range(5):
        got = np.bincount(firm[i * 40_000:(i + 1) * 40_000], minlength=3) / 40_000
        assert np.allclose(got, sh[i], atol=0.01)
    lost = np.flatnonzero(m.ladder.role[m.s.stage] == 3)
    assert np.array_equal(wal.assign(lost, np.zeros(lost.size, np.uint64)), m.s.firm[lost])  # whole wallet moved


def test_raising_a_rivals_offer_shifts_share_of_wallet_towards_it():
    out = []
    for d in (0.0, 0.05, 0.2):
        m = sim.simulate(_cfg("strategy=none", "seed=1", rival_a=_promo(d) if d else {}), progress=False)
        s = metrics.summary(m)
        out.append((s["firms"]["Rival A"]["share_of_focal_wallets"], s["firms"]["Rival A"]["market_share"],
                    s["share_of_wallet"], s["market_share"]))
    rival_wallet, rival_market, focal_wallet, focal_market = map(np.array, zip(*out, strict=True))
    assert np.all(np.diff(rival_wallet) > 0) and np.all(np.diff(rival_market) > 0)
    assert np.all(np.diff(focal_wallet) < 0) and np.all(np.diff(focal_market) < 0)
    ts = metrics.timeseries(m)
    for f in m.firms:
        assert {f"market_share_{f.slug}", f"wallet_share_{f.slug}", f"firm_revenue_{f.slug}"} <= set(ts.columns)
    assert np.allclose(ts.filter(like="market_share_").iloc[1:].sum(axis=1), 1.0)


def test_a_matched_loyalty_programme_lowers_the_focal_firms_paired_roi():
    diffs = []
    for seed in (0, 1, 2):
        base = ["strategy=loyalty_programme", f"seed={seed}"]
        # the control has no focal programme, so the rival never matches: one control serves both
        ctrl = metrics.summary(sim.simulate(_cfg(*base, rival_a=_response(True)), with_strategies=False,
                                            progress=False))
        roi = {}
        for match in (False, True):
            m = sim.simulate(_cfg(*base, rival_a=_response(match)), progress=False)
            roi[match] = paired(metrics.summary(m), ctrl)["roi_vs_control"]
            launched = [st for st in m.firms[1].strategies if type(st).__name__ == "LoyaltyProgramme"]
            assert bool(launched) == match
            if match:
                assert launched[0].report()["members"] > 0
        diffs.append(roi[True] - roi[False])
    assert all(d < 0 for d in diffs), diffs


def test_the_paired_control_keeps_the_rivals_strategies():
    spec = {"response": {"_target_": "sim.strategies.CompetitiveResponse", "match_loyalty": False,
                         "counter_acquisition": True, "delay_days": 30, "counter_discount": 0.1, "budget": 1e6}}
    cfg = _cfg("strategy=mass_advertising", "market.days=120", rival_a=spec)
    treated = sim.simulate(cfg, progress=False)
    control = sim.simulate(cfg, with_strategies=False, progress=False)
    assert not control.strategies and [st.name for st in control.rival_strategies] == ["response"]
    assert "countered_on_day" in treated.rival_strategies[0].report()      # answered the advertising
    assert "countered_on_day" not in control.rival_strategies[0].report()  # nothing to answer
    assert treated.firms[1].books.totals["offer_cost"] > 0


def test_each_firms_view_sees_only_its_own_customers_records(busy):
    m = busy
    club = m.firms[1].strategies[1]
    crm = club.crm
    assert isinstance(crm, RivalView)
    focal = m.strategies[0].crm
    rows_r = m.firms[1].books.transactions()[0]
    rows_f = m.books.transactions()[0]
    rev_r, rev_f = crm.record("revenue"), focal.record("revenue")
    assert np.array_equal(np.flatnonzero(rev_r), np.unique(rows_r))  # records only of its own buyers
    assert np.array_equal(np.flatnonzero(rev_f), np.unique(rows_f))
    assert not np.array_equal(rev_r, rev_f)
    both = np.intersect1d(rows_r, rows_f)
    assert both.size and (rev_r[both] != rev_f[both]).any()  # a shared customer: each firm sees its own purchases
    assert crm.record("n_contacts").sum() == club.report()["contacts"] > 0  # its own contacts only
    for col in ("satisfaction", "stage", "firm"):
        with pytest.raises(KeyError):
            crm.record(col)
    with pytest.raises(ValueError, match="unobservable"):
        crm.on("complaint", lambda rows, t: None)
    others = (CustomerState, sim.Market, type(m.firms[0].books), type(m.firms[2].records))
    for name in dir(crm):
        if not name.startswith("_"):
            assert not isinstance(getattr(crm, name), others), name
    assert set(crm.market_signals()) == {"loyalty_programme_since", "acquisition_push_since"}


def test_rival_plugins_are_validated_like_the_firms():
    with pytest.raises(ConfigError, match=r"market\.competitors\[0\]\.strategy\.x\._target_.*a rival cannot run"):
        sim.build(_cfg(rival_a={"x": {"_target_": "sim.strategies.TargetedAcquisition"}}))
    with pytest.raises(ConfigError, match=r"market\.competitors\[0\]\.strategy\.promo\.discount"):
        sim.build(_cfg(rival_a={"promo": {"_target_": "sim.strategies.Promotion", "discount": 2}}))
    with pytest.raises(ConfigError, match=r"strategy\.r\._target_.*only a rival"):
        sim.build(_cfg("+strategy.r._target_=sim.strategies.CompetitiveResponse"))


def test_a_two_level_sweep_is_answered_in_one_sentence():
    import pandas as pd

    from sim.collect import Collected, answer, compare
    seeds = [0, 1, 2, 3]
    runs = pd.DataFrame({"seed": seeds * 2, "replication": 0, "strategy": "loyalty_programme",
                         "param.study.rival_match": [True] * 4 + [False] * 4,
                         "roi_vs_control": [0.1, -0.2, 0.0, 0.3, 0.6, 0.4, 0.5, 0.9]})
    params = ["param.study.rival_match"]
    c = Collected(runs, compare(runs, params), params)
    text = answer(c)
    assert text.count("[") == 3 and "study.rival_match=True it is 0.05" in text
    assert "may or may not pay" in text and "pays: the interval is above 0" in text
    assert "is -0.55 [-0.64, -0.46] over 4 seeds" in text  # paired by seed: narrower than either interval
    runs3 = pd.concat([runs, runs.assign(**{"param.study.rival_match": "x"})])
    assert answer(Collected(runs3, compare(runs3, params), params)) is None  # three levels: no sentence


def test_the_report_shows_the_competitive_market_in_a_browser(tmp_path):
    """Headless Chromium: the report's firms table and the market-share / share-of-wallet figure.
    With SIM_UPDATE_SCREENSHOT=1 the figure is saved as docs/competitive_market.png (README)."""
    import os
    from pathlib import Path

    from playwright.sync_api import sync_playwright
    cfg = _cfg("market.n_customers=1000", "market.days=365", "paired_control=false", "output.transactions=false",
               rival_a={"promo": {"_target_": "sim.strategies.Promotion", "discount": 0.1, "budget": 15000,
                                  "start_day": 120}})
    sim.run(cfg, tmp_path, progress=False)
    shot = (Path(__file__).resolve().parent.parent / "docs" / "competitive_market.png"
            if os.environ.get("SIM_UPDATE_SCREENSHOT") == "1" else tmp_path / "competition.png")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((tmp_path / "report.html").as_uri())
        page.wait_for_selector("#fig-competition .main-svg")
        firms = page.locator("#firms tr").all_inner_texts()
        assert len(firms) == 4 and "Rival A" in firms[2] and "promo" in firms[2]
        assert page.locator("#fig-competition .scatterlayer .trace").count() == 6  # 3 firms x (market, wallet)
        legend = page.locator("#fig-competition .legendtext").all_text_contents()
        assert legend == ["Focal firm", "Rival A", "Rival B"]
        page.locator("#fig-competition").screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000
