"""Plotly charts of a :class:`~sim.viz.model.Pair`, built once and updated in place every step.

The figures are built once as plotly ``go.Figure`` objects and sent to the browser as JSON
(:meth:`Charts.spec`); each step sends only the changed arrays and titles (:attr:`Charts.patch`,
plain lists, no plotly validation on the server), which :class:`~sim.viz.chartview.ChartView`
draws with one shared plotly.js (which shapes Persian text, as matplotlib cannot). The
``go.Figure`` objects take the same patch when read (:attr:`Charts.figs`: tests, exports).
Dated events (a shock, a recovery, a campaign's start) are vertical lines on the time charts.
"""
from __future__ import annotations

import io
import json
import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from .. import metrics
from ..metrics import cumulative_money
from ..report import stage_labels
from .model import CONTROL, Pair, Settings, stage_colour
from .texts import name, ui

CHARTS = ("ladder", "diff", "stages", "money", "quad", "pareto")
QUAD_COLOURS = ("#636363", "#31a354", "#e6550d", "#08519c")
EVENT_COLOURS = {"shock": "#d62728", "recovery": "#2ca02c", "campaign": "#1f77b4"}
FONT = "Vazirmatn, Tahoma, 'DejaVu Sans', Arial, sans-serif"
#: plotly.js options of every chart: PNG download from the toolbar (drawn in the browser, so it
#: works offline), no plotly logo, no cloud buttons.
CONFIG = {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
          "toImageButtonOptions": {"format": "png", "scale": 2}}


def _series(m, key: str) -> np.ndarray:
    return np.asarray(m.datacollector.model_vars[key], dtype=float)


def _profit(m) -> np.ndarray:
    return cumulative_money(m.datacollector.model_vars)["profit"]


def _customers(m) -> np.ndarray:
    return _series(m, "customers_focal")


def ladder_xy(m, per_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dot positions and stages: one dot per customer (a Mesa agent's row), stacked in its
    stage's column, customers of a stage in row order."""
    stage = m.s.stage.astype(np.int64)
    order = np.argsort(stage, kind="stable")
    st = stage[order]
    first = np.searchsorted(st, np.arange(m.n_stages))
    i = np.arange(st.size) - first[st]          # rank within the stage
    return st * (per_row + 2) + i % per_row, i // per_row, st


def pareto_curve(m) -> tuple[np.ndarray, np.ndarray, float]:
    """Buyers of the run sorted by profit (margin − service − contact cost), most profitable first:
    cumulative share of buyers, cumulative share of their total profit, and the top 20 %'s share."""
    s = m.s
    rows = np.flatnonzero(s.revenue > 0)
    if rows.size == 0:
        return np.zeros(1), np.zeros(1), float("nan")
    v = np.sort((s.margin[rows] - s.service_cost[rows] - s.contact_cost[rows]).astype(float))[::-1]
    total = v.sum()
    if total <= 0:
        return np.zeros(1), np.zeros(1), float("nan")
    x = np.arange(1, v.size + 1) / v.size
    y = np.cumsum(v) / total
    top = float(y[max(int(np.ceil(0.2 * v.size)) - 1, 0)])
    return np.concatenate([[0.0], x]), np.concatenate([[0.0], y]), top


class Charts:
    """The six figures of one session, for one pair and one language."""

    def __init__(self, pair: Pair, locale: str):
        self.pair, self.locale, self.tx = pair, locale, ui(locale)
        a = pair.a
        self.labels = stage_labels(a, locale)
        self.per_row = max(5, int(np.ceil(np.sqrt(a.n / a.n_stages))))
        self._figs = {k: getattr(self, "_build_" + k)() for k in CHARTS}
        self._spec: dict | None = None
        self.version = -1   # counts updates: the browser view sends each one once
        self.update()

    # ------------------------------------------------------------------ layout
    def _layout(self, fig: go.Figure, title: str, height: int = 330, width: int = 480) -> go.Figure:
        fig.update_layout(title=dict(text=title, font=dict(size=14)), template="plotly_white", height=height,
                          width=width,
                          margin=dict(l=55, r=20, t=45, b=40), font=dict(family=FONT),
                          legend=dict(font=dict(size=10)), uirevision="keep")
        # tick labels never overflow these fixed-size charts: "allow" spares plotly.js measuring every
        # label against the page on every redraw (its default for linear axes, "hide past div", does)
        fig.update_xaxes(ticklabeloverflow="allow")
        fig.update_yaxes(ticklabeloverflow="allow")
        return fig

    def _time_axis(self, fig: go.Figure, secondary: bool = False) -> None:
        days = self.pair.a.days
        fig.update_xaxes(range=[0, days], title_text=self.tx["day"])
        grouped: dict[tuple[float, str], list[str]] = {}
        for day, kind, who in self.pair.events():
            grouped.setdefault((day, kind), []).append(who)
        for (day, kind), who in sorted(grouped.items()):
            label = (self.tx["ev_" + kind].format(name=name(who[0], self.locale)) if len(who) == 1
                     else self.tx["ev_campaigns"].format(n=len(who)))
            fig.add_vline(x=day, line=dict(color=EVENT_COLOURS[kind], dash="dash", width=1.5))
            fig.add_annotation(x=day, y=1.0, yref="paper", text=label, showarrow=False, xanchor="left",
                               yanchor="bottom", font=dict(size=10, color=EVENT_COLOURS[kind]))

    def _build_ladder(self) -> go.Figure:
        """One marker trace per market (colours per dot: fewer traces redraw faster), plus one
        empty trace per stage for the legend."""
        from plotly.subplots import make_subplots
        a = self.pair.a
        fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.03,
                            subplot_titles=(self.tx["market_a"], self.tx["market_b"]))
        for col in (1, 2):
            fig.add_trace(go.Scatter(x=[], y=[], mode="markers", showlegend=False, hoverinfo="skip",
                                     marker=self._stage_marker(5)), row=1, col=col)
        for k in range(a.n_stages):
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=self.labels[k],
                                     marker=dict(size=8, color=stage_colour(k))), row=1, col=1)
        ticks = [k * (self.per_row + 2) + self.per_row / 2 - 0.5 for k in range(a.n_stages)]
        fig.update_xaxes(tickvals=ticks, ticktext=[str(k + 1) for k in range(a.n_stages)],
                         title_text=self.tx["ch_ladder_x"], showgrid=False, zeroline=False)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
        return self._layout(fig, "", height=360, width=960)

    def _stage_marker(self, size: int) -> dict:
        """Markers coloured by stage index (small integers travel as binary, unlike colour names)."""
        n = self.pair.a.n_stages
        scale = [[k / max(n - 1, 1), stage_colour(k)] for k in range(n)]
        return dict(size=size, color=[], colorscale=scale, cmin=0, cmax=max(n - 1, 1), showscale=False)

    def _build_stages(self) -> go.Figure:
        fig = go.Figure([go.Scatter(x=[], y=[], name=self.labels[k], stackgroup="one", mode="lines",
                                    line=dict(width=0.5, color=stage_colour(k)))
                         for k in range(self.pair.a.n_stages)])
        self._time_axis(fig)
        fig.update_yaxes(title_text=self.tx["ch_customers"])
        return self._layout(fig, self.tx["ch_stages"])

    def _build_money(self) -> go.Figure:
        tr = [("tr_revenue", "#2171b5", "solid"), ("tr_marketing", "#e6550d", "solid"),
              ("tr_profit", "black", "solid"), ("tr_profit_b", "#7f7f7f", "dot")]
        fig = go.Figure([go.Scatter(x=[], y=[], name=self.tx[k], mode="lines", line=dict(color=c, dash=d, width=2))
                         for k, c, d in tr])
        self._time_axis(fig)
        fig.update_yaxes(title_text=self.tx["ch_money_y"])
        return self._layout(fig, self.tx["ch_money"])

    def _build_diff(self) -> go.Figure:
        fig = go.Figure([
            go.Scatter(x=[], y=[], name=self.tx["ch_diff_profit"], mode="lines", line=dict(color="black", width=2)),
            go.Scatter(x=[], y=[], name=self.tx["ch_diff_customers"], mode="lines", yaxis="y2",
                       line=dict(color="#6baed6", width=2))])
        self._time_axis(fig)
        fig.add_hline(y=0, line=dict(color="grey", width=1))
        fig.update_layout(yaxis=dict(title=self.tx["ch_money_y"]),
                          yaxis2=dict(title=self.tx["ch_diff_y2"], overlaying="y", side="right", showgrid=False,
                                      tickmode="auto"),
                          legend=dict(orientation="h", y=-0.25))
        return self._layout(fig, self.tx["ch_diff"])

    def _build_quad(self) -> go.Figure:
        fig = go.Figure([go.Scatter(x=[], y=[], mode="markers", showlegend=False, hoverinfo="skip",
                                    marker={**self._stage_marker(6), "opacity": 0.8})])
        fig.add_hline(y=0.5, line=dict(color="grey", width=1))
        fig.add_vline(x=0.5, line=dict(color="grey", width=1))
        for q, (x, y) in enumerate(((0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75))):
            fig.add_annotation(x=x, y=y, text="", showarrow=False, bgcolor="rgba(255,255,255,0.75)",
                               font=dict(size=12, color=QUAD_COLOURS[q]))
        fig.update_xaxes(range=[0, 1], title_text=self.tx["ch_quad_x"])
        fig.update_yaxes(range=[0, 1], title_text=self.tx["ch_quad_y"])
        return self._layout(fig, "")

    def _build_pareto(self) -> go.Figure:
        fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", line=dict(color="#08519c", width=2), showlegend=False),
                         go.Scatter(x=[0, 1], y=[0, 1], mode="lines", showlegend=False,
                                    line=dict(color="grey", dash="dot", width=1))])
        fig.add_vline(x=0.2, line=dict(color="#d62728", dash="dash", width=1))
        fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=self.tx["ch_pareto_x"])
        fig.update_yaxes(tickformat=".0%", title_text=self.tx["ch_pareto_y"])
        return self._layout(fig, "")

    # ------------------------------------------------------------------ per step
    def update(self) -> None:
        """Compute this step's changes (:attr:`patch`); the figures take them when next read."""
        self.patch = self._compute_patch()
        self.version += 1
        self._stale = True

    @property
    def figs(self) -> dict[str, go.Figure]:
        """The six figures, holding the markets' current state (the patch applied on first read)."""
        if self._stale:
            for key, change in self.patch.items():
                fig = self._figs[key]
                with fig.batch_update():
                    for i, path, value in change["data"]:
                        _set_path(fig.data[i], path, value)
                    for path, value in change["layout"]:
                        _set_path(fig.layout, path, value)
            self._stale = False
        return self._figs

    def spec(self) -> dict:
        """The figures as plotly.js JSON (layout, traces and the toolbar's config), for the browser."""
        if self._spec is None:
            self._spec = {k: {**json.loads(pio.to_json(f, validate=False)), "config": CONFIG}
                          for k, f in self._figs.items()}
        return self._spec

    def _compute_patch(self) -> dict[str, dict]:
        """What changed since the charts were built, chart by chart: ``data`` as (trace, path, values)
        and ``layout`` as (path, value), in plain lists (JSON for the browser, no plotly validation)."""
        a, b, tx = self.pair.a, self.pair.b, self.tx
        t = _json(_series(a, "t"))
        patch = {}
        data = []
        for j, m in enumerate((a, b)):
            x, y, st = ladder_xy(m, self.per_row)
            data += [(j, ("x",), x.tolist()), (j, ("y",), y.tolist()), (j, ("marker", "color"), st.tolist())]
        patch["ladder"] = {"data": data, "layout": [(("title", "text"), tx["ch_ladder"].format(day=f"{a.now:.0f}"))]}
        patch["stages"] = {"data": [d for k, nm in enumerate(a.stage_names)
                                    for d in ((k, ("x",), t), (k, ("y",), _json(_series(a, "stage_" + nm))))],
                           "layout": []}
        pa, pb = _profit(a), _profit(b)
        money = (_series(a, "cum_revenue_cents") / 100, cumulative_money(a.datacollector.model_vars)["marketing_spend"],
                 pa)
        data = [d for k, y in enumerate(money) for d in ((k, ("x",), t), (k, ("y",), _json(y, 2)))]
        data += [(3, ("x",), _json(_series(b, "t"))), (3, ("y",), _json(pb, 2))]
        patch["money"] = {"data": data, "layout": []}
        n = min(pa.size, pb.size)
        patch["diff"] = {"data": [(0, ("x",), t[:n]), (0, ("y",), _json(pa[:n] - pb[:n], 2)),
                                  (1, ("x",), t[:n]), (1, ("y",), _json(_customers(a)[:n] - _customers(b)[:n]))],
                         "layout": []}
        rows = np.flatnonzero(a.role[a.s.stage] == 2)
        counts = np.bincount(a.loyalty_quadrant(rows), minlength=4)
        patch["quad"] = {
            "data": [(0, ("x",), _json(a.current_patronage(rows), 4)), (0, ("y",), _json(a.s.attitude[rows], 4)),
                     (0, ("marker", "color"), a.s.stage[rows].tolist())],
            "layout": [(("annotations", q, "text"), f"<b>{tx['q%d' % q]}</b><br>{counts[q]}") for q in range(4)]
            + [(("title", "text"), tx["ch_quad"].format(n=rows.size))]}
        x, y, top = pareto_curve(a)
        patch["pareto"] = {"data": [(0, ("x",), _json(x, 5)), (0, ("y",), _json(y, 5))],
                           "layout": [(("title", "text"),
                                       tx["ch_pareto"].format(share="–" if np.isnan(top) else f"{top:.0%}"))]}
        return patch


def _json(a, decimals: int | None = None) -> list:
    """A numpy array as a JSON-ready list (rounded; never NaN, which JSON cannot carry)."""
    a = np.asarray(a, dtype=float)
    if decimals is not None:
        a = np.round(a, decimals)
    out = a.tolist()
    if not np.isfinite(a).all():
        out = [v if np.isfinite(v) else None for v in out]
    return out


def _set_path(obj, path: tuple, value) -> None:
    """``obj[path[0]][path[1]]... = value`` on a plotly object."""
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def pair_timeseries(pair: Pair, locale: str = "en") -> pd.DataFrame:
    """Both markets' time series (``sim.metrics.timeseries``), stacked, with a ``market`` column."""
    frames = []
    for label, m in (("A", pair.a), ("B", pair.b)):
        df = metrics.timeseries(m)
        df.insert(0, "market", label)
        df.insert(1, "scenario", m.preset)
        df.insert(2, "with_strategies", any(not s.environment for s in m.strategies))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


class Session:
    """One browser session's state: its pair of markets, its charts and (``widgets``) the view that
    draws them in the browser (never shared)."""

    def __init__(self, settings: Settings, locale: str = "en", widgets: bool = True):
        self.lock = threading.RLock()
        self.locale = locale
        self.pair = Pair(settings)
        self.charts = Charts(self.pair, locale)
        self.view = None
        if widgets:
            from .chartview import ChartView
            self.view = ChartView()
            self.view.show(self.charts)
        # the page sends each change with :meth:`show` after it has re-rendered its panels, so that
        # the browser draws the panels and the charts in one frame

    @property
    def settings(self) -> Settings:
        """The session's current settings (those of its pair of markets)."""
        return self.pair.settings

    def show(self) -> None:
        """Send the charts' current state to the browser view (once per change; no view: nothing)."""
        if self.view is not None:
            self.view.show(self.charts)

    def rebuild(self, settings: Settings) -> None:
        """New markets from ``settings`` (already checked), at day 0."""
        pair = Pair(settings)  # build first: a failure leaves the running pair untouched
        with self.lock:
            self.pair = pair
            self.charts = Charts(pair, self.locale)

    def set_locale(self, locale: str) -> None:
        """Switch the session's charts to ``locale`` (new figures, drawn by the same view)."""
        with self.lock:
            self.locale = locale
            self.charts = Charts(self.pair, locale)

    def step(self) -> None:
        """Advance both markets by one processing window and update the charts (nothing once finished)."""
        with self.lock:
            if not self.pair.finished:
                self.pair.step()
                self.charts.update()
    
    def run_to_end(self) -> None:
        """Run both markets to the horizon, then update the charts once."""
        with self.lock:
            while not self.pair.finished:
                self.pair.step()
            self.charts.update()

    def csv_bytes(self) -> bytes:
        """Both markets' time series as CSV bytes, for the download button."""
        with self.lock:
            buf = io.StringIO()
            pair_timeseries(self.pair).to_csv(buf, index=False)
        return buf.getvalue().encode("utf-8")

    def compare_label(self) -> str:
        """The comparison market's label in the session's language: "control" or the scenario's name."""
        c = self.settings.compare
        return ui(self.locale)["control"] if c == CONTROL else name(c, self.locale)
