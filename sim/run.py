"""Run a configured simulation (and its paired no-action control) and write its outputs.

The Python API in four calls (see the README's "Python API"):

* :func:`build` — a ready market from a config (validated first);
* :func:`simulate` — build and run it; read tables with :mod:`sim.metrics`;
* :func:`run` — the treated run and its paired control, every output file, the summary;
* :func:`study` — every combination of some values × seeds, each a :func:`run`, collected into
  DataFrames (:class:`sim.collect.Collected`).
"""
from __future__ import annotations

import gc
import math
import os
import time
from pathlib import Path
from typing import Any

from . import metrics
from .config import SimConfig, validate
from .control_cache import shared_control
from .engine import MarketEngine
from .outputs import (
    RUN_RECORD,
    SUMMARY,
    atomic_write_json,
    clean_stale,
    finished_summary,
    manifest,
    run_lock,
    write_outputs,
)
from .strategies import build_strategies


def strategies_for(cfg: SimConfig, *, with_strategies: bool = True) -> list:
    """The plug-ins of a validated config, checked against its ladder and channels; without
    strategies (the no-action control) only market events (``environment`` plug-ins) stay."""
    strategies = build_strategies(cfg.strategy, [s.name for s in cfg.ladder.stages], list(cfg.channels),
                                  [s.role for s in cfg.ladder.stages])
    return strategies if with_strategies else [s for s in strategies if s.environment]


def build(cfg: SimConfig | Any, *, with_strategies: bool = True, mode: str | None = None,
          materialize: bool | None = None) -> MarketEngine:
    """A ready (not yet run) market. Validates first: nothing is built from a bad config.

    With Mesa agents (``mode="agents"``, ``materialize=True``, or by default up to
    ``engine.agents_max`` customers) it is a :class:`sim.market.Market`, a Mesa model; otherwise
    the engine alone (:class:`sim.engine.MarketEngine`), which gives the same results without
    loading Mesa.

    Args:
        cfg: a :class:`SimConfig` (from :func:`sim.load`) or a composed config / dict to validate.
        with_strategies: False builds the no-action control (market events stay).
        mode: ``"batched"`` or ``"agents"``; default ``cfg.engine.mode``.
        materialize: make Mesa ``Customer`` agents (default: up to ``engine.agents_max`` customers).
    """
    if not isinstance(cfg, SimConfig):
        cfg = validate(cfg)
    strategies = strategies_for(cfg, with_strategies=with_strategies)
    agents = (mode or cfg.engine.mode) == "agents" or (
        materialize if materialize is not None else cfg.market.n_customers <= cfg.engine.agents_max)
    if not agents:
        return MarketEngine(cfg, strategies, mode=mode)
    from .market import Market
    return Market(cfg, strategies, mode=mode, materialize=materialize)


def simulate(cfg: SimConfig | Any, *, with_strategies: bool = True, mode: str | None = None,
             progress: bool | None = None, desc: str = "simulating",
             materialize: bool | None = None) -> MarketEngine:
    """Build and run a market to its horizon; nothing is written.

    The run market gives DataFrames through :mod:`sim.metrics` (``timeseries``, ``customers``,
    ``transactions``, ``flows``) and the run's figures through ``metrics.summary``. No paired
    control is run (use :func:`run` for ROI against it).

    Args:
        cfg: as for :func:`build`.
        with_strategies: False runs the no-action control.
        mode: as for :func:`build`.
        progress: show a progress bar (default ``cfg.engine.progress``).
        desc: the progress bar's label.
        materialize: as for :func:`build` (studies that read only the figures pass False).
    """
    return build(cfg, with_strategies=with_strategies, mode=mode, materialize=materialize).run(
        progress=progress, desc=desc)


def _holdout_estimates(m: MarketEngine) -> dict[str, dict]:
    """In-run control groups: treated vs held-out customers of each strategy with a holdout."""
    s = m.s
    value = (s.margin - s.service_cost).astype(float) / 100.0
    out = {}
    for st in m.strategies:
        if getattr(st, "holdout", 0) <= 0:
            continue
        tr, ho = metrics.strategy_groups(m, st)
        spend = st.ledger.spent / 100.0
        if tr.sum() == 0 or ho.sum() == 0:
            out[st.name] = {"treated": int(tr.sum()), "held_out": int(ho.sum())}
            continue
        diff = value[tr].mean() - value[ho].mean()
        se = math.sqrt(value[tr].var(ddof=1) / max(tr.sum(), 2) + value[ho].var(ddof=1) / max(ho.sum(), 2)) \
            if tr.sum() > 1 and ho.sum() > 1 else float("nan")
        incr = diff * tr.sum()
        out[st.name] = {
            "treated": int(tr.sum()), "held_out": int(ho.sum()),
            "uplift_per_customer": float(diff), "uplift_se": float(se),
            "incremental_profit": float(incr),
            "roi": float((incr - spend) / spend) if spend > 0 else float("nan"),
        }
    return out


def paired(treated: dict, control: dict) -> dict:
    """The strategies against the no-action control under common random numbers.

    ROI is defined once, here: (incremental profit before strategy cost − strategy cost) /
    strategy cost, where strategy cost is the marketing spend the strategies added. Fixed
    overheads are the same in both runs and cancel.
    """
    cost = treated["marketing_spend"] - control["marketing_spend"]
    net = treated["profit"] - control["profit"]
    return {
        "control_profit": control["profit"],
        "control_revenue": control["revenue"],
        "control_churn_rate_annual": control["churn_rate_annual"],
        "control_customers_end": control["customers_end"],
        "control_mean_clv": control["mean_clv"],
        "control_stage_counts_end": control["stage_counts_end"],
        "strategy_cost": cost,
        "incremental_profit": net + cost,  # before strategy cost
        "incremental_net_profit": net,
        "roi_vs_control": net / cost if cost > 0 else float("nan"),
        "incremental_revenue": treated["revenue"] - control["revenue"],
        "churn_rate_change": treated["churn_rate_annual"] - control["churn_rate_annual"],
        "customers_end_change": treated["customers_end"] - control["customers_end"],
        "control_market_share": control.get("market_share"),
        "market_share_change": _diff(treated.get("market_share"), control.get("market_share")),
        "rival_profit_change": _diff(treated.get("rival_profit"), control.get("rival_profit")),
    }


def _diff(a, b):
    return a - b if a is not None and b is not None else None


def run(cfg: SimConfig | Any, out_dir: str | os.PathLike, *, progress: bool | None = None,
        overrides: list[str] | None = None, control_cache: str | os.PathLike | None = None) -> dict:
    """Validate, simulate (the paired control, then the treated market), write every output, return the summary.

    The run holds ``out_dir``'s lock throughout (another run there stops with
    :class:`~sim.outputs.DirectoryBusy`), first removes an earlier run's outputs and records what
    it was asked to do (``run.json``: its command-line ``overrides``), and writes the summary
    (``summary.json``, listing every file it wrote in ``files``) last and atomically: its presence
    marks a finished run; an interrupted run leaves no summary (and no half-written file).

    The paired control is shared through ``control_cache`` (or ``$SIM_CONTROL_CACHE``) when given:
    computed once per market and seed, byte-identical to computing it (see :mod:`sim.control_cache`).

    Args:
        cfg: as for :func:`build`.
        out_dir: the run's directory (created); the files are listed in ``sim.schema.FILES``.
        progress: show progress bars (default ``cfg.engine.progress``).
        overrides: the command-line overrides the run was made from (recorded in ``run.json``).
        control_cache: where the shared paired control is cached (see above).

    Returns:
        The summary as written to ``summary.json``, plus ``elapsed_seconds``.
    """
    if not isinstance(cfg, SimConfig):
        cfg = validate(cfg)
    out = Path(out_dir)
    with run_lock(out):
        clean_stale(out)
        # where the files go is not a parameter of the run: the record (and so the manifest in the
        # summary) stays byte-identical wherever the same config and seed are run
        asked = [o for o in (overrides or []) if o.split("=", 1)[0].lstrip("+~") != "output.dir"]
        atomic_write_json(out / RUN_RECORD, {"overrides": asked})
        return _run(cfg, out, progress, control_cache)


#: from this many customers a finished market is freed at once (a full garbage collection takes
#: some 50-100 ms, which would slow small runs for nothing)
FREE_AT_CUSTOMERS = 50_000


def _free_markets(cfg: SimConfig) -> None:
    """Free finished markets now. A market is a reference cycle (its calendar, plug-ins and
    collector point back to it), so without this the control's market stays in memory under the
    treated one until the cyclic collector happens to run: 0.6 GiB more at the peak of a
    1M x 365 d run (``benchmarks/bench_outputs.py``)."""
    if cfg.market.n_customers >= FREE_AT_CUSTOMERS:
        gc.collect()


def _run(cfg: SimConfig, out: Path, progress: bool | None, control_cache) -> dict:
    t0 = time.perf_counter()
    _free_markets(cfg)  # an earlier run's markets in this process (a study, a sweep worker)
    control_summary = control_ts = None
    if cfg.paired_control and any(not s.environment for s in strategies_for(cfg)):
        # the control runs first and only its summary and time series are kept, so its market
        # and the treated one (with its transaction log) are never in memory together
        def compute_control():
            ctrl = build(cfg, with_strategies=False, materialize=False).run(progress=progress, desc="control")
            return metrics.summary(ctrl), metrics.timeseries_table(ctrl)

        control_summary, control_ts = shared_control(cfg, compute_control, control_cache)
        _free_markets(cfg)
    market = build(cfg, materialize=False)  # writing outputs needs no agent views (nor Mesa)
    market.run(progress=progress, desc="treated")
    summ = metrics.summary(market)
    summ["holdout"] = _holdout_estimates(market)
    if control_summary is not None:
        summ["paired"] = paired(summ, control_summary)
        summ["roi"] = summ["paired"]["roi_vs_control"]
    summ["seed"] = {
        "seed": cfg.seed, "replication": cfg.replication,
        "entropy": int(market.seed_seq.entropy), "spawn_key": list(market.seed_seq.spawn_key),
        "counter_rng_key": str(market.key),
    }
    summ["status"] = "complete"
    files = write_outputs(market, out, summ, control_ts=control_ts)
    atomic_write_json(out / "config.json", cfg.model_dump(mode="json", by_alias=True))
    summ["files"] = manifest(out, [*(p.name for p in files.values()), "config.json", RUN_RECORD])
    atomic_write_json(out / SUMMARY, summ)  # last: marks the run finished
    summ["elapsed_seconds"] = round(time.perf_counter() - t0, 3)  # not written: outputs stay byte-identical
    return summ


def is_finished(out_dir: str | os.PathLike) -> bool:
    """Whether ``out_dir`` holds a finished run (a complete ``summary.json``)."""
    return finished_summary(out_dir) is not None


def _value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if v is None:
        return "null"
    return str(v).lower() if isinstance(v, bool) else str(v)


def study(grid: dict[str, list], out_dir: str | os.PathLike, *, overrides: list[str] | tuple = (),
          seeds=range(3), config_name: str = "config", config_dir: str | os.PathLike | None = None,
          progress: bool = True):
    """Run every combination of ``grid``'s values for every seed, then collect the runs.

    The Python counterpart of a sweep (``python -m sim -m key=a,b seed='range(0,3)'``): each run
    is :func:`run` in its own directory under ``out_dir``, named by its overrides, which it
    records in ``run.json`` as a sweep's runs do (so ``python -m sim.collect out_dir`` reads the
    same study). A finished run made with the same config is skipped, so an interrupted study resumes
    where it stopped; a run that fails is marked ``failed.json`` and listed, and the others go on.

    Args:
        grid: config key → the values to try, e.g. ``{"strategy.win_back.offer": [0, 5, 10]}``.
        out_dir: the study's directory; ``collected.parquet``, ``comparison.parquet`` and
            ``comparison.html`` are written there at the end.
        overrides: fixed overrides for every run, e.g. ``["strategy=win_back", "market.n_customers=2000"]``.
        seeds: the replications (each a ``seed``).
        config_name: the primary config to compose, as for :func:`sim.load`.
        config_dir: a folder of your own laid over the packaged configs, as for :func:`sim.load` (None: none).
        progress: a progress bar over the runs.

    Returns:
        :class:`sim.collect.Collected`: ``runs`` (one row per finished run, the columns of
        ``collected.parquet``), ``comparison`` (mean and 95 % interval per group and metric),
        ``failed`` and ``incomplete``.
    """
    import itertools
    import json

    from tqdm.auto import tqdm

    from .collect import collect, write
    from .config import load
    from .sweep import clear_failure, write_failure

    out = Path(out_dir)
    keys = list(grid)
    jobs = [(combo, seed) for combo in itertools.product(*(grid[k] for k in keys)) for seed in seeds]
    for combo, seed in tqdm(jobs, desc="study", unit="run", disable=not progress):
        swept = [f"{k}={_value(v)}" for k, v in zip(keys, combo, strict=True)] + [f"seed={seed}"]
        job = out / ",".join(swept).replace("/", "_")
        job_overrides = [*overrides, *swept]
        try:
            cfg = load(job_overrides, config_name=config_name, config_dir=config_dir)
            done = finished_summary(job)
            if done is not None:
                old = json.loads((job / "config.json").read_text())
                if old == json.loads(json.dumps(cfg.model_dump(mode="json", by_alias=True))):
                    continue
                raise ValueError(f"{job} holds a finished run made with a different config")
            clear_failure(job)
            run(cfg, job, progress=False, overrides=job_overrides)
        except Exception as e:  # one bad run must not stop the study; collect lists it
            job.mkdir(parents=True, exist_ok=True)
            write_failure(job, e)
    c = collect(out, progress=False)
    write(c, out)
    return c
