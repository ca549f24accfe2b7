"""Self-contained plotly HTML report of one run.

The charts read their tables as mappings of column name to array: the numpy columns of
:mod:`sim.metrics` (``timeseries_columns``, ``flows_columns``, ``cohort_columns``) in a run,
which needs no pandas, or pandas DataFrames.
"""
from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from . import units

#: The crm7 ladder's colours by position (kept for callers that index by stage number; new code
#: should call :func:`stage_colours`, which follows the stages' roles on any ladder).
STAGE_COLOURS = ["#c7c7c7", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b", "#d62728",
                 "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]

ROLE_COLOURS = {"pool": "#c7c7c7", "lead": "#969696", "lost": "#d62728"}
_BLUE_LIGHT, _BLUE_DARK = (0x9e, 0xca, 0xe1), (0x08, 0x30, 0x6b)  # ends of ColorBrewer's "Blues"


def _roles(ladder) -> list[str]:
    if hasattr(ladder, "role_names"):  # sim.ladder.Ladder
        return list(ladder.role_names)
    if hasattr(ladder, "stages"):  # sim.config.Ladder
        return [s.role for s in ladder.stages]
    return list(ladder)  # role names


def stage_colours(ladder) -> list[str]:
    """One colour per stage, by role: the lost stage red, pool and lead stages greys, and the
    customer stages a blue ramp from light (lowest) to dark (highest).

    ``ladder`` is a :class:`sim.config.Ladder`, a :class:`sim.ladder.Ladder` or a list of role names.
    """
    roles = _roles(ladder)
    n_cust = roles.count("customer")
    out, k = [], 0
    for r in roles:
        if r == "customer":
            f = k / (n_cust - 1) if n_cust > 1 else 0.6
            rgb = [round(a + (b - a) * f) for a, b in zip(_BLUE_LIGHT, _BLUE_DARK, strict=True)]
            out.append("#" + "".join(f"{c:02x}" for c in rgb))
            k += 1
        else:
            out.append(ROLE_COLOURS[r])
    return out


def stage_labels(market, locale: str | None = None) -> list[str]:
    """The ladder's stage labels in ``locale`` (default: the run's), Persian where given, else English."""
    loc = locale or market.cfg.output.locale
    return [(s.fa or s.en) if loc == "fa" else s.en for s in market.cfg.ladder.stages]


def _fig_html(fig: go.Figure, div_id: str, first: bool) -> str:
    fig.update_layout(template="plotly_white", margin=dict(l=50, r=20, t=50, b=40), height=420)
    return fig.to_html(full_html=False, include_plotlyjs=True if first else False, div_id=div_id,
                       config={"displaylogo": False})


def _col(table: Mapping, name: str) -> np.ndarray:
    """One column of a table (a mapping of numpy columns, or a DataFrame) as a numpy array."""
    return np.asarray(table[name])


def stage_figure(market, ts: Mapping, labels: list[str]) -> go.Figure:
    """Stacked area chart of how many customers are on each ladder stage over time."""
    fig = go.Figure()
    colours = stage_colours(market.cfg.ladder)
    for k, name in enumerate(market.stage_names):
        fig.add_trace(go.Scatter(x=_col(ts, "date"), y=_col(ts, f"stage_{name}"), name=labels[k], stackgroup="one",
                                 line=dict(width=0.5, color=colours[k])))
    fig.update_layout(title="Customers by ladder stage", yaxis_title="customers")
    return fig


def flow_figure(market, flows: Mapping, labels: list[str]) -> go.Figure:
    """Sankey diagram of the ladder moves between stages over the whole run (one link per pair of
    stages, in order of the stages' names)."""
    agg: dict[tuple[str, str], int] = {}
    for a, b, n in zip(_col(flows, "from_stage").tolist(), _col(flows, "to_stage").tolist(),
                       _col(flows, "count").tolist(), strict=True):
        agg[(a, b)] = agg.get((a, b), 0) + int(n)
    pairs = sorted(agg)
    idx = {n: i for i, n in enumerate(market.stage_names)}
    fig = go.Figure(go.Sankey(
        node=dict(label=labels, color=stage_colours(market.cfg.ladder), pad=18),
        link=dict(source=[idx[a] for a, _ in pairs], target=[idx[b] for _, b in pairs],
                  value=[agg[p] for p in pairs])))
    fig.update_layout(title="Ladder flows over the run (moves between stages)")
    return fig


def cohort_figure(cohorts: Mapping) -> go.Figure:
    """Retention curves of the monthly acquisition cohorts (of at least 5 customers) and their size-weighted mean."""
    fig = go.Figure()
    cohort, age = _col(cohorts, "cohort"), _col(cohorts, "age_days")
    retained, size = _col(cohorts, "retained"), _col(cohorts, "cohort_size")
    if len(cohort):
        for c in np.unique(cohort):
            g = cohort == c
            if size[g][0] < 5:
                continue
            fig.add_trace(go.Scatter(x=age[g], y=retained[g], mode="lines",
                                     name=f"month {c} (n={size[g][0]})", line=dict(width=1)))
        ages = np.unique(age)
        mean = np.array([np.average(retained[age == a], weights=size[age == a]) for a in ages])
        fig.add_trace(go.Scatter(x=ages, y=mean, name="all cohorts", line=dict(width=4, color="black")))
    fig.update_layout(title="Cohort retention (customers acquired during the run, by month)",
                      xaxis_title="days since acquisition", yaxis_title="share not yet churned", yaxis_range=[0, 1.02])
    return fig


def money_figure(ts: Mapping, control_ts: Mapping | None) -> go.Figure:
    """Revenue and costs per period as bars, with cumulative profit against the no-action control's if given."""
    fig = go.Figure()
    date = _col(ts, "date")
    fig.add_trace(go.Bar(x=date, y=_col(ts, "revenue"), name="revenue", marker_color="#6baed6"))
    fig.add_trace(go.Bar(x=date, y=-_col(ts, "service_cost"), name="service cost", marker_color="#fdae6b"))
    fig.add_trace(go.Bar(x=date, y=-_col(ts, "marketing_spend"), name="marketing spend", marker_color="#e6550d"))
    fig.add_trace(go.Scatter(x=date, y=_col(ts, "cum_profit"), name="cumulative profit", yaxis="y2",
                             line=dict(color="black", width=3)))
    if control_ts is not None:
        fig.add_trace(go.Scatter(x=_col(control_ts, "date"), y=_col(control_ts, "cum_profit"), yaxis="y2",
                                 name="cumulative profit, no-action control", line=dict(color="grey", dash="dash")))
    fig.update_layout(title="Revenue and costs per period; cumulative profit", barmode="relative",
                      yaxis_title="per period", yaxis2=dict(overlaying="y", side="right", title="cumulative"))
    return fig


def quadrant_figure(ts: Mapping) -> go.Figure:
    """Stacked area chart of current customers in each Dick & Basu loyalty quadrant over time."""
    fig = go.Figure()
    for col, colour in (("quadrant_true_loyalty", "#08519c"), ("quadrant_spurious_loyalty", "#fd8d3c"),
                        ("quadrant_latent_loyalty", "#74c476"), ("quadrant_no_loyalty", "#bdbdbd")):
        fig.add_trace(go.Scatter(x=_col(ts, "date"), y=_col(ts, col),
                                 name=col.removeprefix("quadrant_").replace("_", " "), stackgroup="q",
                                 line=dict(width=0.5, color=colour)))
    fig.update_layout(title="Dick & Basu loyalty quadrants of current customers (attitude × repeat patronage)",
                      yaxis_title="customers")
    return fig


FIRM_COLOURS = ["#08519c", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]


def competition_figure(market, ts: Mapping) -> go.Figure:
    """Market share of each period's purchases (value) and each firm's share of the focal firm's
    customers' wallets, over time."""
    from plotly.subplots import make_subplots
    wallet = any(c.startswith("wallet_share_") for c in ts.keys())
    fig = make_subplots(rows=1, cols=2 if wallet else 1, subplot_titles=(
        ["Market share (value of each period's purchases)"]
        + (["Share of wallet of the focal firm's customers"] if wallet else [])))
    after = _col(ts, "t") > 0
    date = _col(ts, "date")[after]
    for f in market.firms:
        colour = FIRM_COLOURS[f.index % len(FIRM_COLOURS)]
        fig.add_trace(go.Scatter(x=date, y=_col(ts, f"market_share_{f.slug}")[after], name=f.name,
                                 legendgroup=f.name, line=dict(color=colour)), row=1, col=1)
        if wallet:
            fig.add_trace(go.Scatter(x=date, y=_col(ts, f"wallet_share_{f.slug}")[after], name=f.name,
                                     legendgroup=f.name, showlegend=False, line=dict(color=colour, dash="dot")),
                          row=1, col=2)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(title="Competitive market")
    return fig


def firms_html(summary: dict) -> str:
    """Each firm's profit and loss, market share and share of the focal customers' wallets."""
    firms = summary.get("firms") or {}
    if not firms:
        return ""
    cols = [("revenue", "revenue"), ("gross_margin", "gross margin"), ("marketing_spend", "marketing spend"),
            ("fixed_cost", "fixed cost"), ("profit", "profit"), ("market_share", "market share"),
            ("share_of_focal_wallets", "share of focal customers' wallets"), ("main_supplier_of", "main supplier of")]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in cols)
    body = ""
    for name, r in firms.items():
        cells = "".join(f"<td>{_cell(k, r.get(k))}</td>" for k, _ in cols)
        plug = ", ".join(r.get("strategies", {}))
        body += f"<tr><th>{html.escape(name)}</th>{cells}<td>{html.escape(plug or '–')}</td></tr>"
    return ("<h2>Competitive market</h2><table class='grid' id='firms'><tr><th>firm</th>" + head
            + "<th>rival plug-ins</th></tr>" + body + "</table><p>Every purchase goes to exactly one firm; "
            "rivals carry no fixed overheads. Market share is the firm's share of the value of all "
            "purchases in the simulated market.</p>")


def _cell(key: str, v) -> str:
    if v is None:
        return "–"
    if "share" in key:
        return f"{v:.1%}"
    return f"{v:,.0f}"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{body}</table>"


def _fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, dict):
        return " · ".join(f"{k} {_fmt(v)}" for k, v in x.items())
    if isinstance(x, float):
        if np.isnan(x):
            return "–"
        return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}"
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    return str(x)


def _fig(key: str, v, currency: str | None) -> str:
    """A summary figure in its unit (money with currency, shares as %) when its unit is known."""
    money = key in ("gross_margin", "service_cost", "control_revenue") or units.UNITS.get(key) == "money"
    if money and isinstance(v, (int, float)):
        return units.money(v, currency)
    return units.fmt(key, v, currency) if key in units.UNITS and isinstance(v, (int, float)) else _fmt(v)


def summary_html(summary: dict, currency: str | None = None, profile_rows: list | None = None) -> str:
    """The report's summary tables as HTML: money and churn, the profile in the user's units, and the paired figures."""
    keys = ["revenue", "gross_margin", "service_cost", "marketing_spend", "profit", "roi", "churn_rate_annual",
            "mean_clv", "top20_revenue_share", "acquisitions", "defections", "customers_end", "market_share",
            "share_of_wallet"]
    label = {"roi": "ROI against the no-action control: (incremental profit − strategy cost) / strategy cost"}
    parts = ["<h2>Summary</h2>", _table([(label.get(k, k), _fig(k, summary.get(k), currency)) for k in keys])]
    if profile_rows:
        body = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                       for a, b, c in profile_rows)
        parts += ["<h2>In your units (business profile)</h2><table class='kv'><tr><th></th><th>profile</th>"
                  f"<th>this run</th></tr>{body}</table>"]
    if "paired" in summary:
        p = summary["paired"]
        parts += ["<h2>Against the no-action control (common random numbers)</h2>",
                  _table([("ROI vs control: (incremental profit − strategy cost) / strategy cost"
                           if k == "roi_vs_control" else k, _fig(k, v, currency)) for k, v in p.items()])]
    if summary.get("strategies"):
        rows = []
        for name, r in summary["strategies"].items():
            ho = summary.get("holdout", {}).get(name, {})
            tr = r.get("treated", {})
            mix = tr.get("stage_mix_end", {})
            top = ", ".join(f"{k} {v:.0%}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])[:3])
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(r.get('kind')))}</td>"
                        f"<td>{units.money(r.get('budget'), currency)}</td>"
                        f"<td>{units.money(r.get('spend'), currency)}</td>"
                        f"<td>{_fmt(r.get('contacts'))}</td><td>{_fmt(r.get('responders'))}</td>"
                        f"<td>{_fmt(tr.get('churned_share_end'))}</td><td>{html.escape(top)}</td>"
                        f"<td>{units.money(ho.get('incremental_profit'), currency)}</td>"
                        f"<td>{units.percent(ho.get('roi'))}</td></tr>")
        parts += ["<h2>Strategies</h2><table class='grid'><tr><th>strategy</th><th>kind</th><th>budget</th>"
                  "<th>spend</th><th>contacts</th><th>responders</th><th>contacted: churned at end</th>"
                  "<th>contacted: stage mix at end</th><th>incremental profit (holdout)</th>"
                  "<th>ROI (holdout)</th></tr>" + "".join(rows) + "</table>"
                  "<p>Incremental profit and ROI per strategy come from in-run control groups "
                  "(<code>strategy.&lt;name&gt;.holdout</code> &gt; 0); the mix as a whole is measured against "
                  "the paired no-action control above.</p>"]
    parts.append(firms_html(summary))
    return "\n".join(parts)


def _calibrated_from(market) -> str:
    """A calibrated market names the log it was fitted to (``market.source``)."""
    src = market.cfg.market.source
    return "" if src is None else (f"<p id='calibrated-from'>Market calibrated from the transaction log "
                                   f"<code>{html.escape(src)}</code> (python -m sim.calibrate).</p>")


def build_report(market, ts, flows, cohorts, summary, control_ts=None) -> str:
    """The self-contained HTML report of a run: its summary and its stage, flow, cohort, money and quadrant charts."""
    labels = stage_labels(market)
    figs = [("stages", stage_figure(market, ts, labels)), ("flows", flow_figure(market, flows, labels)),
            ("cohorts", cohort_figure(cohorts)), ("money", money_figure(ts, control_ts)),
            ("quadrants", quadrant_figure(ts)), ("competition", competition_figure(market, ts))]
    body = [_fig_html(f, f"fig-{name}", first=(i == 0)) for i, (name, f) in enumerate(figs)]
    d = "rtl" if market.cfg.output.locale == "fa" else "ltr"
    rows = None
    if market.cfg.profile is not None:
        from .profile import in_units
        focal = np.asarray(market.datacollector.model_vars["customers_focal"], dtype=np.int64)
        mean_focal = float(focal.sum(dtype=np.float64) / focal.size) if focal.size else 0.0  # as pandas' mean
        rows = in_units(market.cfg.profile, summary, mean_focal)
    return f"""<!DOCTYPE html>
<html lang="{market.cfg.output.locale}" dir="{d}"><head><meta charset="utf-8">
<title>Customer lifecycle simulation report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1em}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:right}}
th{{background:#f5f5f5}}</style></head><body>
<h1>Customer lifecycle simulation</h1>
<p>{market.n:,} customers, {market.days:g} days from {market.cfg.market.start_date}, seed {market.cfg.seed}
(replication {market.cfg.replication}).</p>
{_calibrated_from(market)}{summary_html(summary, market.cfg.output.currency, rows)}
{''.join(body)}
</body></html>
"""
