"""Measurements: the Mesa DataCollector's reporters, tidy tables and the run summary."""
from __future__ import annotations

import datetime as dt

import mesa
import numpy as np
import pandas as pd

from .state import ACQUISITION_CAUSES

QUADRANTS = ("no loyalty", "latent loyalty", "spurious loyalty", "true loyalty")
MONEY = ("revenue", "margin", "service_cost", "contact_cost", "offer_cost", "other_spend", "fixed_cost")
MARKETING = ("contact_cost", "offer_cost", "other_spend")


def cumulative_money(model_vars) -> dict[str, np.ndarray]:
    """Cumulative marketing spend and profit (currency) from the DataCollector's cent columns,
    the same definitions as the books (``sim.books.Books.profit``)."""
    col = lambda k: np.asarray(model_vars[f"cum_{k}_cents"], dtype=float)  # noqa: E731
    marketing = sum(col(k) for k in MARKETING)
    profit = col("margin") - col("service_cost") - marketing - col("fixed_cost")
    return {"marketing_spend": marketing / 100.0, "profit": profit / 100.0}


def make_datacollector(market) -> mesa.DataCollector:
    """The market's Mesa DataCollector: stage stock, cumulative money (cents), flows, quadrant counts
    and per-strategy spend at every report (read as a table by :func:`timeseries`)."""
    rep = {"t": lambda m: float(m.env.now)}
    for k, name in enumerate(market.stage_names):
        rep[f"stage_{name}"] = (lambda kk: lambda m: int(np.count_nonzero(m.s.stage == kk)))(k)
    for k in MONEY:
        rep[f"cum_{k}_cents"] = (lambda kk: lambda m: int(m.totals[kk]))(k)
    rep["cum_defections"] = lambda m: int(m.defections)
    rep["cum_acquisitions"] = lambda m: int(m.acquisitions)
    rep["customers_focal"] = lambda m: int(np.count_nonzero(m.role[m.s.stage] == 2))
    rep["exposure_hazard"] = lambda m: float(sum(m.exposure_hazard()))
    memo: dict = {}

    def quadrant_counts(m) -> np.ndarray:
        """The four quadrant counts of the focal customers, computed once per report."""
        key = (id(m), len(m._report_times))
        if memo.get("key") != key:
            memo["key"] = key
            memo["counts"] = np.bincount(m.loyalty_quadrant(np.flatnonzero(m.role[m.s.stage] == 2)),
                                         minlength=len(QUADRANTS))
        return memo["counts"]

    for q, name in enumerate(QUADRANTS):
        rep["quadrant_" + name.replace(" ", "_")] = (lambda qq: lambda m: int(quadrant_counts(m)[qq]))(q)
    for st in market.strategies:
        if hasattr(st, "ledger"):  # firm strategies (market events spend nothing)
            rep[f"spend_{st.name}_cents"] = (lambda ss: lambda m: int(ss.ledger.spent))(st)
    for f in market.firms:  # competitive market: each firm's revenue, and its share of focal customers' wallets
        rep[f"cum_firm_revenue_{f.slug}_cents"] = (lambda ff: lambda m: int(ff.books.totals["revenue"]))(f)
        if market.world.wallet.on:
            rep[f"wallet_share_{f.slug}"] = (lambda k: lambda m: float(wallet_shares(m)[k]))(f.index)
    return mesa.DataCollector(model_reporters=rep)


def wallet_shares(market) -> np.ndarray:
    """Mean share of wallet of every firm among the focal firm's current customers (NaN if none)."""
    cache = getattr(market, "_wallet_cache", None)
    if cache is not None and cache[0] == market.now:
        return cache[1]
    rows = market.active_customers()
    k = len(market.firms)
    out = market.world.wallet.shares(rows).mean(axis=0) if rows.size else np.full(k, np.nan)
    market._wallet_cache = (market.now, out)
    return out


def market_shares(market) -> dict[str, float]:
    """Each firm's share of all purchases' value in the simulated market over the run."""
    rev = {f.name: f.books.totals["revenue"] for f in market.firms}
    total = sum(rev.values())
    return {k: (v / total if total else float("nan")) for k, v in rev.items()}


def timeseries(market) -> pd.DataFrame:
    """One row per report time: stock, per-period flows and money (currency), cumulative too.

    The table of ``timeseries.parquet``; its columns are described in ``sim.schema.FILES``.
    """
    df = market.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df["date"] = pd.Timestamp(market.cfg.market.start_date) + pd.to_timedelta(df["t"], unit="D")
    for k in MONEY:
        c = df.pop(f"cum_{k}_cents")
        df[f"cum_{k}"] = c / 100.0
        df[k] = c.diff().fillna(c) / 100.0
    df["marketing_spend"] = sum(df[k] for k in MARKETING)
    df["profit"] = df["margin"] - df["service_cost"] - df["marketing_spend"] - df["fixed_cost"]
    df["cum_profit"] = df["profit"].cumsum()
    df["defections"] = df["cum_defections"].diff().fillna(df["cum_defections"]).astype(int)
    df["acquisitions"] = df["cum_acquisitions"].diff().fillna(df["cum_acquisitions"]).astype(int)
    span = df["t"].diff().fillna(0.0)
    prev_active = df["customers_focal"].shift(1)
    df["churn_rate"] = np.where((span > 0) & (prev_active > 0), df["defections"] / prev_active, 0.0)
    for col in list(df.columns):
        if col.startswith("spend_") and col.endswith("_cents"):
            df[col[:-6]] = df.pop(col) / 100.0
    firm_cols = [c for c in df.columns if c.startswith("cum_firm_revenue_")]
    for c in firm_cols:
        cum = df.pop(c)
        df["firm_revenue_" + c[len("cum_firm_revenue_"):-len("_cents")]] = cum.diff().fillna(cum) / 100.0
    per = [c for c in df.columns if c.startswith("firm_revenue_")]
    total = df[per].sum(axis=1).replace(0.0, np.nan)
    for c in per:  # market share of the period's purchases (value)
        df["market_share_" + c[len("firm_revenue_"):]] = df[c] / total
    front = ["t", "date"]
    return df[front + [c for c in df.columns if c not in front]]


def flows(market) -> pd.DataFrame:
    """Tidy ladder flows: one row per (period end, from, to) with a non-zero count (``flows.parquet``)."""
    rows = []
    prev = np.zeros((market.n_stages, market.n_stages), dtype=np.int64)
    for t, cum in market._flow_rows:
        d = cum - prev
        prev = cum
        for i, j in zip(*np.nonzero(d), strict=True):
            rows.append((t, market.stage_names[i], market.stage_names[j], int(d[i, j])))
    return pd.DataFrame(rows, columns=["t", "from_stage", "to_stage", "count"])


def _categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical straight from integer codes (no strings built for a million rows)."""
    return pd.Categorical.from_codes(codes, categories=list(categories))


def days_to_datetime(start: str, t: np.ndarray) -> np.ndarray:
    """``start + t`` days as datetime64[ns], vectorised; the very same nanoseconds as
    ``pd.Timestamp(start) + pd.to_timedelta(t, unit="D")`` (whole days plus the fraction rounded
    to 13 decimals, as pandas does), without pandas' per-element conversion."""
    t = np.asarray(t, float)
    origin = np.datetime64(pd.Timestamp(start).as_unit("ns").value, "ns")
    if t.size == 0 or not np.isfinite(t).all() or (t < 0).any():
        return (pd.Timestamp(start) + pd.to_timedelta(t, unit="D")).values
    whole = t.astype(np.int64)
    ns = whole * np.int64(86_400 * 10**9) + (np.round(t - whole, 13) * (86_400 * 10**9)).astype(np.int64)
    return origin + ns.astype("timedelta64[ns]")


def customers(market) -> pd.DataFrame:
    """One row per person in the market at the end of the run (``customers.parquet``): stage, firm,
    acquisition and churn times, latent traits, loyalty quadrant, counts, money (currency), CLV and
    each strategy's treated/holdout flags. Columns: ``sim.schema.FILES["customers.parquet"]``. The
    table is built column by column, categoricals from codes."""
    s, m = market.s, market
    cols = {
        "customer_id": np.arange(m.n),
        "stage": _categorical(s.stage, m.stage_names),
        "firm": s.firm.astype(int),
        "channel_preference": _categorical(s.channel, m.channel_names),
        "acquired_via": _categorical(s.acquired_via, ACQUISITION_CAUSES),
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
        "loyalty_quadrant": _categorical(m.loyalty_quadrant(), QUADRANTS),
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
    return pd.DataFrame(cols, copy=False)


def transactions(market) -> pd.DataFrame:
    """The purchase log (``transactions.parquet``): customer, time in days and as a date, amount
    (currency), channel; sorted by time. It has the columns CLV libraries expect."""
    cid, t, cents, ch = market.transactions()
    return pd.DataFrame({
        "customer_id": cid,
        "timestamp": t,
        "date": days_to_datetime(market.cfg.market.start_date, t),
        "amount": cents / 100.0,
        "channel": _categorical(ch, market.channel_names),
    }, copy=False)


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


def cohort_retention(market, period_days: float = 30.0) -> pd.DataFrame:
    """Share of each acquisition cohort (acquired during the run) not yet churned, by age."""
    s = market.s
    acq = s.acquired_at
    rows = np.flatnonzero(~np.isnan(acq) & (acq >= 0))
    out = []
    if rows.size == 0:
        return pd.DataFrame(columns=["cohort", "age_days", "retained", "cohort_size"])
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
    return pd.DataFrame(out, columns=["cohort", "age_days", "retained", "cohort_size"])


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
