"""Buy-till-you-die purchasing: the engine's Pareto/NBD and BG/NBD processes reproduce the
published expectations, and the exported transaction log recovers the BG/NBD parameters.

Set-up: ladder=btyd (one active stage, one inactive), market=pareto_nbd / market=bgnbd,
no strategies, everyone alive at t = 0; lambda ~ Gamma(1.5, 45/day) (mean 1 purchase per 30
days); Pareto/NBD mu ~ Gamma(2, 730); BG/NBD p ~ Beta(2, 8).
"""
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import sim
from sim import metrics
from sim.validation.btyd import (bgnbd_expected, bgnbd_fit, bgnbd_loglik, pnbd_expected, pnbd_fit, pnbd_loglik,
                                 purchases_by, rfm_summary)

N, DAYS = 5000, 365
TIMES = np.array([30.0, 90.0, 180.0, 365.0])


def _run(kind, n=N, *extra):
    cfg = sim.load(["ladder=btyd", f"market={kind}", "strategy=none", "engine.progress=false",
                    "paired_control=false", f"market.n_customers={n}", f"market.days={DAYS}", *extra])
    m = sim.simulate(cfg, progress=False)
    return cfg, m, metrics.transactions(m)


@pytest.fixture(scope="module")
def pnbd():
    return _run("pareto_nbd")


@pytest.fixture(scope="module")
def bgnbd():
    return _run("bgnbd")


def test_closed_forms_against_direct_integration():
    r, alpha, s, beta, a, b = 1.5, 45.0, 2.0, 730.0, 2.0, 8.0
    t = 200.0
    # Pareto/NBD: E[X(t) | lambda, mu] = lambda/mu (1 - e^{-mu t}); average over mu ~ Gamma(s, beta)
    g = stats.gamma(s, scale=1 / beta)
    e = integrate.quad(lambda mu: (1 - np.exp(-mu * t)) / mu * g.pdf(mu), 0, np.inf)[0] * r / alpha
    assert np.isclose(pnbd_expected(t, r, alpha, s, beta), e, rtol=1e-6)
    assert np.isclose(pnbd_expected(t, r, alpha, 1.0, beta), pnbd_expected(t, r, alpha, 1.0 + 1e-7, beta), rtol=1e-5)
    # BG/NBD: E[X(t) | lambda, p] = (1 - e^{-lambda p t}) / p; the gamma average over lambda
    # is 1 - (alpha / (alpha + p t))^r; then integrate over p ~ Beta(a, b) numerically
    bp = stats.beta(a, b)
    e = integrate.quad(lambda p: (1 - (alpha / (alpha + p * t)) ** r) / p * bp.pdf(p), 0, 1)[0]
    assert np.isclose(bgnbd_expected(t, r, alpha, a, b), e, rtol=1e-4)


@pytest.mark.parametrize("kind", ["pareto_nbd", "bgnbd"])
def test_mean_purchases_match_expected(kind, pnbd, bgnbd):
    cfg, m, tx = pnbd if kind == "pareto_nbd" else bgnbd
    pp = cfg.market.purchase
    E = (pnbd_expected(TIMES, pp.r, pp.alpha, pp.s, pp.beta) if kind == "pareto_nbd"
         else bgnbd_expected(TIMES, pp.r, pp.alpha, pp.a, pp.b))
    X = purchases_by(tx, np.arange(m.n), TIMES)
    # Tolerance: |z| < 4 at each of the 4 horizons, z = (mean - E[X(t)]) / (sd/sqrt(N)) with the
    # sample sd of purchases per customer. At N = 5,000 the SE is ~1.3 % of E[X(365)], so the
    # band is ~5 % relative; 4 sigma over 4 correlated horizons keeps false alarms < 1/4000.
    z = (X.mean(axis=1) - E) / (X.std(axis=1, ddof=1) / np.sqrt(m.n))
    assert np.all(np.abs(z) < 4), f"{kind}: simulated {X.mean(axis=1)} vs E[X(t)] {E} (z {z})"
    assert np.all(np.abs(X.mean(axis=1) / E - 1) < 0.06)


def test_transaction_log_has_clv_library_columns(bgnbd):
    cfg, m, tx = bgnbd
    assert {"customer_id", "date", "amount"} <= set(tx.columns)
    assert pd.api.types.is_datetime64_any_dtype(tx["date"]) and (tx["amount"] > 0).all()
    assert tx["date"].min() >= pd.Timestamp(cfg.market.start_date)
    df = rfm_summary(tx, np.arange(m.n), DAYS)
    assert list(df.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert len(df) == m.n and df["frequency"].sum() == len(tx)
    assert (df["recency"] <= df["T"]).all() and ((df["frequency"] == 0) == (df["recency"] == 0)).all()


# Tolerance: each estimate within 4 standard errors (observed information, log scale) of the
# generating value. BG/NBD at N = 5,000: SEs ~3 % (r, alpha) and ~9-11 % (a, b). Pareto/NBD:
# one year of data pins the purchase side (SE ~3 %) better than the lifetime side (s, beta:
# SE ~15-30 %), which the SEs reflect. The fitted likelihood beats the truth (it is the
# maximum) but not by much (LR < chi2_4 99.9 %).
MLE_CASES = {
    "bgnbd": (bgnbd_fit, bgnbd_loglik, ("r", "alpha", "a", "b"), {"r": 0.15, "alpha": 0.15, "a": 0.15, "b": 0.15}),
    "pnbd": (pnbd_fit, pnbd_loglik, ("r", "alpha", "s", "beta"), {"r": 0.1, "alpha": 0.1, "s": 0.5, "beta": 0.5}),
}


@pytest.mark.parametrize("model", sorted(MLE_CASES))
def test_mle_recovers_generating_parameters(model, request):
    cfg, m, tx = request.getfixturevalue(model)
    fit_fn, loglik_fn, names, max_se = MLE_CASES[model]
    pp = cfg.market.purchase
    df = rfm_summary(tx, np.arange(m.n), DAYS)
    fit = fit_fn(df["frequency"], df["recency"], df["T"])
    true = {k: getattr(pp, k) for k in names}
    for k, v in true.items():
        z = (np.log(fit["params"][k]) - np.log(v)) / fit["se_log"][k]
        assert abs(z) < 4, f"{k}: fitted {fit['params'][k]:.3f} vs true {v} (z = {z:.2f})"
        assert fit["se_log"][k] < max_se[k]
    ll_true = loglik_fn([true[k] for k in names], df["frequency"], df["recency"], df["T"])
    assert 0 <= fit["loglik"] - ll_true < stats.chi2(4).ppf(0.999) / 2


def test_bgnbd_customers_cannot_drop_out_at_their_first_purchase():
    """BG/NBD dropout follows repeat purchases only: a customer acquired during the run (its
    entry purchase) starts alive. With p ~ Beta(1, 8) about 11 % would otherwise drop at once."""
    cfg = sim.load(["strategy=none", "engine.progress=false", "paired_control=false", "market.n_customers=3000",
                    "market.days=240", "market.purchase.kind=bgnbd", "market.conversion=0.02"])
    m = sim.simulate(cfg, progress=False)
    s = m.s
    new = ~np.isnan(s.acquired_at) & (s.acquired_at >= 0)
    assert new.sum() > 300
    assert not np.any(s.first_churn_at[new] == s.acquired_at[new])
    # they do drop out later, after repeat purchases
    assert np.isfinite(s.first_churn_at[new]).sum() > 20
