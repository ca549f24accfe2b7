"""``python -m sim``: run the configured simulation with Hydra (overrides and ``-m`` sweeps)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import hydra
from omegaconf import DictConfig

from . import sweep as _sweep  # noqa: F401 - registers the study configs' resolvers
from .config import ConfigError, resolve, validate

log = logging.getLogger("sim")


def _same_config(out_dir: str, scfg) -> bool:
    """Whether a finished run in ``out_dir`` was made with this very config."""
    p = Path(out_dir) / "config.json"
    try:
        old = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(old, dict) or not isinstance(old.get("output", {}), dict):
        return False
    new = json.loads(json.dumps(scfg.model_dump(mode="json", by_alias=True)))
    old.get("output", {}).pop("dir", None)
    new.get("output", {}).pop("dir", None)
    return old == new


def _config_error(e: Exception, multirun: bool, failure_dir: str | None = None) -> NoReturn:
    """A config error: in a sweep, mark the job failed (if ``failure_dir``) and raise, so the other
    jobs go on; in a single run, print one clear line and exit 2."""
    if multirun:
        if failure_dir is not None:
            _sweep.write_failure(failure_dir, e)
        raise e
    print(f"sim: {e}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base=None, config_path="configs", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Run one market and its paired control from the composed Hydra config and write every file of the run.

    Returns the run's objective (for an optimising sweeper), or None. A bad config exits 2 in a single run and is
    recorded as the job's failure in a sweep.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from .outputs import DirectoryBusy, run_lock
    from .sweep import sweep_options

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun:
        _die_with_sweep()
    try:
        container = resolve(cfg)
        opts = sweep_options(container.pop("sweep", None))
        container.pop("study", None)  # free study parameters, used through interpolation only
        scfg = validate(container)
        from .run import strategies_for
        strategies_for(scfg)  # plug-ins checked (allow-list, channels, stages) before the directory is touched
    except (ConfigError, ValueError) as e:  # one bad configuration must not stop the rest of a sweep
        _config_error(e, multirun, HydraConfig.get().runtime.output_dir)
    out_dir = scfg.output.dir or HydraConfig.get().runtime.output_dir
    try:
        with run_lock(out_dir):  # one run owns its directory from the resume check to the summary
            return _run_in(out_dir, scfg, opts, multirun)
    except DirectoryBusy as e:  # no failure marker: the directory belongs to the other run
        _config_error(e, multirun)


def _run_in(out_dir: str, scfg, opts: dict, multirun: bool) -> float | None:
    from hydra.core.hydra_config import HydraConfig

    from .outputs import finished_summary
    from .run import run
    from .sweep import clear_failure, objective, write_failure

    done = finished_summary(out_dir, verify=True)
    if done is not None:
        if not _same_config(out_dir, scfg):
            _config_error(ConfigError(f"{out_dir} holds a finished run made with a different config; "
                                      "use another output directory (hydra.sweep.dir=... / output.dir=...)"),
                          multirun)  # no failure marker: the directory holds a finished run
        log.info("already finished, skipping: %s", out_dir)
        return objective(done, opts)
    clear_failure(out_dir)
    try:
        cache = Path(HydraConfig.get().sweep.dir) / ".control_cache" if multirun else None
        summary = run(scfg, out_dir, overrides=list(HydraConfig.get().overrides.task), control_cache=cache)
    except ConfigError as e:
        _config_error(e, multirun, out_dir)
    except Exception as e:
        write_failure(out_dir, e)
        raise
    p = summary.get("paired", {})
    log.info("outputs in %s", out_dir)
    log.info("revenue %.2f | profit %.2f | churn/yr %.3f | mean CLV %.2f | top-20%% profit share %.2f",
             summary["revenue"], summary["profit"], summary["churn_rate_annual"],
             summary["mean_clv"], summary["top20_profit_share"])
    if p:
        log.info("vs no-action control: incremental profit %.2f, strategy cost %.2f, ROI %.3f",
                 p["incremental_profit"], p["strategy_cost"], p["roi_vs_control"])
    log.info("finished in %.1f s", summary["elapsed_seconds"])
    return objective(summary, opts)


SWEEP_OWNER = "SIM_SWEEP_OWNER"   # "<host> <pid> <start time>" of the python -m sim that owns the sweep


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux ``/proc``), or None if there is no such process;
    with the pid it names one process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_token() -> str:
    import os
    import socket
    return f"{socket.gethostname()} {os.getpid()} {_start_time(os.getpid())}"


def _die_with_sweep() -> None:
    """In a launcher's worker process (joblib/loky) on this machine, exit as soon as the
    ``python -m sim`` that started the sweep is gone (e.g. killed), instead of finishing a job
    nobody will collect. Checks twice a second; a worker on another machine (Ray) is left alone."""
    import os
    import socket
    import threading
    import time

    try:
        host, pid, started = os.environ.get(SWEEP_OWNER, "").split(" ")
        pid = int(pid)
    except ValueError:
        return
    if host != socket.gethostname() or pid == os.getpid() or started == "None" \
            or getattr(_die_with_sweep, "started", False):
        return

    def gone() -> bool:
        return _start_time(pid) != started

    if gone():  # killed before this job even started
        os._exit(3)

    def watch() -> None:
        while not gone():
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, name="sim-sweep-watchdog", daemon=True).start()
    _die_with_sweep.started = True


def cli() -> None:
    """The ``sim`` command and ``python -m sim``: check the command line, then run Hydra's main."""
    import os
    os.environ[SWEEP_OWNER] = _owner_token()  # this process owns the sweep; launcher workers inherit it
    from .cli_check import composition_message, hydra_flag, unknown_key_message
    from .config import check_config_dir
    config_dir = hydra_flag(sys.argv[1:], "--config-dir", "-cd")
    if config_dir is not None:
        try:
            check_config_dir(config_dir)
        except ConfigError as e:
            print(f"sim: {e}", file=sys.stderr)
            sys.exit(2)
    msg = unknown_key_message(sys.argv[1:]) or composition_message(sys.argv[1:])
    if msg:
        print(msg, file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
