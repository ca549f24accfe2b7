"""Hardening (issue 11): configs name classes, never code; one run owns its directory and leaves
only its own files; collect trusts what runs recorded and survives corrupted runs; a NaN trial
does not stop an Optuna study; killed runs leave nothing behind for long. The bad-input table is
in tests/test_bad_inputs.py."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import sim
from sim import collect as col
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["market.n_customers=300", "market.days=60", "engine.progress=false", "output.report=false"]


def sim_cmd(*args: str, cwd: Path = ROOT, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------------ 1. no code from configs

def test_a_nested_target_is_checked_before_anything_is_called(tmp_path, monkeypatch):
    """A segment naming a non-plug-in class (here one that writes a file when called, in an
    importable module) stops with the key named, and the class is never called."""
    marker = tmp_path / "called"
    (tmp_path / "evil_plugin.py").write_text(
        "class Evil:\n"
        "    def __init__(self, **kw):\n"
        f"        open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from sim.strategies import build_strategies
    spec = {"win_back": {"_target_": "sim.strategies.WinBack", "segment": {"_target_": "evil_plugin.Evil"}}}
    with pytest.raises(ConfigError, match=r"strategy\.win_back\.segment\._target_ = 'evil_plugin\.Evil'"):
        build_strategies(spec)
    assert not marker.exists()
    spec = {"win_back": {"_target_": "sim.strategies.WinBack",
                         "segment": {"_target_": "subprocess.Popen", "args": ["touch", str(marker)]}}}
    with pytest.raises(ConfigError, match="segment._target_"):
        build_strategies(spec)
    time.sleep(0.2)
    assert not marker.exists()


# ------------------------------------------------------------------------ 3. one run owns its directory

def test_a_second_run_into_a_held_directory_stops_with_exit_2(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds the directory
    try:
        r = sim_cmd(*SMALL, f"output.dir={out}", f"hydra.run.dir={tmp_path / 'h'}")
    finally:
        os.close(fd)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "is in use by another run" in r.stderr and "Traceback" not in r.stderr
    assert not (out / "summary.json").exists()


def test_default_run_directories_never_share_a_second():
    from omegaconf import OmegaConf
    cfg = OmegaConf.load(ROOT / "sim" / "configs" / "config.yaml")
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        raw = OmegaConf.to_container(OmegaConf.select(cfg, key.rsplit(".", 1)[0]), resolve=False)["dir"]
        assert "%f" in raw, (key, raw)  # microseconds in the name


# ------------------------------------------------------------------------ 4. only this run's files

def test_a_rerun_after_a_kill_leaves_only_its_own_files(tmp_path):
    out = tmp_path / "run"
    sim.run(sim.load([*SMALL]), out, progress=False)
    assert (out / "transactions.parquet").exists() and (out / "control_timeseries.parquet").exists()
    (out / "summary.json").unlink()  # killed before its summary
    (out / ".flows.parquet.x1.part").write_bytes(b"half")
    cfg = sim.load([*SMALL, "output.transactions=false", "output.customers=false", "strategy=none"])
    summ = sim.run(cfg, out, progress=False)
    present = {p.name for p in out.iterdir() if p.is_file() and p.name not in (".lock", "summary.json")}
    assert present == set(summ["files"])
    assert not (out / "transactions.parquet").exists() and not (out / "control_timeseries.parquet").exists()
    assert not list(out.glob("*.part"))


# ------------------------------------------------------------------------ 5. parameters from the run's own record

def test_collect_labels_runs_with_what_they_recorded_not_a_later_refused_resume(finished_run, tmp_path):
    """A resume with another config is refused, but Hydra has already rewritten the job's
    .hydra/overrides.yaml (seen with ``python -m sim -m market.days=60`` then ``market.days=90``
    into the same sweep directory); collect must still label the run with its own values."""
    job = _copy_run(finished_run, tmp_path / "sweep" / "0")
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["market.days=90"]))
    c = col.collect(tmp_path / "sweep", progress=False)
    assert c.runs["param.market.days"].tolist() == [60]
    assert c.runs["days"].tolist() == [60]


# ------------------------------------------------------------------------ 6. corrupted runs

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    sim.run(sim.load(SMALL), out, progress=False, overrides=["market.days=60"])
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    import shutil
    shutil.copytree(src, dst)
    (dst / ".hydra").mkdir(exist_ok=True)
    return dst


def test_collect_lists_corrupted_runs_as_bad_and_collects_the_rest(finished_run, tmp_path, capsys):
    d = tmp_path / "sweep"
    _copy_run(finished_run, d / "0")
    (_copy_run(finished_run, d / "1") / "summary.json").write_text("null")
    (_copy_run(finished_run, d / "2") / "config.json").write_text("{not json")
    p = _copy_run(finished_run, d / "3") / "timeseries.parquet"
    p.write_bytes(b"\0" * p.stat().st_size)  # same size, broken footer
    (_copy_run(finished_run, d / "4") / "customers.parquet").unlink()
    (_copy_run(finished_run, d / "5") / "summary.json").write_text("[1, 2]")
    c = col.collect(d, progress=False)
    assert c.runs["run"].tolist() == ["0"]
    bad = dict(c.bad)
    assert set(bad) == {"1", "2", "3", "4", "5"}
    assert "summary.json holds NoneType" in bad["1"] and "config.json does not read" in bad["2"]
    assert "timeseries.parquet is not a readable Parquet file" in bad["3"]
    assert "customers.parquet is missing" in bad["4"]
    assert col.main([str(d), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 finished run(s)" in out and "BAD      1:" in out


def test_python_m_sim_into_a_corrupted_directory_redoes_the_run(finished_run, tmp_path):
    out = _copy_run(finished_run, tmp_path / "run")
    (out / "summary.json").write_text("null")
    (out / "config.json").write_text("{not json")
    r = sim_cmd(*SMALL, f"output.dir={out}", f"hydra.run.dir={tmp_path / 'h'}")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"


def test_collect_refuses_a_directory_that_is_not_a_sweep(tmp_path, capsys):
    assert col.main(["/", "--no-progress"]) == 2
    assert "does not look like a sweep directory" in capsys.readouterr().err
    deep = tmp_path / "a" / "b" / "c" / "d" / "e" / "job"
    deep.mkdir(parents=True)
    (deep / "summary.json").write_text("{}")
    (tmp_path / "multirun.yaml").write_text("{}")
    assert col._job_dirs(tmp_path) == []  # the walk is bounded (4 levels)


# ------------------------------------------------------------------------ 7. a NaN trial in an Optuna study

def test_a_nan_trial_is_marked_failed_and_the_study_goes_on(tmp_path):
    pytest.importorskip("optuna")
    cd = tmp_path / "studies"
    cd.mkdir()
    (cd / "nan_study.yaml").write_text(yaml.safe_dump({
        "defaults": ["config", {"override strategy": "win_back"}, {"override hydra/sweeper": "optuna"},
                     {"override hydra/sweeper/sampler": "random"}, "_self_"],
        "sweep": {"objective": "roi_vs_control"},
        "hydra": {"mode": "MULTIRUN", "sweep": {"dir": str(tmp_path / "out"), "subdir": "${hydra.job.num}"},
                  "sweeper": {"direction": "maximize", "n_trials": 2, "n_jobs": 2, "sampler": {"seed": 0},
                              # budget 0: no strategy cost, so ROI against the control is undefined (NaN)
                              "params": {"strategy.win_back.budget": "choice(0.0, 5000.0)"}}},
    }))
    r = sim_cmd("--config-dir", str(cd), "--config-name", "nan_study", *SMALL,
                "+hydra.callbacks.sweep_collect.enabled=false")
    assert r.returncode == 0, r.stderr[-3000:]
    res = yaml.safe_load((tmp_path / "out" / "optimization_results.yaml").read_text())
    budgets = sorted(json.loads(p.read_text())["strategies"]["win_back"]["budget"]
                     for p in (tmp_path / "out").rglob("summary.json"))
    assert budgets == [0.0, 5000.0]  # the seeded sampler proposes both: one trial's objective is NaN
    assert res["best_params"] == {"strategy.win_back.budget": 5000.0}


def test_objective_names_match_the_run_summary(finished_run):
    from sim.sweep import SUMMARY_FIGURES
    summ = json.loads((finished_run / "summary.json").read_text())
    numeric = {k for k, v in summ.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert SUMMARY_FIGURES <= numeric
    assert numeric - SUMMARY_FIGURES <= {"net_margin_per_customer", "churned_share_end", "ever_churned_share"}


# ------------------------------------------------------------------------ 8. what a kill leaves behind

def test_collect_removes_partials_only_where_no_run_is_writing(finished_run, tmp_path):
    from sim.outputs import run_lock
    d = tmp_path / "sweep"
    idle = _copy_run(finished_run, d / "0") / ".report.html.abc.part"
    busy_dir = _copy_run(finished_run, d / "1")
    (busy_dir / "summary.json").unlink()
    busy = busy_dir / ".transactions.parquet.def.part"
    idle.write_bytes(b"x")
    busy.write_bytes(b"x")
    with run_lock(busy_dir):
        pid = os.fork()
        if pid == 0:  # another process collects while this one holds run 1
            try:
                c = col.collect(d, progress=False)
                os._exit(0 if c.incomplete == ["1 (running)"] else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not idle.exists() and busy.exists()


def _descendants(pid: int) -> set[int]:
    parent = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                parent[int(p.name)] = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, todo = set(), [pid]
    while todo:
        q = todo.pop()
        kids = {c for c, pp in parent.items() if pp == q}
        out |= kids
        todo += list(kids)
    return out


def _alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:1]
    except OSError:
        return False


def test_joblib_workers_die_with_a_killed_sweep(tmp_path):
    d = tmp_path / "sweep"
    p = subprocess.Popen([sys.executable, "-m", "sim", "-m", "hydra/launcher=local_parallel",
                          "hydra.launcher.n_jobs=2", "market.n_customers=200000", "market.days=730",
                          "engine.progress=false", "output.report=false", "seed=0,1", f"hydra.sweep.dir={d}"],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not all((d / j / ".hydra").exists() for j in ("0", "1")):
            time.sleep(0.2)
        assert all((d / j / ".hydra").exists() for j in ("0", "1")), "the jobs never started"
        workers = {w for w in _descendants(p.pid)
                   if "loky" in Path(f"/proc/{w}/cmdline").read_text(errors="replace")} \
            if Path(f"/proc/{p.pid}").exists() else set()
        assert workers
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        alive = [w for w in workers if _alive(w)]
        for w in alive:
            os.kill(w, signal.SIGKILL)
        assert not alive, "joblib workers outlived the killed sweep"
        assert not any((d / j / "summary.json").exists() for j in ("0", "1"))
    finally:
        if p.poll() is None:
            p.kill()
