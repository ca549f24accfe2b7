"""The README's "Competitive market" figures: the default market (3,000 customers, 730 days,
seeds 0-2) without strategies, with Rival A running a standing discount of 0, 5 and 10 %, and
the loyalty programme's ROI against its paired control with no rival plug-ins; each beside the
same market without share of wallet (``market.wallet.enabled=false``, the market before rivals
took a share).

    python experiments/competitive_figures.py            # about 8 minutes on one core
"""
from __future__ import annotations

import numpy as np

import sim
from sim import metrics
from sim.run import paired

BASE = ["market.n_customers=3000", "engine.progress=false"]
SEEDS = (0, 1, 2)


def run(extra, rival_a=None, with_strategies=True) -> dict:
    """The summary of the default market with ``extra`` overrides and, if given, Rival A's strategy ``rival_a``."""
    cfg = sim.load([*BASE, *extra])
    if rival_a:
        cfg.market.competitors[0].strategy = rival_a
    return metrics.summary(sim.simulate(cfg, with_strategies=with_strategies, progress=False))


def main() -> None:
    """Print the README's competitive-market figures, each beside the market without share of wallet."""
    out = [run(["strategy=none", f"seed={s}", "market.wallet.enabled=false"]) for s in SEEDS]
    print(f"without share of wallet: focal revenue {np.mean([o['revenue'] for o in out]):,.0f}, "
          f"churn/yr {np.mean([o['churn_rate_annual'] for o in out]):.3f}")
    for d in (0.0, 0.05, 0.1):
        promo = {"promo": {"_target_": "sim.strategies.Promotion", "discount": d, "budget": 1e7}} if d else None
        out = [run(["strategy=none", f"seed={s}"], promo) for s in SEEDS]
        a = np.mean([[o["firms"]["Rival A"]["share_of_focal_wallets"], o["firms"]["Rival A"]["market_share"],
                      o["market_share"], o["revenue"], o["churn_rate_annual"]] for o in out], axis=0)
        print(f"Rival A discount {d:.0%}: Rival A share of focal wallets {a[0]:.1%}, Rival A market share "
              f"{a[1]:.1%}, focal market share {a[2]:.1%}, focal revenue {a[3]:,.0f}, churn/yr {a[4]:.3f}")
    for wallet in ("true", "false"):
        rois = []
        for s in SEEDS:
            extra = ["strategy=loyalty_programme", f"seed={s}", f"market.wallet.enabled={wallet}"]
            rois.append(paired(run(extra), run(extra, with_strategies=False))["roi_vs_control"])
        print(f"loyalty programme alone (share of wallet {wallet}), ROI vs control by seed:", np.round(rois, 2),
              "mean", round(float(np.mean(rois)), 2))


if __name__ == "__main__":
    main()
