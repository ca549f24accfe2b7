"""Full-size validation studies: simulate, compare with the analytic model, write a plotly
report (``report.html``) and the figures (``results.json``). One study per config in
``experiments/validation/``; run with ``python -m sim.validation <model>``."""
from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..outputs import atomic_write_json, atomic_write_text

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments" / "validation"
MODELS = ("bass", "markov", "pareto_nbd", "bgnbd")


def load_study(name_or_path: str) -> dict:
    """Load a validation study by model name (``experiments/<name>.yaml``) or YAML path, with defaults filled in."""
    import yaml

    p = Path(name_or_path)
    if not p.suffix:
        p = EXPERIMENTS / f"{name_or_path}.yaml"
    if not p.exists():
        raise SystemExit(f"no study {name_or_path!r}: expected one of {list(MODELS)} or a YAML path")
    spec = yaml.safe_load(p.read_text())
    if spec.get("model") not in MODELS:
        raise SystemExit(f"{p}: model must be one of {list(MODELS)}, got {spec.get('model')!r}")
    spec.setdefault("overrides", [])
    spec.setdefault("replications", 1)
    spec.setdefault("seed", 0)
    spec.setdefault("output", f"outputs/validation/{spec['model']}")
    return spec


def _page(title: str, intro: str, figs: list[go.Figure], table: pd.DataFrame | None) -> str:
    parts = []
    for i, f in enumerate(figs):
        f.update_layout(template="plotly_white", height=440, margin=dict(l=60, r=20, t=60, b=50))
        parts.append(f.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    tab = table.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0) if table is not None else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1em}"
            "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
            "</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{intro}</p>{tab}{''.join(parts)}</body></html>")


def _load(overrides: list[str], seed: int, rep: int):
    import sim
    return sim.load([*overrides, "engine.progress=false", "paired_control=false", f"seed={seed}",
                     f"replication={rep}"])


# ---------------------------------------------------------------------------------------- Bass
def bass_study(spec: dict) -> tuple[dict, str]:
    """Bass validation: the simulated adoption curve's replications against the Bass and windowed Bass curves.

    Returns the error figures and the study's HTML page.
    """
    from .bass import bass_F, bass_f, bass_windowed, discretisation_error, simulated_curves

    t, F, p = simulated_curves(spec["overrides"], reps=spec["replications"], seed=spec["seed"])
    mean = F.mean(axis=0)
    Fb, Fw = bass_F(t, p["p"], p["q"]), bass_windowed(t, p["p"], p["q"], p["dt"])
    se = F.std(axis=0, ddof=1).max() / np.sqrt(F.shape[0]) if F.shape[0] > 1 else float("nan")
    res = {**p, "max_abs_err_vs_bass": float(np.abs(mean - Fb).max()),
           "max_abs_err_vs_windowed": float(np.abs(mean - Fw).max()),
           "discretisation_error": discretisation_error(p["p"], p["q"], p["dt"], p["days"]),
           "max_se_of_mean": float(se)}
    f1 = go.Figure()
    f1.add_trace(go.Scatter(x=t, y=F.max(axis=0), line=dict(width=0), showlegend=False, hoverinfo="skip"))
    f1.add_trace(go.Scatter(x=t, y=F.min(axis=0), fill="tonexty", line=dict(width=0),
                            name="replication range", fillcolor="rgba(31,119,180,0.2)"))
    f1.add_trace(go.Scatter(x=t, y=mean, name=f"simulated mean ({F.shape[0]} reps)", line=dict(color="#1f77b4")))
    f1.add_trace(go.Scatter(x=t, y=Fb, name="Bass F(t)", line=dict(color="black", dash="dash")))
    f1.add_trace(go.Scatter(x=t, y=Fw, name=f"windowed mean field (dt = {p['dt']:g})",
                            line=dict(color="#d62728", dash="dot")))
    f1.update_layout(title="Cumulative adoption: simulated vs Bass", xaxis_title="day",
                     yaxis_title="adopted share F(t)")
    f2 = go.Figure()
    f2.add_trace(go.Scatter(x=t[1:], y=np.diff(mean), name="simulated adoptions per day (share)"))
    f2.add_trace(go.Scatter(x=t, y=bass_f(t, p["p"], p["q"]), name="Bass f(t)", line=dict(color="black", dash="dash")))
    f2.update_layout(title="Adoption density", xaxis_title="day", yaxis_title="share per day")
    f3 = go.Figure(go.Scatter(x=t, y=mean - Fb, name="mean simulated − Bass"))
    f3.add_trace(go.Scatter(x=t, y=Fw - Fb, name="windowed − Bass (discretisation)", line=dict(dash="dot")))
    f3.update_layout(title="Error against the closed form", xaxis_title="day", yaxis_title="difference in F")
    intro = (f"p = {p['p']}/day, q = {p['q']}/day, m = N = {p['m']:,}, {F.shape[0]} replications. "
             f"Max |mean simulated − Bass F| = {res['max_abs_err_vs_bass']:.4f}; of which the once-per-window "
             f"word-of-mouth update accounts for up to {res['discretisation_error']:.4f} "
             f"(max |mean − windowed| = {res['max_abs_err_vs_windowed']:.4f}).")
    return res, _page("Bass diffusion: simulated against analytic", intro, [f1, f2, f3], None)


# ---------------------------------------------------------------------------------------- Markov
def markov_study(spec: dict) -> tuple[dict, str]:
    """Markov validation: the simulated CLV per state against the Markov chain's closed form and variance.

    Returns the comparison figures and the study's HTML page.
    """
    import sim
    from .markov import clv_closed_form, clv_variance, period_rate, state_distribution

    cfg = _load(spec["overrides"], spec["seed"], 0)
    m = sim.build(cfg)
    start = m.s.stage.copy()
    m.run(progress=False)
    st = next(s for s in m.strategies if s.kind == "mechanism")
    T = st.report()["actions"] - 1
    d = period_rate(cfg.economics.annual_discount_rate, st.every_days)
    V, Vinf = clv_closed_form(st.P, st.R, d, T), clv_closed_form(st.P, st.R, d)
    sd = np.sqrt(clv_variance(st.P, st.R, d, T))
    rows = []
    for i, name in enumerate(st.states):
        sel = start == m.stage_names.index(name)
        n = int(sel.sum())
        if n == 0:
            continue
        mean = float(m.s.clv[sel].mean())
        se = sd[i] / np.sqrt(n)
        rows.append({"start state": name, "customers": n, "simulated mean CLV": mean,
                     "closed form (T periods)": V[i], "infinite horizon": Vinf[i],
                     "SE": se, "z": (mean - V[i]) / se if se > 0 else 0.0})
    tab = pd.DataFrame(rows)
    hist = st.history / st.history.sum(axis=1, keepdims=True)
    x0 = hist[0]
    expect = np.array([state_distribution(st.P, x0, k) for k in range(hist.shape[0])])
    f1 = go.Figure()
    f1.add_trace(go.Bar(x=tab["start state"], y=tab["simulated mean CLV"], name="simulated mean",
                        error_y=dict(type="data", array=2 * tab["SE"])))
    f1.add_trace(go.Bar(x=tab["start state"], y=tab["closed form (T periods)"], name="Σ (1+d)^-t P^t R"))
    f1.update_layout(title=f"Expected CLV by starting state ({T + 1} periods, d = {d:.4f} per period)",
                     yaxis_title="discounted margin (currency)", barmode="group")
    f2 = go.Figure()
    k = np.arange(hist.shape[0])
    for j, name in enumerate(st.states):
        f2.add_trace(go.Scatter(x=k, y=hist[:, j], name=f"{name} simulated", mode="markers"))
        f2.add_trace(go.Scatter(x=k, y=expect[:, j], name=f"{name} x0·P^t", mode="lines", line=dict(dash="dash")))
    f2.update_layout(title="State shares per period", xaxis_title="period", yaxis_title="share of customers")
    res = {"periods_booked": T + 1, "period_rate": d, "by_state": rows,
           "max_abs_z": float(tab["z"].abs().max()),
           "max_abs_share_err": float(np.abs(hist - expect).max())}
    intro = (f"{m.n:,} customers, {T + 1} periods of {st.every_days:g} days, per-period discount d = {d:.4f} "
             f"(annual {cfg.economics.annual_discount_rate}). Simulated mean CLV against Pfeifer & Carraway's "
             f"closed form, with 2-SE bars (exact SE from the chain); max |z| = {res['max_abs_z']:.2f}; "
             f"state shares vs x0·P^t: max abs error {res['max_abs_share_err']:.4f}.")
    return res, _page("Markov-chain migration: simulated against analytic", intro, [f1, f2], tab)


# ---------------------------------------------------------------------------------------- BTYD
def btyd_study(spec: dict) -> tuple[dict, str]:
    """BTYD validation: the run's exported purchases against the BG/NBD or Pareto/NBD expectation.

    Compares the mean cumulative purchases with the closed form at the generating parameters, and the parameters fitted
    to the log by maximum likelihood with the generating ones; returns the figures and the HTML page.
    """
    import sim
    from .btyd import bgnbd_expected, bgnbd_fit, pnbd_expected, pnbd_fit, purchases_by, rfm_summary

    kind = spec["model"]
    cfg = _load(spec["overrides"], spec["seed"], 0)
    if cfg.market.purchase.kind != kind:
        raise SystemExit(f"study {kind}: market.purchase.kind is {cfg.market.purchase.kind!r}")
    run_dir = Path(spec["output"]) / "run"
    sim.run(cfg, run_dir, progress=False)
    tx = pd.read_parquet(run_dir / "transactions.parquet")           # the exported log
    ids = pd.read_parquet(run_dir / "customers.parquet", columns=["customer_id"])["customer_id"].to_numpy()
    pp, days = cfg.market.purchase, cfg.market.days
    t = np.linspace(0, days, 61)[1:]
    X = purchases_by(tx, ids, t)
    mean, se = X.mean(axis=1), X.std(axis=1, ddof=1) / np.sqrt(ids.size)
    if kind == "pareto_nbd":
        E = pnbd_expected(t, pp.r, pp.alpha, pp.s, pp.beta)
        label, title = "Pareto/NBD E[X(t)] (Schmittlein et al. 1987)", "Pareto/NBD"
    else:
        E = bgnbd_expected(t, pp.r, pp.alpha, pp.a, pp.b)
        label, title = "BG/NBD E[X(t)] (Fader, Hardie & Lee 2005)", "BG/NBD"
    z = (mean - E) / se
    res = {"customers": int(ids.size), "transactions": int(len(tx)), "days": days,
           "E_X_T": float(E[-1]), "sim_X_T": float(mean[-1]), "rel_err_T": float(mean[-1] / E[-1] - 1),
           "max_abs_z": float(np.abs(z).max()), "max_rel_err": float(np.abs(mean / E - 1).max())}
    f1 = go.Figure()
    f1.add_trace(go.Scatter(x=t, y=mean, name="simulated mean purchases in (0, t]", mode="markers",
                            error_y=dict(type="data", array=2 * se)))
    f1.add_trace(go.Scatter(x=t, y=E, name=label, line=dict(color="black", dash="dash")))
    f1.update_layout(title=f"{title}: expected purchases per customer", xaxis_title="day", yaxis_title="E[X(t)]")
    f2 = go.Figure(go.Scatter(x=t, y=z, mode="lines+markers", name="z"))
    f2.update_layout(title="Standardised error (simulated − analytic) / SE", xaxis_title="day", yaxis_title="z")
    figs = [f1, f2]
    df = rfm_summary(tx, ids, days)
    if kind == "bgnbd":
        fitted = df
        fit = bgnbd_fit(fitted["frequency"], fitted["recency"], fitted["T"])
        true = {"r": pp.r, "alpha": pp.alpha, "a": pp.a, "b": pp.b}
    else:  # the Pareto/NBD likelihood is slower: fit on (at most) 20,000 customers
        fitted = df.sample(min(len(df), 20_000), random_state=0)
        fit = pnbd_fit(fitted["frequency"], fitted["recency"], fitted["T"])
        true = {"r": pp.r, "alpha": pp.alpha, "s": pp.s, "beta": pp.beta}
    tab = pd.DataFrame([{"parameter": k, "generating": v, "MLE from the log": fit["params"][k],
                         "SE (log scale)": fit["se_log"][k],
                         "z": (np.log(fit["params"][k]) - np.log(v)) / fit["se_log"][k]} for k, v in true.items()])
    res["mle"] = {k: float(v) for k, v in fit["params"].items()}
    res["mle_se_log"] = {k: float(v) for k, v in fit["se_log"].items()}
    res["mle_customers"] = int(len(fitted))
    intro = (f"{ids.size:,} customers alive at t = 0, {days:g} days, {len(tx):,} transactions read back from "
             f"<code>{html.escape(str(run_dir / 'transactions.parquet'))}</code>. E[X({days:g})] = {E[-1]:.3f}, "
             f"simulated {mean[-1]:.3f} ({100 * res['rel_err_T']:+.2f} %); max |z| over the curve "
             f"{res['max_abs_z']:.2f}. The table: maximum-likelihood parameters fitted to the log "
             f"({res['mle_customers']:,} customers, birth at t = 0) against the generating ones.")
    return res, _page(f"{title}: simulated against analytic", intro, figs, tab)


STUDIES = {"bass": bass_study, "markov": markov_study, "pareto_nbd": btyd_study, "bgnbd": btyd_study}


def run_study(name_or_path: str, extra: list[str] | None = None, replications: int | None = None,
              output: str | None = None) -> dict:
    """Run a validation study, write its report and results under its output directory, and return the results."""
    spec = load_study(name_or_path)
    spec["overrides"] = [*spec["overrides"], *(extra or [])]
    if replications is not None:
        spec["replications"] = replications
    if output is not None:
        spec["output"] = output
    out = Path(spec["output"])
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res, page = STUDIES[spec["model"]](spec)
    res = {"model": spec["model"], "overrides": spec["overrides"], "replications": spec["replications"],
           "seed": spec["seed"], **res}
    atomic_write_text(out / "report.html", page)
    atomic_write_json(out / "results.json", res)
    res["elapsed_seconds"] = round(time.perf_counter() - t0, 1)
    res["report"] = str(out / "report.html")
    return res
