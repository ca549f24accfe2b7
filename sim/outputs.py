"""Writing outputs atomically: every file is written to a temporary name and renamed into
place, so a crash never leaves a half-written file under a final name.

A run owns its directory while it runs (:func:`run_lock`, an exclusive ``flock`` on
``<dir>/.lock``), starts by removing what an earlier run left there (:func:`clean_stale`), and
lists the files it wrote, with their sizes and SHA-256, in ``summary.json`` → ``files`` (the
manifest readers check: :func:`verify_manifest`).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import metrics

SUMMARY = "summary.json"   # written last by a run: its presence (status complete) marks it finished
RUN_RECORD = "run.json"    # written first by a run: what it was asked to do (its overrides)
LOCK = ".lock"
#: every file a run may write; an earlier run's copies are removed before a new run starts
OUTPUT_FILES = (SUMMARY, "config.json", RUN_RECORD, "timeseries.parquet", "flows.parquet", "customers.parquet",
                "transactions.parquet", "control_timeseries.parquet", "report.html")


class DirectoryBusy(RuntimeError):
    """Another run holds the output directory's lock."""


_HELD: dict[str, int] = {}  # directories this process has locked -> lock depth


@contextlib.contextmanager
def run_lock(out_dir: str | os.PathLike):
    """Hold ``<out_dir>/.lock`` exclusively for the block (re-entrant within a process); raise
    :class:`DirectoryBusy` at once if another process holds it. The kernel drops the lock when
    the holder exits, however it dies, so a killed run never leaves a stale lock."""
    out = Path(out_dir).resolve()
    key = str(out)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DirectoryBusy(f"{out} is in use by another run; wait for it to finish or choose another "
                                "output directory (output.dir=... / hydra.run.dir=...)") from None
        except OSError as e:  # a file system without locks (some network mounts): run unguarded
            import logging
            logging.getLogger("sim").warning("cannot lock %s (%s); two runs into it would not be stopped",
                                             out, e.strerror)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(out_dir: str | os.PathLike) -> bool:
    """Whether some run holds ``out_dir`` right now (this process's own locks count)."""
    out = Path(out_dir)
    if str(out.resolve()) in _HELD:
        return True
    try:
        fd = os.open(out / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    except OSError:  # no locks on this file system: nobody can be seen holding it
        return False
    finally:
        os.close(fd)


def remove_partials(out_dir: str | os.PathLike) -> list[Path]:
    """Delete the ``.<name>.part`` temporaries a killed writer left (call only while no run
    holds the directory); returns what was removed."""
    gone = []
    for p in Path(out_dir).glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            gone.append(p)
    return gone


def clean_stale(out_dir: str | os.PathLike) -> None:
    """Before a run: remove an earlier run's outputs (summary first, so the directory is never
    read as finished meanwhile) and any temporaries a killed run left."""
    out = Path(out_dir)
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    remove_partials(out)


def _digest(path: Path) -> dict:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def manifest(out_dir: str | os.PathLike, names) -> dict[str, dict]:
    """``{file name: {bytes, sha256}}`` of the files a run wrote (the summary lists it)."""
    out = Path(out_dir)
    return {n: _digest(out / n) for n in sorted(names)}


def verify_manifest(out_dir: str | os.PathLike, summ: dict) -> str | None:
    """Why the finished run in ``out_dir`` cannot be trusted (a listed file missing, of another
    size, or a Parquet file whose footer does not read), or None. Cheap: sizes and footers only
    (the SHA-256 in the manifest is there for a full check)."""
    files = summ.get("files")
    if files is None:
        return None  # a run from before manifests: nothing to check against
    if not isinstance(files, dict):
        return "summary.json → files is not a manifest"
    out = Path(out_dir)
    for name, meta in files.items():
        p = out / name
        try:
            size = p.stat().st_size
        except OSError:
            return f"{name} is missing"
        if not isinstance(meta, dict) or size != meta.get("bytes"):
            return f"{name} has changed since the run wrote it ({size} bytes, manifest says "\
                   f"{meta.get('bytes') if isinstance(meta, dict) else '?'})"
        if name.endswith(".parquet"):
            try:
                import pyarrow.parquet as pq
                pq.ParquetFile(p).metadata  # noqa: B018 - reads and checks the footer
            except Exception as e:  # noqa: BLE001 - any unreadable footer
                return f"{name} is not a readable Parquet file ({type(e).__name__})"
    return None


def read_summary(out_dir: str | os.PathLike) -> tuple[dict | None, str | None]:
    """(summary, problem): the summary if the file holds a JSON object, else why not (None, None
    when there is no summary at all)."""
    p = Path(out_dir) / SUMMARY
    try:
        text = p.read_text()
    except FileNotFoundError:
        return None, None
    except OSError as e:
        return None, f"{SUMMARY} cannot be read ({e.strerror})"
    try:
        summ = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"{SUMMARY} is not valid JSON ({e.msg}, line {e.lineno})"
    if not isinstance(summ, dict):
        return None, f"{SUMMARY} holds {type(summ).__name__}, not a run summary"
    return summ, None


def finished_summary(out_dir: str | os.PathLike, *, verify: bool = False) -> dict | None:
    """The summary of the finished run in ``out_dir``, or None if there is none (no file, an
    unreadable or malformed one, one whose status is not complete, or with ``verify`` one whose
    manifest does not match the files)."""
    summ, _ = read_summary(out_dir)
    if summ is None or summ.get("status") != "complete":
        return None
    if verify and verify_manifest(out_dir, summ) is not None:
        return None
    return summ


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
    """Write ``text`` to ``path`` atomically (UTF-8, fsynced to a temporary name, then renamed into place)."""
    def w(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    _atomic(path, w)


def atomic_write_json(path: Path, obj) -> None:
    """Write ``obj`` to ``path`` as sorted, indented JSON, atomically."""
    atomic_write_text(path, json.dumps(_clean(obj), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _dictionary_columns(schema) -> list[str]:
    """The columns worth dictionary-encoding in Parquet: the categorical (dictionary) ones. Ids,
    times and amounts have about as many values as rows, so pyarrow would build their dictionaries
    only to give up on them (a fifth of the write time of the two big tables at 1M customers)."""
    import pyarrow as pa
    return [f.name for f in schema if pa.types.is_dictionary(f.type)]


def atomic_write_parquet(path: Path, data) -> None:
    """Write ``data`` to ``path`` as Parquet, atomically: an Arrow table with its categorical
    columns dictionary-encoded, a pandas DataFrame without its index (through pandas, with its metadata)."""
    if hasattr(data, "to_parquet"):  # a pandas DataFrame (collect, calibrate)
        _atomic(path, lambda tmp: data.to_parquet(tmp, index=False, engine="pyarrow"))
        return
    import pyarrow.parquet as pq
    _atomic(path, lambda tmp: pq.write_table(data, tmp, use_dictionary=_dictionary_columns(data.schema)))


def atomic_write_parquet_batches(path: Path, schema, batches: Iterable) -> int:
    """Stream record ``batches`` (each at most 1,048,576 rows: one row group each) to ``path`` as
    Parquet, atomically: they go to a temporary file, renamed into place once the last is written,
    so a crash midway leaves nothing under the final name. Returns the rows written."""
    import pyarrow.parquet as pq
    rows = 0

    def write(tmp):
        nonlocal rows
        with pq.ParquetWriter(tmp, schema, use_dictionary=_dictionary_columns(schema)) as w:
            for b in batches:
                w.write_batch(b)
                rows += b.num_rows
    _atomic(path, write)
    return rows


def _columns(table) -> dict:
    """A table's columns as numpy arrays (nulls as NaN / NaT), for the report's charts."""
    if hasattr(table, "to_parquet"):  # a pandas DataFrame
        return {c: table[c].to_numpy() for c in table.columns}
    return {c: metrics.to_numpy(table.column(c)) for c in table.column_names}


def write_outputs(market, out: Path, summary: dict, control_ts=None) -> dict[str, Path]:
    """Write a run's tables and report under ``out`` as the output config asks; return each file's path by name.

    ``control_ts`` is the paired control's time series (an Arrow table, or a DataFrame). Nothing
    here needs pandas: the tables are built as Arrow arrays (:mod:`sim.metrics`) and written with
    pyarrow, the transaction log streamed in row groups.
    """
    cfg = market.cfg.output
    files = {}
    ts = metrics.timeseries_columns(market)
    files["timeseries"] = out / "timeseries.parquet"
    atomic_write_parquet(files["timeseries"], metrics.arrow_table(ts))
    fl = metrics.flows_table(market)
    files["flows"] = out / "flows.parquet"
    atomic_write_parquet(files["flows"], fl)
    # the two big tables: the customers table is built once and dropped when written; the
    # transaction log is sorted, converted and written a row group at a time (peak memory). The
    # customers file is encoded in a second thread meanwhile (pyarrow and numpy's sorts release the
    # GIL), so the two overlap on a machine with two cores or more
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        if cfg.customers:
            files["customers"] = out / "customers.parquet"
            pending = pool.submit(atomic_write_parquet, files["customers"], metrics.customers_table(market))
        if cfg.transactions:
            files["transactions"] = out / "transactions.parquet"
            atomic_write_parquet_batches(files["transactions"], metrics.transactions_schema(market),
                                         metrics.transaction_batches(market))
        if pending is not None:
            pending.result()  # re-raises a failed write
    if control_ts is not None:
        files["control_timeseries"] = out / "control_timeseries.parquet"
        if not hasattr(control_ts, "to_parquet"):  # an Arrow table (a cached one carries its file's metadata)
            control_ts = control_ts.replace_schema_metadata(None)
        atomic_write_parquet(files["control_timeseries"], control_ts)
    if cfg.report:
        from .report import build_report
        files["report"] = out / "report.html"
        html = build_report(market, ts, metrics.flows_columns(market), metrics.cohort_columns(market), summary,
                            control_ts=None if control_ts is None else _columns(control_ts))
        atomic_write_text(files["report"], html)
    return files
