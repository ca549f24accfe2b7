"""The engine against a minimal event-driven numpy kernel (issue 16): prints ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_engine.py            # 1,000,000 customers x 365 d
    .venv/bin/python benchmarks/bench_engine.py --quick    # 100,000 x 90 d

The kernel below is the reference: the least a vectorised event-driven simulator must do for the
same kind of work per customer, with the same due lists per window: Poisson purchases (exponential
clocks), a log-normal basket, a satisfaction update from a service draw, a stage threshold on the
purchase count, a churn hazard that depends on satisfaction, and rare returns of lost customers.
It keeps no books, no CLV, no word of mouth, no strategies, no reports. The engine runs the
default config (default strategy mix, weekly reports). Each side runs in a fresh subprocess,
interleaved, and the ratio of customer-days per CPU-second (``time.process_time``, steadier than
wall time on a shared machine) is printed as a median over the repeats. Both clocks include the
set-up (the kernel's draws and first filing; building the market). Goal: engine / kernel >= 0.5.

Is it a fair pair? Both handle about the same number of customer events at 1M x 365 d (printed
below: the kernel's purchases and stage moves; the engine's purchases at any firm, stage events
and exposures), each with the same due lists per window and the same loop until a window settles.
The kernel draws from a sequential numpy generator; the engine's counter-keyed draws (which make
the paired control exact) are part of the engine's cost, not a handicap added to it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

KERNEL = r'''
import heapq, json, sys, time
import numpy as np

def kernel(n, days, dt=1.0, seed=0):
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 0.8, n) * (8 / 365)        # purchases per day
    spend = rng.lognormal(3.5, 0.6, n)                    # basket level
    sat = np.full(n, 0.6)
    npur = np.zeros(n, np.int32)
    stage = np.zeros(n, np.int8)                          # 0 customer, 1 loyal customer, 2 lost
    revenue = np.zeros(n)
    hazard = lambda r: (0.3 / 365) * np.exp(3.0 * (0.6 - sat[r]))      # churn per day
    t_buy = rng.exponential(1.0, n) / rate
    t_move = rng.exponential(1.0, n) / hazard(np.arange(n))
    buckets, keys = {}, []

    def file(rows):
        t = np.minimum(t_buy[rows], t_move[rows])
        keep = t < days
        rows, b = rows[keep], (t[keep] / dt).astype(np.int64)
        order = np.argsort(b, kind="stable")
        rows, b = rows[order], b[order]
        k, start = np.unique(b, return_index=True)
        for key, a, z in zip(k.tolist(), start.tolist(), [*start[1:].tolist(), b.size]):
            if key not in buckets:
                buckets[key] = []
                heapq.heappush(keys, key)
            buckets[key].append(rows[a:z])

    file(np.arange(n))
    t, events = 0.0, 0
    while t < days:
        t1 = min(t + dt, days)
        parts = []
        while keys and keys[0] <= int(t1 / dt):
            parts.extend(buckets.pop(heapq.heappop(keys)))
        rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        touched = [rows]
        while rows.size:
            buy = (t_buy[rows] < t1) & (t_buy[rows] <= t_move[rows])
            mv = (t_move[rows] < t1) & ~buy
            b = rows[buy]
            if b.size:                                    # a purchase and its service encounter
                tb = t_buy[b]
                revenue[b] += spend[b] * rng.lognormal(-0.18, 0.6, b.size)
                q = np.clip(rng.normal(0.7, 0.15, b.size), 0, 1)
                sat[b] += 0.2 * (q - sat[b])
                npur[b] += 1
                stage[b] = np.where((stage[b] == 0) & (npur[b] >= 5), 1, stage[b])
                t_buy[b] = tb + rng.exponential(1.0, b.size) / rate[b]
                t_move[b] = tb + rng.exponential(1.0, b.size) / hazard(b)    # hazard changed with satisfaction
            m = rows[mv]
            if m.size:                                    # churn, or the rare return of a lost customer
                tm = t_move[m]
                lost = stage[m] == 2
                back, gone = m[lost], m[~lost]
                stage[gone] = 2
                t_buy[gone] = np.inf
                t_move[gone] = tm[~lost] + rng.exponential(1.0, gone.size) / (0.5 / 365)
                stage[back] = 0
                t_buy[back] = tm[lost] + rng.exponential(1.0, back.size) / rate[back]
                t_move[back] = tm[lost] + rng.exponential(1.0, back.size) / hazard(back)
            events += b.size + m.size
            rows = rows[(t_buy[rows] < t1) | (t_move[rows] < t1)]
        done = np.concatenate(touched)
        if done.size:
            file(done)
        t = t1
    return events

n, days = int(sys.argv[1]), float(sys.argv[2])
c0, w0 = time.process_time(), time.perf_counter()
ev = kernel(n, days)
print(json.dumps({"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0, "events": int(ev)}))
'''

ENGINE = r'''
import json, sys, time
import sim
n, days = int(sys.argv[1]), float(sys.argv[2])
cfg = sim.load([f"market.n_customers={n}", f"market.days={days}", "engine.progress=false"])
c0, w0 = time.process_time(), time.perf_counter()   # building the market counts, as the kernel's set-up does
m = sim.build(cfg)
events = []
advance = m.advance

def counted(t0, t1):   # the customer events of each window
    events.append(advance(t0, t1))
    return events[-1]

m.advance = counted
m.run(progress=False)
print(json.dumps({"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0,
                  "events": int(sum(events)), "purchases": m.n_transactions()}))
'''


def child(code: str, n: int, days: int) -> dict:
    """Run benchmark ``code`` for ``n`` customers over ``days`` in a fresh interpreter; return its JSON result."""
    out = subprocess.run([sys.executable, "-c", code, str(n), str(days)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Time the engine against the bare kernel in interleaved pairs and print customer-days per CPU-second."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    n, days = (100_000, 90) if a.quick else (1_000_000, 365)
    eng, ker = [], []
    for r in range(a.repeats):
        ker.append(child(KERNEL, n, days))
        eng.append(child(ENGINE, n, days))
        print(f"repeat {r + 1}: engine {eng[-1]['cpu']:.1f} s CPU ({eng[-1]['wall']:.1f} s wall), "
              f"kernel {ker[-1]['cpu']:.1f} s CPU ({ker[-1]['wall']:.1f} s wall)", flush=True)
    cd = n * days
    e = statistics.median(cd / x["cpu"] for x in eng)
    k = statistics.median(cd / x["cpu"] for x in ker)
    ratio = statistics.median(y["cpu"] / x["cpu"] for x, y in zip(eng, ker, strict=True))
    print(f"{n:,} customers x {days} d, median of {a.repeats} interleaved pairs:")
    print(f"  engine {e:,.0f} customer-days per CPU-second ({statistics.median(x['events'] for x in eng):,.0f} "
          f"events, {statistics.median(x['purchases'] for x in eng):,.0f} of them the focal firm's purchases)")
    print(f"  kernel {k:,.0f} customer-days per CPU-second ({statistics.median(x['events'] for x in ker):,.0f} events)")
    print(f"  engine / kernel: {ratio:.2f} (goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
