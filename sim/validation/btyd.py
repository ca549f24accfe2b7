"""Buy-till-you-die purchasing: Pareto/NBD (Schmittlein, Morrison & Colombo 1987) and BG/NBD
(Fader, Hardie & Lee 2005).

Both give each customer a Poisson purchase rate lambda ~ Gamma(r, alpha) (shape r, rate
alpha, per day) while alive. Pareto/NBD: the lifetime is Exp(mu), mu ~ Gamma(s, beta).
BG/NBD: after each (repeat) purchase the customer drops out with probability p ~ Beta(a, b).
Customers are alive at t = 0 (the start of observation, playing the role of the trial
purchase in the published models); X(t) counts purchases in (0, t].

* :func:`pnbd_expected` and :func:`bgnbd_expected`: the closed-form E[X(t)];
* :func:`rfm_summary`: the exported transaction log (plus the customer list, so that
  customers who never bought count) as frequency / recency / T, the columns CLV libraries fit;
* :func:`bgnbd_loglik` / :func:`bgnbd_fit`: the BG/NBD likelihood (FHL 2005, eq. 6) and its
  maximum-likelihood fit with standard errors from the observed information.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1


def pnbd_expected(t, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """Pareto/NBD E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)];
    for s = 1 the limit (r beta / alpha) ln(1 + t/beta)."""
    t = np.asarray(t, float)
    if abs(s - 1.0) < 1e-9:
        return r * beta / alpha * np.log1p(t / beta)
    return r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + t)) ** (s - 1.0))


def bgnbd_expected(t, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """BG/NBD E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
    (needs a > 1)."""
    if a <= 1:
        raise ValueError("the closed-form BG/NBD E[X(t)] needs a > 1")
    t = np.asarray(t, float)
    z = t / (alpha + t)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z))


def purchases_by(tx: pd.DataFrame, customer_ids, times) -> np.ndarray:
    """Purchases per customer in (0, t] for every t in ``times``: array [len(times), n_customers]."""
    ids = np.asarray(customer_ids)
    pos = pd.Index(ids).get_indexer(tx["customer_id"].to_numpy())
    ts = tx["timestamp"].to_numpy(float)
    keep = (pos >= 0) & (ts > 0)
    pos, ts = pos[keep], ts[keep]
    out = np.zeros((len(times), ids.size))
    for k, t in enumerate(times):
        out[k] = np.bincount(pos[ts <= t], minlength=ids.size)
    return out


def rfm_summary(tx: pd.DataFrame, customer_ids, T: float, monetary: bool = True) -> pd.DataFrame:
    """Frequency (purchases in (0, T]), recency (time of the last one, 0 if none) and T per
    customer, birth at t = 0, in the column names of ``lifetimes`` / pymc-marketing
    (``frequency``, ``recency``, ``T``, ``monetary_value``). ``customer_ids`` lists every
    customer in the cohort, so that customers who never bought count (a log alone cannot)."""
    ids = np.asarray(customer_ids)
    d = tx[(tx["timestamp"] > 0) & (tx["timestamp"] <= T) & tx["customer_id"].isin(ids)]
    g = d.groupby("customer_id")
    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    out["frequency"] = g.size().reindex(ids, fill_value=0).to_numpy()
    out["recency"] = g["timestamp"].max().reindex(ids, fill_value=0.0).to_numpy()
    out["T"] = float(T)
    if monetary:
        out["monetary_value"] = g["amount"].mean().reindex(ids, fill_value=0.0).to_numpy()
    return out


def bgnbd_loglik(params, x, tx, T) -> float:
    """Total BG/NBD log-likelihood (FHL 2005, eq. 6) of (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        B = np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)
                     - (r + x) * np.log(alpha + tx), -np.inf)
    return float(np.sum(common + np.logaddexp(A, B)))


def bgnbd_fit(x, tx, T, start=(1.0, 30.0, 1.0, 5.0)) -> dict:
    """Maximum-likelihood (r, alpha, a, b) with standard errors (delta method from the numerical
    Hessian of the log-likelihood in log-parameters)."""
    def nll(lp):
        return -bgnbd_loglik(np.exp(lp), x, tx, T)
    return _mle(nll, start, ("r", "alpha", "a", "b"))


def pnbd_loglik(params, x, tx, T) -> float:
    """Total Pareto/NBD log-likelihood of (r, alpha, s, beta) (Fader & Hardie 2005, "A note on
    deriving the Pareto/NBD model and related expressions", eq. 22), evaluated in logs."""
    r, alpha, s, beta = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    rsx = r + s + x
    if alpha >= beta:
        big, b2 = alpha, s + 1.0
        zx, zT = (alpha - beta) / (alpha + tx), (alpha - beta) / (alpha + T)
    else:
        big, b2 = beta, r + x
        zx, zT = (beta - alpha) / (beta + tx), (beta - alpha) / (beta + T)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        l1 = np.log(hyp2f1(rsx, b2, rsx + 1.0, zx)) - rsx * np.log(big + tx)
        l2 = np.log(hyp2f1(rsx, b2, rsx + 1.0, zT)) - rsx * np.log(big + T)
        logA0 = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))   # A0 >= 0 since tx <= T
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        tail = np.log(s) - np.log(rsx) + logA0
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
              + np.logaddexp(alive, tail))
    return float(np.sum(ll)) if np.all(np.isfinite(ll)) else -np.inf


def hessian(nll, lp: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Numerical Hessian of ``nll`` at the log-parameters ``lp`` (central differences, step ``h``)."""
    k = lp.size
    H = np.zeros((k, k))
    E = np.eye(k) * h
    for i in range(k):
        for j in range(k):
            H[i, j] = (nll(lp + E[i] + E[j]) - nll(lp + E[i] - E[j]) - nll(lp - E[i] + E[j])
                       + nll(lp - E[i] - E[j])) / (4 * h * h)
    return H


def _mle(nll, start, names) -> dict:
    """Nelder-Mead in log-parameters; log-scale SEs from the inverse of the numerical Hessian."""
    res = optimize.minimize(nll, np.log(start), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-5, "maxiter": 20000, "maxfev": 40000})
    lp = res.x
    se_log = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian(nll, lp))), 0, None))
    return {"params": dict(zip(names, np.exp(lp), strict=True)), "se_log": dict(zip(names, se_log, strict=True)),
            "loglik": -float(res.fun), "converged": bool(res.success)}


def pnbd_fit(x, tx, T, start=(1.0, 30.0, 1.0, 300.0)) -> dict:
    """Maximum-likelihood Pareto/NBD (r, alpha, s, beta) with log-scale standard errors."""
    def nll(lp):
        v = -pnbd_loglik(np.exp(lp), x, tx, T)
        return v if np.isfinite(v) else 1e300
    return _mle(nll, start, ("r", "alpha", "s", "beta"))
