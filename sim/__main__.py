"""``python -m sim``: run the configured simulation with Hydra (overrides and ``-m`` sweeps)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import hydra
from omegaconf import DictConfig, OmegaConf

from . import sweep as _sweep  # noqa: F401 - registers the study configs' resolvers
from .config import ConfigError, resolve, validate

log = logging.getLogger("sim")


def _same_config(out_dir: str, scfg) -> bool:
    """Whether a finished run in ``out_dir`` was made with this very config."""
    p = Path(out_dir) / "config.json"
    try:
        old = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
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


@hydra.main(version_base=None, config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from .outputs import finished_summary
    from .run import run
    from .sweep import clear_failure, objective, sweep_options, write_failure

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        container = resolve(cfg)
        opts = sweep_options(container.pop("sweep", None))
        container.pop("study", None)  # free study parameters, used through interpolation only
        scfg = validate(container)
    except (ConfigError, ValueError) as e:  # one bad configuration must not stop the rest of a sweep
        _config_error(e, multirun, HydraConfig.get().runtime.output_dir)
    out_dir = scfg.output.dir or HydraConfig.get().runtime.output_dir
    done = finished_summary(out_dir)
    if done is not None:
        if not _same_config(out_dir, scfg):
            _config_error(ConfigError(f"{out_dir} holds a finished run made with a different config; "
                                      "use another output directory (hydra.sweep.dir=... / output.dir=...)"),
                          multirun)  # no failure marker: the directory holds a finished run
        log.info("already finished, skipping: %s", out_dir)
        return objective(done, opts)
    clear_failure(out_dir)
    try:
        summary = run(scfg, out_dir)
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


def cli() -> None:
    """The ``sim`` command and ``python -m sim``: check the command line, then run Hydra's main."""
    from .cli_check import hydra_flag, unknown_key_message
    from .config import check_config_dir
    config_dir = hydra_flag(sys.argv[1:], "--config-dir", "-cd")
    if config_dir is not None:
        try:
            check_config_dir(config_dir)
        except ConfigError as e:
            print(f"sim: {e}", file=sys.stderr)
            sys.exit(2)
    msg = unknown_key_message(sys.argv[1:])
    if msg:
        print(msg, file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
