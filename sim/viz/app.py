"""Teaching view: Mesa SolaraViz over a small customer market.

Run with ``.venv/bin/python -m sim.viz`` (or ``.venv/bin/solara run sim/viz/app.py``).
Shows the customers as agents on the ladder coloured by stage, stage counts now and over
time, revenue / cost / ROI so far and the Dick & Basu loyalty quadrant; the sidebar has
play, pause, step and reset and the scenario, strategy and market parameters.
"""
from __future__ import annotations

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.config import load
from sim.metrics import QUADRANTS
from sim.report import stage_labels
from sim.viz.model import (FROM_SCENARIO, SCENARIOS, TeachingMarket, extra_overrides, stage_colour,
                           stage_panel_html, strategy_options)

QUADRANT_COLOURS = ("#636363", "#31a354", "#e6550d", "#08519c")


def _initial_choices() -> tuple[str, str]:
    """Scenario and locale from ``python -m sim.viz +scenario=... output.locale=...``."""
    scenario, locale = "default", "en"
    for o in extra_overrides():
        if o.startswith("+scenario="):
            scenario = o.split("=", 1)[1]
        elif o.startswith("output.locale="):
            locale = o.split("=", 1)[1]
    return scenario, locale


def _legend_label(model, k: int, labels: list[str]) -> str:
    # matplotlib cannot shape Persian script: charts number the stages, the HTML table names them
    return labels[k] if model.locale == "en" else str(k + 1)


@solara.component
def StagePanel(model):
    """Stage counts now (named in the chosen locale) and money so far; read by the browser test."""
    update_counter.get()
    solara.HTML(tag="div", unsafe_innerHTML=stage_panel_html(model))


@solara.component
def LadderView(model):
    """Every customer is a Mesa agent: one dot per agent, stacked in its ladder stage, coloured by stage."""
    update_counter.get()
    labels = stage_labels(model, model.locale)
    stage = np.array([a.stage_index for a in model.customer_agents], dtype=int)
    per_row = max(5, int(np.ceil(np.sqrt(model.n / model.n_stages))))
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    ax = fig.subplots()
    for k in range(model.n_stages):
        idx = np.flatnonzero(stage == k)
        i = np.arange(idx.size)
        ax.scatter(k * (per_row + 2) + i % per_row, i // per_row, s=9, color=stage_colour(k),
                   label=_legend_label(model, k, labels))
    ax.set_xticks([k * (per_row + 2) + per_row / 2 - 0.5 for k in range(model.n_stages)],
                  [str(k + 1) for k in range(model.n_stages)])
    ax.set_yticks([])
    ax.set_xlabel("ladder stage (see table)")
    ax.set_title(f"Customers on the ladder, day {model.now:.0f}")
    ax.legend(fontsize=6, ncol=2, loc="upper right", frameon=False)
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def StageHistory(model):
    update_counter.get()
    labels = stage_labels(model, model.locale)
    df = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    ax = fig.subplots()
    if len(df):
        ys = [df[f"stage_{n}"].to_numpy() for n in model.stage_names]
        ax.stackplot(df["t"].to_numpy(), *ys, colors=[stage_colour(k) for k in range(model.n_stages)],
                     labels=[_legend_label(model, k, labels) for k in range(model.n_stages)])
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xlabel("day")
    ax.set_ylabel("customers")
    ax.set_title("Stage counts over time")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def MoneyView(model):
    update_counter.get()
    df = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    ax = fig.subplots()
    if len(df):
        t = df["t"].to_numpy()
        rev = df["cum_revenue_cents"].to_numpy() / 100
        svc = df["cum_service_cost_cents"].to_numpy() / 100
        mkt = (df["cum_contact_cost_cents"] + df["cum_other_spend_cents"]).to_numpy() / 100
        profit = df["cum_margin_cents"].to_numpy() / 100 - svc - mkt
        ax.plot(t, rev, label="revenue", color="#2171b5")
        ax.plot(t, svc, label="service cost", color="#fdae6b")
        ax.plot(t, mkt, label="marketing spend", color="#e6550d")
        ax.plot(t, profit, label="profit", color="black", lw=2)
        cost = svc + mkt
        roi = np.divide(profit, cost, out=np.full_like(profit, np.nan), where=cost > 0)
        ax2 = ax.twinx()
        ax2.plot(t, roi, color="#756bb1", ls="--", label="ROI (right)")
        ax2.set_ylabel("ROI")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", frameon=False)
    ax.set_xlabel("day")
    ax.set_ylabel("cumulative, currency")
    ax.set_title("Revenue, cost and ROI so far")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def QuadrantView(model):
    """Dick & Basu (1994): relative attitude × repeat patronage of the firm's current customers."""
    update_counter.get()
    rows = np.flatnonzero(model.role[model.s.stage] == 2)
    att = model.s.attitude[rows]
    pat = model.current_patronage(rows)
    quad = model.loyalty_quadrant(rows)
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    ax = fig.subplots()
    ax.scatter(pat, att, s=10, c=[stage_colour(k) for k in model.s.stage[rows]], alpha=0.8)
    ax.axhline(0.5, color="grey", lw=1)
    ax.axvline(0.5, color="grey", lw=1)
    counts = np.bincount(quad, minlength=4)
    for q, (x, y) in enumerate(((0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75))):
        ax.text(x, y, f"{QUADRANTS[q]}\n{counts[q]}", ha="center", va="center", fontsize=9,
                color=QUADRANT_COLOURS[q], weight="bold", zorder=3,
                bbox=dict(facecolor="white", alpha=0.75, lw=0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("repeat patronage")
    ax.set_ylabel("relative attitude")
    ax.set_title(f"Dick & Basu loyalty quadrants ({rows.size} customers)")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png")


def model_params() -> dict:
    """Sidebar inputs; slider defaults are the composed config's own values."""
    scenario, locale = _initial_choices()
    base = load(extra_overrides())
    return {
        "scenario": {"type": "Select", "value": scenario, "values": list(SCENARIOS), "label": "Scenario preset"},
        "strategy": {"type": "Select", "value": FROM_SCENARIO, "values": strategy_options(),
                     "label": "Strategy (overrides the scenario's)"},
        "locale": {"type": "Select", "value": locale, "values": ["en", "fa"], "label": "Stage names (en / fa)"},
        "n_customers": {"type": "SliderInt", "value": 400, "min": 100, "max": 1000, "step": 50,
                        "label": "Customers (agents)"},
        "days_per_step": {"type": "SliderInt", "value": 7, "min": 1, "max": 30, "step": 1, "label": "Days per step"},
        "service_quality": {"type": "SliderFloat", "value": base.service.quality, "min": 0.2, "max": 1.0,
                            "step": 0.01, "label": "Service quality"},
        "innovation": {"type": "SliderFloat", "value": base.market.innovation, "min": 0.0, "max": 0.003,
                       "step": 0.0001, "label": "Bass p (external influence / day)"},
        "conversion": {"type": "SliderFloat", "value": base.market.conversion, "min": 0.0, "max": 0.02,
                       "step": 0.0005, "label": "Prospect conversion / day"},
        "defection": {"type": "SliderFloat", "value": base.market.defection, "min": 0.0, "max": 0.006,
                      "step": 0.0001, "label": "Base defection hazard / day"},
        "seed": {"type": "SliderInt", "value": min(base.seed, 20), "min": 0, "max": 20, "step": 1, "label": "Seed"},
    }


def make_page():
    params = model_params()
    model = TeachingMarket(**{k: v["value"] for k, v in params.items()})
    return SolaraViz(
        model,
        components=[StagePanel, LadderView, StageHistory, MoneyView, QuadrantView],
        model_params=params,
        play_interval=300,
        name="CRM loyalty ladder — teaching view",
    )


page = make_page()
