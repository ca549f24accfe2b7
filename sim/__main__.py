"""``python -m sim``: run the configured simulation with Hydra (overrides and ``-m`` sweeps)."""
from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from .config import ConfigError, validate

log = logging.getLogger("sim")


@hydra.main(version_base=None, config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig

    from .run import is_finished, run

    try:
        scfg = validate(cfg)
    except ConfigError as e:
        print(f"sim: {e}", file=sys.stderr)
        sys.exit(2)
    out_dir = scfg.output.dir or HydraConfig.get().runtime.output_dir
    if is_finished(out_dir):
        log.info("already finished, skipping: %s", out_dir)
        import json
        from pathlib import Path
        return json.loads((Path(out_dir) / "summary.json").read_text()).get("roi")
    try:
        summary = run(scfg, out_dir)
    except ConfigError as e:
        print(f"sim: {e}", file=sys.stderr)
        sys.exit(2)
    p = summary.get("paired", {})
    log.info("outputs in %s", out_dir)
    log.info("revenue %.2f | profit %.2f | ROI %.3f | churn/yr %.3f | mean CLV %.2f | top-20%% revenue share %.2f",
             summary["revenue"], summary["profit"], summary["roi"], summary["churn_rate_annual"],
             summary["mean_clv"], summary["top20_revenue_share"])
    if p:
        log.info("vs no-action control: incremental profit %.2f, strategy cost %.2f, ROI %.3f",
                 p["incremental_profit"], p["strategy_cost"], p["roi_vs_control"])
    log.info("finished in %.1f s", summary["elapsed_seconds"])
    return summary["roi"]


def cli() -> None:
    from .cli_check import unknown_key_message
    msg = unknown_key_message(sys.argv[1:])
    if msg:
        print(msg, file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
