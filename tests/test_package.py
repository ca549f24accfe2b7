"""The installed package: a built wheel runs ``sim`` and ``python -m sim`` from any directory, with
its configs inside it; and the market shadows no attribute of the installed ``mesa.Model``.

The wheel is built from a copy of the sources (``pip wheel --no-build-isolation``: no network)
and installed with ``--no-deps`` into a fresh virtual environment that borrows this
environment's installed dependencies through a ``.pth`` line, which keeps the test fast. The
project's own source tree is kept off the path, so only the wheel's files can answer.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import mesa

import sim
from sim.market import Market

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["market.n_customers=300", "market.days=30", "engine.progress=false"]


def _run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, f"{args}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def test_a_built_wheel_runs_sim_from_another_directory(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "sim", src / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "-w", str(tmp_path / "dist"), str(src)])
    wheel, = (tmp_path / "dist").glob("crm_ladder_sim-*.whl")
    import zipfile
    names = zipfile.ZipFile(wheel).namelist()
    assert "sim/configs/config.yaml" in names and "sim/configs/ladder/crm7.yaml" in names
    assert "sim/configs/hydra/launcher/local_parallel.yaml" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", str(wheel)])
    purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # the dependencies of this environment (a plain path line: its own .pth files, such as an
    # editable install of this project, are not processed)
    Path(purelib, "_borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(py), "-c", "import sim; print(sim.__file__)"], cwd=elsewhere, env=env).stdout.strip()
    assert where.startswith(purelib), where  # the wheel's copy, not the source tree

    _run([str(venv / "bin" / "sim"), *SMALL], cwd=elsewhere, env=env)  # Hydra's own run directory
    summaries = list((elsewhere / "outputs").glob("*/*/summary.json"))
    assert len(summaries) == 1 and json.loads(summaries[0].read_text())["status"] == "complete"
    assert (summaries[0].parent / "timeseries.parquet").exists() and (summaries[0].parent / "report.html").exists()

    _run([str(py), "-m", "sim", *SMALL, "ladder=simple5", "output.dir=run2"], cwd=elsewhere, env=env)
    assert json.loads((elsewhere / "run2" / "summary.json").read_text())["stage_counts_end"].keys() == {
        "suspect", "prospect", "customer", "loyal", "lost"}


#: Attributes newer Mesa releases give ``Model`` that the installed one may lack: Mesa 3.5 drives
#: ``step()`` from ``Model.time`` and has a ``Model.scenario`` property (issue 17's report).
NEWER_MESA = {"time", "scenario"}
#: What Mesa expects a model to set or override.
MESA_EXPECTS = {"step", "running", "__init__"}


def test_the_market_shadows_no_mesa_model_attribute(monkeypatch):
    base = mesa.Model()
    mesa_names = (set(dir(mesa.Model)) | set(vars(base)) | NEWER_MESA) - MESA_EXPECTS
    # methods and properties the market's own classes define
    own = {k for c in Market.__mro__ if c not in mesa.Model.__mro__ for k in vars(c)
           if not (k.startswith("__") and k.endswith("__"))}
    assert not own & mesa_names, sorted(own & mesa_names)
    # attributes the market's code assigns while it is built and run (Mesa's own assignments aside)
    assigned: set[str] = set()
    mesa_dir = Path(mesa.__file__).parent

    def spy(self, name, value):
        if not Path(sys._getframe(1).f_code.co_filename).is_relative_to(mesa_dir):
            assigned.add(name)
        object.__setattr__(self, name, value)

    monkeypatch.setattr(Market, "__setattr__", spy)
    for mode in ("batched", "agents"):
        sim.simulate(sim.load(SMALL + [f"engine.mode={mode}"]), progress=False)
    assert assigned and not assigned & mesa_names, sorted(assigned & mesa_names)
