"""Writing outputs atomically: every file is written to a temporary name and renamed into
place, so a crash never leaves a half-written file under a final name."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from . import metrics

SUMMARY = "summary.json"   # written last by a run: its presence (status complete) marks it finished


def finished_summary(out_dir: str | os.PathLike) -> dict | None:
    """The summary of the finished run in ``out_dir``, or None if there is none (no file, an
    unreadable one, or one whose status is not complete)."""
    try:
        summ = json.loads((Path(out_dir) / SUMMARY).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return summ if summ.get("status") == "complete" else None


def _clean(o):
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if hasattr(o, "item"):  # numpy scalar
        return _clean(o.item())
    return o


_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    def w(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    _atomic(path, w)


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(_clean(obj), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    _atomic(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow"))


def write_outputs(market, out: Path, summary: dict, control_ts: pd.DataFrame | None = None) -> dict[str, Path]:
    cfg = market.cfg.output
    files = {}
    ts = metrics.timeseries(market)
    files["timeseries"] = out / "timeseries.parquet"
    atomic_write_parquet(files["timeseries"], ts)
    fl = metrics.flows(market)
    files["flows"] = out / "flows.parquet"
    atomic_write_parquet(files["flows"], fl)
    # the two big tables are built one at a time and dropped once written (peak memory)
    if cfg.customers:
        files["customers"] = out / "customers.parquet"
        atomic_write_parquet(files["customers"], metrics.customers(market))
    if cfg.transactions:
        files["transactions"] = out / "transactions.parquet"
        atomic_write_parquet(files["transactions"], metrics.transactions(market))
    if control_ts is not None:
        files["control_timeseries"] = out / "control_timeseries.parquet"
        atomic_write_parquet(files["control_timeseries"], control_ts)
    if cfg.report:
        from .report import build_report
        files["report"] = out / "report.html"
        html = build_report(market, ts, fl, metrics.cohort_retention(market), summary, control_ts=control_ts)
        atomic_write_text(files["report"], html)
    return files
