"""The Python API beyond the README's examples: a study resumes and survives a bad run; a user's
config folder joins the packaged configs, and one that would be silently hidden is refused."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["strategy=win_back", "market.n_customers=200", "market.days=30"]


def test_a_study_collects_resumes_and_lists_a_failed_run(tmp_path, capsys):
    out = tmp_path / "study"
    c = sim.study({"strategy.win_back.offer": [2, -5]}, out, overrides=SMALL, seeds=[0], progress=False)
    assert len(c.runs) == 1 and c.runs["param.strategy.win_back.offer"].tolist() == [2]
    assert len(c.failed) == 1 and "strategy.win_back.offer" in c.failed[0][1]
    assert {"collected.parquet", "comparison.parquet", "comparison.html"} <= {p.name for p in out.iterdir()}
    done = next(out.glob("*offer=2*")) / "summary.json"
    stamp = done.stat().st_mtime_ns
    again = sim.study({"strategy.win_back.offer": [2, -5]}, out, overrides=SMALL, seeds=[0], progress=False)
    assert done.stat().st_mtime_ns == stamp  # the finished run was skipped, not redone
    assert again.runs.drop(columns="run").equals(c.runs.drop(columns="run"))
    # the command line's collector reads the same directory
    from sim.collect import main
    assert main([str(out), "--no-progress", "--strict"]) == 1  # one run failed
    assert "1 finished run(s), 1 failed" in capsys.readouterr().out


def test_a_users_config_folder_joins_the_packaged_one(tmp_path):
    (tmp_path / "ladder").mkdir()
    (tmp_path / "ladder" / "mine.yaml").write_text((sim.config.CONFIG_DIR / "ladder" / "simple5.yaml").read_text())
    cfg = sim.load(["ladder=mine", "market.n_customers=100"], config_dir=tmp_path)
    assert [s.name for s in cfg.ladder.stages] == ["suspect", "prospect", "customer", "loyal", "lost"]
    (tmp_path / "market").mkdir()
    (tmp_path / "market" / "default.yaml").write_text("n_customers: 5\n")
    with pytest.raises(ConfigError, match="market/default.yaml would be hidden"):
        sim.load([], config_dir=tmp_path)
    r = subprocess.run([sys.executable, "-m", "sim", "--config-dir", str(tmp_path)], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2 and "market/default.yaml would be hidden" in r.stderr, r.stderr


def test_command_line_keys_are_checked_against_the_config_it_runs():
    from sim.cli_check import unknown_key_message
    study = ["--config-dir", str(ROOT / "experiments"), "--config-name", "retention_vs_acquisition"]
    assert unknown_key_message([*study, "study.total_budget=1000"]) is None  # a key of the study's own
    assert "did you mean: study.total_budget" in unknown_key_message([*study, "study.total_budgt=1000"])
