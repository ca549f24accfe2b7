"""Sweeps end to end: Hydra multirun, resume-skip, collect (CI columns), launchers (basic, joblib,
Ray) giving identical results, Optuna, fault handling, and the ready studies in experiments/."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim import collect as col
from sim.run import is_finished

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["market.n_customers=300", "market.days=90", "engine.progress=false", "output.report=false",
         "output.transactions=false", "output.customers=false"]
SWEEP = ["strategy=churn_outreach,win_back", "seed=0,1", *SMALL]
N_JOBS = 4


def sim_cmd(*args: str, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "HYDRA_FULL_ERROR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=e)


def summaries(sweep_dir: Path) -> dict[str, bytes]:
    return {p.parent.relative_to(sweep_dir).as_posix(): p.read_bytes() for p in sorted(sweep_dir.rglob("summary.json"))}


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("basic") / "sweep"
    r = sim_cmd("-m", *SWEEP, f"hydra.sweep.dir={d}")
    assert r.returncode == 0, r.stderr[-3000:]
    return d, r


def test_multirun_runs_every_combination_and_collects(basic_sweep):
    d, r = basic_sweep
    out = r.stdout + r.stderr
    # not .control_cache: the shared controls
    jobs = sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs) == N_JOBS and all(is_finished(j) for j in jobs)
    seen = set()
    for j in jobs:
        ov = yaml.safe_load((j / ".hydra" / "overrides.yaml").read_text())
        cfg = json.loads((j / "config.json").read_text())
        strategy = next(o.split("=")[1] for o in ov if o.startswith("strategy="))
        assert list(cfg["strategy"]) == [strategy]
        seen.add((strategy, cfg["seed"]))
    assert seen == {(s, k) for s in ("churn_outreach", "win_back") for k in range(2)}
    # progress is visible: the job count up front and a running count after every job
    assert f"sweep: {N_JOBS} jobs" in out
    assert f"{N_JOBS}/{N_JOBS} done" in out
    # the collect callback ran at the end of the sweep
    runs = pd.read_parquet(d / "collected.parquet")
    assert len(runs) == N_JOBS
    assert (d / "comparison.html").exists() and (d / "comparison.parquet").exists()


def test_collect_confidence_intervals(basic_sweep):
    d, _ = basic_sweep
    assert col.main([str(d), "--no-progress", "--strict"]) == 0
    runs = pd.read_parquet(d / "collected.parquet")
    comp = pd.read_parquet(d / "comparison.parquet")
    for c in ("group", "metric", "mean", "sd", "ci_low", "ci_high", "n"):
        assert c in comp.columns
    assert set(comp["group"]) == {"strategy=churn_outreach", "strategy=win_back"}
    assert {"roi_vs_control", "incremental_net_profit", "churn_rate_change", "clv_change", "roi",
            "churn_rate_annual", "mean_clv"} <= set(comp["metric"])
    # the paired figures in the table are the ones in each run's summary
    for run in runs.itertuples():
        s = json.loads((d / run.run / "summary.json").read_text())
        assert run.roi_vs_control == pytest.approx(s["paired"]["roi_vs_control"])
        assert run.churn_rate_annual == pytest.approx(s["churn_rate_annual"])
        assert run.clv_change == pytest.approx(s["mean_clv"] - s["paired"]["control_mean_clv"])
    # every interval is the 95 % t-interval of the replications of its group
    for row in comp.itertuples():
        x = runs.loc[runs["strategy"] == row.group.split("=")[1], row.metric].astype(float).to_numpy()
        assert row.n == len(x) == 2
        half = stats.t.ppf(0.975, 1) * x.std(ddof=1) / math.sqrt(2)
        assert row.mean == pytest.approx(x.mean())
        assert row.ci_low == pytest.approx(x.mean() - half)
        assert row.ci_high == pytest.approx(x.mean() + half)
        assert row.ci_low <= row.mean <= row.ci_high
    html = (d / "comparison.html").read_text()
    assert 'id="cmp-paired"' in html and "ROI vs no-action control" in html
    assert "<script src=" not in html  # self-contained: plotly.js inline


def test_t_interval_edge_cases():
    m, sd, lo, hi, n = col.t_interval(np.array([1.0]))
    assert (m, n) == (1.0, 1) and math.isnan(lo) and math.isnan(hi)
    m, sd, lo, hi, n = col.t_interval(np.array([1.0, 3.0, np.nan]))
    assert n == 2 and m == 2.0 and lo < 2.0 < hi


def test_rerun_skips_finished_runs(basic_sweep):
    d, _ = basic_sweep
    before = {p: p.stat().st_mtime_ns for p in d.rglob("summary.json")}
    r = sim_cmd("-m", *SWEEP, f"hydra.sweep.dir={d}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (r.stdout + r.stderr).count("already finished, skipping") == N_JOBS
    assert {p: p.stat().st_mtime_ns for p in d.rglob("summary.json")} == before


def test_rerun_with_a_different_config_is_refused(basic_sweep, tmp_path):
    d, _ = basic_sweep
    before = summaries(d)
    r = sim_cmd("-m", *SWEEP, "market.days=91", "hydra.sweep.subdir=${hydra.job.num}", f"hydra.sweep.dir={d}")
    assert r.returncode != 0
    assert "different config" in r.stderr
    assert summaries(d) == before


def test_joblib_launcher_gives_identical_summaries(basic_sweep, tmp_path):
    d, _ = basic_sweep
    j = tmp_path / "joblib"
    r = sim_cmd("-m", "hydra/launcher=local_parallel", "hydra.launcher.n_jobs=2", *SWEEP, f"hydra.sweep.dir={j}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in r.stdout + r.stderr
    assert summaries(j) == summaries(d) and len(summaries(j)) == N_JOBS


@pytest.mark.slow
def test_ray_launcher_on_a_local_instance_gives_identical_summaries(basic_sweep, tmp_path):
    pytest.importorskip("ray")
    d, _ = basic_sweep
    rd = tmp_path / "ray"
    r = sim_cmd("-m", "hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2", *SWEEP,
                f"hydra.sweep.dir={rd}", timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Ray Launcher is launching 4 jobs" in r.stdout + r.stderr
    assert summaries(rd) == summaries(d) and len(summaries(rd)) == N_JOBS


def test_sweep_with_a_failing_configuration_finishes_the_others(tmp_path):
    d = tmp_path / "fail"
    # the first job fails (threshold out of range: a config error caught when strategies are built)
    r = sim_cmd("-m", "strategy=churn_outreach", "strategy.churn_outreach.threshold=1.5,0.5", "seed=0",
                *SMALL, f"hydra.sweep.dir={d}")
    assert r.returncode != 0
    assert "threshold" in r.stderr
    assert not is_finished(d / "0") and (d / "0" / "failed.json").exists()
    assert is_finished(d / "1")
    c = col.collect(d, progress=False)
    assert len(c.runs) == 1 and c.runs.loc[0, "param.strategy.churn_outreach.threshold"] == 0.5
    assert [f[0] for f in c.failed] == ["0"] and "threshold" in c.failed[0][1]
    assert col.main([str(d), "--no-progress", "--strict"]) == 1
    assert "Failed runs" in (d / "comparison.html").read_text()


KILL = r"""
import os, signal, sys
_replace = os.replace
def replace(src, dst, *a, **k):
    if str(dst).endswith("control_timeseries.parquet"):   # mid-way through writing the outputs
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(src, dst, *a, **k)
os.replace = replace
import runpy
sys.argv = ["sim", *sys.argv[1:]]
runpy.run_module("sim", run_name="__main__", alter_sys=True)
"""


def test_killed_run_is_never_read_as_finished_and_is_redone(basic_sweep, tmp_path):
    d0, _ = basic_sweep
    d = tmp_path / "killed"
    r = subprocess.run([sys.executable, "-c", KILL, "-m", *SWEEP, f"hydra.sweep.dir={d}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == -9
    job = d / "0"
    assert (job / "timeseries.parquet").exists()  # it got part of the way through its outputs
    assert not (job / "summary.json").exists() and not is_finished(job)
    # files under their final names are complete (they read); anything half-written is a hidden .part
    for p in job.glob("*.parquet"):
        if not p.name.startswith("."):
            assert len(pd.read_parquet(p)) > 0
    assert all(p.name.startswith(".") for p in job.glob("*.part"))
    assert not (job / "control_timeseries.parquet").exists()
    c = col.collect(d, progress=False)
    assert c.runs.empty and c.incomplete == ["0"]
    # the same sweep again: the killed run is redone; results equal an uninterrupted sweep's
    r = sim_cmd("-m", *SWEEP, f"hydra.sweep.dir={d}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert summaries(d) == summaries(d0)


def test_optuna_study_optimises_and_resumes(tmp_path):
    pytest.importorskip("optuna")
    d = tmp_path / "optuna"
    args = ["--config-dir", "experiments", "--config-name", "optimise_churn_outreach", *SMALL,
            "hydra.sweeper.n_trials=3", f"hydra.sweep.dir={d}"]
    r = sim_cmd(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    res = yaml.safe_load((d / "optimization_results.yaml").read_text())
    values = {}
    for s in d.rglob("summary.json"):
        values[s.parent.name] = json.loads(s.read_text())["paired"]["roi_vs_control"]
    assert len(values) == 3
    assert res["best_value"] == pytest.approx(max(values.values()))
    assert len(set(values.values())) > 1  # the trials really differ
    runs = pd.read_parquet(d / "collected.parquet")
    assert {"param.strategy.churn_outreach.threshold", "param.strategy.churn_outreach.satisfaction_boost"} \
        <= set(runs.columns)
    # re-run: the seeded sampler proposes the same trials; all are skipped, same optimum
    r2 = sim_cmd(*args)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert (r2.stdout + r2.stderr).count("already finished, skipping") == 3
    assert yaml.safe_load((d / "optimization_results.yaml").read_text()) == res


def test_churn_cap_objective():
    from sim.sweep import objective, sweep_options
    s = {"churn_rate_annual": 0.4, "roi": 1.0, "paired": {"incremental_net_profit": 50.0, "control_mean_clv": 1}}
    assert objective(s, sweep_options({"objective": "incremental_net_profit"})) == 50.0
    assert objective(s, sweep_options({"objective": "incremental_net_profit", "churn_cap": 0.5})) == 50.0
    capped = objective(s, sweep_options({"objective": "incremental_net_profit", "churn_cap": 0.3}))
    worse = objective({**s, "churn_rate_annual": 0.5}, sweep_options({"objective": "incremental_net_profit",
                                                                        "churn_cap": 0.3}))
    assert capped < -1e8 and worse < capped
    # undefined (no paired control): None, which Optuna's sweeper records as a failed trial
    assert objective({"roi": 1.0, "churn_rate_annual": 0.1}, sweep_options({"objective": "roi_vs_control"})) is None
    with pytest.raises(ValueError):
        sweep_options({"objective": "roi", "typo": 1})


STUDIES = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml"))


def test_every_study_is_documented():
    readme = (ROOT / "experiments" / "README.md").read_text()
    assert {"retention_vs_acquisition", "loyalty_generosity", "churn_outreach_threshold",
            "value_targeting"} <= set(STUDIES)
    for s in STUDIES:
        line = next((ln for ln in readme.splitlines() if f"`{s}`" in ln), None)
        assert line is not None and "?" in line, f"experiments/README.md: no line with the question of {s}"


@pytest.mark.parametrize("study", STUDIES)
def test_study_composes_and_validates_for_every_swept_value(study):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf, open_dict

    import sim
    from sim.sweep import sweep_options

    def load(overrides):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(ROOT / "experiments"), version_base=None):
            return compose(study, overrides=[f"hydra.searchpath=[file://{sim.config.CONFIG_DIR}]", *overrides],
                           return_hydra_config=True)

    cfg = load([])
    assert cfg.hydra.mode.name == "MULTIRUN"
    params = OmegaConf.to_container(cfg.hydra.sweeper.params)
    assert params
    # one value of each swept parameter (the first, or an end of an interval) makes a valid config
    overrides = []
    for k, v in params.items():
        v = str(v)
        m = re.match(r"(interval|range|choice)\((.*)\)", v)
        first = m.group(2).split(",")[0].strip() if m else v.split(",")[0]
        overrides.append(f"{k}={first}")
    composed = load(overrides)
    with open_dict(composed):
        del composed["hydra"]
    c = OmegaConf.to_container(composed, resolve=True)
    sweep_options(c.pop("sweep", None))
    c.pop("study", None)
    sim.validate(c)


def _fake_run(job: Path, threshold: float, seed: int, roi_vs_control: float, churn: float) -> None:
    (job / ".hydra").mkdir(parents=True)
    (job / "run.json").write_text(json.dumps(  # what the run recorded when it started
        {"overrides": [f"strategy.churn_outreach.threshold={threshold}", f"seed={seed}", "market.days=90"]}))
    (job / "config.json").write_text(json.dumps({"seed": seed, "replication": 0,
                                                 "strategy": {"churn_outreach": {"threshold": threshold}}}))
    (job / "summary.json").write_text(json.dumps({
        "status": "complete", "roi": 1.0, "profit": 10.0, "revenue": 20.0, "churn_rate_annual": churn,
        "mean_clv": 5.0, "seed": {"seed": seed, "replication": 0},
        "paired": {"roi_vs_control": roi_vs_control, "control_mean_clv": 4.0, "incremental_net_profit": 1.0}}))


def test_collect_groups_a_numeric_sweep_and_draws_response_curves(tmp_path):
    d = tmp_path / "sweep"
    k = 0
    for t in (0.7, 0.3, 0.5):
        for seed in (0, 1, 2):
            _fake_run(d / str(k), t, seed, roi_vs_control=10 * t + seed, churn=t / 2)
            k += 1
    (d / str(k) / ".hydra").mkdir(parents=True)  # a run that never finished
    c = col.collect(d, progress=False)
    assert c.params == ["param.strategy.churn_outreach.threshold"]
    assert c.incomplete == [str(k)] and len(c.runs) == 9
    roi = c.comparison[c.comparison["metric"] == "roi_vs_control"]
    assert roi["param.strategy.churn_outreach.threshold"].tolist() == [0.3, 0.5, 0.7]  # numeric order
    for t, row in zip(roi["param.strategy.churn_outreach.threshold"], roi.itertuples(), strict=True):
        x = np.array([10 * t + s for s in (0, 1, 2)])
        assert row.mean == pytest.approx(x.mean()) and row.n == 3
        assert row.ci_high - row.ci_low == pytest.approx(2 * stats.t.ppf(0.975, 2) * x.std(ddof=1) / math.sqrt(3))
    clv = c.comparison[c.comparison["metric"] == "clv_change"]
    assert clv["mean"].tolist() == pytest.approx([1.0, 1.0, 1.0]) and clv["sd"].tolist() == [0.0] * 3
    col.write(c, d)
    html = (d / "comparison.html").read_text()
    assert 'id="cmp-response-0"' in html and "Response to strategy.churn_outreach.threshold" in html
    first = html
    col.write(col.collect(d, progress=False), d)
    assert (d / "comparison.html").read_text() == first  # deterministic output
