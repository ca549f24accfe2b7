"""The decision table (sim.decide): paired differences to the best, P(best), replications to
separate, the verdict; number formatting (sim.units); collect and sweep free of an import circle;
and the ranking first on comparison.html in headless Chromium."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from _browser import launch
from sim import collect as col
from sim import decide, units

ROOT = Path(__file__).resolve().parents[1]


def runs_frame(effects: dict[str, float], n_seeds: int = 6, seed_sd: float = 5000.0, noise_sd: float = 50.0,
               rng_seed: int = 1) -> pd.DataFrame:
    """Constructed collected runs: a big seed effect shared by every option (common random numbers),
    each option's own effect, and a little option-specific noise."""
    rng = np.random.default_rng(rng_seed)
    seed_effect = rng.normal(0, seed_sd, n_seeds)
    rows = []
    for opt, eff in effects.items():
        for k in range(n_seeds):
            rows.append({"strategy": opt, "param.strategy": opt, "seed": k, "replication": 0,
                         "incremental_net_profit": 10_000 + seed_effect[k] + eff + rng.normal(0, noise_sd),
                         "churn_rate_change": -0.01 * (eff / 100.0) + rng.normal(0, 0.001),
                         "budget": 5000.0, "spend": 4000.0 + eff, "unspent": 1000.0 - eff, "currency": "EUR"})
    return pd.DataFrame(rows)


def test_paired_difference_is_sharp_where_unpaired_intervals_overlap():
    runs = runs_frame({"a": 300.0, "b": 0.0, "c": -20.0})
    rank = decide.ranking(runs, ["param.strategy"])
    assert list(rank["option"]) == ["strategy=a", "strategy=c", "strategy=b"] or rank["option"].iloc[0] == "strategy=a"
    best, b = rank.iloc[0], rank[rank["option"] == "strategy=b"].iloc[0]
    # the per-option intervals overlap (the seed effect is large) ...
    assert b["ci_high"] > best["ci_low"]
    # ... but the paired difference is the t-interval of b − a seed by seed, and excludes 0
    w = runs.pivot(index="seed", columns="strategy", values="incremental_net_profit")
    d = (w["b"] - w["a"]).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    assert b["diff_vs_best_mean"] == pytest.approx(d.mean())
    assert b["diff_vs_best_ci_low"] == pytest.approx(d.mean() - half)
    assert b["diff_vs_best_ci_high"] == pytest.approx(d.mean() + half) and b["diff_vs_best_ci_high"] < 0
    assert b["n_paired"] == 6 and best["diff_vs_best_mean"] == 0
    assert best["p_best"] == pytest.approx(1.0) and rank["p_best"].sum() == pytest.approx(1.0)
    assert best["spend"] == pytest.approx(4300.0) and best["budget"] == 5000.0
    assert best["unspent"] == pytest.approx(700.0)
    text = decide.verdict(rank, "EUR")
    assert text.startswith("Best option: strategy=a") and "beats the runner-up" in text and "€" in text
    assert "spent different amounts (€3,980 to €4,300)" in text  # spend 4,000 + effect: not one budget


def test_indistinguishable_options_are_called_so_with_replications_needed():
    runs = runs_frame({"a": 10.0, "b": 0.0}, noise_sd=200.0, n_seeds=5)
    rank = decide.ranking(runs, ["param.strategy"])
    second = rank.iloc[1]
    assert second["diff_vs_best_ci_low"] < 0 < second["diff_vs_best_ci_high"]
    best = rank["option"].iloc[0]
    w = runs.pivot(index="seed", columns="param.strategy", values="incremental_net_profit")
    d = (w[second["param.strategy"]] - w[best.split("=")[1]]).to_numpy()
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert second["n_to_separate"] == math.ceil((z * d.std(ddof=1) / abs(d.mean())) ** 2)
    text = decide.verdict(rank)
    assert "cannot be told apart" in text and "replications per option would separate" in text
    assert text.count(second["option"]) == 1  # the runner-up is named once, not three times
    assert 0 < rank["p_best"].iloc[0] < 1


def test_p_best_is_seeded_and_a_smaller_is_better_objective_ranks_lowest_first():
    runs = runs_frame({"a": 300.0, "b": 0.0, "c": 150.0}, noise_sd=300.0)
    r1 = decide.ranking(runs, ["param.strategy"], "churn_rate_change")
    r2 = decide.ranking(runs, ["param.strategy"], "churn_rate_change")
    pd.testing.assert_frame_equal(r1, r2)
    assert r1["mean"].is_monotonic_increasing          # churn change: smaller is better
    assert (r1["diff_vs_best_mean"].iloc[1:] > 0).all()


def test_doing_nothing_is_an_option_worth_exactly_nothing_against_the_control():
    runs = runs_frame({"a": 300.0, "b": -20_000.0}, n_seeds=4)
    none = runs[runs["strategy"] == "a"].assign(strategy="none", **{"param.strategy": "none",
                                                                   "incremental_net_profit": np.nan})
    rank = decide.ranking(pd.concat([runs, none]), ["param.strategy"])
    row = rank[rank["option"] == "strategy=none"].iloc[0]
    assert row["mean"] == 0 and row["n"] == 4 and list(rank["option"])[-1] == "strategy=b"


def test_options_are_combinations_of_swept_values_and_bad_objective_is_named():
    runs = runs_frame({"a": 0.0, "b": 100.0}, n_seeds=3)
    runs["param.x"] = np.tile([1, 2, 3], 2)  # a second swept value: every (strategy, x) is an option
    rank = decide.ranking(runs, ["param.strategy", "param.x"])
    assert len(rank) == 6 and set(rank["n"]) == {1}
    assert "strategy=b, x=1" in set(rank["option"])
    assert "fewer than two common seeds" in decide.verdict(rank)
    with pytest.raises(KeyError, match="no_such_figure"):
        decide.ranking(runs, ["param.strategy"], "no_such_figure")


def test_numbers_print_with_separators_and_currency_never_exponents():
    assert units.money(36670.4, "USD") == "$36,670"
    assert units.money(-1234.5, "EUR") == "−€1,234" or units.money(-1234.5, "EUR") == "−€1,235"
    assert units.money(12.5, "IRR") == "12.50 IRR"
    assert units.fmt("churn_rate_annual", 0.3361) == "33.6 %"
    assert units.fmt("churn_rate_change", -0.021) == "−2.1 pp"
    assert units.fmt("roi_vs_control", 13.696) == "1,370 %"
    assert units.number(1.5e9) == "1,500,000,000"
    for x in (3.667e4, 1e12, -2.5e7):
        assert "e" not in units.money(x, "USD").lower() and "e+" not in units.number(x)


def test_collect_and_sweep_do_not_import_each_other():
    code = ("import sys, sim.collect; a = 'sim.sweep' in sys.modules; "
            "[sys.modules.pop(m) for m in list(sys.modules) if m.startswith('sim')]; "
            "import sim.sweep; print(a, 'sim.collect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _write_sweep(tmp_path: Path) -> Path:
    runs = runs_frame({"win_back": 300.0, "churn_outreach": 0.0, "loyalty_programme": -40.0})
    runs = pd.concat([runs.assign(**{"param.x": x}) for x in (0.1, 0.2)], ignore_index=True)
    runs["incremental_net_profit"] += 1000 * runs["param.x"]
    for m in ("roi_vs_control", "churn_rate_annual", "mean_clv", "clv_change", "profit", "revenue"):
        runs[m] = runs["incremental_net_profit"] / 1000.0
    params = ["param.strategy", "param.x"]
    c = col.Collected(runs, col.compare(runs, params), params)
    col.write(c, tmp_path)
    (tmp_path / "multirun.yaml").write_text("{}\n")  # what makes a directory a sweep for sim.collect
    return tmp_path


def test_collect_cli_writes_ranking_and_rejects_an_unknown_objective(tmp_path):
    d = _write_sweep(tmp_path)
    rank = pd.read_csv(d / "ranking.csv")
    assert list(rank.columns[:16]) == decide.COLUMNS and rank["option"].iloc[0] == "strategy=win_back, x=0.2"
    r = subprocess.run([sys.executable, "-m", "sim.collect", str(d), "--objective", "nope"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--objective 'nope'" in r.stderr


@pytest.mark.skipif(os.environ.get("SIM_SKIP_BROWSER") == "1", reason="SIM_SKIP_BROWSER=1")
def test_comparison_page_shows_the_ranking_and_the_verdict_first_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    d = _write_sweep(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((d / "comparison.html").as_uri())
        page.wait_for_selector("#ranking")
        verdict = page.inner_text("#verdict")
        rows = page.locator("#ranking tbody tr")
        cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
        # the verdict and the ranking come before every chart
        order = page.evaluate("""() => [document.querySelector('#verdict'), document.querySelector('#ranking'),
                                        document.querySelector('#cmp-paired')]
                                       .map(e => e.getBoundingClientRect().top)""")
        body = page.inner_text("body")
        # no chart title (subplot titles are annotations) overlaps a tick label or an axis title
        overlaps = page.evaluate("""() => {
            const box = e => e.getBoundingClientRect();
            const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
            const titles = [...document.querySelectorAll('.annotation-text, .gtitle')].map(box);
            const labels = [...document.querySelectorAll('.xtick text, .ytick text, .xtitle, .ytitle')].map(box);
            return titles.filter(t => labels.some(l => hit(t, l))).length;
        }""")
        page.screenshot(path=str(tmp_path / "ranking.png"))
        browser.close()
    assert verdict.startswith("Best option: strategy=win_back, x=0.2") and "€" in verdict
    assert len(cells) == 6 and cells[0][1] == "strategy=win_back, x=0.2"
    assert cells[0][3].startswith("€") and "," in cells[0][3]
    assert order[0] < order[1] < order[2]
    assert overlaps == 0
    assert "e+0" not in body and "Glossary" in body and "return on all costs" not in body.split("Glossary")[0]
    assert (tmp_path / "ranking.png").stat().st_size > 10_000
