"""Every column of every output file is documented in sim/schema.py, and every documented column exists.

A small sweep (two strategy options × two seeds, one strategy with a holdout, paired controls)
writes every file a run and a sweep write; each is checked against ``sim.schema.FILES`` in both
directions, with the per-stage and per-strategy families matched to the run's own stages and
strategies. The README's schema section must be the rendering of the same definition.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import schema
from sim.schema import FILES

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["strategy=default_mix,win_back", "seed=0,1", "strategy.win_back.holdout=0.2",
         "market.n_customers=400", "market.days=90", "engine.progress=false"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("schema") / "sweep"
    r = subprocess.run([sys.executable, "-m", "sim", "-m", *SWEEP, f"hydra.sweep.dir={d}"],
                       capture_output=True, text=True, timeout=600, cwd=d.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    return d


def _mix_run(sweep: Path) -> Path:
    """A run of the default mix (seven strategies, win-back with a holdout)."""
    runs = sorted(p.parent for p in sweep.rglob("summary.json"))
    assert len(runs) == 4
    return next(r for r in runs if len(json.loads((r / "config.json").read_text())["strategy"]) > 1)


def _columns(path: Path) -> list[str]:
    if path.suffix == ".json":
        return list(json.loads(path.read_text()))
    return list(pd.read_parquet(path).columns)


def _check(name: str, columns: list[str]) -> None:
    f = FILES[name]
    assert not f.undocumented(columns), f"{name}: columns not in sim/schema.py: {f.undocumented(columns)}"
    assert not f.missing(columns, optional=True), f"{name}: documented but absent: {f.missing(columns, optional=True)}"


def _placeholder_values(name: str, columns: list[str], pattern: str) -> set[str]:
    c = next(c for c in FILES[name].columns if c.name == pattern)
    return {m.group(1) for x in columns if FILES[name].match(x) is c and (m := c.regex().match(x))}


def test_every_run_file_matches_the_schema(sweep):
    mix = _mix_run(sweep)
    cfg = json.loads((mix / "config.json").read_text())
    stages = {s["name"] for s in cfg["ladder"]["stages"]}
    strategies = set(cfg["strategy"])
    for name in ("timeseries.parquet", "control_timeseries.parquet", "customers.parquet", "transactions.parquet",
                 "flows.parquet", "summary.json", "run.json"):
        _check(name, _columns(mix / name))
    ts, ctrl = _columns(mix / "timeseries.parquet"), _columns(mix / "control_timeseries.parquet")
    assert _placeholder_values("timeseries.parquet", ts, "stage_{stage}") == stages
    assert _placeholder_values("control_timeseries.parquet", ctrl, "stage_{stage}") == stages
    assert _placeholder_values("timeseries.parquet", ts, "spend_{strategy}") == strategies
    cust = _columns(mix / "customers.parquet")
    assert _placeholder_values("customers.parquet", cust, "treated_{strategy}") == strategies
    assert _placeholder_values("customers.parquet", cust, "holdout_{strategy}") == strategies
    summ = json.loads((mix / "summary.json").read_text())
    assert summ["holdout"] and summ["paired"]  # the conditional keys were exercised


def test_units_agree_with_the_column_types(sweep):
    mix = _mix_run(sweep)
    kinds = {"count": "iu", "customers": "iu", "id": "iu", "code": "iu", "bool": "b", "days": "f", "1/day": "f",
             "currency": "f", "currency, discounted": "f", "share": "f", "0–1": "f"}
    for name in ("timeseries.parquet", "customers.parquet", "transactions.parquet", "flows.parquet"):
        df = pd.read_parquet(mix / name)
        for col in df.columns:
            c = FILES[name].match(col)
            if c.unit in kinds:
                assert df[col].dtype.kind in kinds[c.unit], (name, col, c.unit, df[col].dtype)
            elif c.unit == "category":
                assert isinstance(df[col].dtype, pd.CategoricalDtype), (name, col)
            elif c.unit in ("date", "datetime"):
                assert df[col].dtype.kind == "M", (name, col)


def test_sweep_files_match_the_schema(sweep):
    collected = pd.read_parquet(sweep / "collected.parquet")
    _check("collected.parquet", list(collected.columns))
    f = FILES["comparison.parquet"]
    comparison = pd.read_parquet(sweep / "comparison.parquet")
    assert not f.undocumented(comparison.columns), f.undocumented(comparison.columns)
    assert f.missing(comparison.columns, optional=True) == ["strategy"]  # grouped by the swept key instead
    # without the swept key, runs whose strategies differ are grouped by their strategy label
    from sim.collect import _swept_params, compare
    runs = collected.drop(columns=["param.strategy"])
    by_label = compare(runs, _swept_params(runs))
    assert not f.undocumented(by_label.columns), f.undocumented(by_label.columns)
    assert f.missing(by_label.columns, optional=True) == ["param.{key}"]


def test_the_ranking_matches_the_schema(sweep):
    f = FILES["ranking.csv"]
    ranking = pd.read_csv(sweep / "ranking.csv")
    assert len(ranking) == 2  # two options
    assert not f.undocumented(ranking.columns), f.undocumented(ranking.columns)
    assert f.missing(ranking.columns, optional=True) == ["strategy"]


def test_patterns_and_exact_names():
    ts = FILES["timeseries.parquet"]
    assert ts.match("stage_loyal").name == "stage_{stage}"
    assert ts.match("spend_win_back").name == "spend_{strategy}"
    assert ts.match("revenue").name == "revenue"
    assert ts.match("unknown_column") is None
    assert FILES["collected.parquet"].match("param.strategy.win_back.offer").name == "param.{key}"


def test_the_readme_schema_section_is_rendered_from_the_definition():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert schema.replace_section(text) == text, "run: python -m sim.schema --write README.md"
    for f in FILES.values():
        for c in f.columns:
            assert f"| `{c.name}` |" in text, c.name


def test_the_comparison_pages_units_agree_with_the_schema():
    """sim.units says how the comparison page shows a metric; it must agree with the schema's unit."""
    from sim import units
    kinds = {"money": {"currency", "currency, discounted"}, "ratio": {"ratio"}, "pct": {"share", "1/year"},
             "pp": {"share", "1/year"}, "count": {"count", "customers"}}
    checked = 0
    for metric, kind in units.UNITS.items():
        for name in ("collected.parquet", "ranking.csv"):
            c = FILES[name].match(metric)
            if c is not None and not c.is_pattern:
                assert c.unit in kinds[kind], (name, metric, kind, c.unit)
                checked += 1
    assert checked >= 20
