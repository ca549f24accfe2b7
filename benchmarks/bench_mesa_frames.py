"""The engine against mesa-frames on a shared minimal model (issue 16): prints figures and ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_mesa_frames.py                  # 100,000 and 1,000,000 customers x 365 d
    .venv/bin/python benchmarks/bench_mesa_frames.py --quick          # 20,000 x 90 d, one repeat (a smoke check)
    .venv/bin/python benchmarks/bench_mesa_frames.py --mf-python /path/to/venv/bin/python

Goal (issue 16): the engine runs at least 5x mesa-frames on a shared minimal model, or say why not.

**Why a separate virtual environment.** The only mesa-frames release on PyPI is 0.1.0a0, and it requires
``numpy~=1.26``; the project's environment has numpy 2.4, under which the engine is built and tested, and
installing mesa-frames there would downgrade it. So mesa-frames runs in its own venv (by default
``/tmp/mfvenv``; mesa-frames 0.1.0a0 with numpy 1.26.4 and polars 2.1.0, which it accepts: it asks for
``polars>=1.0``; its agent set only warns that ``Series.is_in`` with a same-typed series is deprecated, which
is silenced in the child). Create it with::

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/mfvenv
    /tmp/mfvenv/bin/pip install mesa-frames==0.1.0a0

Without it the benchmark says so and exits 2. The engine runs under this interpreter (the project's venv)
with ``PYTHONPATH`` at this tree; each run of either side is a fresh subprocess, and the two alternate.

**The shared minimal model.** Customers of one firm, all customers on day 0, for ``days`` days:

* each customer has its own purchase rate, gamma(``market.purchase.r``, 1/``alpha``) per day, and its own
  basket level, log-normal with mean ``market.mean_spend`` and log-sd ``market.spend_sigma``;
* while a customer, it buys as a Poisson process at its rate times its stage's ``purchase_rate``; each
  purchase is worth its basket level x the stage's ``spend`` x a log-normal draw of mean 1 and log-sd
  ``market.basket_noise``;
* each purchase is a service encounter of quality q = clip(``service.quality`` + ``service.quality_sd`` x z,
  0, 1), and satisfaction moves to sat + ``service.satisfaction_learning`` x (q - sat);
* two customer stages, *customer* and *loyal* (the ``simple5`` ladder): a customer moves up at the purchase
  that brings its purchase count to ``min_purchases`` (6; it starts with 1 and a beta-distributed satisfaction
  around the stage's ``init.satisfaction``);
* a customer defects (becomes *lost*) with hazard ``market.defection`` x the stage's ``defection`` x
  exp(``defection_sensitivity`` x (``reference_satisfaction`` - sat)) per day;
* a lost customer buys nothing and comes back on its own at ``market.natural_return`` per day, as a
  *customer*, with a purchase (the purchase count carries on).

All parameters are read from the engine's config below, so both sides do the same thing.

(a) **mesa-frames**: the idiomatic way, an ``AgentSetPolars`` of customers (one row each) in a ``ModelDF``,
one step per day, the step a few vectorised Polars ``with_columns`` over the whole frame with numpy draws from
the model's generator (the day's purchases drawn Poisson at each row's rate; a day with k > 1 purchases,
rare at these rates, gets one service draw with weight 1 - (1 - learning)^k and one basket draw times k);
the defection and return draws with probability 1 - exp(-hazard x 1 day). A lazy frame was tried and was
no faster at these sizes; the Poisson count from a CDF in Polars expressions was slower than numpy's draw.

(b) **the engine**: the real engine (``sim.build`` + ``run``) with overrides that switch off everything the
minimal model lacks: ``ladder=simple5`` with every customer in stage *customer* on day 0 and the move to
*loyal* on the purchase count alone (no trust, attitude or chance conditions), ``strategy=none``, no paired
control, ``market.wallet.enabled=false`` (no share of wallet to rivals, whose programmes stay empty),
``market.negative_wom_reach=0``, ``service.bad_threshold=0`` (no bad experience: no complaints, no fall
down the ladder), ``economics.tenure_spend_growth=0`` and one report at the horizon. It still keeps what it
always keeps (integer-cent books, the transaction log, CLV, trust, attitude and patronage, counter-based
draws) and handles events at their exact times in windows of ``engine.dt`` = 1 day.

The check printed first compares what the two produce (medians over the repeats, each repeat its own seed):
they are the same model if they agree within a few percent. Then the times: both clocks include building the
market (not the imports). The headline ratio uses **CPU time** (``time.process_time``): the machine is shared,
and CPU time is the work each side does. Polars runs on several threads (its pool size is printed), so its
wall time can be below its CPU time; the engine is single-threaded; the wall-time ratio is printed beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MF_PYTHON = "/tmp/mfvenv/bin/python"  # noqa: S108 (a venv path the user creates, never a temp file)
GOAL = 5.0
AGREE = 0.03   # outcomes within 3 %: the same model
JUDGED = 5     # the first five outcomes are judged; defections and returns are rarer events, shown with their noise

MF_CHILD = r'''
import json, math, sys, time, warnings
warnings.filterwarnings("ignore", message=".*is_in.*", category=DeprecationWarning)  # mesa-frames 0.1.0a0, polars 2
import numpy as np
import polars as pl
import mesa_frames
from mesa_frames import AgentSetPolars, ModelDF

P = json.loads(sys.argv[1])
n, days, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
CUSTOMER, LOYAL, LOST = 0, 1, 2


def by_stage(values):
    """A per-stage multiplier as a Polars expression (customer, loyal)."""
    return pl.when(pl.col("stage") == LOYAL).then(values[1]).otherwise(values[0])


class Customers(AgentSetPolars):
    """The customers, one row each."""

    def __init__(self, model, n):
        super().__init__(model)
        g, sig = model.random, P["spend_sigma"]
        self += pl.DataFrame({
            "unique_id": np.arange(n, dtype=np.int64),
            "rate": g.gamma(P["r"], 1.0 / P["alpha"], n),
            "spend": g.lognormal(math.log(P["mean_spend"]) - sig * sig / 2, sig, n),
            "sat": g.beta(P["sat0"] * P["beta_concentration"], (1 - P["sat0"]) * P["beta_concentration"], n),
            "npur": np.full(n, P["purchases0"], np.int32),
            "stage": np.full(n, CUSTOMER, np.int8),
            "bought": np.zeros(n, np.int32),      # purchases during the run
            "revenue": np.zeros(n),
            "left": np.zeros(n, np.int32),        # defections
            "came_back": np.zeros(n, np.int32),   # natural returns
        })

    def step(self):
        """One day for every customer."""
        g, m = self.model.random, len(self)
        st, sat = pl.col("stage"), pl.col("sat")
        lam = pl.when(st == LOST).then(0.0).otherwise(pl.col("rate") * by_stage(P["rate_mult"]))
        k = pl.Series(g.poisson(self.agents.select(lam).to_series().to_numpy()).astype(np.int32))
        q = (P["quality"] + P["quality_sd"] * pl.Series(g.standard_normal(m))).clip(0.0, 1.0)
        noise = (P["basket_noise"] * pl.Series(g.standard_normal(m)) - P["basket_noise"] ** 2 / 2).exp()
        u = pl.Series(g.random(m))
        keep = 1.0 - P["learning"]
        df = self.agents.with_columns(k=k).with_columns(
            sat=pl.when(pl.col("k") > 0).then(sat + (1.0 - pl.lit(keep).pow(pl.col("k"))) * (q - sat))
                  .otherwise(sat).clip(0.0, 1.0),
            revenue=pl.col("revenue") + pl.col("k") * pl.col("spend") * by_stage(P["spend_mult"]) * noise,
            npur=pl.col("npur") + pl.col("k"),
            bought=pl.col("bought") + pl.col("k"),
        ).with_columns(
            stage=pl.when((st == CUSTOMER) & (pl.col("k") > 0) & (pl.col("npur") >= P["loyal_at"]))
                    .then(pl.lit(LOYAL, pl.Int8)).otherwise(st))
        hazard = (P["defection"] * by_stage(P["defect_mult"])
                  * (P["sensitivity"] * (P["reference_satisfaction"] - sat)).exp())
        df = df.with_columns(leave=(st != LOST) & (u < 1.0 - (-hazard).exp()),
                             back=(st == LOST) & (u < 1.0 - math.exp(-P["natural_return"])))
        back = pl.col("back")
        # a lost customer who comes back buys on the spot (its service and basket draws: it bought nothing today)
        self.agents = df.with_columns(
            stage=pl.when(pl.col("leave")).then(pl.lit(LOST, pl.Int8))
                    .when(back).then(pl.lit(CUSTOMER, pl.Int8)).otherwise(st),
            sat=pl.when(back).then((sat + P["learning"] * (q - sat)).clip(0.0, 1.0)).otherwise(sat),
            revenue=pl.col("revenue") + pl.when(back).then(pl.col("spend") * P["spend_mult"][0] * noise)
                                          .otherwise(0.0),
            npur=pl.col("npur") + back.cast(pl.Int32),
            bought=pl.col("bought") + back.cast(pl.Int32),
            left=pl.col("left") + pl.col("leave").cast(pl.Int32),
            came_back=pl.col("came_back") + back.cast(pl.Int32),
        ).drop("k", "leave", "back")


class Market(ModelDF):
    """The minimal market: one agent set, one step a day."""

    def __init__(self, n, seed):
        super().__init__(seed=seed)
        self.customers = Customers(self, n)
        self.agents += self.customers

    def step(self):
        self.agents.step()


c0, w0 = time.process_time(), time.perf_counter()
model = Market(n, seed)
for _ in range(days):
    model.step()
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
df = model.customers.agents
print(json.dumps({"cpu": cpu, "wall": wall, "threads": pl.thread_pool_size(),
                  "versions": f"mesa-frames {mesa_frames.__version__}, polars {pl.__version__}, numpy {np.__version__}",
                  "purchases": int(df["bought"].sum()), "revenue": float(df["revenue"].sum()),
                  "loyal": int((df["stage"] == LOYAL).sum()), "lost": int((df["stage"] == LOST).sum()),
                  "satisfaction": float(df["sat"].mean()), "defections": int(df["left"].sum()),
                  "returns": int(df["came_back"].sum())}))
'''

ENGINE_CHILD = r'''
import json, sys, time
import numpy as np
import sim
ov, n, days = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cfg = sim.load(ov)
c0, w0 = time.process_time(), time.perf_counter()   # building the market counts, as mesa-frames' does
m = sim.build(cfg)
m.run(progress=False)
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
names = m.stage_names
stage = m.s.stage
lost, cust = names.index("lost"), names.index("customer")
print(json.dumps({"cpu": cpu, "wall": wall, "threads": 1, "versions": f"numpy {np.__version__}",
                  "purchases": int(m.n_transactions()), "revenue": m.totals["revenue"] / 100,
                  "loyal": int((stage == names.index("loyal")).sum()), "lost": int((stage == lost).sum()),
                  "satisfaction": float(m.s.satisfaction.mean()), "defections": int(m.defections),
                  "returns": int(m.flows[lost, cust])}))
'''


def overrides(n: int, days: int, seed: int) -> list[str]:
    """The engine's config of the shared minimal model (see the module docstring) for ``n`` customers."""
    return [f"seed={seed}", f"market.n_customers={n}", f"market.days={days}", "engine.progress=false",
            "ladder=simple5", "+market.initial_stages={customer: 1.0}",
            # customer -> loyal on the purchase count alone
            "ladder.transitions.2.min_trust=0", "ladder.transitions.2.min_attitude=0", "ladder.transitions.2.p=1",
            "strategy=none", "paired_control=false", "market.wallet.enabled=false", "market.negative_wom_reach=0",
            "service.bad_threshold=0", "economics.tenure_spend_growth=0", f"engine.report_every={days}"]


def model_params(cfg) -> dict:
    """The minimal model's parameters, read from the engine's config ``cfg`` (a validated ``SimConfig``)."""
    from sim.population import _BETA_CONCENTRATION

    st = {s.name: s for s in cfg.ladder.stages}
    up = [t for t in cfg.ladder.transitions if t.event == "purchase" and t.from_ == ["customer"] and t.to == "loyal"]
    if len(up) != 1 or up[0].p != 1 or up[0].min_trust or up[0].min_attitude or up[0].min_satisfaction:
        raise SystemExit("the engine's config is not the minimal model: customer -> loyal must be on purchases alone")
    m, sv = cfg.market, cfg.service
    return {"mean_spend": m.mean_spend, "spend_sigma": m.spend_sigma, "basket_noise": m.basket_noise,
            "r": m.purchase.r, "alpha": m.purchase.alpha,
            "sat0": st["customer"].init.satisfaction, "purchases0": max(st["customer"].init.purchases, 1),
            "beta_concentration": _BETA_CONCENTRATION,
            "quality": sv.quality, "quality_sd": sv.quality_sd, "learning": sv.satisfaction_learning,
            "loyal_at": up[0].min_purchases,
            "rate_mult": [st["customer"].purchase_rate, st["loyal"].purchase_rate],
            "spend_mult": [st["customer"].spend, st["loyal"].spend],
            "defect_mult": [st["customer"].defection, st["loyal"].defection],
            "defection": m.defection, "sensitivity": m.defection_sensitivity,
            "reference_satisfaction": m.reference_satisfaction, "natural_return": m.natural_return}


def child(cmd: list[str], env: dict | None = None) -> dict:
    """Run one side in a fresh interpreter; return its JSON result."""
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def outcomes(r: dict, n: int, days: int) -> dict:
    """Per-customer outcomes of one run, comparable between the two sides."""
    years = days / 365
    return {"purchases per customer-year": r["purchases"] / n / years,
            "revenue per customer-year": r["revenue"] / n / years,
            "share loyal at the end": r["loyal"] / n, "share lost at the end": r["lost"] / n,
            "mean satisfaction at the end": r["satisfaction"],
            "defections per customer": r["defections"] / n, "returns per customer": r["returns"] / n}


def mf_missing(mf_python: str) -> str | None:
    """Why ``mf_python`` cannot run mesa-frames, or None if it can."""
    if not Path(mf_python).exists():
        return f"{mf_python} does not exist"
    out = subprocess.run([mf_python, "-c", "import mesa_frames, polars"], capture_output=True, text=True, check=False)
    if out.returncode == 0:
        return None
    last = (out.stderr.strip().splitlines() or ["?"])[-1]
    return f"{mf_python} cannot import mesa_frames ({last})"


def main() -> None:
    """Check that the two sides are the same model, then time them in interleaved pairs and print the ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20,000 customers x 90 d, one repeat")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mf-python", default=DEFAULT_MF_PYTHON, help="a Python with mesa-frames 0.1.0a0")
    a = ap.parse_args()
    if a.quick:
        a.sizes, a.days, a.repeats = [20_000], 90, 1
    why = mf_missing(a.mf_python)
    if why:
        print(f"mesa-frames is not available: {why}.\nIt needs its own venv (it pins numpy~=1.26); create it with:\n"
              "    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/mfvenv\n"
              "    /tmp/mfvenv/bin/pip install mesa-frames==0.1.0a0\n"
              "or pass --mf-python PATH to a Python that has it.", file=sys.stderr)
        sys.exit(2)

    sys.path.insert(0, str(ROOT))
    import sim

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    params = model_params(sim.load(overrides(1000, a.days, 0)))
    print("shared minimal model, parameters from the engine's config:")
    print("  " + ", ".join(f"{k}={v}" for k, v in params.items()))
    results = []
    for n in a.sizes:
        eng, mf = [], []
        for r in range(a.repeats):   # seed r on both sides; the sides alternate
            mf.append(child([a.mf_python, "-c", MF_CHILD, json.dumps(params), str(n), str(a.days), str(r)]))
            eng.append(child([sys.executable, "-c", ENGINE_CHILD, json.dumps(overrides(n, a.days, r)),
                              str(n), str(a.days)], env))
            print(f"{n:>9,} x {a.days} d, repeat {r + 1}: engine {eng[-1]['cpu']:.2f} s CPU "
                  f"({eng[-1]['wall']:.2f} s wall), mesa-frames {mf[-1]['cpu']:.2f} s CPU "
                  f"({mf[-1]['wall']:.2f} s wall)", flush=True)
        results.append((n, eng, mf))
    print(f"\nengine: {eng[0]['versions']}; mesa-frames side: {mf[0]['versions']}, "
          f"Polars thread pool {mf[0]['threads']}")

    print("\nSame model? Outcomes, median over the repeats (each repeat its own seed):")
    for n, eng, mf in results:
        print(f"  {n:,} customers x {a.days} d        engine   mesa-frames   difference")
        worst = 0.0
        for i, key in enumerate(outcomes(eng[0], n, a.days)):
            e = statistics.median(outcomes(x, n, a.days)[key] for x in eng)
            f = statistics.median(outcomes(x, n, a.days)[key] for x in mf)
            d = (f - e) / e if e else 0.0
            note = ""
            if i < JUDGED:
                worst = max(worst, abs(d))
            else:   # two standard errors of the difference of two Poisson counts, relative
                ce, cf = max(e * n, 1), max(f * n, 1)
                note = f"   (counts {ce:,.0f} and {cf:,.0f}: noise +/-{2 * (1 / ce + 1 / cf) ** 0.5:.0%})"
            print(f"    {key:<30} {e:>10.4g} {f:>12.4g} {d:>+11.1%}{note}")
        print(f"    largest difference of the first {JUDGED}: {worst:.1%}: "
              f"{'the same model' if worst <= AGREE else 'NOT within ' + format(AGREE, '.0%')}")

    print("\nSpeed, median of the repeats:")
    print("  customers   days   engine CPU s  wall s   mesa-frames CPU s  wall s   "
          "engine cust-days/CPU-s  mesa-frames    ratio CPU  ratio wall")
    for n, eng, mf in results:
        cd = n * a.days
        ec, ew = statistics.median(x["cpu"] for x in eng), statistics.median(x["wall"] for x in eng)
        fc, fw = statistics.median(x["cpu"] for x in mf), statistics.median(x["wall"] for x in mf)
        rc = statistics.median(f["cpu"] / e["cpu"] for e, f in zip(eng, mf, strict=True))
        rw = statistics.median(f["wall"] / e["wall"] for e, f in zip(eng, mf, strict=True))
        spread = [f["cpu"] / e["cpu"] for e, f in zip(eng, mf, strict=True)]
        print(f"  {n:>9,} {a.days:>6} {ec:>14.2f} {ew:>7.2f} {fc:>19.2f} {fw:>7.2f} {cd / ec:>24,.0f} "
              f"{cd / fc:>12,.0f} {rc:>10.2f}x {rw:>10.2f}x   (CPU ratio per pair {min(spread):.2f}-{max(spread):.2f})")
        print(f"  engine / mesa-frames at {n:,}: {rc:.2f}x in CPU time, {rw:.2f}x in wall time "
              f"(goal >= {GOAL:g}x: {'met' if rc >= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
