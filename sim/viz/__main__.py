"""``python -m sim.viz [--host H] [--port N] [hydra overrides...]``: serve the teaching view.

Overrides are the command line's (``+scenario=bad_service_shock``, ``output.locale=fa``,
``seed=3``, ``market.mean_spend=80``, ...): the scenario, language, seed, ``market.n_customers``,
``market.days`` and ``engine.dt`` become the page's starting settings; the others apply to every
market it builds. They come from the operator and are validated here; nothing a browser sends
ever becomes an override unchecked (see ``sim.viz.model``).
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .model import ENV_OVERRIDES


def main(argv: list[str] | None = None) -> None:
    """Command line of ``python -m sim.viz``: check the overrides, then serve the teaching view with Solara."""
    ap = argparse.ArgumentParser(prog="python -m sim.viz", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, as for python -m sim")
    args = ap.parse_args(argv)
    if args.overrides:  # fail here, with the config's own message, rather than in the browser
        from ..config import ConfigError, load
        try:
            load(args.overrides)
        except ConfigError as e:
            print(f"sim.viz: {e}", file=sys.stderr)
            sys.exit(2)
    env = dict(os.environ)
    env[ENV_OVERRIDES] = shlex.join(args.overrides)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no phoning home from a classroom
    app = Path(__file__).with_name("app.py")
    exe = Path(sys.executable).with_name("solara")
    # --no-check-version: solara would otherwise ask pypi.org for its latest version at start-up
    cmd = [str(exe), "run", str(app), "--host", args.host, "--port", str(args.port), "--production", "--no-open",
           "--no-check-version"]
    os.execvpe(cmd[0], cmd, env)  # noqa: S606 - a fixed argument list: the solara beside this Python, our app


if __name__ == "__main__":
    main()
