"""Reading and checking a transaction log (one row per purchase: customer, date, amount).

A bad log stops with one :class:`LogError` naming the problem (the command line turns it into
exit code 2). What is tolerated is counted and reported, never silently changed:

* exact duplicate rows (same customer, date and amount) are **kept** as separate purchases
  (a log cannot tell a double entry from two equal baskets) and counted in the report;
* purchases by one customer on one day are **collapsed into one transaction** whose amount is
  their sum: the buy-till-you-die convention (the models count purchase occasions, and a
  log's dates have a resolution of one day), as in ``lifetimes``' ``summary_data_from_transaction_data``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd


class LogError(ValueError):
    """A transaction log that cannot be calibrated from, worded for the person who supplied it."""


@dataclass
class LogReport:
    """What the reader found and how it counted it."""
    path: str
    rows: int                     # rows read
    customers: int
    first_date: str
    last_date: str
    duplicate_rows: int           # rows equal to an earlier row in customer, date and amount (kept)
    same_day_rows: int            # rows that share a customer and a day with another row
    transactions: int             # purchase occasions after collapsing same-day rows
    zero_amount_rows: int
    counting: str = ("purchases by one customer on one day collapse into one transaction, amounts summed "
                     "(buy-till-you-die convention); exact duplicate rows are kept as separate purchases")

    def as_dict(self) -> dict:
        """The report as a plain dict (for the calibration's JSON results)."""
        return asdict(self)


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise LogError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv", ".gz"):
            return pd.read_csv(path, sep=None, engine="python") if suffix in (".txt", ".tsv") else pd.read_csv(path)
    except LogError:
        raise
    except Exception as e:  # unreadable file: say which and why, in one line
        raise LogError(f"{path}: cannot be read as {'Parquet' if suffix in ('.parquet', '.pq') else 'CSV'}: "
                       f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    raise LogError(f"{path}: unknown file type {suffix!r}; give a .csv or .parquet file")


def read_log(path, customer_col: str = "customer_id", date_col: str = "date",
             amount_col: str = "amount") -> tuple[pd.DataFrame, LogReport]:
    """Read, check and collapse a log. Returns (transactions, report): one row per customer and
    purchase day with columns ``customer_id`` (str), ``date`` (datetime64, midnight) and
    ``amount`` (float, summed over the day), sorted by customer and date."""
    path = Path(path)
    raw = _read(path)
    missing = [c for c in (customer_col, date_col, amount_col) if c not in raw.columns]
    if missing:
        flags = {customer_col: "--customer-col", date_col: "--date-col", amount_col: "--amount-col"}
        raise LogError(f"{path}: missing column(s) {missing}; the log has {list(raw.columns)[:12]}"
                       f" (name yours with {', '.join(flags[m] for m in missing)})")
    if len(raw) == 0:
        raise LogError(f"{path}: the log is empty (no rows)")
    df = pd.DataFrame({"customer_id": raw[customer_col], "date": raw[date_col], "amount": raw[amount_col]})
    if df["customer_id"].isna().any():
        i = int(np.flatnonzero(df["customer_id"].isna().to_numpy())[0])
        raise LogError(f"{path}: column {customer_col!r} is empty in {int(df['customer_id'].isna().sum())} row(s), "
                       f"first at row {i + 1}")
    df["customer_id"] = df["customer_id"].astype(str)
    # dates
    if pd.api.types.is_datetime64_any_dtype(df["date"]):
        dates = df["date"]
    else:
        txt = df["date"].astype(str)
        dates = pd.to_datetime(txt, errors="coerce", format="%Y%m%d") if txt.str.fullmatch(r"\d{8}").all() \
            else pd.to_datetime(txt, errors="coerce", format="mixed")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LogError(f"{path}: column {date_col!r} has {int(bad.sum())} unparseable date(s), first at row {i + 1}: "
                       f"{raw[date_col].iloc[i]!r}")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    df["date"] = dates.dt.normalize().astype("datetime64[ns]")
    # amounts
    amt = pd.to_numeric(df["amount"], errors="coerce")
    bad = amt.isna().to_numpy() | ~np.isfinite(amt.to_numpy(float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LogError(f"{path}: column {amount_col!r} has {int(bad.sum())} non-numeric or missing amount(s), "
                       f"first at row {i + 1}: {raw[amount_col].iloc[i]!r}")
    neg = (amt < 0).to_numpy()
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise LogError(f"{path}: column {amount_col!r} has {int(neg.sum())} negative amount(s), first at row {i + 1}: "
                       f"{raw[amount_col].iloc[i]!r} (returns and refunds must be netted out before calibrating)")
    df["amount"] = amt.astype(float)
    dup = int(df.duplicated(["customer_id", "date", "amount"]).sum())
    same_day = int(df.duplicated(["customer_id", "date"], keep=False).sum())
    zero = int((df["amount"] == 0).sum())
    tx = (df.groupby(["customer_id", "date"], sort=True, observed=True)["amount"].sum().reset_index())
    rep = LogReport(path=str(path), rows=len(df), customers=int(tx["customer_id"].nunique()),
                    first_date=str(tx["date"].min().date()), last_date=str(tx["date"].max().date()),
                    duplicate_rows=dup, same_day_rows=same_day, transactions=len(tx), zero_amount_rows=zero)
    return tx, rep
