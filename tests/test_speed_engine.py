"""The due lists (sim.calendar) find exactly the customers a full scan of the clocks finds."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.calendar import DueCalendar
from sim.world import World

CASES = {
    "default": ["market.n_customers=2000", "market.days=120"],
    "long windows": ["market.n_customers=1500", "market.days=100.5", "engine.dt=7"],
    "short windows": ["market.n_customers=800", "market.days=30", "engine.dt=0.3"],
    "bass": ["ladder=bass", "market=bass", "strategy=none", "market.n_customers=1500", "market.days=200"],
    "shock": ["market.n_customers=1500", "market.days=150", "+scenario=bad_service_shock"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_due_lists_equal_a_full_scan_at_every_window(case, monkeypatch):
    checked = []
    real = World.due

    def due(self, t1, H1):
        want = self.due_scan(t1, H1)
        got = real(self, t1, H1)
        assert np.array_equal(got, want), f"window ending {t1}: {np.setxor1d(got, want)[:10]}"
        checked.append(got.size)
        return got

    monkeypatch.setattr(World, "due", due)
    sim.simulate(sim.load([*CASES[case], "engine.progress=false"]), progress=False)
    assert len(checked) >= 10 and sum(checked) > 0


def test_a_run_with_due_lists_is_identical_to_one_that_scans():
    cfg = sim.load(["market.n_customers=3000", "market.days=120", "engine.progress=false"])
    a = sim.build(cfg)
    b = sim.build(cfg)
    b.world.calendar = None  # scan every customer's clocks each window (the old engine)
    a.run(progress=False)
    b.run(progress=False)
    for col in a.s.columns():
        assert np.array_equal(getattr(a.s, col), getattr(b.s, col), equal_nan=True), col
    assert a.datacollector.get_model_vars_dataframe().equals(b.datacollector.get_model_vars_dataframe())
    assert all(np.array_equal(x, y) for x, y in zip(a.transactions(), b.transactions(), strict=True))
    # the count of customers outside the firm, kept up to date move by move, is the true count
    assert a.world._outside is not None, "negative word of mouth never needed the count"
    assert a.world._outside == np.count_nonzero(a.ladder.role[a.s.stage] <= 1)


def test_calendar_sorted_unique_matches_numpy_for_many_rows():
    # many rows take the two-pass radix sort (16-bit keys), few take np.sort: both must give np.unique
    rng = np.random.default_rng(3)
    cal = DueCalendar(dt=1.0, days=10.0, n=3_000_000)
    for size in (10, 5000, 40_000):
        runs = [np.sort(rng.integers(0, 3_000_000, size // 5)) for _ in range(5)]  # sorted runs, as filed
        rows = np.concatenate(runs + [runs[0][: size // 10], np.array([0, 65535, 65536, 2_999_999])])
        assert np.array_equal(cal._sorted_unique(rows), np.unique(rows))


def test_calendar_drops_stale_entries_and_keeps_thresholds_sorted():
    cal = DueCalendar(dt=1.0, days=10.0)
    cal.file_times(np.array([3, 1, 2]), np.array([0.5, 2.5, np.inf]))
    cal.file_times(np.array([4]), np.array([12.0]))      # past the horizon: never due
    assert cal.take(1.0, 0.0).tolist() == [3]
    assert cal.take(2.0, 0.0).tolist() == []   # 2.5 is in the window [2, 3): not taken before it ends
    assert cal.take(3.0, 0.0).tolist() == [1]
    # a window taken part-way (t1 = 4.5 is no window's end) hands out its whole bucket: the caller
    # files again what is not yet due and drops stale entries (filed again when their clocks changed)
    cal.file_times(np.array([5, 6]), np.array([4.7, 4.2]))
    cal.file_times(np.array([6]), np.array([7.5]))       # 6's clock moved on: its first entry is stale
    assert cal.take(4.5, 0.0).tolist() == [5, 6]
    cal.refile_unless_stale(np.array([5, 6]), np.array([4.7, 7.5]), 4.5)
    assert cal.take(5.0, 0.0).tolist() == [5]
    assert cal.take(7.0, 0.0).tolist() == []
    assert sum(x.size for b in cal._buckets.values() for x in b) == 1   # 6's live entry; the stale one was dropped
    assert cal.take(8.0, 0.0).tolist() == [6]
    cal.file_thresholds(np.array([7, 8, 9]), np.array([0.3, 0.1, 0.2]))
    assert cal.take(8.5, 0.15).tolist() == [8]
    assert cal.take(9.0, 0.25).tolist() == [9]
    assert cal.take(10.0, 1.0).tolist() == [7]
    assert cal.take(10.0, 5.0).tolist() == []


def _classify_reference(m, s, now):
    """CrmView.stage as it was first written: a direct reading of the records, no tables, no cache."""
    lad = m.ladder
    out = np.full(m.n, lad.pool if lad.pool >= 0 else lad.lead, dtype=np.int16)
    if lad.lead >= 0:
        out[~np.isnan(s.lead_at)] = lad.lead
    bought = s.n_purchases > 0
    cust = lad.customer_stages()
    k = np.searchsorted(lad.crm_min_purchases[cust], s.n_purchases[bought], side="right") - 1
    out[bought] = cust[np.clip(k, 0, cust.size - 1)]
    lapsed = bought & (now - np.nan_to_num(s.last_purchase_at, nan=-np.inf) > m.cfg.crm.lapsed_after_days)
    out[lapsed] = lad.lost
    return out


def test_recorded_stages_follow_the_records_within_a_day():
    """The cached classification is recomputed when the records change, even on the same day."""
    from sim.crm import CrmView, RivalView
    m = sim.build(sim.load(["market.n_customers=3000", "market.days=200", "engine.progress=false"]))
    m.clock.env.run(until=120.5)
    crm = CrmView(m, m.strategies[0])
    first = crm.stage()
    assert np.array_equal(first, _classify_reference(m, m.s, m.now))
    first[:] = 0  # a copy: writing to it changes nothing the next caller sees
    buyers = np.flatnonzero(m.ladder.role[m.s.stage] == 2)[:50]
    prospects = np.flatnonzero(m.ladder.role[m.s.stage] == 1)[:50]
    m.world.purchase(buyers, np.full(buyers.size, m.now), wallet=False)
    crm.convert(prospects)
    assert np.array_equal(crm.stage(), _classify_reference(m, m.s, m.now))
    assert np.array_equal(crm.rows_with_role(2, 3), np.flatnonzero(m.ladder.role[crm.stage()] >= 2))
    rival = RivalView(m, m.firms[1], None)  # a rival's view reads its own records, cached apart
    assert np.array_equal(rival.stage(), _classify_reference(m, m.firms[1].records, m.now))
    assert not np.array_equal(rival.stage(), crm.stage())


@pytest.mark.parametrize("ladder", ["crm7", "btyd", "bass", "simple5", "crm7 unsorted thresholds"])
def test_rows_by_recorded_stage_equal_the_classification(ladder):
    """rows_in / rows_with_role, read from the records by comparisons, pick exactly the rows whose
    classified stage is picked: every set of stages, with and without pool and lead stages, at the
    lapse boundary, with never-set purchase times, and with thresholds out of order."""
    import itertools

    from sim.crm import _classify, _recorded_in
    m = sim.build(sim.load([f"ladder={ladder.split()[0]}", "market.n_customers=1500", "market.days=30",
                            "engine.progress=false"]))
    lad, s, n = m.ladder, m.s, m.n
    if "unsorted" in ladder:
        lad.crm_min_purchases[:] = [0, 0, 3, 1, 9, 2, 2, 0]
    rng = np.random.default_rng(3)
    for now in (0.0, 33.3):
        s.n_purchases[:] = rng.integers(0, 15, n)
        s.last_purchase_at[:] = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(-400, 50, n))
        s.last_purchase_at[:40] = now - 180.0  # exactly lapsed_after_days ago: not yet lapsed
        s.lead_at[:] = np.where(rng.random(n) < 0.5, np.nan, 1.0)
        stage = _classify(lad, s, now, 180.0)
        for k in range(1, lad.n + 1):
            for picked in itertools.combinations(range(lad.n), k):
                pick = np.zeros(lad.n, dtype=bool)
                pick[list(picked)] = True
                assert np.array_equal(_recorded_in(lad, s, now, 180.0, pick), pick[stage]), picked


def test_weekly_report_shortcuts_equal_their_definitions():
    """The reporters' cheaper forms give the very numbers of the plain definitions: focal rows by
    stage runs, quadrant counts without the quadrant array, mean wallet shares without the matrix."""
    import itertools

    from sim.metrics import rows_on_stages
    m = sim.build(sim.load(["market.n_customers=3000", "market.days=200", "engine.progress=false"]))
    m.clock.env.run(until=120.5)
    stage = m.s.stage
    for picked in itertools.product([False, True], repeat=m.n_stages):
        pick = np.array(picked)
        assert np.array_equal(rows_on_stages(stage, pick), np.flatnonzero(pick[stage]))
    focal = m.active_customers()
    for rows in (focal, None):
        assert np.array_equal(m.loyalty_quadrant_counts(rows), np.bincount(m.loyalty_quadrant(rows), minlength=4))
    wallet = m.world.wallet
    assert np.array_equal(wallet.mean_shares(focal), wallet.shares(focal).mean(axis=0))  # to the bit
    lost = np.flatnonzero(m.ladder.role[stage] == 3)[:20]
    mixed = np.sort(np.concatenate([focal, lost]))
    assert np.array_equal(wallet.mean_shares(mixed), wallet.shares(mixed).mean(axis=0))


def test_stage_counts_kept_by_moves_equal_a_count():
    m = sim.simulate(sim.load(["market.n_customers=3000", "market.days=150", "engine.progress=false"]), progress=False)
    assert m.world._counts is not None
    assert np.array_equal(m.world._counts, np.bincount(m.s.stage, minlength=m.n_stages))


def test_poisson_table_gives_scipys_draws():
    from scipy.stats import poisson

    from sim.world import _POISSON_CDF, _poisson_from_uniform
    rng = np.random.default_rng(7)
    for mean in (9.0, 0.4, 37.5):
        u = (np.floor(rng.random(200_000) * 2.0**53) + 0.5) / 2.0**53
        _poisson_from_uniform(mean, u[:1])
        cdf = _POISSON_CDF[mean]
        edges = np.concatenate([cdf[:-1], np.nextafter(cdf[:-1], 0), np.nextafter(cdf[:-1], 1)])
        u = np.concatenate([u, edges[(edges > 0) & (edges < 1)]])
        assert np.array_equal(_poisson_from_uniform(mean, u), poisson.ppf(u, mean).astype(np.int64)), mean


@pytest.mark.parametrize("dt,days", [(1.0, 365), (0.3, 60), (7.0, 100.5), (1 / 3, 50)])
def test_calendar_windows_are_the_clocks(dt, days):
    """A clock's window is found by division and checked against the window ends the clock walks."""
    from sim.clock import Clock
    cal = DueCalendar(dt, days)
    clock = Clock(days, dt)
    ends = []
    clock.env.process(clock.windows(lambda t0, t1: ends.append(t1)))
    clock.env.run()
    assert np.array_equal(cal._ends, ends)
    t = np.concatenate([np.random.default_rng(0).uniform(0, days * 1.1, 20_000), cal._ends,
                        np.nextafter(cal._ends, 0), np.nextafter(cal._ends, np.inf), [0.0]])
    assert np.array_equal(cal._bucket(t), np.searchsorted(cal._ends, t, side="right"))
