"""The counter-based generator: uniform, independent across streams, rows and counters."""
import numpy as np
from scipy import stats

from sim.rng import CounterRNG, stream_id


def test_uniform_in_open_interval_and_uniformly_distributed():
    g = CounterRNG(42)
    u = g.uniform(3, np.arange(200_000), 0)
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 0.001
    e = g.exponential(4, np.arange(100_000), 1)
    assert stats.kstest(e, "expon").pvalue > 0.001
    z = g.normal(5, np.arange(100_000), 2)
    assert stats.kstest(z, "norm").pvalue > 0.001


def test_streams_rows_and_counters_are_uncorrelated():
    g = CounterRNG(7)
    rows = np.arange(100_000)
    a, b = g.uniform(1, rows, 0), g.uniform(2, rows, 0)
    c = g.uniform(1, rows, 1)
    shifted = g.uniform(1, rows + 1, 0)
    for x, y in ((a, b), (a, c), (a, shifted)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.02


def test_pure_function_of_key_stream_row_counter():
    g, h = CounterRNG(99), CounterRNG(99)
    rows = np.array([5, 1, 5, 3])
    x = g.uniform(8, rows, np.array([0, 0, 0, 2]))
    assert x[0] == x[2]  # same (row, counter) → same number, whatever the batch
    assert np.array_equal(x[[1, 3]], h.uniform(8, np.array([1, 3]), np.array([0, 2])))
    assert not np.array_equal(x, CounterRNG(100).uniform(8, rows, np.array([0, 0, 0, 2])))


def test_stream_ids_are_stable_and_distinct():
    assert stream_id("strategy:a") == stream_id("strategy:a")
    assert len({stream_id(f"strategy:{i}") for i in range(1000)}) == 1000
