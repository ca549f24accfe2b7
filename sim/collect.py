"""Collect a sweep: ``python -m sim.collect <sweep_dir>``.

Reads every run of a sweep (each Hydra job directory below ``sweep_dir``), keeps the finished
ones (``summary.json`` with status complete), lists failed and unfinished runs, and writes

* ``collected.parquet``  — one row per finished run: its swept parameters, strategy, seed and
  replication, and its figures (ROI, profit, churn, mean CLV, and the paired comparison with its
  no-action control under common random numbers: ROI vs control, incremental profit, churn
  and CLV change);
* ``comparison.parquet`` — tidy: one row per group (a combination of swept values other than
  seed/replication) and metric, with mean, sd, n and the 95 % t-interval over replications;
* ``comparison.html``    — self-contained plotly comparison: every metric per group with its
  95 % interval, paired against the control, and parameter-response curves for numeric sweeps.

Every file is written atomically. A run directory without a complete summary is never read as
finished (a run killed mid-way leaves none). A run whose files do not match the manifest in its
summary, or whose summary or config does not read, is listed as bad and left out; the rest are
collected. Parameters come from what each run recorded when it started (``run.json``), never
from Hydra's ``.hydra/overrides.yaml``, which a later refused resume may have rewritten.
Temporaries (``.*.part``) a killed run left are removed from directories no run holds.
"""
from __future__ import annotations

import argparse
import html
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import decide, units
from .outputs import (
    RUN_RECORD,
    SUMMARY,
    atomic_write_parquet,
    atomic_write_text,
    is_locked,
    read_summary,
    remove_partials,
    verify_manifest,
)
from .results import FAILED, budget_and_spend, clv_change

# (column, label, paired against the control?)
METRICS: list[tuple[str, str, bool]] = [
    ("roi_vs_control", "ROI vs no-action control (net gain / strategy cost)", True),
    ("incremental_net_profit", "incremental net profit vs control", True),
    ("churn_rate_change", "annual churn change vs control", True),
    ("clv_change", "mean CLV change vs control", True),
    ("roi", "ROI vs no-action control (summary.json roi, the same number as roi_vs_control)", False),
    ("profit", "profit", False),
    ("churn_rate_annual", "annual churn rate", False),
    ("mean_clv", "mean CLV", False),
    ("strategy_cost", "strategy cost", True),
    ("incremental_profit", "incremental profit before strategy cost", True),
    ("revenue", "revenue", False),
    ("market_share", "market share (value of purchases)", False),
    ("market_share_change", "market share change vs control", True),
    ("rival_profit_change", "rivals' profit change vs control", True),
]
REPLICATION_KEYS = {"seed", "replication"}
MAX_DEPTH = 4   # run directories sit at most this deep below a sweep directory (job, or key=value/...)
CONFIDENCE = 0.95


@dataclass
class Collected:
    """A collected sweep or study: ``runs`` (``collected.parquet``), ``comparison``
    (``comparison.parquet``), the swept ``params`` that define the groups, and the runs that
    ``failed`` (directory, error) or are ``incomplete`` (no complete summary)."""

    runs: pd.DataFrame
    comparison: pd.DataFrame
    params: list[str]
    failed: list[tuple[str, str]] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)   # (run, why it cannot be read)


_MARKERS = (".hydra", SUMMARY, FAILED, RUN_RECORD)


def _job_dirs(sweep_dir: Path) -> list[Path]:
    """Run directories below ``sweep_dir``: at most MAX_DEPTH levels down, never through a
    symbolic link, and not inside a run directory (a run's own files are not runs)."""
    import os

    dirs = []
    base = len(sweep_dir.parts)
    for root, subdirs, names in os.walk(sweep_dir, followlinks=False):
        here = Path(root)
        if here != sweep_dir and any(m in names or m in subdirs for m in _MARKERS):
            dirs.append(here)
            subdirs[:] = []
            continue
        if len(here.parts) - base >= MAX_DEPTH:
            subdirs[:] = []
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
    return sorted(dirs, key=lambda p: _natural(p.relative_to(sweep_dir).as_posix()))


def looks_like_sweep(sweep_dir: Path) -> bool:
    """A sweep directory (Hydra's ``multirun.yaml`` or our progress file at the top, or a run
    directory just below) — checked before walking, so ``sim.collect /`` is refused."""
    from .sweep import PROGRESS_TOTAL

    if sweep_dir.resolve() == Path(sweep_dir.resolve().anchor):
        return False  # the root of a file system is never one sweep
    if (sweep_dir / "multirun.yaml").exists() or (sweep_dir / PROGRESS_TOTAL).exists():
        return True
    return any(d.is_dir() and not d.is_symlink() and any((d / m).exists() for m in _MARKERS)
               for d in sweep_dir.iterdir())


def _natural(s: str):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _overrides(job: Path) -> dict[str, object]:
    """The overrides the run recorded when it started (``run.json``)."""
    try:
        rec = json.loads((job / RUN_RECORD).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    listed = rec.get("overrides") if isinstance(rec, dict) else None
    out = {}
    for o in listed if isinstance(listed, list) else []:
        key, _, val = str(o).partition("=")
        key = key.lstrip("+~")
        if key.startswith("hydra.") or key.startswith("hydra/"):
            continue
        try:
            v = yaml.safe_load(val)
        except yaml.YAMLError:
            v = val
        out[key] = v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v)
    return out


def _strategy_label(cfg: dict) -> str:
    names = sorted((cfg.get("strategy") or {}).keys())
    return "+".join(names) if names else "none"


def _read_config(job: Path) -> tuple[dict, str | None]:
    """The run's config.json as a mapping, or why it cannot be read."""
    p = job / "config.json"
    if not p.exists():
        return {}, None
    try:
        cfg = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return {}, f"config.json does not read ({type(e).__name__})"
    return (cfg, None) if isinstance(cfg, dict) else ({}, f"config.json holds {type(cfg).__name__}, not a config")


def _row(job: Path, sweep_dir: Path, summ: dict, cfg: dict | None = None) -> dict:
    if cfg is None:
        cfg, _ = _read_config(job)
    p = summ.get("paired") or {}
    seed = summ.get("seed") or {}
    row: dict[str, object] = {
        "run": job.relative_to(sweep_dir).as_posix(),
        "strategy": _strategy_label(cfg) if cfg else "?",
        "seed": int(seed.get("seed", cfg.get("seed", 0))),
        "replication": int(seed.get("replication", cfg.get("replication", 0))),
    }
    for k, v in _overrides(job).items():
        if k in ("seed", "replication"):
            continue
        row[f"param.{k}"] = v
    for k in ("revenue", "profit", "roi", "churn_rate_annual", "mean_clv", "total_clv", "customers_end",
              "marketing_spend", "top20_revenue_share", "n_customers", "days", "market_share", "share_of_wallet",
              "rival_profit"):
        row[k] = summ.get(k)
    for k in ("roi_vs_control", "incremental_profit", "incremental_net_profit", "strategy_cost",
              "incremental_revenue", "churn_rate_change", "customers_end_change", "control_profit",
              "control_churn_rate_annual", "control_mean_clv", "market_share_change", "rival_profit_change"):
        row[k] = p.get(k)
    row["clv_change"] = clv_change(summ)
    row.update(budget_and_spend(summ), currency=(cfg.get("output") or {}).get("currency"))
    return row


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """Mean, sd, and the two-sided t-interval of the mean over replications (NaN bounds if n < 2)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return (mean, math.nan, math.nan, math.nan, n)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return (mean, sd, mean - half, mean + half, n)


def collect(sweep_dir: str | Path, *, progress: bool = True) -> Collected:
    """Read every run below ``sweep_dir`` (a sweep or a :func:`sim.study` directory) into DataFrames.

    Finished runs (complete ``summary.json``) become rows of ``runs``; failed and unfinished runs
    are listed, never read as results. Nothing is written (see :func:`write`).

    Raises:
        FileNotFoundError: ``sweep_dir`` is not a directory.
    """
    from tqdm.auto import tqdm

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no such sweep directory: {sweep_dir}")
    if not looks_like_sweep(sweep_dir):
        raise NotADirectoryError(f"{sweep_dir} does not look like a sweep directory (no multirun.yaml and no "
                                 "run directories in it); give the directory of one sweep (hydra.sweep.dir)")
    rows, failed, incomplete, bad = [], [], [], []
    for job in tqdm(_job_dirs(sweep_dir), desc="collecting", unit="run", disable=not progress):
        rel = job.relative_to(sweep_dir).as_posix()
        running = is_locked(job)
        if not running:
            remove_partials(job)  # a killed writer's temporaries; nobody is writing here now
        summ, problem = read_summary(job)
        if summ is not None and summ.get("status") == "complete":
            cfg, problem = _read_config(job)
            problem = problem or verify_manifest(job, summ)
            if problem is None:
                try:
                    rows.append(_row(job, sweep_dir, summ, cfg))
                    continue
                except (TypeError, ValueError, AttributeError, KeyError) as e:
                    problem = f"summary.json is malformed ({type(e).__name__}: {e})"
            bad.append((rel, problem))
        elif problem is not None:
            bad.append((rel, problem))
        elif (job / FAILED).exists():
            try:
                err = json.loads((job / FAILED).read_text()).get("error", "?")
            except (OSError, json.JSONDecodeError):
                err = "?"
            failed.append((rel, err))
        else:
            incomplete.append(rel + (" (running)" if running else ""))
    runs = pd.DataFrame(rows)
    params = _swept_params(runs)
    comparison = compare(runs, params)
    return Collected(runs, comparison, params, failed, incomplete, bad)


def _swept_params(runs: pd.DataFrame) -> list[str]:
    """Columns that vary across runs, other than seed/replication: these define the groups."""
    if runs.empty:
        return []
    cols = [c for c in runs.columns if c.startswith("param.")]
    varying = [c for c in cols if runs[c].astype(str).nunique(dropna=False) > 1]
    if not varying or ("param.strategy" not in varying and runs["strategy"].nunique() > 1):
        varying = ["strategy", *varying]
    return varying


def _group_label(keys: tuple, params: list[str]) -> str:
    if not params:
        return "all runs"
    return ", ".join(f"{p.removeprefix('param.')}={k}" for p, k in zip(params, keys, strict=True))


def compare(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Tidy comparison of ``runs`` grouped by ``params``: mean, sd, 95 % t-interval and n per metric."""
    cols = ["group", *params, "metric", "label", "paired", "mean", "sd", "ci_low", "ci_high", "n"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    out = []
    groups = runs.groupby(params, sort=False, dropna=False) if params else [((), runs)]
    for keys, g in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        for m, label, is_paired in METRICS:
            if m not in g:
                continue
            mean, sd, lo, hi, n = t_interval(pd.to_numeric(g[m], errors="coerce").to_numpy())
            if n == 0:
                continue
            out.append({"group": _group_label(keys, params), **dict(zip(params, keys, strict=True)), "metric": m,
                        "label": label, "paired": is_paired, "mean": mean, "sd": sd,
                        "ci_low": lo, "ci_high": hi, "n": n})
    df = pd.DataFrame(out, columns=cols)
    return _sort(df, params)


def _sort(df: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    if df.empty or not params:
        return df.reset_index(drop=True)
    order = {m: i for i, (m, _, _) in enumerate(METRICS)}
    key = df[params].astype(str).agg("|".join, axis=1)
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(df[p])]
    tmp = df.assign(_m=df["metric"].map(order), _k=key)
    return tmp.sort_values([*numeric, "_k", "_m"], kind="stable").drop(columns=["_m", "_k"]).reset_index(drop=True)


def answer(c: Collected, metric: str = "roi_vs_control") -> str | None:
    """One sentence for a sweep over one parameter with two values (e.g. a rival matching or
    not): each value's mean ROI against the control with its 95 % interval, whether it pays, and
    the difference paired by seed. None for any other sweep."""
    params = [p for p in c.params if p != "strategy"]
    if c.runs.empty or len(params) != 1 or metric not in c.runs:
        return None
    p = params[0]
    runs = c.runs.assign(_v=pd.to_numeric(c.runs[metric], errors="coerce"))
    levels = list(dict.fromkeys(runs[p].tolist()))
    if len(levels) != 2:
        return None
    if set(levels) == {True, False}:
        levels = [True, False]  # "with it" first
    name = p.removeprefix("param.")
    parts = []
    for lv in levels:
        mean, _, lo, hi, n = t_interval(runs.loc[runs[p] == lv, "_v"].to_numpy())
        verdict = ("pays: the interval is above 0" if lo > 0 else "loses money: the interval is below 0" if hi < 0
                   else "may or may not pay: the interval spans 0")
        parts.append(f"with {name}={lv} it is {mean:.2f} [{lo:.2f}, {hi:.2f}] ({verdict})")
    wide = runs.pivot_table(index=["seed", "replication"], columns=p, values="_v", aggfunc="mean")
    d = (wide[levels[0]] - wide[levels[1]]).dropna().to_numpy()
    mean, _, lo, hi, n = t_interval(d)
    return (f"ROI against the no-action control: {parts[0]}; {parts[1]}; the difference "
            f"({name}={levels[0]} minus {levels[1]}, paired by seed) is {mean:.2f} [{lo:.2f}, {hi:.2f}] "
            f"over {n} seeds (95 % t-intervals).")


def numeric_params(runs: pd.DataFrame, params: list[str]) -> list[str]:
    """The swept keys with numeric values (at least two), drawn as response curves."""
    return [p for p in params if p.startswith("param.") and pd.api.types.is_numeric_dtype(runs[p])
            and not pd.api.types.is_bool_dtype(runs[p]) and runs[p].nunique() >= 2]


# ----------------------------------------------------------------------------- HTML

def _bar_figure(comp: pd.DataFrame, metrics: list[tuple[str, str, bool]], title: str, currency: str | None = None):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ms = [m for m in metrics if (comp["metric"] == m[0]).any()]
    if not ms:
        return None
    cols = 2
    rows = math.ceil(len(ms) / cols)
    # horizontal bars: option names stay readable on the shared y axis; the height gives every
    # panel room for its bars and its title (no title over the tick labels of the panel above)
    n_groups = comp["group"].nunique()
    panel = max(160, 26 * n_groups + 40)
    gap = 90
    height = rows * panel + (rows - 1) * gap + 110
    titles = [m[1] + (f" ({currency})" if currency and units.UNITS.get(m[0]) == "money" else "") for m in ms]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        horizontal_spacing=0.06, vertical_spacing=gap / height if rows > 1 else 0.0)
    for i, (m, label, _) in enumerate(ms):
        d = comp[comp["metric"] == m]
        err_hi = (d["ci_high"] - d["mean"]).fillna(0)
        err_lo = (d["mean"] - d["ci_low"]).fillna(0)
        text = [f"{units.fmt(m, v, currency)} (n={n}, 95 % CI {units.fmt(m, lo, currency)} "
                f"to {units.fmt(m, hi, currency)})"
                for v, n, lo, hi in zip(d["mean"], d["n"], d["ci_low"], d["ci_high"], strict=True)]
        fig.add_trace(go.Bar(y=d["group"], x=d["mean"], orientation="h", name=label, showlegend=False,
                             hovertext=text, hoverinfo="text+y",
                             error_x=dict(type="data", symmetric=False, array=err_hi, arrayminus=err_lo)),
                      row=i // cols + 1, col=i % cols + 1)
        fig.update_xaxes(**units.axis_format(m), row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(title=title, height=height)
    return fig


def _response_figure(comp: pd.DataFrame, param: str, params: list[str]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ms = [m for m in METRICS if m[0] in ("roi_vs_control", "incremental_net_profit", "churn_rate_annual",
                                        "mean_clv", "clv_change") and (comp["metric"] == m[0]).any()]
    others = [p for p in params if p != param]
    rows = math.ceil(len(ms) / 2)
    height = 330 * rows + 60
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[m[1] for m in ms],
                        vertical_spacing=min(0.3, 110 / height) if rows > 1 else 0.0)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    for i, (m, _label, _) in enumerate(ms):
        d = comp[comp["metric"] == m]
        # one line per combination of the other swept values; with no repeated combination
        # (e.g. an Optuna search) a single scatter of all points
        scatter = bool(others) and d.groupby(others, dropna=False).ngroups >= len(d)
        lines = d.groupby(others, sort=True, dropna=False) if others and not scatter else [((), d)]
        for j, (keys, g) in enumerate(lines):
            keys = keys if isinstance(keys, tuple) else (keys,)
            g = g.sort_values(param)
            name = "runs" if scatter else (_group_label(keys, others) if others else "mean")
            colour = palette[j % len(palette)]
            x = g[param].tolist()
            if g["ci_low"].notna().any():
                fig.add_trace(go.Scatter(x=x + x[::-1], y=g["ci_high"].tolist() + g["ci_low"].tolist()[::-1],
                                         fill="toself", line=dict(width=0), fillcolor=colour, opacity=0.2,
                                         hoverinfo="skip", showlegend=False, legendgroup=name),
                              row=i // 2 + 1, col=i % 2 + 1)
            fig.add_trace(go.Scatter(x=x, y=g["mean"], mode="markers" if scatter else "lines+markers", name=name,
                                     legendgroup=name,
                                     line=dict(color=colour), showlegend=(i == 0)),
                          row=i // 2 + 1, col=i % 2 + 1)
        fig.update_yaxes(**units.axis_format(m), row=i // 2 + 1, col=i % 2 + 1)
    fig.update_xaxes(title_text=param.removeprefix("param."), title_standoff=4)
    fig.update_layout(title=f"Response to {param.removeprefix('param.')} (mean and 95 % CI over replications)",
                      height=height)
    return fig


def _fig_html(fig, div_id: str, first: bool) -> str:
    fig.update_layout(template="plotly_white", margin=dict(l=50, r=20, t=70, b=40))
    return fig.to_html(full_html=False, include_plotlyjs=True if first else False, div_id=div_id,
                       config={"displaylogo": False})


def _table_html(comp: pd.DataFrame, currency: str | None = None) -> str:
    comp = comp[comp["metric"] != "roi"]  # one ROI in view: the paired one
    if comp.empty:
        return "<p>No finished runs.</p>"
    t = pd.DataFrame({"option": comp["group"], "metric": comp["label"],
                      **{c: [units.fmt(m, v, currency) for m, v in zip(comp["metric"], comp[c], strict=True)]
                         for c in ("mean", "ci_low", "ci_high")}, "n": comp["n"]})
    return t.to_html(index=False, na_rep="–", border=0, classes="tbl num cmp")


def comparison_html(c: Collected, sweep_dir: Path, lead: str = "") -> str:
    """The comparison page; ``lead`` (the ranking section) comes first."""
    currency = _currency(c.runs)
    parts = []
    first = True
    paired = [m for m in METRICS if m[2] and m[0] in ("roi_vs_control", "incremental_net_profit",
                                                       "churn_rate_change", "clv_change")]
    plain = [m for m in METRICS if m[0] in ("profit", "churn_rate_annual", "mean_clv", "revenue")]
    for div, fig in (("cmp-paired", _bar_figure(c.comparison, paired, "Paired against the no-action control "
                                                "(mean, 95 % CI over replications)", currency)),
                     ("cmp-plain", _bar_figure(c.comparison, plain, "Profit, churn and CLV (mean, 95 % CI)",
                                               currency))):
        if fig is not None:
            parts.append(_fig_html(fig, div, first))
            first = False
    for k, p in enumerate(numeric_params(c.runs, c.params) if not c.runs.empty else []):
        parts.append(_fig_html(_response_figure(c.comparison, p, c.params), f"cmp-response-{k}", first))
        first = False
    status = (f"<p>{len(c.runs)} finished run(s); {len(c.failed)} failed; {len(c.incomplete)} unfinished"
              f"{f'; {len(c.bad)} bad (unreadable, left out)' if c.bad else ''}.</p>")
    if c.bad:
        status += "<h3>Bad runs (not collected)</h3><ul>" + "".join(
            f"<li><code>{html.escape(r)}</code>: {html.escape(e)}</li>" for r, e in c.bad) + "</ul>"
    if c.failed:
        status += "<h3>Failed runs</h3><ul>" + "".join(
            f"<li><code>{html.escape(r)}</code>: {html.escape(e)}</li>" for r, e in c.failed) + "</ul>"
    if c.incomplete:
        status += "<h3>Unfinished runs (no complete summary.json)</h3><ul>" + "".join(
            f"<li><code>{html.escape(r)}</code></li>" for r in c.incomplete) + "</ul>"
    params = ", ".join(p.removeprefix("param.") for p in c.params) or "none"
    ans = answer(c)
    status = (f"<p class='answer'><b>Answer.</b> {html.escape(ans)}</p>" if ans else "") + status
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep comparison: {html.escape(sweep_dir.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1250px}}
.tbl{{border-collapse:collapse;font-size:0.85em}}.tbl td,.tbl th{{padding:2px 6px;border-bottom:1px solid #ddd}}
.num td{{text-align:right;white-space:nowrap}}#ranking{{font-size:0.8em}}#ranking th{{font-size:0.95em}}#ranking td:nth-child(2),.cmp td:nth-child(-n+2){{text-align:left;white-space:normal}}
.tbl tr.best{{font-weight:600;background:#e8f4e8}}.tbl tr.tied{{background:#f3f3f3}}
.verdict{{font-size:1.1em;border-left:4px solid #2ca02c;padding:0.4em 0.8em;background:#f6fbf6}}
.note{{color:#555;font-size:0.9em}}.glossary dt{{font-weight:600;margin-top:0.4em}}.glossary dd{{margin-left:1.5em}}</style>
</head><body>
<h1>Sweep comparison</h1>
{lead}
<p>Sweep <code>{html.escape(str(sweep_dir))}</code>. Groups by: {html.escape(params)}.
Intervals are two-sided 95 % t-intervals over replications (seeds); the paired figures compare each run
with its own no-action control under common random numbers.</p>
{status}
{''.join(parts)}
<h2>Table</h2>
{_table_html(c.comparison, currency)}
{decide.glossary_html([m for m, _, _ in METRICS if m != "roi"])}
</body></html>
"""  # noqa: E501 - the page's CSS lines, kept as written so the page is unchanged


def _currency(runs: pd.DataFrame) -> str | None:
    cur = runs["currency"].dropna() if "currency" in runs else pd.Series(dtype=object)
    return str(cur.iloc[0]) if len(cur) else None


def write(c: Collected, sweep_dir: str | Path, objective: str = decide.OBJECTIVE) -> dict[str, Path]:
    """Write collected.parquet, comparison.parquet, ranking.csv (by ``objective``) and comparison.html."""
    sweep_dir = Path(sweep_dir)
    files = {"collected": sweep_dir / "collected.parquet", "comparison": sweep_dir / "comparison.parquet",
             "html": sweep_dir / "comparison.html"}
    atomic_write_parquet(files["collected"], c.runs)
    atomic_write_parquet(files["comparison"], c.comparison)
    rank = decide.ranking(c.runs, c.params, objective)
    files["ranking"] = decide.write_ranking(rank, sweep_dir)
    lead = decide.ranking_html(rank, _currency(c.runs))
    atomic_write_text(files["html"], comparison_html(c, sweep_dir, lead))
    return files


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.collect <sweep_dir> [--strict]``; returns the exit code."""
    ap = argparse.ArgumentParser(prog="python -m sim.collect", description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep_dir", help="a sweep directory (hydra.sweep.dir), e.g. multirun/2026-01-01/12-00-00")
    ap.add_argument("--strict", action="store_true", help="exit 1 if any run failed or is unfinished")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--objective", default=decide.OBJECTIVE,
                    help="column of collected.parquet the ranking compares (default: %(default)s), "
                         "e.g. roi_vs_control, churn_rate_change, clv_change")
    a = ap.parse_args(argv)
    try:
        c = collect(a.sweep_dir, progress=not a.no_progress)
        known = {m for m, _, _ in METRICS} | {"spend", "unspent"}
        if a.objective not in (set(c.runs.select_dtypes("number").columns) if not c.runs.empty else known):
            raise KeyError(a.objective)
    except (FileNotFoundError, NotADirectoryError) as e:
        print(f"sim.collect: {e}", file=sys.stderr)
        return 2
    except KeyError:
        print(f"sim.collect: --objective {a.objective!r} is not a figure of the runs; choose one of: "
              + ", ".join(m for m, _, _ in METRICS), file=sys.stderr)
        return 2
    files = write(c, a.sweep_dir, a.objective)
    print(f"{len(c.runs)} finished run(s), {len(c.failed)} failed, {len(c.incomplete)} unfinished"
          + (f", {len(c.bad)} bad" if c.bad else ""))
    for r, e in c.bad:
        print(f"  BAD      {r}: {e}")
    for r, e in c.failed:
        print(f"  FAILED   {r}: {e}")
    for r in c.incomplete:
        print(f"  UNFINISHED {r}")
    if not c.runs.empty:
        rank = pd.read_csv(files["ranking"])
        print(decide.verdict(rank, _currency(c.runs)))
        print(decide.ranking_text(rank, _currency(c.runs)))
    ans = answer(c)
    if ans:
        print("answer:", ans)
    for k, p in files.items():
        print(f"{k}: {p}")
    if len(c.runs) == 0:
        return 1
    return 1 if a.strict and (c.failed or c.incomplete or c.bad) else 0


if __name__ == "__main__":
    sys.exit(main())
