"""Decisions from a sweep: rank the options, name the best, and say how sure that is.

An *option* is one combination of swept values other than seed and replication (e.g.
``strategy=win_back`` or ``study.retention_share=0.75``). All options of a sweep run on the same
seeds, and a run and its no-action control share their customers and random numbers (common random
numbers), so two options are compared **seed by seed**: the difference of option A to option B on
seed k removes most of the noise both share. :func:`ranking` gives, per option:

* ``n`` and the objective's ``mean`` with its 95 % t-interval (``ci_low``, ``ci_high``) over seeds;
* ``diff_vs_best_mean`` / ``_ci_low`` / ``_ci_high``: option minus best option on the same seeds,
  with the t-interval of those paired differences (``n_paired`` pairs);
* ``p_best``: the share of bootstrap resamples of the seeds (paired: every option keeps the same
  resampled seeds; seeded, so the table is reproducible) in which the option has the best mean;
* ``n_to_separate``: replications per option that would separate it from the best at the 5 % level
  with 80 % power, n ≈ ((z₀.₉₇₅ + z₀.₈)·sd_d / mean_d)² from the paired differences d;
* ``spend``, ``budget`` and ``unspent`` of the option's strategies (mean over seeds).

:func:`verdict` turns the table into the sentence a strategist reads first. The objective defaults
to ``incremental_net_profit`` (against the no-action control); any numeric column of
``collected.parquet`` can be chosen (``python -m sim.collect DIR --objective roi_vs_control``).
"""
from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import units

OBJECTIVE = "incremental_net_profit"
#: objectives for which smaller is better
MINIMISE = {"churn_rate_annual", "churn_rate_change", "strategy_cost", "spend", "unspent",
            "control_churn_rate_annual"}
#: differences to the no-action control: exactly 0 for a run that does nothing (strategy=none has no
#: paired control of its own, so collect leaves them empty)
VS_CONTROL = {"incremental_net_profit", "incremental_profit", "incremental_revenue", "strategy_cost",
              "churn_rate_change", "clv_change", "customers_end_change"}
CONFIDENCE = 0.95
ALPHA, POWER = 0.05, 0.80
N_BOOT = 4000
BOOT_SEED = 20260101
RANKING = "ranking.csv"
COLUMNS = ["rank", "option", "n", "objective", "mean", "ci_low", "ci_high", "diff_vs_best_mean",
           "diff_vs_best_ci_low", "diff_vs_best_ci_high", "n_paired", "p_best", "n_to_separate",
           "spend", "budget", "unspent"]


def _t_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """Mean, sd and two-sided t-interval of the mean of the finite values (NaN bounds if n < 2)."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan, n
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half, n


def option_label(values: dict) -> str:
    """``k=v, k2=v2`` from the swept values (``param.`` prefixes dropped); ``all runs`` if none."""
    if not values:
        return "all runs"
    return ", ".join(f"{k.removeprefix('param.')}={v}" for k, v in values.items())


def replications_to_separate(mean_diff: float, sd_diff: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Replications per option for a paired two-sided test at ``alpha`` to detect ``mean_diff`` with
    ``power``, given the sd of the paired differences: ((z_{1-α/2} + z_power) · sd / diff)²
    (normal approximation; inf when the means are equal)."""
    from scipy import stats

    if not (math.isfinite(mean_diff) and math.isfinite(sd_diff)):
        return math.nan
    if mean_diff == 0:
        return math.inf if sd_diff > 0 else math.nan
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return float(math.ceil((z * sd_diff / abs(mean_diff)) ** 2))


def _pair_key(runs: pd.DataFrame) -> pd.Series:
    cols = [c for c in ("seed", "replication") if c in runs]
    if not cols:
        return pd.Series(np.arange(len(runs)), index=runs.index).astype(str)
    return runs[cols].astype(str).agg("/".join, axis=1)


def p_best(wide: pd.DataFrame, *, minimise: bool = False, n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> pd.Series:
    """Probability that each option (column of ``wide``: rows = seeds) has the best mean, from a paired
    bootstrap over rows: every resample draws seeds with replacement and keeps them for all options.
    Ties share the win. Options without a value in a resample do not compete in it. NaN with < 2 seeds."""
    vals = wide.to_numpy(dtype=float)
    k, m = vals.shape
    if k < 2 or m == 0:
        return pd.Series(np.nan, index=wide.columns)
    if minimise:
        vals = -vals
    rng = np.random.default_rng(seed)
    wins = np.zeros(m)
    done = 0
    chunk = max(1, min(n_boot, 2_000_000 // max(1, k * m)))
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, k, size=(b, k))
        sample = vals[idx]                                   # (b, k, m)
        ok = np.isfinite(sample)
        cnt = ok.sum(axis=1)
        means = np.where(cnt > 0, np.where(ok, sample, 0.0).sum(axis=1) / np.maximum(cnt, 1), -np.inf)
        best = means.max(axis=1, keepdims=True)
        top = (means == best) & np.isfinite(means)
        wins += (top / np.maximum(top.sum(axis=1, keepdims=True), 1)).sum(axis=0)
        done += b
    return pd.Series(wins / n_boot, index=wide.columns)


def ranking(runs: pd.DataFrame, params: list[str], objective: str = OBJECTIVE, *,
            n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> pd.DataFrame:
    """The decision table of a collected sweep: one row per option, best first (see the module doc).

    ``runs`` is ``Collected.runs`` (one row per finished run; ``seed``/``replication`` pair the runs),
    ``params`` the columns that define an option (``Collected.params``).
    """
    if runs.empty:
        return pd.DataFrame(columns=COLUMNS)
    if objective not in runs:
        raise KeyError(f"objective {objective!r} is not a column of the collected runs; choose one of "
                       f"{sorted(c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c]))}")
    minimise = objective in MINIMISE
    df = runs.copy()
    df["_y"] = pd.to_numeric(df[objective], errors="coerce")
    if objective in VS_CONTROL and "strategy" in df:  # doing nothing earns exactly nothing against doing nothing
        df.loc[(df["strategy"] == "none") & df["_y"].isna(), "_y"] = 0.0
    df["_key"] = _pair_key(df)
    if params == ["option"]:  # options already labelled (e.g. by sim.allocate)
        df["_opt"] = df["option"].astype(str)
    elif params:
        df["_opt"] = [option_label(dict(zip(params, vals, strict=True))) for vals in df[params].itertuples(index=False)]
    else:
        df["_opt"] = option_label({})
    order = list(dict.fromkeys(df["_opt"]))
    firsts = df.drop_duplicates("_opt").set_index("_opt")
    rows = []
    for opt in order:
        g = df[df["_opt"] == opt]
        mean, _, lo, hi, n = _t_interval(g["_y"].to_numpy())
        row = {"option": opt, "n": n, "objective": objective, "mean": mean, "ci_low": lo, "ci_high": hi}
        for c in ("spend", "budget", "unspent"):
            row[c] = float(pd.to_numeric(g[c], errors="coerce").mean()) if c in g else math.nan
        for p in params:
            row[p] = firsts.loc[opt, p]
        rows.append(row)
    out = pd.DataFrame(rows)
    # best = the best mean; a NaN mean (no finite value) never wins
    score = out["mean"] if not minimise else -out["mean"]
    best = out.loc[score.fillna(-np.inf).idxmax(), "option"] if out["mean"].notna().any() else None
    # a seed with two runs of one option (should not happen) counts once: the mean of its runs
    wide = df.pivot_table(index="_key", columns="_opt", values="_y", aggfunc="mean")
    wide = wide.reindex(columns=order)
    diffs = []
    for opt in order:
        if best is None:
            diffs.append((math.nan, math.nan, math.nan, 0, math.nan))
            continue
        d = (wide[opt] - wide[best]).dropna().to_numpy()
        if opt == best:
            diffs.append((0.0, 0.0, 0.0, len(d), math.nan))
            continue
        m, sd, lo, hi, k = _t_interval(d)
        diffs.append((m, lo, hi, k, replications_to_separate(m, sd) if k >= 2 else math.nan))
    out["diff_vs_best_mean"], out["diff_vs_best_ci_low"], out["diff_vs_best_ci_high"], out["n_paired"], \
        out["n_to_separate"] = map(list, zip(*diffs, strict=True))
    out["p_best"] = p_best(wide, minimise=minimise, n_boot=n_boot, seed=seed).reindex(order).to_numpy()
    out = out.assign(_s=score.fillna(-np.inf)).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[[*COLUMNS, *(p for p in params if p != "option")]].reset_index(drop=True)


def _separated(row: pd.Series) -> bool:
    """The option's paired interval against the best excludes 0."""
    lo, hi = row["diff_vs_best_ci_low"], row["diff_vs_best_ci_high"]
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def verdict(rank: pd.DataFrame, currency: str | None = None) -> str:
    """The sentence above the table: the best option, by how much it leads, and how sure that is;
    where options cannot be told apart, which, and how many replications would separate them; and a
    warning when the options spent different amounts."""
    text = _verdict(rank, currency)
    spend = pd.to_numeric(rank.get("spend", pd.Series(dtype=float)), errors="coerce").dropna()
    if len(spend) > 1 and spend.max() > 1.05 * spend.min():
        text += (f" Note: the options spent different amounts ({units.money(spend.min(), currency)} to "
                 f"{units.money(spend.max(), currency)}); to compare them at the same budget, give them one "
                 "(and pacing: even), or rank per unit spent (--objective roi_vs_control).")
    return text


def _verdict(rank: pd.DataFrame, currency: str | None = None) -> str:
    if rank.empty or not np.isfinite(rank["mean"]).any():
        return "No finished runs with a value of the objective: nothing to rank."
    obj = rank["objective"].iloc[0]
    name = units.label(obj)
    f = lambda x, signed=False: units.fmt(obj, x, currency, signed=signed)  # noqa: E731
    fd = lambda x, signed=False: (units.fmt_diff(obj, x, currency) if signed  # noqa: E731
                                  else units.fmt_diff(obj, x, currency).lstrip("+−"))
    b = rank.iloc[0]
    ci = (f" (95 % CI {f(b['ci_low'])} to {f(b['ci_high'])})" if np.isfinite(b["ci_high"]) else "")
    head = f"Best option: {b['option']}, with a mean {name} of {f(b['mean'])}{ci} over {int(b['n'])} seed(s)."
    if len(rank) == 1:
        return head + " It is the only option, so there is nothing to compare it with."
    if int(b["n"]) < 2 or rank["n_paired"].iloc[1:].max() < 2:
        return head + (" Each option ran on fewer than two common seeds, so how sure this is cannot be said; "
                       "run more seeds (seed='range(0,5)').")
    second = rank.iloc[1]
    gap = abs(second["diff_vs_best_mean"])
    gap_ci = sorted(abs(x) for x in (second["diff_vs_best_ci_low"], second["diff_vs_best_ci_high"]))
    tied = rank.iloc[1:][[not _separated(r) for _, r in rank.iloc[1:].iterrows()]]
    pb = units.percent(b["p_best"])
    if tied.empty:
        return (head + f" It beats the runner-up, {second['option']}, by {fd(gap)} per run "
                f"(paired by seed, 95 % CI {fd(gap_ci[0])} to {fd(gap_ci[1])}), and every other option by more; "
                f"it is best in {pb} of bootstrap resamples of the seeds.")
    names = ", ".join(tied["option"].head(3)) + (f" and {len(tied) - 3} more" if len(tied) > 3 else "")
    need = second["n_to_separate"]
    if math.isinf(need):
        more = f"{second['option']} scores the same as the best, so no number of replications would separate them."
    elif np.isfinite(need):
        more = (f"About {units.number(need, decimals=0)} replications per option would separate the best from "
                f"the runner-up (5 % level, 80 % power, from the sd of their paired differences).")
    else:
        more = ""
    lo, hi = second["diff_vs_best_ci_low"], second["diff_vs_best_ci_high"]
    whom = (f"the runner-up, {second['option']}: it" if len(tied) == 1
            else f"{names}: the runner-up {second['option']}")
    return (head + f" But with {int(b['n'])} seeds it cannot be told apart from {whom} is {fd(gap)} behind "
            f"(paired 95 % CI of its difference {fd(lo, True)} to "
            f"{fd(hi, True)}, which includes 0), and the best option is best in {pb} of bootstrap "
            f"resamples. " + more).strip()


def ranking_text(rank: pd.DataFrame, currency: str | None = None) -> str:
    """The ranking as a plain-text table for the terminal, numbers in their units."""
    if rank.empty:
        return "(no finished runs)"
    obj = rank["objective"].iloc[0]
    f = lambda x, signed=False: units.fmt(obj, x, currency, signed=signed)  # noqa: E731
    t = pd.DataFrame({
        "#": rank["rank"], "option": rank["option"], "n": rank["n"], "mean": rank["mean"].map(f),
        "95 % CI": [f"{f(a)} to {f(b)}" for a, b in zip(rank["ci_low"], rank["ci_high"], strict=True)],
        "vs best": ["—" if k == 1 else units.fmt_diff(obj, x, currency)
                    for k, x in zip(rank["rank"], rank["diff_vs_best_mean"], strict=True)],
        "95 % CI vs best": ["—" if k == 1
                            else f"{units.fmt_diff(obj, a, currency)} to {units.fmt_diff(obj, b, currency)}"
                            for k, a, b in zip(rank["rank"], rank["diff_vs_best_ci_low"], rank["diff_vs_best_ci_high"],
                                               strict=True)],
        "P(best)": rank["p_best"].map(units.percent),
        "spend": [units.money(x, currency) for x in rank["spend"]],
        "budget": [units.money(x, currency) for x in rank["budget"]]})
    return f"ranking by {units.label(obj)} ({obj}):\n" + t.to_string(index=False)


def write_ranking(rank: pd.DataFrame, sweep_dir: str | Path) -> Path:
    """``ranking.csv`` in the sweep directory, atomically."""
    from .outputs import atomic_write_text

    path = Path(sweep_dir) / RANKING
    atomic_write_text(path, rank.to_csv(index=False, float_format="%.6g"))
    return path


def ranking_html(rank: pd.DataFrame, currency: str | None = None) -> str:
    """The ranking section of ``comparison.html``: the verdict, then the table, numbers in their units."""
    if rank.empty:
        return "<h2>Ranking</h2><p>No finished runs: nothing to rank.</p>"
    obj = rank["objective"].iloc[0]
    name = units.label(obj)
    f = lambda x, signed=False: units.fmt(obj, x, currency, signed=signed)  # noqa: E731
    fd = lambda x: units.fmt_diff(obj, x, currency)  # noqa: E731
    m = lambda x: units.money(x, currency)  # noqa: E731
    head = ["#", "option", "n", f"{name}: mean", "95 % CI", "difference to the best (paired)", "95 % CI",
            "P(best)", "replications to separate", "spend", "budget", "unspent"]
    body = []
    for _, r in rank.iterrows():
        sep = _separated(r) or r["rank"] == 1
        cells = [str(r["rank"]), html.escape(str(r["option"])), str(r["n"]), f(r["mean"]),
                 f"{f(r['ci_low'])} to {f(r['ci_high'])}" if np.isfinite(r["ci_low"]) else "–",
                 "—" if r["rank"] == 1 else fd(r["diff_vs_best_mean"]),
                 "—" if r["rank"] == 1 else (f"{fd(r['diff_vs_best_ci_low'])} to "
                                             f"{fd(r['diff_vs_best_ci_high'])}"
                                             if np.isfinite(r["diff_vs_best_ci_low"]) else "–"),
                 units.percent(r["p_best"]),
                 "—" if r["rank"] == 1 or sep else units.number(r["n_to_separate"], decimals=0)
                 if np.isfinite(r["n_to_separate"]) else "∞" if r["n_to_separate"] == math.inf else "–",
                 m(r["spend"]), m(r["budget"]), m(r["unspent"])]
        cls = ' class="best"' if r["rank"] == 1 else ("" if sep else ' class="tied"')
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    what = "smaller is better" if obj in MINIMISE else "larger is better"
    return (f'<h2>Ranking by {html.escape(name)}</h2>\n<p id="verdict" class="verdict">'
            f"{html.escape(verdict(rank, currency))}</p>\n"
            '<div style="overflow-x:auto"><table id="ranking" class="tbl num"><thead><tr>'
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>\n"
            f"<p class=\"note\">Objective: <code>{html.escape(obj)}</code> ({what}), per run. Rows are options, best "
            "first; shaded rows cannot be told apart from the best with these seeds (the paired interval of "
            "their difference includes 0). The same table is in <code>ranking.csv</code>.</p>")


def glossary_html(metrics: list[str]) -> str:
    """Definitions of ``metrics`` (and of the ranking's columns) as an HTML description list."""
    keys = list(dict.fromkeys([*metrics, "n", "mean", "ci", "diff_vs_best", "p_best", "n_to_separate",
                               "spend", "budget", "unspent"]))
    items = "".join(f"<dt>{html.escape(units.GLOSSARY[k][0])}</dt><dd>{html.escape(units.GLOSSARY[k][1])}</dd>"
                    for k in keys if k in units.GLOSSARY)
    return f'<h2>Glossary</h2>\n<dl id="glossary" class="glossary">{items}</dl>'
