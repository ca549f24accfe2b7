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
    assert sum(x.size for b in cal._buckets for x in b) == 1   # 6's live entry; the stale one was dropped
    assert cal.take(8.0, 0.0).tolist() == [6]
    cal.file_thresholds(np.array([7, 8, 9]), np.array([0.3, 0.1, 0.2]))
    assert cal.take(8.5, 0.15).tolist() == [8]
    assert cal.take(9.0, 0.25).tolist() == [9]
    assert cal.take(10.0, 1.0).tolist() == [7]
    assert cal.take(10.0, 5.0).tolist() == []
