"""Budget allocation (sim.allocate) and global sensitivity (sim.sensitivity): mechanics on constructed
data and tiny markets, never the default economics' numbers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.allocate import search_space
from sim.sensitivity import analyse

ROOT = Path(__file__).resolve().parents[1]
TINY = ["market.n_customers=200", "market.days=60"]


def test_search_space_reads_the_sweeper_params_and_rejects_others():
    sp = search_space({"a": "interval(0.0, 1.0)", "b": "range(1, 4)", "c": "choice(x, y)"})
    assert sp == {"a": ("float", (0.0, 1.0)), "b": ("int", (1, 3)), "c": ("choice", ["x", "y"])}
    with pytest.raises(ValueError, match="hydra.sweeper.params.d"):
        search_space({"d": "0.1,0.2"})


def test_allocation_searches_confirms_on_fresh_seeds_and_ranks_the_splits(tmp_path):
    out = tmp_path / "alloc"
    r = subprocess.run([sys.executable, "-m", "sim.allocate", "--trials", "2", "--seeds", "1", "--confirm", "2",
                        "--confirm-seeds", "2", "--no-progress", "--out", str(out), *TINY, "study.total_budget=2000"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    trials, conf, rank = (pd.read_csv(out / f) for f in ("trials.csv", "confirm.csv", "ranking.csv"))
    assert len(trials) == 2 and set(trials["seed"]) == {0}
    # the confirmation runs the two best splits on seeds the search never saw
    assert len(conf) == 4 and set(conf["seed"]) == {1000, 1001} and conf["trial"].nunique() == 2
    shares = trials.filter(like="share.").sum(axis=1)
    assert np.allclose(shares, 1.0) and np.allclose(trials["budget"], 2000, atol=0.05)
    assert len(rank) == 2 and rank["option"].str.startswith("trial ").all() and set(rank["n"]) == {2}
    assert rank["mean"].iloc[0] >= rank["mean"].iloc[1]
    assert r.stdout.startswith("Best option: trial ")
    assert "Ranking by" in (out / "allocation.html").read_text()


def test_sensitivity_finds_the_parameter_that_drives_the_answer():
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 2, "names": ["drives", "idle"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = sobol_sample.sample(problem, 64, calc_second_order=False, seed=0)
    # option a earns 10·drives, option b a flat 4: a is best where drives > 0.4 (60 % of worlds)
    Y = np.column_stack([10 * X[:, 0], np.full(len(X), 4.0)])
    res = analyse(problem, X, Y, ["a", "b"], "incremental_net_profit")
    assert res["recommendation"] == "a" and res["runner_up"] == "b"
    assert res["stays_best_share"] == pytest.approx(np.mean(X[:, 0] > 0.4))
    lead = res["lead"]["sobol"]
    assert lead["drives"]["ST"] > 0.8 and abs(lead["idle"]["ST"]) < 0.05
    assert "drives" in res["verdict"] and "stays best in" in res["verdict"]


def test_sensitivity_cli_on_a_tiny_study(tmp_path):
    study = tmp_path / "tiny_sens.yaml"
    study.write_text("""
defaults:
  - config
  - override strategy: win_back
  - override hydra/sweeper: optuna
  - _self_
study:
  options:
    win_back: [strategy=win_back]
    none: [strategy=none]
sweep:
  objective: incremental_net_profit
hydra:
  mode: MULTIRUN
  sweeper:
    params:
      market.defection: interval(0.0006, 0.0024)
""")
    out = tmp_path / "sens"
    r = subprocess.run([sys.executable, "-m", "sim.sensitivity", "--config-dir", str(tmp_path), "--config-name",
                        "tiny_sens", "--samples", "2", "--no-progress", "--out", str(out), *TINY],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "sensitivity.json").read_text())
    assert res["worlds"] == 2 * (1 + 2) and set(res["options"]) == {"win_back", "none"}
    assert len(res["samples_table"]["market.defection"]) == 6
    assert all(0.0006 <= x <= 0.0024 for x in res["samples_table"]["market.defection"])
    assert "Sobol" in (out / "sensitivity.html").read_text()
    bad = subprocess.run([sys.executable, "-m", "sim.sensitivity", "--config-dir", str(tmp_path), "--config-name",
                          "tiny_sens", "--samples", "3", "--no-progress", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "power of 2" in bad.stderr
