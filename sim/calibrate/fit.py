"""Fits of a transaction log: purchasing and dropout (BG/NBD or Pareto/NBD), spend per purchase
(Gamma-Gamma) and new-customer arrivals (Bass, constant rate, or none: a closed cohort).

Time is in days. Each customer is born at its first purchase (day ``b``); over the calibration
period [0, H) it is observed for T = H - b days and makes x repeat purchases, the last at
t_x days after birth (0 if none): the (x, t_x, T) summary of Fader, Hardie & Lee (2005,
"Counting your customers the easy way", Marketing Science 24(2)).

The purchase models reuse the project's own maximum-likelihood fits in
:mod:`sim.validation.btyd` (checked there against ``lifetimes``); standard errors come from the
observed information in log-parameters, mapped back by the delta method (SE = value x SE_log).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln

from ..validation import btyd

PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pareto_nbd": ("r", "alpha", "s", "beta")}


# ---------------------------------------------------------------------------- summaries
def rfm(tx: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Per customer born before ``end``: birth day ``b`` (days since ``start``), repeat purchases
    ``x`` in [birth, end), recency ``t_x`` and age ``T`` (days), purchase count ``n``, revenue,
    and the mean repeat amount ``mbar`` (NaN without repeats): the Gamma-Gamma input, which like
    FHL (2005b) leaves out the first purchase."""
    d = tx[tx["date"] < end].copy()
    d["day"] = (d["date"] - start).dt.days.astype(float)
    g = d.groupby("customer_id", sort=True)
    out = pd.DataFrame({"b": g["day"].min(), "last": g["day"].max(), "n": g.size(),
                        "revenue": g["amount"].sum()})
    H = float((end - start).days)
    out["x"] = out["n"] - 1
    out["t_x"] = out["last"] - out["b"]
    out["T"] = H - out["b"]
    first_amt = d.sort_values(["customer_id", "day"]).groupby("customer_id")["amount"].first()
    rep = out["revenue"] - first_amt.reindex(out.index)
    out["mbar"] = np.where(out["x"] > 0, rep / out["x"].clip(lower=1), np.nan)
    return out


# ---------------------------------------------------------------------------- purchase models
@dataclass
class PurchaseFit:
    """A fitted purchase process (BG/NBD or Pareto/NBD): per-day parameters, standard errors and fit quality."""

    kind: str                 # "bgnbd" | "pareto_nbd"
    params: dict              # per-day rates
    se: dict                  # standard errors, same units
    loglik: float
    aic: float
    converged: bool

    def weekly(self) -> tuple[dict, dict]:
        """Parameters and SEs with time in weeks (the units of FHL 2005's CDNOW fit): the rate
        parameters alpha and beta scale by 1/7; r, a, b, s are unit-free."""
        f = {"alpha": 1 / 7.0, "beta": 1 / 7.0}
        return ({k: v * f.get(k, 1.0) for k, v in self.params.items()},
                {k: v * f.get(k, 1.0) for k, v in self.se.items()})


def mle(loglik, start, names) -> dict:
    """Maximum likelihood in log-parameters (Nelder-Mead, as :func:`sim.validation.btyd._mle`)
    with SEs from the numerical Hessian; a non-finite log-likelihood (an optimiser step into a
    region where a special function overflows) counts as impossible instead of derailing the
    simplex, and a singular Hessian gives NaN SEs (a parameter the data do not identify)
    instead of an exception."""
    def nll(lp):
        with np.errstate(all="ignore"):
            v = -loglik(np.exp(lp))
        return v if np.isfinite(v) else 1e300
    res = optimize.minimize(nll, np.log(start), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 20000, "maxfev": 40000})
    lp, k = res.x, res.x.size
    try:
        cov = np.linalg.inv(btyd.hessian(nll, lp))
        se_log = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    except np.linalg.LinAlgError:
        se_log = np.full(k, np.nan)
    vals = np.exp(lp)
    return {"params": {n: float(v) for n, v in zip(names, vals, strict=True)},
            "se": {n: float(v * s) for n, v, s in zip(names, vals, se_log, strict=True)},
            "loglik": -float(res.fun), "converged": bool(res.success)}


def _purchase_fit(kind: str, x, t_x, T) -> PurchaseFit:
    """One model's MLE; the likelihoods are the project's own (:func:`btyd.bgnbd_loglik`,
    :func:`btyd.pnbd_loglik`, the latter equal to lifetimes' to machine precision)."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    # start from the mean purchase rate so that the simplex starts near the optimum's scale
    rate = max(float(np.sum(x)) / max(float(np.sum(T)), 1e-9), 1e-4)
    if kind == "bgnbd":
        res = mle(lambda p: btyd.bgnbd_loglik(p, x, t_x, T), (1.0, 1.0 / rate, 1.0, 3.0), PURCHASE_PARAMS[kind])
    else:
        res = mle(lambda p: btyd.pnbd_loglik(p, x, t_x, T), (1.0, 1.0 / rate, 1.0, float(np.mean(T))),
                  PURCHASE_PARAMS[kind])
    k = len(res["params"])
    return PurchaseFit(kind, res["params"], res["se"], res["loglik"], 2 * k - 2 * res["loglik"], res["converged"])


def fit_purchases(x, t_x, T, kinds=("bgnbd", "pareto_nbd")) -> tuple[PurchaseFit, dict[str, PurchaseFit]]:
    """Fit every model in ``kinds``; choose the lowest AIC = 2k - 2 log L on the calibration
    period. Both models have k = 4, so this is the higher log-likelihood."""
    fits = {k: _purchase_fit(k, x, t_x, T) for k in kinds}
    best = min(fits.values(), key=lambda f: f.aic)
    return best, fits


def posterior(fit: PurchaseFit, x, t_x, T) -> pd.DataFrame:
    """Each customer's posterior given (x, t_x, T): P(alive at T) and, given alive, the
    distributions of its latent parameters, from which a simulated customer is drawn.

    Given alive at T, the likelihood of the purchase rate is lambda^x e^{-lambda T}, so
    lambda | alive ~ Gamma(r + x, alpha + T) (both models). BG/NBD: p | alive ~ Beta(a, b + x)
    (x purchases without dropping out). Pareto/NBD: mu | alive ~ Gamma(s, beta + T), and by
    memorylessness the remaining lifetime is Exp(mu). P(alive) is the share of the alive term
    in each likelihood (FHL 2005 eq. 6 for BG/NBD; Fader & Hardie 2005 eq. 22 for Pareto/NBD,
    as written in :mod:`sim.validation.btyd`), e.g. for BG/NBD
    P(alive) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)) (FHL eq. 13).
    """
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    p = fit.params
    r, al = p["r"], p["alpha"]
    if fit.kind == "bgnbd":
        a, b = p["a"], p["b"]
        with np.errstate(divide="ignore"):
            odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1)
                            * np.exp((r + x) * (np.log(al + T) - np.log(al + t_x))), 0.0)
        p_alive = 1.0 / (1.0 + odds)
        extra = {"post_a": np.full(x.size, a), "post_b": b + x}
    else:
        s, be = p["s"], p["beta"]
        p_alive = np.array([_pnbd_p_alive(r, al, s, be, xi, ti, Ti) for xi, ti, Ti in zip(x, t_x, T, strict=True)])
        extra = {"post_s": np.full(x.size, s), "post_beta": be + T}
    out = pd.DataFrame({"p_alive": p_alive, "post_r": r + x, "post_alpha": al + T, **extra})
    out["purchase_rate"] = out["post_r"] / out["post_alpha"]     # E[lambda | alive], per day
    return out


def _pnbd_p_alive(r, alpha, s, beta, x, t_x, T) -> float:
    """Share of the 'alive at T' term in the Pareto/NBD likelihood (the terms of
    ``btyd.pnbd_loglik``, evaluated for one customer)."""
    from scipy.special import hyp2f1
    rsx = r + s + x
    if alpha >= beta:
        big, b2, zx, zT = alpha, s + 1.0, (alpha - beta) / (alpha + t_x), (alpha - beta) / (alpha + T)
    else:
        big, b2, zx, zT = beta, r + x, (beta - alpha) / (beta + t_x), (beta - alpha) / (beta + T)
    l1 = math.log(hyp2f1(rsx, b2, rsx + 1.0, zx)) - rsx * math.log(big + t_x)
    l2 = math.log(hyp2f1(rsx, b2, rsx + 1.0, zT)) - rsx * math.log(big + T)
    diff = min(l2 - l1, 0.0)
    logA0 = l1 + (math.log1p(-math.exp(diff)) if diff < 0 else -np.inf)
    alive = -(r + x) * math.log(alpha + T) - s * math.log(beta + T)
    tail = math.log(s) - math.log(rsx) + logA0
    return float(1.0 / (1.0 + math.exp(min(tail - alive, 700.0))))


# ---------------------------------------------------------------------------- spend: Gamma-Gamma
def gg_loglik(params, x, mbar) -> float:
    """Gamma-Gamma log-likelihood of (p, q, gamma) (Colombo & Jiang 1999; Fader, Hardie & Lee
    2005b, "RFM and CLV: using iso-value curves", JMR 42(4), and Fader & Hardie 2013, "The
    Gamma-Gamma model of monetary value"). Each purchase amount z ~ Gamma(p, nu), nu ~ Gamma(q,
    gamma) across customers; the mean mbar of x amounts has, marginally,
    f(mbar | x) = Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q mbar^(px-1) x^(px) / (gamma + x mbar)^(px+q)."""
    p, q, g = params
    x, m = np.asarray(x, float), np.asarray(mbar, float)
    ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g) + (p * x - 1) * np.log(m)
          + p * x * np.log(x) - (p * x + q) * np.log(g + x * m))
    return float(np.sum(ll))


@dataclass
class SpendFit:
    """A fitted Gamma-Gamma spend model: its parameters and standard errors, log-likelihood and customers used."""

    params: dict       # p, q, gamma
    se: dict
    loglik: float
    n: int             # customers used (x > 0 and mbar > 0)
    converged: bool

    @property
    def mean_spend(self) -> float:
        """Population mean of a customer's expected amount, E[p / nu] = p gamma / (q - 1) (q > 1)."""
        p, q, g = self.params["p"], self.params["q"], self.params["gamma"]
        return p * g / (q - 1) if q > 1 else float("inf")


def fit_spend(x, mbar) -> SpendFit:
    """Maximum-likelihood Gamma-Gamma on customers with repeat purchases of positive mean
    amount, with SEs from the observed information (same optimiser as the purchase models)."""
    x, m = np.asarray(x, float), np.asarray(mbar, float)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size < 3:
        raise ValueError(f"the Gamma-Gamma spend model needs repeat purchases of at least 3 customers; "
                         f"this log has {x.size}")

    res = mle(lambda p: gg_loglik(p, x, m), (1.0, 2.0, float(np.mean(m))), ("p", "q", "gamma"))
    return SpendFit(res["params"], res["se"], res["loglik"], int(x.size), res["converged"])


def spend_posterior(fit: SpendFit, x, mbar) -> pd.DataFrame:
    """Per customer: nu | data ~ Gamma(q + p x, gamma + x mbar) (conjugacy), so its expected
    amount p / nu has mean E[M] = (q - 1)/(p x + q - 1) * p gamma/(q - 1) + p x/(p x + q - 1) * mbar
    (FHL 2005b; Fader & Hardie 2013 eq. 5). Customers without repeats get the prior."""
    p, q, g = fit.params["p"], fit.params["q"], fit.params["gamma"]
    x = np.asarray(x, float)
    m = np.nan_to_num(np.asarray(mbar, float), nan=0.0)
    shape = q + p * x
    rate = g + x * m
    return pd.DataFrame({"gg_shape": shape, "gg_rate": rate,
                         "spend": p * rate / np.maximum(shape - 1, 1e-9)})


# ---------------------------------------------------------------------------- arrivals
def bass_F(t, p, q):
    """Bass cumulative adoption F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}) (Bass 1969)."""
    t = np.asarray(t, float)
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


@dataclass
class ArrivalFit:
    """The fitted arrival of new customers (closed market, constant rate or Bass curve) and why it was chosen."""

    kind: str              # "closed" | "constant" | "bass"
    params: dict           # constant: rate per day; bass: m, p, q (per day, t from the log's first day)
    se: dict
    aic: dict              # AIC of each candidate fitted
    reason: str            # the criterion's verdict in words
    first_purchases: int
    last_first_day: float  # day of the last first purchase in the calibration period

    def remaining(self, n_seen: int) -> float:
        """Customers still to arrive after the calibration period (Bass: m - seen)."""
        if self.kind == "bass":
            return max(self.params["m"] - n_seen, 0.0)
        return 0.0


def fit_arrivals(birth_days, horizon: float, closed_evidence: float = math.log(1000.0)) -> ArrivalFit:
    """New customers over time from the first-purchase days (days since the log's first day,
    in [0, ``horizon``)).

    Criterion, in this order:

    1. **Closed cohort.** With r first purchases over the span they occupy, the arrival rate is
       c = r / span; if no first purchase follows for a gap G with c G > ``closed_evidence``
       (default ln 1000: a constant process would leave such a gap with probability < 0.001),
       arrivals have stopped: no new customers are simulated.
    2. Otherwise a constant rate (Poisson, 1 parameter) and a Bass curve (m, p, q) are fitted
       to the daily counts by maximum likelihood (Poisson counts, mean m [F(t+1) - F(t)]) and
       the lower AIC wins.
    """
    days = np.sort(np.asarray(birth_days, float))
    n = days.size
    if n == 0:
        raise ValueError("no first purchases in the calibration period")
    first, last = float(days[0]), float(days[-1])
    gap = horizon - (last + 1.0)
    span = max(last - first + 1.0, 1.0)
    c_in = n / span
    daily = np.bincount(days.astype(int), minlength=int(math.ceil(horizon)))[: int(math.ceil(horizon))]
    H = daily.size
    # constant rate over the whole period
    c = n / H
    ll_c = float(np.sum(daily * np.log(c) - c - gammaln(daily + 1)))
    aic = {"constant": 2 - 2 * ll_c}
    se = {}
    bass = _fit_bass(daily)
    if bass is not None:
        aic["bass"] = 6 - 2 * bass["loglik"]
    if c_in * gap > closed_evidence:
        return ArrivalFit("closed", {}, {}, aic,
                          f"closed cohort: {n} first purchases in {span:.0f} days ({c_in:.2f}/day), then none "
                          f"for {gap:.0f} days (a constant rate would expect {c_in * gap:.0f}; "
                          f"threshold {closed_evidence:.1f})", n, last)
    if bass is not None and aic["bass"] < aic["constant"]:
        return ArrivalFit("bass", bass["params"], bass["se"], aic,
                          f"Bass curve: AIC {aic['bass']:.1f} < constant rate {aic['constant']:.1f}", n, last)
    se["rate"] = math.sqrt(n) / H
    return ArrivalFit("constant", {"rate": c}, se, aic,
                      f"constant rate: AIC {aic['constant']:.1f}"
                      + (f" <= Bass {aic['bass']:.1f}" if "bass" in aic else " (Bass did not converge)"), n, last)


def _fit_bass(daily: np.ndarray) -> dict | None:
    """Bass (m, p, q) by maximum likelihood on daily first-purchase counts (Poisson with mean
    m [F(t+1) - F(t)], m >= customers seen), best of three starts."""
    t = np.arange(daily.size + 1, dtype=float)
    n = float(daily.sum())
    const = float(np.sum(gammaln(daily + 1)))

    def loglik(v):
        m, p, q = v
        if m < n:
            return -np.inf
        mu = np.maximum(m * np.diff(bass_F(t, p, q)), 1e-300)
        return float(np.sum(daily * np.log(mu) - mu)) - const
    fits = [mle(loglik, start, ("m", "p", "q"))
            for start in ((2.0 * n, 1e-3, 1e-2), (1.2 * n, 1e-2, 1e-2), (5.0 * n, 1e-4, 3e-2))]
    best = max(fits, key=lambda f: f["loglik"])
    return best if np.isfinite(best["loglik"]) and best["loglik"] > -1e299 else None
