"""``python -m sim.calibrate LOG --out DIR``: calibrate a market from a transaction log.

Exit codes: 0 done, 2 a bad log or bad options (one message on stderr naming the problem).
"""
from __future__ import annotations

import argparse
import sys

from .ladder import PlacementRules
from .log import LogError
from .pipeline import CalibrationError, Options, calibrate


def parser() -> argparse.ArgumentParser:
    """The parser of ``python -m sim.calibrate``: the log, its columns, the holdout and the placement rules."""
    d = PlacementRules()
    p = argparse.ArgumentParser(prog="python -m sim.calibrate",
                                description="Calibrate a market from a transaction log (CSV or Parquet: one row "
                                            "per purchase) and, with --holdout-start, test it on held-out time.")
    p.add_argument("log", help="transaction log, .csv or .parquet")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--customer-col", default="customer_id")
    p.add_argument("--date-col", default="date")
    p.add_argument("--amount-col", default="amount")
    p.add_argument("--holdout-start", default=None, metavar="DATE",
                   help="fit on purchases before DATE only; simulate the rest of the log and compare")
    p.add_argument("--replications", type=int, default=20, help="simulation replications (default 20)")
    p.add_argument("--days", type=float, default=365.0,
                   help="horizon of the calibrated market without a holdout, days (default 365)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", choices=["auto", "bgnbd", "pareto_nbd"], default="auto",
                   help="purchase model; auto: the lower AIC of both (default)")
    p.add_argument("--lapsed-days", type=float, default=d.lapsed_days,
                   help=f"no purchase for longer than this: placed as lost (default {d.lapsed_days:g})")
    p.add_argument("--client-min-purchases", type=int, default=d.client_min_purchases)
    p.add_argument("--loyal-min-purchases", type=int, default=d.loyal_min_purchases)
    p.add_argument("--loyal-recent-days", type=float, default=d.loyal_recent_days)
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m sim.calibrate``: calibrate a market from a transaction log; return the exit code."""
    a = parser().parse_args(argv)
    for name, v, lo in (("--replications", a.replications, 1), ("--days", a.days, 1),
                        ("--lapsed-days", a.lapsed_days, 0),
                        ("--client-min-purchases", a.client_min_purchases, 2),
                        ("--loyal-min-purchases", a.loyal_min_purchases, 2),
                        ("--loyal-recent-days", a.loyal_recent_days, 0)):
        if v < lo:
            print(f"sim.calibrate: {name} = {v}: must be at least {lo}", file=sys.stderr)
            return 2
    opts = Options(customer_col=a.customer_col, date_col=a.date_col, amount_col=a.amount_col,
                   holdout_start=a.holdout_start, replications=a.replications, days=a.days, seed=a.seed,
                   models=("bgnbd", "pareto_nbd") if a.model == "auto" else (a.model,),
                   rules=PlacementRules(a.lapsed_days, a.client_min_purchases, a.loyal_min_purchases,
                                        a.loyal_recent_days),
                   progress=not a.no_progress)
    try:
        res = calibrate(a.log, a.out, opts)
    except (LogError, CalibrationError) as e:
        print(f"sim.calibrate: {e}", file=sys.stderr)
        return 2
    pm = res["purchase_model"]
    print(f"calibrated from {res['log']['path']}: {res['calibration_period']['customers']:,} customers, "
          f"{pm['chosen']} {', '.join(f'{k}={v:.4g}' for k, v in pm['fits'][pm['chosen']]['params'].items())} "
          f"(per day); arrivals: {res['arrivals']['kind']}")
    if "holdout" in res:
        c = res["holdout"]["cumulative_repeat"]
        print(f"holdout: actual {c['actual']:,.0f} repeat transactions, simulated {c['simulated']:,.0f} "
              f"(90 % {c['simulated_low']:,.0f}-{c['simulated_high']:,.0f}), error {c['error_pct']:+.1f} %")
    print(f"outputs in {a.out}; run it with: {res['market']['select_with']} strategy=win_back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
