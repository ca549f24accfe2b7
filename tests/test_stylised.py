"""Believable economics: the default market lands inside every published range (at small size)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.validation.stylised import measure

# half the default market; fixed overheads set so its operating margin is the default market's (about 3 %)
SMALL = ["market.n_customers=2000", "economics.fixed_cost_per_month=22000", "engine.progress=false"]


@pytest.mark.slow
def test_defaults_land_inside_every_published_range():
    res = measure(SMALL)
    out = [f"{f['figure']}: {f['simulated']} not in [{f['low']}, {f['high']}]" for f in res["facts"] if not f["inside"]]
    assert not out, out
    assert max(v["roi"] for v in res["single_strategies"].values()) < 10
    # e-mail offers to buy persuade a few percent at most
    for p in res["probes"]:
        if p["response_key"].startswith("email"):
            assert p["response_rate"] < 0.02


def test_stylised_command_writes_report_and_results(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim.validation", "stylised", "market.n_customers=300",
                        "market.days=120", "--output", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "results.json").read_text())
    assert len(res["facts"]) == 11 and all("source" in f for f in res["facts"])
    assert "published range" in (tmp_path / "report.html").read_text()
    assert "people a dissatisfied customer tells" in r.stdout
