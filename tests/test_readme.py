"""The README's code runs, so its examples cannot rot.

* A ```python or ```yaml block whose first line is a comment naming a file (``# my_strategies.py``,
  ``# my_configs/strategy/birthday_coupon.yaml``) is that file: it is written into a fresh
  folder, where the other blocks run.
* Every other ```python block is run there as a script, unless the line before it is
  ``<!-- no-test -->`` (long studies, third-party libraries that are not dependencies).
* The README's command for the user's own strategy (``--config-dir my_configs``) is run on a
  small market with the files above, and the coupon must be charged.
"""
from __future__ import annotations

import json
import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NO_TEST = "<!-- no-test -->"
SMALL = ["market.n_customers=1000", "market.days=120", "engine.progress=false"]


def readme_blocks() -> list[dict]:
    """Every fenced block: language, body, first line number, and whether it is marked no-test."""
    out, lines = [], README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        prev = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        out.append({"lang": m.group(1), "body": "\n".join(lines[i + 1:j]) + "\n", "line": i + 1,
                    "skip": prev == NO_TEST})
        i = j + 1
    return out


def file_name(block: dict) -> str | None:
    """The file a block stands for (its first line is ``# path.py`` or ``# path.yaml``), or None."""
    m = re.match(r"^# ([\w./-]+\.(?:py|yaml))\s*$", block["body"].splitlines()[0])
    return m.group(1) if m and block["lang"] in ("python", "yaml") else None


BLOCKS = readme_blocks()
FILES = [b for b in BLOCKS if file_name(b) and not b["skip"]]
SCRIPTS = [b for b in BLOCKS if b["lang"] == "python" and not file_name(b) and not b["skip"]]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding the README's files, as a user would lay them out."""
    for b in FILES:
        p = tmp_path / file_name(b)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(b["body"], encoding="utf-8")
    return tmp_path


def test_the_readme_has_runnable_examples():
    names = {file_name(b) for b in FILES}
    assert {"my_strategies.py", "my_configs/strategy/birthday_coupon.yaml"} <= names
    assert len(SCRIPTS) >= 3, "the Python API section's examples"


@pytest.mark.parametrize("block", SCRIPTS, ids=[f"README.md:{b['line']}" for b in SCRIPTS])
def test_readme_python_block_runs(block, workdir, monkeypatch):
    """Run as ``python block.py`` would from the user's folder (in this process: no start-up cost)."""
    script = workdir / f"readme_block_{block['line']}.py"
    script.write_text(block["body"], encoding="utf-8")
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    runpy.run_path(str(script), run_name="__main__")


def test_a_users_own_config_starts_from_the_packaged_one(workdir):
    import sim
    cfg = sim.load([], config_name="my_study", config_dir=workdir / "my_configs")
    assert cfg.market.n_customers == 20000 and list(cfg.strategy) == ["win_back"]
    assert cfg.market.days == sim.load([]).market.days  # everything else as packaged


def test_the_users_own_strategy_runs_and_charges_its_coupon(workdir):
    """The BirthdayCoupon class and its YAML, in a folder of the user's, run with the README's command."""
    cmds = [ln.strip() for b in BLOCKS if b["lang"] == "bash" for ln in b["body"].splitlines()
            if "--config-dir my_configs" in ln and "strategy=birthday_coupon" in ln]
    assert cmds, "the README shows how to run the user's strategy"
    args = shlex.split(cmds[0])
    assert args[:3] == ["python", "-m", "sim"], args
    out = workdir / "run"
    r = subprocess.run([sys.executable, *args[1:], *SMALL, f"output.dir={out}",
                        f"hydra.run.dir={workdir / 'hydra'}"],
                       cwd=workdir, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    summ = json.loads((out / "summary.json").read_text())
    bc = summ["strategies"]["birthday_coupon"]
    assert bc["class"] == "BirthdayCoupon" and bc["contacts"] > 0 and bc["redemptions"] > 0, bc
    cfg = json.loads((out / "config.json").read_text())
    coupon, channel = cfg["strategy"]["birthday_coupon"]["coupon"], cfg["strategy"]["birthday_coupon"]["channel"]
    contact_cost = cfg["channels"][channel]["cost"]
    # the strategy paid each contact and each coupon used, to the cent
    assert bc["spend"] == pytest.approx(bc["contacts"] * contact_cost + bc["redemptions"] * coupon, abs=0.005)
