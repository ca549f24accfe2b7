"""The ``ray_cluster`` launcher on a real multi-node Ray cluster (a head and two worker nodes,
started on this machine on loopback through ``ray.cluster_utils.Cluster``): the summaries are
byte-identical to the basic launcher's, and the jobs of a worker node killed mid-sweep are run
again elsewhere."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Ray turns a loopback address into the machine's own IP unless clusters are kept local: keep
# every node, driver and worker on 127.0.0.1 (read when ray is imported; also set below).
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
os.environ.update(LOOPBACK)
ROOT = Path(__file__).resolve().parents[1]
SMALL = ["market.n_customers=300", "market.days=90", "engine.progress=false", "output.report=false",
         "output.transactions=false", "output.customers=false"]
SWEEP = ["strategy=churn_outreach,win_back", "seed=0,1", *SMALL]


def summaries(d: Path) -> dict[str, bytes]:
    return {p.parent.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.glob("*/summary.json"))}


def sim_cmd(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    e = {**os.environ, "HYDRA_FULL_ERROR": "1", **LOOPBACK, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=e, **kw)


@pytest.fixture
def cluster():
    ray = pytest.importorskip("ray")
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before this module
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                      "node_ip_address": "127.0.0.1"})
    workers = [c.add_node(num_cpus=1, node_ip_address="127.0.0.1") for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address)
    try:
        yield c, workers
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.mark.slow
def test_ray_cluster_launcher_on_a_multi_node_cluster(cluster, tmp_path):
    import ray
    c, workers = cluster
    assert len([n for n in ray.nodes() if n["Alive"]]) == 3
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}  # loopback only

    base = tmp_path / "basic"
    r = subprocess.run([sys.executable, "-m", "sim", "-m", *SWEEP, f"hydra.sweep.dir={base}"], check=False, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]

    d = tmp_path / "cluster"
    p = sim_cmd("-m", "hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={c.address}",
                *SWEEP, f"hydra.sweep.dir={d}")
    victim = None
    deadline = time.time() + 150
    while victim is None and time.time() < deadline and p.poll() is None:
        for w in workers:  # a sweep job running in a worker process of this node?
            if _running_jobs(w):
                victim = w
                break
        time.sleep(0.2)
    assert victim is not None, "no job ran on a worker node"
    import psutil
    jobs = _running_jobs(victim)
    c.remove_node(victim, allow_graceful=False)  # the node dies with the job it was running ...
    for j in jobs:  # ... and so does the job's process (a lost machine takes everything with it)
        try:
            j.kill()
        except psutil.NoSuchProcess:
            pass
    assert jobs and not psutil.wait_procs(jobs, timeout=10)[1]
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out[-3000:]
    assert "Ray Launcher is launching 4 jobs" in out
    got, want = summaries(d), summaries(base)
    assert len(want) == 4 and got == want


def _running_jobs(node) -> list:
    """Worker processes of a Ray node that are running a sweep job (``ray::_run_job``)."""
    import psutil
    from ray._private import ray_constants
    raylet = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
    out = []
    for child in psutil.Process(raylet).children(recursive=True):
        try:
            if "_run_job" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out
