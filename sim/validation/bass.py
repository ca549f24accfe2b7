"""Bass (1969) diffusion: the closed-form cumulative adoption curve and the simulator's
version of it.

With external influence ``p`` and imitation ``q`` (per day) in a fully mixed market of
potential ``m``, the adopted share is

    F(t) = (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t)).

The simulator realises the Bass hazard p + q F(t) with the ``bass`` ladder and market
(``sim/configs/ladder/bass.yaml``, ``sim/configs/market/bass.yaml``; m = N because word of mouth is
the adopters' share of *all* customers). Individual adoptions happen at exact times, but the
engine refreshes F in the hazard once per processing window (``engine.dt``), so the
simulator's mean curve follows the *windowed* recursion in :func:`bass_windowed`. The gap
between the two analytic curves is the discretisation error (:func:`discretisation_error`).
"""
from __future__ import annotations

import numpy as np


def bass_F(t, p: float, q: float) -> np.ndarray:
    """Cumulative adopted share F(t) of the Bass model (F(0) = 0)."""
    t = np.asarray(t, float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_f(t, p: float, q: float) -> np.ndarray:
    """Adoption density f(t) = dF/dt = (p + q F)(1 - F)."""
    F = bass_F(t, p, q)
    return (p + q * F) * (1.0 - F)


def bass_peak(p: float, q: float) -> float:
    """Time of peak adoption, ln(q/p)/(p+q) (defined for q > p)."""
    return float(np.log(q / p) / (p + q))


def bass_windowed(t, p: float, q: float, dt: float = 1.0, F0: float = 0.0) -> np.ndarray:
    """Mean-field adoption curve of the engine: the hazard p + q F is frozen over each window
    [k dt, (k+1) dt) at the window's starting F, so 1 - F_{k+1} = (1 - F_k) exp(-(p + q F_k) dt)
    (exactly the engine's rule for a large market). Evaluated at ``t`` by exact
    within-window interpolation."""
    t = np.asarray(t, float)
    K = int(np.ceil(t.max() / dt)) + 1 if t.size else 1
    Fk = np.empty(K + 1)
    Fk[0] = F0
    for k in range(K):
        Fk[k + 1] = 1.0 - (1.0 - Fk[k]) * np.exp(-(p + q * Fk[k]) * dt)
    k = np.minimum((t // dt).astype(int), K - 1)
    tau = t - k * dt
    return 1.0 - (1.0 - Fk[k]) * np.exp(-(p + q * Fk[k]) * tau)


def discretisation_error(p: float, q: float, dt: float, horizon: float) -> float:
    """max_t |F_windowed(t) - F(t)| over [0, horizon]: the bias the processing window adds."""
    t = np.linspace(0.0, horizon, int(horizon / dt) * 4 + 1)
    return float(np.max(np.abs(bass_windowed(t, p, q, dt) - bass_F(t, p, q))))


def simulated_curves(cfg_overrides: list[str] | None = None, reps: int = 5, seed: int = 0,
                     config_name: str = "config") -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulate ``reps`` replications of the Bass market; return (t, F_sim[reps, len(t)], params).

    F_sim is the adopted share at every day 0..days, computed from the exact adoption times.
    """
    import sim

    base = ["ladder=bass", "market=bass", "strategy=none", "engine.progress=false",
            "paired_control=false", *(cfg_overrides or [])]
    curves = []
    for r in range(reps):
        cfg = sim.load([*base, f"seed={seed}", f"replication={r}"], config_name=config_name)
        m = sim.simulate(cfg, progress=False)
        t = np.arange(0.0, m.days + 1e-9, 1.0)
        acq = np.sort(m.s.acquired_at[~np.isnan(m.s.acquired_at)])
        curves.append(np.searchsorted(acq, t, side="right") / m.n)
    mk = cfg.market
    params = {"p": mk.innovation, "q": mk.imitation, "m": mk.n_customers, "dt": cfg.engine.dt,
              "days": mk.days, "reps": reps}
    return t, np.array(curves), params
