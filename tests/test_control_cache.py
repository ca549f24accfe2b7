"""The shared paired control: computed once per market and seed, byte-identical to computing it."""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

import sim
from sim import control_cache as cc
from sim import metrics
from sim.run import run

SMALL = ["market.n_customers=400", "market.days=60", "engine.progress=false", "output.report=false",
         "output.transactions=false", "output.customers=false"]


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def test_key_ignores_firm_strategies_and_output_but_not_market_or_seed():
    a = sim.load([*SMALL, "strategy=churn_outreach"])
    b = sim.load([*SMALL, "strategy=win_back", "output.report=true"])
    assert cc.control_key(a) == cc.control_key(b)
    assert cc.control_key(a) != cc.control_key(sim.load([*SMALL, "strategy=churn_outreach", "seed=1"]))
    assert cc.control_key(a) != cc.control_key(sim.load([*SMALL, "strategy=churn_outreach", "market.days=61"]))
    # a market event (environment plug-in) is part of the control
    shock = sim.load([*SMALL, "+scenario=bad_service_shock"])
    assert any(not v["_target_"].endswith("ServiceShock") for v in shock.strategy.values())
    assert cc.control_key(shock) != cc.control_key(a)
    assert cc.control_config(shock)["strategy"] and all(
        v["_target_"].endswith("ServiceShock") for v in cc.control_config(shock)["strategy"].values())


def test_sweep_outputs_identical_with_and_without_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(cc.ENV, raising=False)
    for strategy in ("churn_outreach", "win_back", "loyalty_programme"):
        for seed in (0, 1):
            cfg = sim.load([*SMALL, f"strategy={strategy}", f"seed={seed}"])
            run(cfg, tmp_path / "plain" / f"{strategy}_{seed}")
            run(cfg, tmp_path / "cached" / f"{strategy}_{seed}", control_cache=tmp_path / "cache")
    entries = sorted(p for p in (tmp_path / "cache").iterdir())
    assert len(entries) == 2  # one control per seed, shared by the three strategies
    for d in sorted((tmp_path / "plain").iterdir()):
        got = _files(tmp_path / "cached" / d.name)
        want = _files(d)
        assert got.keys() == want.keys() and "control_timeseries.parquet" in got
        for k in want:
            assert got[k] == want[k], f"{d.name}/{k} differs with the shared control"


def test_cached_control_is_not_recomputed(tmp_path, monkeypatch):
    cfg = sim.load([*SMALL, "strategy=churn_outreach"])
    n = []

    def compute():
        n.append(1)
        m = sim.build(cfg, with_strategies=False).run(progress=False)
        return metrics.summary(m), metrics.timeseries(m)

    a = cc.shared_control(cfg, compute, tmp_path)
    b = cc.shared_control(sim.load([*SMALL, "strategy=win_back"]), compute, tmp_path)
    assert len(n) == 1 and a[0] == b[0] and a[1].equals(b[1])
    # a half-written entry (no completion marker) is recomputed, never read
    entry = tmp_path / cc.control_key(cfg)
    (entry / cc._DONE).unlink()
    cc.shared_control(cfg, compute, tmp_path)
    assert len(n) == 2
    # without a directory (and no environment variable) it is simply computed
    monkeypatch.delenv(cc.ENV, raising=False)
    cc.shared_control(cfg, compute, None)
    assert len(n) == 3


def _worker(args):
    cache, seed = args
    cfg = sim.load([*SMALL, "strategy=churn_outreach", f"seed={seed}"])
    counter = Path(cache) / "computed"

    def compute():
        with open(counter, "a") as f:
            f.write("x")
        m = sim.build(cfg, with_strategies=False).run(progress=False)
        return metrics.summary(m), metrics.timeseries(m)

    s, _ = cc.shared_control(cfg, compute, cache)
    return s["profit"]


def test_two_processes_compute_a_control_once(tmp_path):
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        profits = pool.map(_worker, [(str(tmp_path), 0)] * 4)
    assert len(set(profits)) == 1
    assert (tmp_path / "computed").read_text() == "x"


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
