"""Fingerprints of what runs produce, to show a speed-up changed no number (issue 16).

    .venv/bin/python benchmarks/fingerprint.py --save before.json    # on the code before a change
    .venv/bin/python benchmarks/fingerprint.py --check before.json   # after it: exit 1 on any difference

Each case below is a small run (a few hundred customers, a few months) of a different part of the
model: the default mix at two sizes and another seed, rivals running plug-ins, share of wallet off,
the BTYD and Markov markets, Bass, the per-agent path, a service shock, short and long windows, and
single strategies with budgets that run out, hold-out groups and even pacing. For each it hashes
every file ``sim.run`` writes (tables, summary, time series, flows, control) and every array of the
final customer state, so a change that moves any number, anywhere, shows up. ``--only`` picks cases.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

SMALL = ["market.n_customers=700", "market.days=150", "engine.progress=false"]
PROMO = "+market.competitors.0.strategy.promo={_target_: sim.strategies.Promotion, discount: 0.1, budget: 20000}"
CASES: dict[str, list[str]] = {
    "default": [],
    "default_large": ["market.n_customers=4000", "market.days=240"],
    "default_seed7": ["seed=7", "replication=2"],
    "rivals_plugins": [PROMO],
    "no_wallet": ["market.wallet.enabled=false"],
    "bgnbd": ["market=bgnbd"],
    "pareto_nbd": ["market=pareto_nbd"],
    "markov": ["ladder=recency5", "market=markov", "strategy=markov_migration",
               "market.initial_stages.recency_1=0.5", "+market.initial_stages.recency_3=0.5"],
    "bass": ["market=bass", "ladder=bass", "strategy=none", "engine.dt=0.25"],
    "agents": ["engine.mode=agents", "market.n_customers=300", "market.days=60"],
    "shock": ["+scenario=bad_service_shock"],
    "dt_quarter": ["engine.dt=0.25", "market.days=60"],
    "dt_week": ["engine.dt=7"],
    "retention": ["+scenario=retention_focused"],
    "targeted_acquisition": ["strategy=targeted_acquisition"],
    "churn_outreach_budget": ["strategy=churn_outreach", "strategy.churn_outreach.budget=300"],
    "value_targeting": ["strategy=value_targeting"],
    "win_back_holdout_even": ["strategy=win_back", "strategy.win_back.holdout=0.2", "strategy.win_back.pacing=even"],
    "loyalty_referral": ["strategy=[loyalty_programme,referral_programme,up_sell]"],
    "retail_profile": ["profile=retail"],
}


def digest(data: bytes) -> str:
    """A short hash of ``data``."""
    return hashlib.sha256(data).hexdigest()[:16]


def fingerprint(case: str, overrides: list[str], out: Path) -> dict[str, str]:
    """Run one case into ``out``; hash its files and its final customer state."""
    import numpy as np

    import sim
    from sim.run import build

    cfg = sim.load(SMALL + overrides)
    sim.run(cfg, out)
    res = {p.name: digest(p.read_bytes()) for p in sorted(out.iterdir()) if p.is_file() and p.name != ".lock"}
    market = build(cfg, materialize=False).run(progress=False)
    for name, arr in sorted(vars(market.s).items()):
        if isinstance(arr, np.ndarray):
            res[f"state.{name}"] = digest(np.ascontiguousarray(arr).tobytes())
    return res


def main() -> None:
    """Fingerprint the cases; save them, or check them against a saved file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path, help="write the fingerprints to this JSON file")
    g.add_argument("--check", type=Path, help="compare with fingerprints saved earlier; exit 1 on a difference")
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), help="these cases only")
    a = ap.parse_args()
    cases = {k: v for k, v in CASES.items() if not a.only or k in a.only}
    got = {}
    with tempfile.TemporaryDirectory() as d:
        for i, (case, ov) in enumerate(cases.items(), 1):
            print(f"[{i}/{len(cases)}] {case}", file=sys.stderr, flush=True)
            got[case] = fingerprint(case, ov, Path(d) / case)
    if a.save:
        a.save.write_text(json.dumps(got, indent=1, sort_keys=True))
        print(f"{len(got)} cases, {sum(map(len, got.values()))} fingerprints saved to {a.save}")
        return
    want = json.loads(a.check.read_text())
    bad = [f"{c}/{k}" for c in got for k in sorted(set(got[c]) | set(want.get(c, {})))
           if got[c].get(k) != want.get(c, {}).get(k)]
    print(f"{len(got)} cases, {sum(map(len, got.values()))} fingerprints: "
          + ("all identical" if not bad else f"{len(bad)} differ: " + ", ".join(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
