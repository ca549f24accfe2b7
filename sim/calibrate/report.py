"""``calibration.html``: a self-contained plotly page that shows how well the fitted market
matches the log (parameters with standard errors, frequency histogram, weekly and cumulative
repeat transactions over calibration and holdout, conditional expectations)."""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

ACTUAL, MODEL, ENGINE = "#222222", "#1f77b4", "#d62728"


def _fig(fig: go.Figure, div_id: str, first: bool) -> str:
    fig.update_layout(template="plotly_white", margin=dict(l=60, r=20, t=50, b=45), height=400,
                      legend=dict(orientation="h", y=-0.18))
    return fig.to_html(full_html=False, include_plotlyjs=True if first else False, div_id=div_id,
                       config={"displaylogo": False})


def _num(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{digits}g}"


def _param_table(result: dict, fits, best, spend, arrivals) -> str:
    rows = []
    for kind, f in fits.items():
        pw, sw = f.weekly()
        chosen = " (chosen)" if kind == best.kind else ""
        for k in f.params:
            rows.append((f"{'BG/NBD' if kind == 'bgnbd' else 'Pareto/NBD'}{chosen}", k, _num(f.params[k]),
                         _num(f.se[k], 3), _num(pw[k]), _num(sw[k], 3)))
        rows.append((f"{'BG/NBD' if kind == 'bgnbd' else 'Pareto/NBD'}{chosen}", "log-likelihood / AIC",
                     f"{f.loglik:.1f}", "", f"AIC {f.aic:.1f}", ""))
    for k in ("p", "q", "gamma"):
        rows.append(("Gamma-Gamma spend", k, _num(spend.params[k]), _num(spend.se[k], 3), "", ""))
    for k, v in arrivals.params.items():
        rows.append((f"Arrivals ({arrivals.kind})", k, _num(v), _num(arrivals.se.get(k), 3), "", ""))
    if not arrivals.params:
        rows.append((f"Arrivals ({arrivals.kind})", "none", "", "", "", ""))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return ("<table id='params'><thead><tr><th>model</th><th>parameter</th><th>estimate (days)</th><th>SE</th>"
            "<th>estimate (weeks)</th><th>SE</th></tr></thead><tbody>" + body + "</tbody></table>")


def frequency_figure(freq: pd.DataFrame) -> go.Figure:
    """Grouped bars of customers by repeat purchases in the calibration period, actual against the model."""
    fig = go.Figure([go.Bar(x=freq["x"], y=freq["actual"], name="actual", marker_color=ACTUAL),
                     go.Bar(x=freq["x"], y=freq["model"], name="model (mean of simulations)", marker_color=MODEL)])
    fig.update_layout(title="Customers by repeat purchases in the calibration period", barmode="group",
                      xaxis_title="repeat purchases", yaxis_title="customers")
    return fig


def _band(fig, x, lo, hi, colour, name):
    fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(hi) + list(lo)[::-1], fill="toself",
                             fillcolor=colour, opacity=0.18, line=dict(width=0), name=name, hoverinfo="skip"))


def weekly_figure(tracking: pd.DataFrame, holdout: pd.DataFrame | None, H_date: str | None,
                  cumulative: bool, holdout_cum: pd.DataFrame | None = None) -> go.Figure:
    """Weekly (or cumulative) repeat transactions: actual, the model from each first purchase
    (with its 90 % band over replications) and the engine over the holdout (with its band)."""
    fig = go.Figure()
    x = tracking["week_start"]
    if cumulative:
        _band(fig, x, tracking["model_cum_low"], tracking["model_cum_high"], MODEL, "model from birth, 90 % band")
    else:
        _band(fig, x, tracking["model_low"], tracking["model_high"], MODEL, "model from birth, 90 % band")
    f = np.cumsum if cumulative else np.asarray
    fig.add_trace(go.Scatter(x=x, y=f(tracking["model_repeat"]), name="model from each first purchase",
                             line=dict(color=MODEL, dash="dash")))
    fig.add_trace(go.Scatter(x=x, y=f(tracking["actual_repeat"]), name="actual", line=dict(color=ACTUAL, width=2.5)))
    if holdout is not None:
        hx = holdout["week_start"]
        if cumulative and holdout_cum is not None:   # continues from the actual total before the holdout
            _band(fig, hx, holdout_cum["low"], holdout_cum["high"], ENGINE, "engine, 90 % band")
            fig.add_trace(go.Scatter(x=hx, y=holdout_cum["mean"], name="engine from today's customers (holdout)",
                                     line=dict(color=ENGINE, width=2.5)))
        elif not cumulative:
            _band(fig, hx, holdout["simulated_low"], holdout["simulated_high"], ENGINE, "engine, 90 % band")
            fig.add_trace(go.Scatter(x=hx, y=holdout["simulated_repeat"],
                                     name="engine from today's customers (holdout)",
                                     line=dict(color=ENGINE, width=2.5)))
    if H_date:
        fig.add_vline(x=H_date, line=dict(color="grey", dash="dot"))
        fig.add_annotation(x=H_date, y=1, yref="paper", text="holdout starts", showarrow=False, xanchor="left")
    fig.update_layout(title=("Cumulative" if cumulative else "Weekly") + " repeat transactions",
                      xaxis_title="week starting", yaxis_title="repeat transactions")
    return fig


def conditional_figure(cond: pd.DataFrame) -> go.Figure:
    """Mean holdout purchases by repeat purchases in the calibration period, actual against the engine's simulations."""
    fig = go.Figure([go.Scatter(x=cond["x"], y=cond["actual"], name="actual", mode="lines+markers",
                                line=dict(color=ACTUAL)),
                     go.Scatter(x=cond["x"], y=cond["simulated"], name="engine (mean of simulations)",
                                mode="lines+markers", line=dict(color=ENGINE, dash="dash"))])
    fig.update_layout(title="Holdout purchases per customer by repeat purchases in the calibration period",
                      xaxis_title="repeat purchases in the calibration period",
                      yaxis_title="mean purchases in the holdout")
    return fig


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}.note{color:#555;font-size:.92em}
.kpi{display:inline-block;margin:.3em 1.5em .3em 0}.kpi b{font-size:1.3em}"""


def write_report(path, result: dict, fits, best, spend, arrivals, tracking, freq, holdout, cond, *,
                 holdout_cum=None) -> None:
    """Write the calibration report as HTML to ``path``: the log, fits, calibrated market and holdout test."""
    from ..outputs import atomic_write_text
    lg = result["log"]
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration: {e(lg['path'])}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>Calibrated market</h1><p>Calibrated from <code id='source'>{e(lg['path'])}</code> "
             f"(sha256 {lg['sha256'][:12]}…): {lg['rows']:,} rows, {lg['customers']:,} customers, "
             f"{lg['first_date']} to {lg['last_date']}.</p>",
             f"<p class='note'>Counting: {e(lg['counting'])}. Found {lg['duplicate_rows']:,} exact duplicate rows, "
             f"{lg['same_day_rows']:,} rows sharing a customer and day with another "
             f"({lg['rows'] - lg['transactions']:,} rows merged), {lg['zero_amount_rows']:,} zero amounts; "
             f"{lg['transactions']:,} transactions.</p>",
             f"<p>Calibration period {result['calibration_period']['start']} to before "
             f"{result['calibration_period']['end_exclusive']}: "
             f"{result['calibration_period']['customers']:,} customers, "
             f"{result['calibration_period']['repeat_transactions']:,} repeat transactions. "
             f"Use the market: <code>{e(result['market']['select_with'])} strategy=win_back</code></p>"]
    if "holdout" in result:
        c = result["holdout"]["cumulative_repeat"]
        parts.append("<h2>Holdout</h2>"
                     f"<div class='kpi'>actual repeat transactions <b id='holdout-actual'>{c['actual']:,.0f}</b></div>"
                     f"<div class='kpi'>simulated <b id='holdout-simulated'>{c['simulated']:,.0f}</b> "
                     f"(90 %: {c['simulated_low']:,.0f}–{c['simulated_high']:,.0f})</div>"
                     f"<div class='kpi'>error <b id='holdout-error'>{c['error_pct']:+.1f} %</b></div>"
                     f"<p class='note'>The engine (no strategy, {result['holdout']['replications']} replications) "
                     f"starts from the real customers on {result['holdout']['start']}, each alive with its "
                     f"P(alive) and buying with its posterior rate, and runs to "
                     f"{result['holdout']['end_exclusive']}.</p>")
    parts.append("<h2>Parameters</h2><p class='note'>" + e(result["purchase_model"]["criterion"]) +
                 f"; chosen: <b>{e(best.kind)}</b>. Arrivals: {e(arrivals.reason)}. SEs from the observed "
                 "information (delta method).</p>" + _param_table(result, fits, best, spend, arrivals))
    figs = [("frequency", frequency_figure(freq)),
            ("weekly", weekly_figure(tracking, holdout, result.get("holdout", {}).get("start"), False)),
            ("cumulative", weekly_figure(tracking, holdout, result.get("holdout", {}).get("start"), True, holdout_cum))]
    if cond is not None:
        figs.append(("conditional", conditional_figure(cond)))
    for i, (name, fig) in enumerate(figs):
        parts.append(_fig(fig, f"fig-{name}", i == 0))
    pl = result["placement"]
    parts.append("<h2>Customers on the ladder today</h2><table id='placement'><tr><th>stage</th><th>customers</th></tr>"
                 + "".join(f"<tr><td>{e(k)}</td><td>{v:,}</td></tr>" for k, v in pl["counts"].items())
                 + "</table><p class='note'>Rules, in order: " + e("; ".join(pl["described"]))
                 + f". Expected customers still alive by the model: {pl['expected_alive']:,.0f}.</p>")
    parts.append("<h2>What a transaction log cannot tell</h2><p class='note'>No acquisition or service cost, no "
                 "satisfaction or attitude, no causal response to marketing (the fitted rates describe behaviour "
                 "under whatever the firm did then), no competitor purchases, no advocacy. Those parts of the "
                 "simulated market keep the project's defaults and should be set from other sources.</p>")
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts))
