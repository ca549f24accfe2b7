"""Measurements: the market's collector of reported figures, the output tables and the run summary.

Every table of a run is built here once, as numpy columns or Arrow arrays straight from the
customer state (dictionary arrays from integer codes, dates from integer arithmetic), and written
by :func:`sim.outputs.write_outputs` without pandas; the transaction log is produced sorted, in
record batches of at most :data:`TX_ROW_GROUP` rows, so it is never assembled in one piece. The
DataFrame functions (:func:`timeseries`, :func:`customers`, :func:`transactions`, :func:`flows`,
:func:`cohort_retention`) are the same tables for notebooks and import pandas when called.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import numpy as np

from .ladder import true_runs
from .state import ACQUISITION_CAUSES

QUADRANTS = ("no loyalty", "latent loyalty", "spurious loyalty", "true loyalty")
MONEY = ("revenue", "margin", "service_cost", "contact_cost", "offer_cost", "other_spend", "fixed_cost")
MARKETING = ("contact_cost", "offer_cost", "other_spend")
#: rows per Parquet row group of the transaction log (pyarrow's default maximum, as before streaming)
TX_ROW_GROUP = 1 << 20
_NS_PER_DAY = 86_400 * 10**9
_US_PER_DAY = 86_400 * 10**6


class Collector:
    """The market's reported figures: one value per reporter at every report.

    A small stand-in for ``mesa.DataCollector``'s model reporters with the same interface
    (``model_reporters``, ``model_vars``, :meth:`collect`, :meth:`get_model_vars_dataframe`), so a
    run needs neither Mesa's data collection nor pandas. Reporters are callables of the model
    that return a Python number.
    """

    def __init__(self, model_reporters: dict[str, Callable]):
        self.model_reporters = dict(model_reporters)
        self.model_vars: dict[str, list] = {name: [] for name in self.model_reporters}

    def collect(self, model) -> None:
        """Take one value from every reporter."""
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(reporter(model))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every reporter's values as a numpy array (int64 or float64, as pandas would infer them)."""
        return {name: np.asarray(v) if v else np.zeros(0) for name, v in self.model_vars.items()}

    def get_model_vars_dataframe(self):
        """The reported values as a pandas DataFrame, one row per report (imports pandas)."""
        import pandas as pd
        return pd.DataFrame(self.model_vars)


def cumulative_money(model_vars) -> dict[str, np.ndarray]:
    """Cumulative marketing spend and profit (currency) from the collector's cent columns,
    the same definitions as the books (``sim.books.Books.profit``)."""
    col = lambda k: np.asarray(model_vars[f"cum_{k}_cents"], dtype=float)  # noqa: E731
    marketing = sum(col(k) for k in MARKETING)
    profit = col("margin") - col("service_cost") - marketing - col("fixed_cost")
    return {"marketing_spend": marketing / 100.0, "profit": profit / 100.0}


def make_datacollector(market) -> Collector:
    """The market's collector: stage stock, cumulative money (cents), flows, quadrant counts
    and per-strategy spend at every report (read as a table by :func:`timeseries`)."""
    rep = {"t": lambda m: float(m.env.now)}
    memo: dict = {}

    def now(m) -> dict:
        """What several reporters share, computed once per report: the stage counts, the focal
        customers and their quadrant counts (dropped when the market moved on)."""
        key = (id(m), len(m._report_times), m.world.version, float(m.env.now))
        if memo.get("key") != key:
            memo.clear()
            memo["key"] = key
            kept = m.world._counts  # customers per stage, kept up to date by every move once counted
            memo["stages"] = kept.copy() if kept is not None else np.bincount(m.s.stage, minlength=len(m.stage_names))
            memo["focal"] = rows_on_stages(m.s.stage, m.role == 2)
        return memo

    def quadrant_counts(m) -> np.ndarray:
        """The four quadrant counts of the focal customers, computed once per report."""
        got = now(m)
        if "counts" not in got:
            got["counts"] = m.loyalty_quadrant_counts(got["focal"])
        return got["counts"]

    for k, name in enumerate(market.stage_names):
        rep[f"stage_{name}"] = (lambda kk: lambda m: int(now(m)["stages"][kk]))(k)
    for k in MONEY:
        rep[f"cum_{k}_cents"] = (lambda kk: lambda m: int(m.totals[kk]))(k)
    rep["cum_defections"] = lambda m: int(m.defections)
    rep["cum_acquisitions"] = lambda m: int(m.acquisitions)
    rep["customers_focal"] = lambda m: int(now(m)["focal"].size)
    rep["exposure_hazard"] = lambda m: float(sum(m.exposure_hazard()))

    for q, name in enumerate(QUADRANTS):
        rep["quadrant_" + name.replace(" ", "_")] = (lambda qq: lambda m: int(quadrant_counts(m)[qq]))(q)
    for st in market.strategies:
        if hasattr(st, "ledger"):  # firm strategies (market events spend nothing)
            rep[f"spend_{st.name}_cents"] = (lambda ss: lambda m: int(ss.ledger.spent))(st)
    for f in market.firms:  # competitive market: each firm's revenue, and its share of focal customers' wallets
        rep[f"cum_firm_revenue_{f.slug}_cents"] = (lambda ff: lambda m: int(ff.books.totals["revenue"]))(f)
        if market.world.wallet.on:
            rep[f"wallet_share_{f.slug}"] = (lambda k: lambda m: float(wallet_shares(m, now(m)["focal"])[k]))(f.index)
    return Collector(rep)


def rows_on_stages(stage: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(pick[stage])``: the rows on a picked stage (``pick``: one bool per stage),
    by comparing each row's stage with the runs of picked stages (the customer stages are one run
    on every shipped ladder), cheaper than a table look-up per row."""
    mask = np.zeros(stage.size, dtype=bool)
    for a, b in true_runs(pick):
        mask |= (stage >= a) & (stage <= b)
    return np.flatnonzero(mask)


def wallet_shares(market, rows: np.ndarray | None = None) -> np.ndarray:
    """Mean share of wallet of every firm among the focal firm's current customers (NaN if none).
    ``rows``: those customers, if the caller has them (``market.active_customers()``)."""
    cache = getattr(market, "_wallet_cache", None)
    if cache is not None and cache[0] == market.now:
        return cache[1]
    rows = market.active_customers() if rows is None else rows
    k = len(market.firms)
    out = market.world.wallet.mean_shares(rows) if rows.size else np.full(k, np.nan)
    market._wallet_cache = (market.now, out)
    return out


def market_shares(market) -> dict[str, float]:
    """Each firm's share of all purchases' value in the simulated market over the run."""
    rev = {f.name: f.books.totals["revenue"] for f in market.firms}
    total = sum(rev.values())
    return {k: (v / total if total else float("nan")) for k, v in rev.items()}


# ---------------------------------------------------------------------------------------- dates
def _origin(start: str, unit: str) -> np.datetime64:
    """Midnight of the run's start date (``market.start_date``, ISO format) as datetime64."""
    return np.datetime64(dt.date.fromisoformat(start).isoformat(), unit)


def days_to_datetime(start: str, t: np.ndarray) -> np.ndarray:
    """``start + t`` days as datetime64[ns] (NaN gives NaT), by integer arithmetic: whole days plus
    the fraction rounded to 13 decimals, the very nanoseconds of pandas'
    ``pd.Timestamp(start) + pd.to_timedelta(t, unit="D")`` for fractional days."""
    t = np.asarray(t, float)
    nan = np.isnan(t)
    if np.isinf(t).any():
        raise ValueError("days_to_datetime: infinite time")
    t0 = np.where(nan, 0.0, t)
    whole = t0.astype(np.int64)
    ns = whole * np.int64(_NS_PER_DAY) + (np.round(t0 - whole, 13) * _NS_PER_DAY).astype(np.int64)
    out = _origin(start, "ns") + ns.astype("timedelta64[ns]")
    out[nan] = np.datetime64("NaT")
    return out


def report_dates(start: str, t: np.ndarray) -> np.ndarray:
    """The dates of report times ``t`` (days): datetime64[us] when every time is a whole day, else
    datetime64[ns] (:func:`days_to_datetime`); the unit pandas gives ``pd.Timestamp(start) +
    pd.to_timedelta(t, unit="D")``, so ``timeseries.parquet`` keeps its column type."""
    t = np.asarray(t, float)
    nan = np.isnan(t)
    whole = np.where(nan, 0.0, t)
    if not (whole == np.trunc(whole)).all():
        return days_to_datetime(start, t)
    out = _origin(start, "us") + (whole.astype(np.int64) * np.int64(_US_PER_DAY)).astype("timedelta64[us]")
    out[nan] = np.datetime64("NaT")
    return out


# ---------------------------------------------------------------------------------------- tables
def to_arrow(values, type=None, mask=None):  # noqa: A002 - pyarrow's own name for it
    """An Arrow array from a numpy array (numbers, booleans, datetimes) or a sequence of strings,
    NaN and NaT stored as nulls as pandas' ``to_parquet`` stores them, and so are the entries
    where ``mask`` is True (as ``pa.array``'s ``mask``).

    Built from the array's buffers: ``pa.array`` imports pandas whenever it is installed (about
    0.3 s a process), which a run that writes its outputs does not otherwise need.
    """
    import pyarrow as pa
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    a = np.asarray(values)
    n = len(a)
    if a.dtype.kind in "OUS":  # strings: offsets into one UTF-8 buffer
        items = [None if x is None else str(x).encode() for x in a.tolist()]
        valid = np.array([x is not None for x in items], dtype=bool)
        typ = type or pa.string()
        off = np.zeros(n + 1, dtype=np.int64 if typ == pa.large_string() else np.int32)
        np.cumsum([len(x) if x is not None else 0 for x in items], out=off[1:])
        buffers = [pa.py_buffer(off), pa.py_buffer(b"".join(x for x in items if x is not None))]
    else:
        valid = ~np.isnan(a) if a.dtype.kind == "f" else ~np.isnat(a) if a.dtype.kind == "M" else None
        data = np.packbits(a, bitorder="little") if a.dtype.kind == "b" else np.ascontiguousarray(a)
        typ = type or pa.from_numpy_dtype(a.dtype)
        buffers = [pa.py_buffer(data)]
    if mask is not None:
        valid = ~np.asarray(mask, dtype=bool) if valid is None else valid & ~np.asarray(mask, dtype=bool)
    nulls = 0 if valid is None else n - int(valid.sum())
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(typ, n, [validity, *buffers], null_count=nulls)


_NUMPY_OF_ARROW = {"int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8", "uint8": "u1", "uint16": "u2",
                   "uint32": "u4", "uint64": "u8", "halffloat": "f2", "float": "f4", "double": "f8"}


def to_numpy(column) -> np.ndarray:
    """A numpy array from an Arrow column of numbers, booleans, timestamps or strings, read from
    its buffers (``to_numpy`` would import pandas, see :func:`to_arrow`): nulls become NaN (integers
    with nulls become floats), NaT, or None among strings."""
    import pyarrow as pa
    a = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n, off, typ = len(a), a.offset, a.type
    bufs = a.buffers()
    valid = (np.unpackbits(np.frombuffer(bufs[0], np.uint8), bitorder="little", count=off + n)[off:].astype(bool)
             if a.null_count else None)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        o = np.frombuffer(bufs[1], np.int64 if pa.types.is_large_string(typ) else np.int32, count=off + n + 1)[off:]
        data = bufs[2].to_pybytes() if bufs[2] is not None else b""
        out = np.array([data[o[k]:o[k + 1]].decode() for k in range(n)], dtype=object)
        if valid is not None:
            out[~valid] = None
        return out
    if pa.types.is_boolean(typ):
        out = np.unpackbits(np.frombuffer(bufs[1], np.uint8), bitorder="little", count=off + n)[off:].astype(bool)
    elif pa.types.is_timestamp(typ):
        out = np.frombuffer(bufs[1], np.int64, count=off + n)[off:].view(f"datetime64[{typ.unit}]")
    else:
        out = np.frombuffer(bufs[1], _NUMPY_OF_ARROW[str(typ)], count=off + n)[off:]
    if valid is None:
        return out.copy()
    if out.dtype.kind in "iub":
        out = out.astype(float)
    out = out.copy()
    out[~valid] = np.datetime64("NaT") if out.dtype.kind == "M" else np.nan
    return out


def arrow_table(cols: dict):
    """An Arrow table from numpy columns (or Arrow arrays), NaN and NaT stored as nulls as pandas'
    ``to_parquet`` stores them."""
    import pyarrow as pa
    return pa.table({k: to_arrow(v) for k, v in cols.items()})


def _dictionary(codes: np.ndarray, categories):
    """A dictionary (categorical) array straight from integer codes; -1 is missing. The index type
    is the smallest that holds the categories (int8 for up to 127), as pandas picks it."""
    import pyarrow as pa
    k = len(categories)
    itype = np.int8 if k < 2**7 else np.int16 if k < 2**15 else np.int32
    codes = np.asarray(codes)
    if codes.size and (codes.min() < -1 or codes.max() >= k):
        raise ValueError(f"codes outside [-1, {k}) for categories {list(categories)[:5]}...")
    idx = codes.astype(itype, copy=False)
    return pa.DictionaryArray.from_arrays(to_arrow(idx, mask=idx < 0), to_arrow(list(categories), pa.string()))


def timeseries_columns(market) -> dict[str, np.ndarray]:
    """The columns of ``timeseries.parquet`` as numpy arrays: one row per report time with stock,
    per-period flows and money (currency), cumulative too. Column order and values are those of
    :func:`timeseries`."""
    df = dict(market.datacollector.arrays())
    t = df["t"].astype(float)
    df["date"] = report_dates(market.cfg.market.start_date, t)
    n = t.size

    def per_period(c: np.ndarray) -> np.ndarray:  # the first report's value, then the differences
        out = np.empty(n, dtype=float)
        if n:
            out[0] = c[0]
            out[1:] = c[1:] - c[:-1]
        return out

    for k in MONEY:
        c = df.pop(f"cum_{k}_cents")
        df[f"cum_{k}"] = c / 100.0
        df[k] = per_period(c) / 100.0
    df["marketing_spend"] = df[MARKETING[0]] + df[MARKETING[1]] + df[MARKETING[2]]
    df["profit"] = df["margin"] - df["service_cost"] - df["marketing_spend"] - df["fixed_cost"]
    df["cum_profit"] = np.cumsum(df["profit"])
    df["defections"] = per_period(df["cum_defections"]).astype(np.int64)
    df["acquisitions"] = per_period(df["cum_acquisitions"]).astype(np.int64)
    span = np.zeros(n)
    span[1:] = t[1:] - t[:-1]
    prev_active = np.full(n, np.nan)
    prev_active[1:] = df["customers_focal"][:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["churn_rate"] = np.where((span > 0) & (prev_active > 0), df["defections"] / prev_active, 0.0)
    for col in list(df):
        if col.startswith("spend_") and col.endswith("_cents"):
            df[col[:-6]] = df.pop(col) / 100.0
    for c in [c for c in df if c.startswith("cum_firm_revenue_")]:
        df["firm_revenue_" + c[len("cum_firm_revenue_"):-len("_cents")]] = per_period(df.pop(c)) / 100.0
    per = [c for c in df if c.startswith("firm_revenue_")]
    if per:  # market share of the period's purchases (value); a period without purchases has none
        total = np.add.reduce(np.stack([np.nan_to_num(df[c], nan=0.0) for c in per]), axis=0)
        total[total == 0.0] = np.nan
        for c in per:
            df["market_share_" + c[len("firm_revenue_"):]] = df[c] / total
    front = ["t", "date"]
    return {c: df[c] for c in front + [c for c in df if c not in front]}


def timeseries_table(market):
    """``timeseries.parquet`` as an Arrow table (see :func:`timeseries_columns`)."""
    return arrow_table(timeseries_columns(market))


def timeseries(market):
    """One row per report time: stock, per-period flows and money (currency), cumulative too, as a
    pandas DataFrame (imports pandas).

    The table of ``timeseries.parquet``; its columns are described in ``sim.schema.FILES``.
    """
    import pandas as pd
    return pd.DataFrame(timeseries_columns(market))


def _flow_moves(market) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(report time, from stage, to stage, count) of every non-zero ladder flow between reports,
    in report order and then stage order."""
    rows = market._flow_rows
    if not rows:
        z = np.zeros(0, np.int64)
        return np.zeros(0), z, z, z
    cum = np.stack([c for _, c in rows]).astype(np.int64, copy=False)
    d = np.diff(cum, axis=0, prepend=np.zeros((1, *cum.shape[1:]), np.int64))
    r, i, j = np.nonzero(d)
    times = np.array([t for t, _ in rows], dtype=float)
    return times[r], i, j, d[r, i, j]


def flows_columns(market) -> dict[str, np.ndarray]:
    """Tidy ladder flows as numpy columns: one row per (period end, from, to) with a non-zero count;
    stage names as object arrays of str."""
    t, i, j, count = _flow_moves(market)
    names = np.array(list(market.stage_names), dtype=object)
    return {"t": t, "from_stage": names[i], "to_stage": names[j], "count": count}


def flows_table(market):
    """``flows.parquet`` as an Arrow table (stage names as large strings, as pandas writes them)."""
    import pyarrow as pa
    t, i, j, count = _flow_moves(market)
    names = to_arrow(list(market.stage_names), pa.large_string())
    return pa.table({"t": to_arrow(t), "from_stage": names.take(to_arrow(i)),
                     "to_stage": names.take(to_arrow(j)), "count": to_arrow(count)})


def flows(market):
    """Tidy ladder flows: one row per (period end, from, to) with a non-zero count (``flows.parquet``),
    as a pandas DataFrame (imports pandas)."""
    return flows_table(market).to_pandas()


def customers_table(market):
    """One row per person in the market at the end of the run (``customers.parquet``) as an Arrow
    table: stage, firm, acquisition and churn times, latent traits, loyalty quadrant, counts, money
    (currency), CLV and each strategy's treated/holdout flags. Columns:
    ``sim.schema.FILES["customers.parquet"]``. Built column by column from the state arrays
    (numeric columns without a copy where the type already fits), categoricals from codes."""
    s, m = market.s, market
    cols = {
        "customer_id": np.arange(m.n, dtype=np.int64),
        "stage": _dictionary(s.stage, m.stage_names),
        "firm": s.firm.astype(np.int64),
        "channel_preference": _dictionary(s.channel, m.channel_names),
        "acquired_via": _dictionary(s.acquired_via, ACQUISITION_CAUSES),
        "acquired_at": s.acquired_at,
        "first_churn_at": s.first_churn_at,
        "churned_at": s.churned_at,
        "last_purchase_at": s.last_purchase_at,
        "spend_level": s.spend,
        "purchase_rate": s.rate,
        "satisfaction": s.satisfaction,
        "trust": s.trust,
        "attitude": s.attitude,
        "patronage": m.current_patronage(),
        "loyalty_quadrant": _dictionary(m.loyalty_quadrant(), QUADRANTS),
        "switching_cost": s.switching_cost,
        "n_purchases": s.n_purchases,
        "n_contacts": s.n_contacts,
        "revenue": s.revenue / 100.0,
        "margin": s.margin / 100.0,
        "service_cost": s.service_cost / 100.0,
        "contact_cost": s.contact_cost / 100.0,
        "offer_cost": s.offer_cost / 100.0,
        "acquisition_cost": s.acq_cost,
        "profit": customer_profit(market),
        "clv": s.clv,
    }
    for st in m.strategies:
        bit = np.uint64(1) << np.uint64(st.index)
        cols[f"treated_{st.name}"] = (s.treated & bit) != 0
        cols[f"holdout_{st.name}"] = (s.held_out & bit) != 0
    return arrow_table(cols)


def customers(market):
    """``customers.parquet`` as a pandas DataFrame (imports pandas); see :func:`customers_table`."""
    return customers_table(market).to_pandas()


def _transaction_chunks(market) -> list[tuple[np.ndarray, ...]]:
    """The purchase log as logged: (customer rows, times, cents, channel codes) per booking, in
    booking order (the books keep it so; the whole log, assembled, if they do not)."""
    chunks = getattr(market.books, "_txn", None)
    if not isinstance(chunks, list) or not all(isinstance(c, tuple) and len(c) == 4 for c in chunks):
        chunks = [tuple(market.transactions())]
    return chunks


def _time_customer_order(t: np.ndarray, cid: np.ndarray) -> np.ndarray:
    """``np.lexsort((cid, t))`` (by time, then customer, stable), with one sort by time and a second
    sort only over the rows whose time is shared (few, as times are continuous)."""
    if np.isnan(t).any():
        return np.lexsort((cid, t))
    order = np.argsort(t, kind="stable")
    ts = t[order]
    tie = ts[1:] == ts[:-1]
    if tie.any():
        pos = np.flatnonzero(np.concatenate(([False], tie)) | np.concatenate((tie, [False])))
        sub = order[pos]  # runs of equal times, each in original order: order them by customer within
        order[pos] = sub[np.lexsort((cid[sub], ts[pos]))]
    return order


def _sorted_runs(chunks, min_rows: int) -> Iterator[tuple[np.ndarray, ...]]:
    """The log sorted by (time, customer) as ``Books.transactions`` sorts it, in consecutive pieces
    of at least ``min_rows`` rows. A piece ends only where every earlier time is below every later
    one (the windows are processed in order, so almost everywhere), and is sorted on its own: the
    pieces in order are the very rows, in the very order, of sorting the whole log."""
    sizes = np.array([c[1].size for c in chunks], dtype=np.int64)
    lo = np.array([c[1].min() if c[1].size else np.inf for c in chunks])
    hi = np.array([c[1].max() if c[1].size else -np.inf for c in chunks])
    if np.isnan(lo).any() or np.isnan(hi).any():  # NaN sorts last: no safe cut
        cut = np.zeros(len(chunks), bool)
    else:
        cut = np.maximum.accumulate(hi)[:-1] < np.minimum.accumulate(lo[::-1])[::-1][1:]
        cut = np.append(cut, True)
    start, rows = 0, 0
    for k, size in enumerate(sizes):
        rows += int(size)
        if (rows >= min_rows and cut[k]) or k == len(chunks) - 1:
            if rows:
                part = [np.concatenate([c[i] for c in chunks[start:k + 1]]) for i in range(4)]
                order = _time_customer_order(part[1], part[0])
                yield tuple(p[order] for p in part)
            start, rows = k + 1, 0


def transactions_schema(market):
    """The Arrow schema of ``transactions.parquet``."""
    import pyarrow as pa
    k = len(market.channel_names)
    itype = pa.int8() if k < 2**7 else pa.int16() if k < 2**15 else pa.int32()
    return pa.schema([("customer_id", pa.int64()), ("timestamp", pa.float64()), ("date", pa.timestamp("ns")),
                      ("amount", pa.float64()), ("channel", pa.dictionary(itype, pa.string()))])


def transaction_batches(market, rows: int = TX_ROW_GROUP) -> Iterator:
    """The purchase log (``transactions.parquet``) sorted by time, as Arrow record batches of
    exactly ``rows`` rows (the last one fewer): customer, time in days and as a date, amount
    (currency), channel. Each batch is sorted and built when asked for, so the log is never
    assembled, sorted or converted in one piece."""
    import pyarrow as pa
    schema = transactions_schema(market)
    start, names = market.cfg.market.start_date, market.channel_names

    def batch(cid, t, cents, ch):
        return pa.RecordBatch.from_arrays([
            to_arrow(cid.astype(np.int64, copy=False)), to_arrow(t.astype(float, copy=False)),
            to_arrow(days_to_datetime(start, t)), to_arrow(cents / 100.0), _dictionary(ch, names)], schema=schema)

    pending: list[tuple[np.ndarray, ...]] = []
    held = 0
    for part in _sorted_runs(_transaction_chunks(market), max(1, rows // 4)):
        pending.append(part)
        held += part[0].size
        if held < rows:
            continue
        cols = [np.concatenate([p[i] for p in pending]) for i in range(4)] if len(pending) > 1 else list(part)
        pending = []
        n_full = held // rows
        for b in range(n_full):
            yield batch(*(c[b * rows:(b + 1) * rows] for c in cols))
        held -= n_full * rows
        if held:
            pending = [tuple(c[n_full * rows:] for c in cols)]
    if held:
        cols = [np.concatenate([p[i] for p in pending]) for i in range(4)]
        yield batch(*cols)


def transactions_table(market):
    """The whole purchase log as one Arrow table (see :func:`transaction_batches`)."""
    import pyarrow as pa
    return pa.Table.from_batches(list(transaction_batches(market)), schema=transactions_schema(market))


def transactions(market):
    """The purchase log (``transactions.parquet``) as a pandas DataFrame (imports pandas):
    customer, time in days and as a date, amount (currency), channel; sorted by time. It has the
    columns CLV libraries expect."""
    return transactions_table(market).to_pandas()


def customer_profit(market) -> np.ndarray:
    """Profit per customer, currency: margin − cost to serve − contacts and offers spent on it."""
    s = market.s
    return (s.margin - s.service_cost - s.contact_cost - s.offer_cost) / 100.0


def top_share(values: np.ndarray, share: float = 0.2) -> float:
    """Share of the total held by the top ``share`` of the holders with a positive value."""
    v = np.sort(values[values > 0])[::-1]
    if v.size == 0:
        return float("nan")
    k = max(1, int(round(share * v.size)))
    return float(v[:k].sum() / v.sum())


def cohort_columns(market, period_days: float = 30.0) -> dict[str, np.ndarray]:
    """Share of each acquisition cohort (acquired during the run) not yet churned, by age, as numpy
    columns ``cohort``, ``age_days``, ``retained``, ``cohort_size``."""
    s = market.s
    acq = s.acquired_at
    rows = np.flatnonzero(~np.isnan(acq) & (acq >= 0))
    out = []
    if rows.size:
        cohort = np.floor(acq[rows] / period_days).astype(int)
        churn = np.where(np.isnan(s.first_churn_at[rows]), np.inf, s.first_churn_at[rows])
        for c in np.unique(cohort):
            r = cohort == c
            a, ch = acq[rows][r], churn[r]
            start = c * period_days
            age = 0.0
            while start + period_days + age <= market.days + 1e-9:
                alive = np.count_nonzero(ch > a + age)
                out.append((int(c), age, alive / r.sum(), int(r.sum())))
                age += period_days
    return {"cohort": np.array([o[0] for o in out], dtype=np.int64),
            "age_days": np.array([o[1] for o in out], dtype=float),
            "retained": np.array([o[2] for o in out], dtype=float),
            "cohort_size": np.array([o[3] for o in out], dtype=np.int64)}


def cohort_retention(market, period_days: float = 30.0):
    """Share of each acquisition cohort (acquired during the run) not yet churned, by age, as a
    pandas DataFrame (imports pandas); see :func:`cohort_columns`."""
    import pandas as pd
    return pd.DataFrame(cohort_columns(market, period_days))


def churn_rate_annual(market) -> float:
    """Defections per customer-year at risk: defections over the time customers spent as focal
    customers (from event times, so it does not depend on how often the run reports)."""
    years = market.world.customer_days(market.now) / 365.0
    return market.defections / years if years > 0 else 0.0


def response_rates(market) -> dict:
    """Offers to buy: contacts and the share that persuaded, by channel and audience."""
    from .world import AUDIENCES
    w = market.world
    out = {}
    for i, ch in enumerate(w.channel_names):
        for j, aud in enumerate(AUDIENCES):
            n = int(w.sales_contacts[i, j])
            if n:
                out[f"{ch}/{aud}"] = {"contacts": n, "response_rate": int(w.sales_responses[i, j]) / n}
    return out


def summary(market) -> dict:
    """The run's figures (currency unless named otherwise); ``run.run`` adds the paired comparison."""
    s, w = market.s, market.world
    acquired = ~np.isnan(s.acquired_at)
    pnl = market.books.pnl()
    counts = market.stage_counts()
    new = np.flatnonzero(acquired & (s.acquired_at >= 0))
    out = {
        "n_customers": market.n,
        "days": market.days,
        "start_date": market.cfg.market.start_date,
        "calibrated_from": market.cfg.market.source,   # the transaction log of a calibrated market, else None
        "end_date": str(dt.date.fromisoformat(market.cfg.market.start_date) + dt.timedelta(days=market.days)),
        **pnl,
        "roi": None,  # defined once: against the paired no-action control (run.paired), else none
        "acquisitions": int(market.acquisitions),
        "acquisition_cost_per_customer": float(s.acq_cost[new].mean()) if new.size else 0.0,
        "defections": int(market.defections),
        "customers_end": int(np.count_nonzero(market.role[s.stage] == 2)),
        "churn_rate_annual": churn_rate_annual(market),
        "mean_clv": float(s.clv[acquired].mean()) if acquired.any() else 0.0,
        "total_clv": float(s.clv.sum()),
        "top20_revenue_share": top_share(s.revenue.astype(float)),
        "top20_profit_share": top_share(customer_profit(market)),
        "negative_wom": {"tellers": int(w.neg_tellers), "people_told": int(w.neg_told_total),
                         "told_per_teller": w.neg_told_total / w.neg_tellers if w.neg_tellers else None},
        "response_rates": response_rates(market),
        "stage_counts_end": {n: int(c) for n, c in zip(market.stage_names, counts, strict=True)},
        "firm_customers_end": {f.name: int(f.customers(market).size) for f in market.firms},
        "market_share": market_shares(market)[market.firms[0].name],
        "share_of_wallet": float(wallet_shares(market)[0]) if market.world.wallet.on else None,
        "rival_profit": sum(f.books.profit() for f in market.firms[1:]) / 100.0,
        "firms": firms_summary(market),
        "events_transactions": market.n_transactions(),
        "strategies": {st.name: {**st.report(), **(strategy_outcomes(market, st) if hasattr(st, "ledger") else {})}
                       for st in market.strategies},
    }
    return out


def firms_summary(market) -> dict[str, dict]:
    """Each firm's profit and loss, market share, share of the focal customers' wallets and plug-ins.
    Rivals carry no fixed overheads (only the focal firm's are modelled)."""
    shares = market_shares(market)
    wal = wallet_shares(market) if market.world.wallet.on else None
    out = {}
    for f in market.firms:
        out[f.name] = {
            **f.books.pnl(), "market_share": shares[f.name],
            "share_of_focal_wallets": float(wal[f.index]) if wal is not None else None,
            "main_supplier_of": int(f.customers(market).size),
        }
        if f.index > 0:
            out[f.name]["strategies"] = {st.name: st.report() for st in f.strategies}
    return out


def _group_outcome(market, mask: np.ndarray) -> dict:
    s = market.s
    n = int(mask.sum())
    if n == 0:
        return {"customers": 0}
    counts = np.bincount(s.stage[mask], minlength=market.n_stages)
    return {
        "customers": n,
        "churned_share_end": float(np.count_nonzero(market.role[s.stage[mask]] == 3) / n),
        "ever_churned_share": float(np.count_nonzero(~np.isnan(s.first_churn_at[mask])) / n),
        "stage_mix_end": {nm: float(c / n) for nm, c in zip(market.stage_names, counts, strict=True)},
        "net_margin_per_customer": float((s.margin[mask] - s.service_cost[mask]).sum() / 100.0 / n),
    }


def strategy_groups(market, st) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the customers a strategy contacted and of its held-out (never contacted) ones."""
    bit = np.uint64(1) << np.uint64(st.index)
    treated = (market.s.treated & bit) != 0
    return treated, ((market.s.held_out & bit) != 0) & ~treated


def strategy_outcomes(market, st) -> dict:
    """Churn and ladder-stage mix of the customers a strategy contacted (and of its holdout)."""
    treated, held = strategy_groups(market, st)
    out = {"treated": _group_outcome(market, treated)}
    if held.any():
        out["held_out"] = _group_outcome(market, held)
    return out
