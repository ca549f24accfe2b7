"""The paired no-action control, computed once per market and seed and shared.

In a sweep every strategy at one seed is compared with the same control: the same market, the
same seed, only the market-event (``environment``) plug-ins. Its config, with the firm's
strategies and the output settings removed, is hashed; the control's summary and time series are
kept under ``<cache dir>/<hash>/``. A lock file makes a second worker wait for the first instead
of computing the same control again, and the files are written atomically with a completion
marker written last, so nobody ever reads half a control. Without a cache directory the control
is simply computed. Results are byte-identical either way (``tests/test_control_cache.py``).

The cache directory of a sweep is ``<hydra.sweep.dir>/.control_cache`` (set by ``python -m sim``
in multirun mode); ``SIM_CONTROL_CACHE`` names one for any run.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .outputs import atomic_write_parquet, atomic_write_text

ENV = "SIM_CONTROL_CACHE"
FORMAT = 1          # bump when what is stored changes
_DONE = "control.json"
_TS = "timeseries.parquet"


def control_config(cfg) -> dict:
    """The control's own config: ``cfg`` with only the environment plug-ins, no output settings."""
    from .strategies.build import _allowed
    d = cfg.model_dump(mode="json", by_alias=True)
    d["strategy"] = {k: v for k, v in d.get("strategy", {}).items()
                     if getattr(_allowed(v["_target_"], f"strategy.{k}"), "environment", False)}
    d.pop("output", None)
    d.pop("paired_control", None)
    d.get("engine", {}).pop("progress", None)
    return d


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the package's source, so a control cached by other model code is never reused."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def control_key(cfg) -> str:
    """Hash of the control's config (and of the package's source and the cache format)."""
    blob = json.dumps({"format": FORMAT, "code": code_version(), "config": control_config(cfg)},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cache_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The cache directory to use: ``explicit``, else ``$SIM_CONTROL_CACHE``, else none."""
    d = explicit if explicit is not None else os.environ.get(ENV) or None
    return Path(d) if d else None


def _read(entry: Path) -> tuple[dict, Any] | None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        summ = json.loads((entry / _DONE).read_text())
        with pq.ParquetFile(entry / _TS) as f:  # pq.read_table would import pandas
            ts = f.read()
    except (OSError, ValueError, pa.ArrowException):
        return None
    return summ, ts


def _item(o):
    if hasattr(o, "item"):  # numpy scalar
        return o.item()
    raise TypeError(f"cannot store {type(o).__name__} in a control summary")


class _Lock:
    """An exclusive advisory lock on a file (``fcntl.flock``; a no-op where there is none)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.f = open(self.path, "a+")
        try:
            import fcntl
            fcntl.flock(self.f.fileno(), fcntl.LOCK_EX)
        except (ImportError, OSError):  # no flock (Windows, some network file systems): atomic files still hold
            pass
        return self

    def __exit__(self, *exc):
        self.f.close()  # closing releases the lock


def shared_control(cfg, compute: Callable[[], tuple[dict, Any]],
                   directory: str | os.PathLike | None = None) -> tuple[dict, Any]:
    """The control's (summary, time series): from the cache when there, else computed (and cached).

    ``compute`` returns the summary and the time series as an Arrow table (``sim.metrics.timeseries_table``)
    or a DataFrame; a cached time series is read back as an Arrow table.
    """
    root = cache_dir(directory)
    if root is None:
        return compute()
    entry = root / control_key(cfg)
    hit = _read(entry)
    if hit is not None:
        return hit
    entry.mkdir(parents=True, exist_ok=True)
    with _Lock(entry / ".lock"):
        hit = _read(entry)  # another worker may have finished it while we waited
        if hit is not None:
            return hit
        summ, ts = compute()
        atomic_write_parquet(entry / _TS, ts)
        # last: marks the entry complete
        atomic_write_text(entry / _DONE, json.dumps(summ, sort_keys=True, default=_item))
    got = _read(entry)
    return got if got is not None else (summ, ts)
