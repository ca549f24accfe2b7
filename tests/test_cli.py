"""End to end: `python -m sim` on a small config, as a user runs it."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

SMALL = ["market.n_customers=400", "market.days=120", "engine.progress=false"]


def run_cli(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *SMALL, f"hydra.run.dir={tmp}", *args],
                          capture_output=True, text=True, timeout=300)


def test_python_m_sim_writes_every_output(tmp_path):
    r = run_cli(tmp_path)
    assert r.returncode == 0, r.stderr
    for f in ("timeseries.parquet", "customers.parquet", "transactions.parquet", "flows.parquet",
              "summary.json", "report.html", "config.json", "control_timeseries.parquet"):
        assert (tmp_path / f).stat().st_size > 0, f
    summ = json.loads((tmp_path / "summary.json").read_text())
    for k in ("roi", "churn_rate_annual", "mean_clv", "top20_revenue_share", "paired", "strategies", "seed"):
        assert k in summ
    assert summ["status"] == "complete"
    tx = pd.read_parquet(tmp_path / "transactions.parquet")
    assert list(tx.columns[:5]) == ["customer_id", "timestamp", "date", "amount", "channel"]
    assert round(tx.amount.sum(), 2) == round(summ["revenue"], 2)
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert {"stage_suspect", "stage_advocate", "churn_rate", "revenue", "marketing_spend", "profit"} <= set(ts.columns)
    html = (tmp_path / "report.html").read_text()
    assert "Plotly.newPlot" in html and '<script src="http' not in html  # self-contained
    for title in ("Customers by ladder stage", "Ladder flows", "Cohort retention", "Revenue and costs"):
        assert title in html


def test_same_seed_gives_byte_identical_outputs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli(a, "seed=7").returncode == 0
    assert run_cli(b, "seed=7").returncode == 0
    files = sorted(p.name for p in a.iterdir() if p.is_file() and p.suffix != ".log")
    assert "report.html" in files and "transactions.parquet" in files
    for f in files:
        ha = hashlib.sha256((a / f).read_bytes()).hexdigest()
        hb = hashlib.sha256((b / f).read_bytes()).hexdigest()
        assert ha == hb, f


def test_bad_config_stops_before_simulating(tmp_path):
    r = run_cli(tmp_path, "market.n_customers=-3")
    assert r.returncode == 2
    assert "market.n_customers = -3" in r.stderr and "greater than 0" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "summary.json").exists() and not (tmp_path / "timeseries.parquet").exists()


def test_finished_run_is_skipped(tmp_path):
    assert run_cli(tmp_path).returncode == 0
    stamp = (tmp_path / "summary.json").stat().st_mtime_ns
    r = run_cli(tmp_path)
    assert r.returncode == 0 and "already finished" in (r.stdout + r.stderr)
    assert (tmp_path / "summary.json").stat().st_mtime_ns == stamp


def test_persian_locale_report(tmp_path):
    assert run_cli(tmp_path, "output.locale=fa", "output.transactions=false").returncode == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    loyal = "مشتری وفادار"
    assert (loyal in html or json.dumps(loyal)[1:-1] in html) and 'dir="rtl"' in html
    assert not (tmp_path / "transactions.parquet").exists()


def test_command_line_typo_names_the_key_and_what_is_allowed(tmp_path):
    r = run_cli(tmp_path, "market.n_custmers=5")
    assert r.returncode == 2
    assert "unknown configuration key 'market.n_custmers'" in r.stderr
    assert "did you mean: market.n_customers" in r.stderr and "keys under 'market'" in r.stderr
    r = run_cli(tmp_path, "strategy=loyalty_programme", "strategy.loyalty_programme.point_rate=0.1")
    assert r.returncode == 2 and "strategy.loyalty_programme.points_rate" in r.stderr
    assert not (tmp_path / "summary.json").exists()


def test_unknown_strategy_lists_the_options(tmp_path):
    r = run_cli(tmp_path, "strategy=loyalty_programm")
    assert r.returncode != 0
    assert "Could not find 'strategy/loyalty_programm'" in r.stderr and "loyalty_programme" in r.stderr
