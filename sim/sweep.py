"""Sweep support for ``python -m sim -m ...``: the optimisation objective, failure markers and a
Hydra callback that shows progress on long sweeps.

The optional top-level ``sweep:`` block of a config (set by the studies in ``experiments/``) is
not part of the simulation config; ``python -m sim`` removes it before validation:

```yaml
sweep:
  objective: roi_vs_control   # what python -m sim returns (Optuna maximises it): a summary figure
                              # or a paired key (roi_vs_control, ...); the list is OBJECTIVES below
                              # (checked before simulating). Undefined (NaN) for a run: None, which
                              # Optuna records as a failed trial.
  churn_cap: null             # if set: runs whose annual churn exceeds it are infeasible
  infeasible_value: -1.0e9    # ... and return this minus 1e6 x the excess churn
```
"""
from __future__ import annotations

import json
import logging
import math
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .outputs import atomic_write_json, finished_summary
from .results import FAILED, clv_change  # noqa: F401 - FAILED is part of this module's interface

log = logging.getLogger("sim.sweep")

PROGRESS_TOTAL = ".sweep_total.json"

PAIRED_KEYS = {"control_profit", "control_revenue", "control_churn_rate_annual", "control_customers_end",
               "control_mean_clv", "strategy_cost", "incremental_profit", "incremental_net_profit",
               "roi_vs_control", "incremental_revenue", "churn_rate_change", "customers_end_change",
               "control_market_share", "market_share_change", "rival_profit_change"}

def _register_resolvers() -> None:
    """Arithmetic for study configs: ``${sim.mul:a,b,...}`` and ``${sim.sub:a,b}``."""
    if not OmegaConf.has_resolver("sim.mul"):
        OmegaConf.register_new_resolver("sim.mul", lambda *xs: math.prod(float(x) for x in xs))
    if not OmegaConf.has_resolver("sim.sub"):
        OmegaConf.register_new_resolver("sim.sub", lambda a, b: float(a) - float(b))
    if not OmegaConf.has_resolver("sim.share"):  # ${sim.share:x,a,b,...} = x / (a + b + ...): a budget share
        OmegaConf.register_new_resolver("sim.share", lambda x, *xs: float(x) / sum(float(v) for v in xs)
                                        if sum(float(v) for v in xs) > 0 else 1.0 / len(xs))


_register_resolvers()

DEFAULT_OPTS: dict[str, Any] = {"objective": "roi", "churn_cap": None, "infeasible_value": -1.0e9}
#: the top-level figures of a run summary an objective may name (tests/test_hardening.py checks
#: this list against a real summary), besides the paired keys and ``clv_change``
SUMMARY_FIGURES = frozenset({
    "acquisitions", "churn_rate_annual", "contact_cost", "customers_end", "days", "defections",
    "events_transactions", "gross_margin", "marketing_spend", "mean_clv", "n_customers",
    "other_marketing_spend", "profit", "revenue", "roi", "service_cost", "top20_revenue_share", "total_clv",
    "cost_of_goods", "offer_cost", "fixed_cost", "acquisition_cost_per_customer", "top20_profit_share",
    "market_share", "share_of_wallet", "rival_profit"})
OBJECTIVES = SUMMARY_FIGURES | PAIRED_KEYS | {"clv_change"}


def _finite_number(v: Any, key: str, *, allow_none: bool) -> None:
    if v is None and allow_none:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"sweep.{key} = {v!r}: must be a finite number{' or null' if allow_none else ''}")


def sweep_options(block: Any) -> dict[str, Any]:
    """The ``sweep:`` block with its defaults, checked before anything is simulated."""
    opts = dict(DEFAULT_OPTS)
    if block:
        if not isinstance(block, dict):
            raise ValueError(f"sweep = {block!r}: must be a mapping with keys {sorted(DEFAULT_OPTS)}")
        unknown = set(block) - set(DEFAULT_OPTS)
        if unknown:
            raise ValueError(f"sweep: unknown key(s) {sorted(unknown)}; allowed: {sorted(DEFAULT_OPTS)}")
        opts.update(block)
    if opts["objective"] not in OBJECTIVES:
        import difflib
        close = difflib.get_close_matches(str(opts["objective"]), sorted(OBJECTIVES), n=3)
        raise ValueError(f"sweep.objective = {opts['objective']!r}: not a figure of the run summary"
                         + (f"; did you mean {', '.join(close)}?" if close else "")
                         + f"\n  allowed: {', '.join(sorted(OBJECTIVES))}")
    _finite_number(opts["churn_cap"], "churn_cap", allow_none=True)
    _finite_number(opts["infeasible_value"], "infeasible_value", allow_none=False)
    return opts


def metric(summary: dict, name: str) -> float:
    """A summary figure by name: a top-level key, a ``paired`` key, or ``clv_change``."""
    p = summary.get("paired") or {}
    if name == "clv_change":
        v = clv_change(summary)
    elif name in summary and not isinstance(summary[name], (dict, list)):
        v = summary[name]
    elif name in p:
        v = p[name]
    elif name in PAIRED_KEYS:  # a run without strategies has no paired control
        v = None
    else:
        raise KeyError(f"sweep.objective: {name!r} is not a figure of the run summary "
                       f"(top-level keys: {sorted(k for k, x in summary.items() if isinstance(x, (int, float)))}; "
                       f"paired keys: {sorted(p)})")
    return float("nan") if v is None else float(v)


def objective(summary: dict, opts: dict[str, Any]) -> float | None:
    """The value ``python -m sim`` returns for a run (what an Optuna sweep optimises).

    None when the figure is undefined for this run (NaN, e.g. ROI with zero cost): Optuna's
    sweeper then marks that trial failed and the study goes on (a NaN would abort the study).
    """
    value = metric(summary, opts["objective"])
    cap = opts.get("churn_cap")
    if cap is not None:
        excess = float(summary["churn_rate_annual"]) - float(cap)
        if excess > 0:
            return float(opts["infeasible_value"]) - 1e6 * excess
    if not math.isfinite(value):
        log.warning("objective %s is undefined (%s) for this run; a sweeper counts it as a failed trial",
                    opts["objective"], value)
        return None
    return value


def write_failure(out_dir: str | Path, exc: BaseException) -> None:
    """Mark a run directory as failed (collect lists it; it never counts as finished)."""
    try:
        atomic_write_json(Path(out_dir) / FAILED, {
            "status": "failed", "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
        })
    except OSError:  # pragma: no cover - the failure itself may be a full disk
        log.exception("could not write %s", FAILED)


def clear_failure(out_dir: str | Path) -> None:
    """Remove the failure marker of a sweep directory, if there is one."""
    (Path(out_dir) / FAILED).unlink(missing_ok=True)


def count_sweep(overrides: list[str]) -> int | None:
    """Number of jobs of a basic-sweeper sweep given its command-line overrides."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    n = 1
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.is_hydra_override() if hasattr(o, "is_hydra_override") else o.key_or_group.startswith("hydra"):
            continue
        if o.is_sweep_override():
            if o.is_interval_sweep():
                return None
            n *= sum(1 for _ in o.sweep_iterator())
    return n


def _status(job_dir: Path) -> str | None:
    if finished_summary(job_dir) is not None:
        return "complete"
    if (job_dir / FAILED).exists():
        return "failed"
    return None


class SweepProgress(Callback):
    """Log sweep progress: the number of jobs at the start, and after every job
    ``sweep: job #k finished in x s — d/N done (f failed)``. Counting reads the sweep directory,
    so it is right with any launcher (basic, joblib, Ray) and counts runs skipped on resume."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._t0: dict[int, float] = {}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Count the sweep's jobs (trials, or the grid of overrides) and record the total in the sweep directory."""
        if not self.enabled:
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        total = None
        if OmegaConf.select(config, "hydra.sweeper.n_trials") is not None:
            total = int(config.hydra.sweeper.n_trials)
        else:
            try:
                overrides = list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
                params = OmegaConf.select(config, "hydra.sweeper.params")
                if params:
                    overrides += [f"{k}={v}" for k, v in params.items()
                                  if not any(x.split("=", 1)[0].lstrip("+~") == k for x in overrides)]
                total = count_sweep(overrides)
            except Exception:  # noqa: BLE001 - progress is best effort
                total = None
        sweep_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(sweep_dir / PROGRESS_TOTAL, {"total": total, "started": time.time()})
        log.info("sweep: %s jobs -> %s", total if total is not None else "?", sweep_dir)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Note when a job started, to time it."""
        if self.enabled:
            self._t0[_job_num(config)] = time.perf_counter()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        """Log the finished job's status and time, and how many of the sweep's jobs are done or failed."""
        if not self.enabled or OmegaConf.select(config, "hydra.mode") is None:
            return
        from hydra.types import RunMode
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        num = _job_num(config)
        dt = time.perf_counter() - self._t0.pop(num, time.perf_counter())
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            total = json.loads((sweep_dir / PROGRESS_TOTAL).read_text()).get("total")
        except (OSError, json.JSONDecodeError):
            total = None
        done = failed = 0
        for d in sweep_dir.rglob(".hydra"):
            st = _status(d.parent)
            done += st is not None
            failed += st == "failed"
        status = getattr(getattr(job_return, "status", None), "name", "?")
        log.info("sweep: job #%d %s in %.1f s — %d/%s done%s", num, status.lower(), dt, done,
                 total if total is not None else "?", f" ({failed} failed)" if failed else "")


def _job_num(config: DictConfig) -> int:
    n = OmegaConf.select(config, "hydra.job.num")
    return int(n) if n is not None else -1


class SweepCollect(Callback):
    """At the end of a sweep, run ``python -m sim.collect`` on its directory (comparison table and
    HTML). A sweep in which a job failed stops with that job's error before this point (the other
    jobs of the batch still run); collect it by hand: ``python -m sim.collect <sweep_dir>``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect the finished runs of the sweep into its comparison table and HTML, and log the answer."""
        if not self.enabled:
            return
        from . import collect

        sweep_dir = Path(config.hydra.sweep.dir)
        c = collect.collect(sweep_dir, progress=False)
        # rank by the study's own objective when it names one (sweep.objective), else the default
        objective = OmegaConf.select(config, "sweep.objective") or collect.decide.OBJECTIVE
        files = collect.write(c, sweep_dir,
                              objective if c.runs.empty or objective in c.runs else collect.decide.OBJECTIVE)
        log.info("sweep: collected %d finished run(s) (%d failed, %d unfinished) -> %s",
                 len(c.runs), len(c.failed), len(c.incomplete), files["html"])
        ans = collect.answer(c)
        if ans:
            log.info("sweep: answer: %s", ans)
