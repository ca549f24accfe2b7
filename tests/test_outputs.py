"""Output tables without pandas: the streamed transaction log, Arrow tables, dates, a run with pandas unavailable.

The run path (``sim.metrics``, ``sim.outputs``, ``sim.run``, ``sim.control_cache``, ``sim.report``)
builds every table as Arrow arrays or numpy columns and writes them with pyarrow; the transaction
log is sorted and written a row group at a time. These tests check that the pieces give exactly
what the one-piece computation gives (the same rows, the same file bytes, pandas' own dates), that
a crash while streaming leaves nothing under the final name, and that a whole run works with pandas
unavailable.
"""
from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim
from sim import metrics, outputs

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["market.n_customers=1500", "market.days=90", "engine.progress=false"]


@pytest.fixture(scope="module")
def market():
    return sim.simulate(sim.load(SMALL), progress=False)


@pytest.mark.parametrize("rows", [1, 97, 1000, metrics.TX_ROW_GROUP])
def test_streamed_log_is_the_sorted_log_and_the_same_file(market, rows):
    cid, t, cents, ch = market.transactions()  # assembled and sorted in one piece
    batches = list(metrics.transaction_batches(market, rows))
    assert [b.num_rows for b in batches[:-1]] == [rows] * (len(batches) - 1) and 0 < batches[-1].num_rows <= rows
    got = pa.Table.from_batches(batches)
    assert got["customer_id"].to_numpy().tolist() == cid.tolist()
    assert np.array_equal(got["timestamp"].to_numpy(), t)
    assert np.array_equal(got["amount"].to_numpy(), cents / 100.0)
    assert got["channel"].combine_chunks().indices.to_numpy().tolist() == ch.tolist()
    streamed, whole = io.BytesIO(), io.BytesIO()
    with pq.ParquetWriter(streamed, metrics.transactions_schema(market)) as w:
        for b in batches:
            w.write_batch(b)
    pq.write_table(pa.Table.from_batches(batches), whole, row_group_size=rows)
    assert streamed.getvalue() == whole.getvalue()  # row groups of `rows`, byte for byte


def test_only_categorical_columns_are_dictionary_encoded_and_values_read_back(market, tmp_path):
    table = metrics.customers_table(market)
    outputs.atomic_write_parquet(tmp_path / "c.parquet", table)
    outputs.atomic_write_parquet_batches(tmp_path / "t.parquet", metrics.transactions_schema(market),
                                         metrics.transaction_batches(market, 1000))
    for name, want in (("c.parquet", table), ("t.parquet", metrics.transactions_table(market))):
        f = pq.ParquetFile(tmp_path / name)
        rg = f.metadata.row_group(0)
        for i in range(rg.num_columns):
            col = rg.column(i)
            categorical = pa.types.is_dictionary(want.schema.field(col.path_in_schema).type)
            assert ("RLE_DICTIONARY" in col.encodings) == categorical, (name, col.path_in_schema, col.encodings)
        assert f.read().equals(want)


def test_sorted_runs_equal_one_sort_even_when_chunks_overlap_in_time():
    rng = np.random.default_rng(3)
    chunks = []
    for k in range(60):  # windows [k, k+1) in order, some logged in pieces, some overlapping the next
        n = int(rng.integers(0, 40))
        t = k + rng.random(n) * (1.8 if k % 7 == 3 else 1.0)
        t[: n // 4] = np.floor(t[: n // 4] * 4) / 4  # ties in time ...
        cid = rng.integers(0, 25, n)  # ... and in customer
        chunks.append((cid, t, np.arange(n) + 1000 * k, rng.integers(0, 6, n).astype(np.int16)))
    whole = [np.concatenate([c[i] for c in chunks]) for i in range(4)]
    order = np.lexsort((whole[0], whole[1]))
    for min_rows in (1, 50, 10**6):
        runs = list(metrics._sorted_runs(chunks, min_rows))
        for i in range(4):
            assert np.array_equal(np.concatenate([r[i] for r in runs]), whole[i][order])
        if min_rows == 1:
            assert 1 < len(runs) < 60  # cut where windows are apart, never inside an overlap


@pytest.mark.parametrize("t", [[0.0, 7.0, 14.0, 365.0], [0.0, 0.5, 7.25, 730.0], [0.0, 1 / 3, 100.123456789123],
                               [0.0, np.nan, 2.0], [2.5e-7, 1e-9, 3.0]])
def test_dates_are_pandas_own(t):
    t = np.array(t)
    want = (pd.Timestamp("2026-01-01") + pd.to_timedelta(pd.Series(t), unit="D")).to_numpy()
    got = metrics.report_dates("2026-01-01", t)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    ns = (pd.Timestamp("2026-01-01").as_unit("ns") + pd.to_timedelta(pd.Series(t), unit="D").astype("m8[ns]"))
    if got.dtype == np.dtype("M8[ns]"):  # fractional days: the transactions' conversion is the same
        assert np.array_equal(metrics.days_to_datetime("2026-01-01", t), ns.to_numpy(), equal_nan=True)


def test_timeseries_is_the_pandas_computation(market):
    """The numpy time series against the pandas formulas it replaced (diff, fillna, row sums)."""
    df = market.datacollector.get_model_vars_dataframe()
    got = metrics.timeseries(market)
    for k in metrics.MONEY:
        c = df[f"cum_{k}_cents"]
        pd.testing.assert_series_equal(got[k], c.diff().fillna(c) / 100.0, check_names=False)
    pd.testing.assert_series_equal(got["marketing_spend"], sum(got[k] for k in metrics.MARKETING), check_names=False)
    pd.testing.assert_series_equal(got["cum_profit"], got["profit"].cumsum(), check_names=False)
    per = [c for c in got.columns if c.startswith("firm_revenue_")]
    assert len(per) > 1
    total = got[per].sum(axis=1).replace(0.0, np.nan)
    for c in per:
        pd.testing.assert_series_equal(got["market_share_" + c[len("firm_revenue_"):]], got[c] / total,
                                       check_names=False)
    prev = df["customers_focal"].shift(1)
    want = np.where((df["t"].diff().fillna(0.0) > 0) & (prev > 0), got["defections"] / prev, 0.0)
    assert np.array_equal(got["churn_rate"].to_numpy(), want)


def test_files_read_back_as_the_dataframes(market, tmp_path):
    outputs.write_outputs(market, tmp_path, metrics.summary(market))
    for name, df in (("timeseries", metrics.timeseries(market)), ("customers", metrics.customers(market)),
                     ("transactions", metrics.transactions(market)), ("flows", metrics.flows(market))):
        back = pd.read_parquet(tmp_path / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, df, check_exact=True)
    cust = pq.read_table(tmp_path / "customers.parquet")
    assert cust["stage"].type == pa.dictionary(pa.int8(), pa.string())
    assert cust["acquired_at"].null_count == int(np.isnan(market.s.acquired_at).sum()) > 0  # NaN stored as null
    assert pq.read_table(tmp_path / "timeseries.parquet")["date"].type == pa.timestamp("us")
    assert pq.read_table(tmp_path / "transactions.parquet")["date"].type == pa.timestamp("ns")


def test_a_crash_while_streaming_leaves_nothing(market, tmp_path):
    def batches():
        yield from metrics.transaction_batches(market, 100)
        raise RuntimeError("killed midway")

    with pytest.raises(RuntimeError, match="midway"):
        outputs.atomic_write_parquet_batches(tmp_path / "transactions.parquet", metrics.transactions_schema(market),
                                             batches())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", ["customers", "transactions"])
def test_the_overlapped_big_tables_fail_loudly_and_leave_no_partial_file(market, tmp_path, monkeypatch, failing):
    """write_outputs encodes the customers file in a second thread while it streams the log: a
    failure in either reaches the caller, and neither file is left half-written."""
    real_table, real_batches = outputs.atomic_write_parquet, outputs.atomic_write_parquet_batches

    def table(path, data):
        if failing == "customers" and path.name == "customers.parquet":
            raise OSError("disk full")
        real_table(path, data)

    def broken(it):
        yield from it
        raise OSError("disk full")  # after the last batch was handed over: the file is not closed yet

    def batches(path, schema, it):
        return real_batches(path, schema, broken(it) if failing == "transactions" else it)

    monkeypatch.setattr(outputs, "atomic_write_parquet", table)
    monkeypatch.setattr(outputs, "atomic_write_parquet_batches", batches)
    with pytest.raises(OSError, match="disk full"):
        outputs.write_outputs(market, tmp_path, {})
    names = {p.name for p in tmp_path.iterdir()}
    assert f"{failing}.parquet" not in names and not any(n.startswith(".") or n.endswith(".tmp") for n in names)
    other = "transactions" if failing == "customers" else "customers"
    assert pq.read_table(tmp_path / f"{other}.parquet").num_rows > 0  # the other one was finished, whole


def test_collector_keeps_mesas_interface(market):
    c = market.datacollector
    df = c.get_model_vars_dataframe()
    assert list(df.columns) == list(c.model_reporters) and len(df) == len(market._report_times)
    assert df["t"].tolist() == market._report_times
    assert df["stage_suspect"].dtype == np.int64 and df["exposure_hazard"].dtype == np.float64


RUN_WITHOUT_PANDAS = r"""
import sys
try:
    import mesa  # noqa: F401 - while the market is a mesa.Model, Mesa itself imports pandas first
except ImportError:
    pass


class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ImportError("pandas is not available in this test")


sys.meta_path.insert(0, NoPandas())
for name in [m for m in sys.modules if m.split(".")[0] == "pandas"]:
    del sys.modules[name]  # what Mesa loaded stays with Mesa; nothing else can import pandas now
import sim
from sim.run import run
out, cache = sys.argv[1], sys.argv[2]
for i in range(2):  # the second run reads the paired control from the cache
    run(sim.load(["market.n_customers=600", "market.days=60", "engine.progress=false", "profile=retail"]),
        f"{out}/run{i}", progress=False, control_cache=cache)
"""


def test_numpy_and_arrow_convert_both_ways_as_pyarrow_does():
    cols = {"f": np.array([1.5, np.nan, -2.0, 4.0]), "i": np.arange(4, dtype=np.int32),
            "b": np.array([True, False, True, True]),
            "d": np.array(["2024-01-01", "NaT", "2024-03-01T06", "2025-01-01"], dtype="datetime64[us]"),
            "s": np.array(["a", None, "ناب", ""], dtype=object)}
    for k, v in cols.items():
        ours = metrics.to_arrow(v)
        assert ours.equals(pa.array(v, from_pandas=True)), k
        back = metrics.to_numpy(ours)
        assert back.dtype == (object if k == "s" else v.dtype)
        np.testing.assert_array_equal(back, v)
        # a slice of a chunked column (offsets into the buffers), and its nulls
        part = metrics.to_numpy(pa.chunked_array([ours.slice(1, 3), ours.slice(0, 1)]))
        np.testing.assert_array_equal(part, np.concatenate([v[1:4], v[:1]]))
    masked = np.array([1.0, np.nan, 3.0, 4.0])
    mask = np.array([False, False, True, False])
    assert metrics.to_arrow(masked, mask=mask).equals(pa.array(masked, mask=mask | np.isnan(masked)))
    codes = metrics._dictionary(np.array([0, -1, 1, 0]), ["a", "b"])
    assert codes.to_pylist() == ["a", None, "b", "a"] and codes.indices.type == pa.int8()
    with_null = pa.array([1, None, 3], pa.int64())
    np.testing.assert_array_equal(metrics.to_numpy(with_null), [1.0, np.nan, 3.0])
    assert metrics.to_arrow(["x", "y"], pa.large_string()).equals(pa.array(["x", "y"], pa.large_string()))


def test_a_run_needs_no_pandas(tmp_path):
    r = subprocess.run([sys.executable, "-c", RUN_WITHOUT_PANDAS, str(tmp_path), str(tmp_path / "cache")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    for i in range(2):
        summ = json.loads((tmp_path / f"run{i}" / "summary.json").read_text())
        assert summ["status"] == "complete"
        assert {"transactions.parquet", "customers.parquet", "control_timeseries.parquet", "report.html"} <= set(
            summ["files"])
    a, b = (tmp_path / "run0", tmp_path / "run1")
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in json.loads((a / "summary.json").read_text())
               ["files"])


@pytest.mark.parametrize("module", ["metrics", "outputs", "run", "control_cache", "report"])
def test_the_run_path_imports_neither_pandas_nor_mesa_at_module_level(module):
    tree = ast.parse((ROOT / "sim" / f"{module}.py").read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top.add(node.module.split(".")[0])
    assert not top & {"pandas", "mesa"}


def test_the_control_market_is_freed_before_the_treated_one_is_built(tmp_path, monkeypatch):
    """A market is a reference cycle: without an explicit collection the control's market (all its
    arrays) could stay in memory under the treated one."""
    import importlib
    import weakref
    R = importlib.import_module("sim.run")
    monkeypatch.setattr(R, "FREE_AT_CUSTOMERS", 0)  # the threshold keeps small runs from paying for it
    real, markets, alive_at_build = R.build, [], []

    def build(*a, **k):
        alive_at_build.append([r() is not None for r in markets])
        m = real(*a, **k)
        markets.append(weakref.ref(m))
        return m

    monkeypatch.setattr(R, "build", build)
    R.run(sim.load([*SMALL, "engine.agents_max=0", "strategy=win_back", "output.report=false"]), tmp_path,
          progress=False)
    assert alive_at_build == [[], [False]]  # the control was built first, and gone when the treated one was
