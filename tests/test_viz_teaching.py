"""The teaching view without a browser: checked input (issue 11), Mesa compatibility (issue 17),
per-session state, lessons, side by side on common random numbers, charts and export (issue 15)."""
from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.config import CONFIG_DIR
from sim.market import Market
from sim.viz import TeachingMarket, teaching_overrides

SECRET = "s3cret-from-the-server-env"  # noqa: S105 - a planted value the tests check never leaks to the browser
HOSTILE_STRINGS = ["${oc.env:SIM_VIZ_TEST_SECRET}", "../../../etc/passwd", "../strategy/none",
                   "none,default_mix", "default_mix\nseed=5", "markov_migration", "do_nothing", "", "FA"]
HOSTILE_NUMBERS = [float("nan"), float("inf"), -1, 10**9, True, "400", "${oc.env:SIM_VIZ_TEST_SECRET}", None]


# ---------------------------------------------------------------------- issue 11: never trust the browser
@pytest.mark.parametrize("field", ["strategy", "scenario", "locale"])
@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_browser_strings_must_be_allow_listed(field, value, monkeypatch):
    monkeypatch.setenv("SIM_VIZ_TEST_SECRET", SECRET)
    if field == "locale" and value == "":
        value = "de"
    with pytest.raises(ValueError) as e:
        teaching_overrides(**{field: value})
    msg = str(e.value)
    assert SECRET not in msg and value not in msg.replace(field, "") or value == ""
    assert len(msg) < 80


@pytest.mark.parametrize("field", ["n_customers", "days_per_step", "seed", "service_quality", "defection"])
@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_browser_numbers_must_be_finite_and_in_range(field, value):
    if value is None and field in ("service_quality", "defection"):
        return  # None there means "keep the config's value"
    with pytest.raises(ValueError, match=field):
        teaching_overrides(**{field: value})


def test_overrides_only_ever_hold_allow_listed_names_and_numbers():
    ov = teaching_overrides(scenario="bad_service_shock", strategy="loyalty_programme", locale="fa",
                            n_customers=300.0, days_per_step=7, service_quality=0.5, seed=3)
    assert "+scenario=bad_service_shock" in ov and "strategy=loyalty_programme" in ov
    assert "market.n_customers=300" in ov and "service.quality=0.5" in ov
    assert not any("$" in o or "/" in o for o in ov)
    with pytest.raises(ValueError, match="whole number"):
        teaching_overrides(days_per_step=7.5)


def test_hostile_value_from_the_page_is_refused_with_a_short_message(monkeypatch, caplog):
    """What a browser sends for a select (its v_model) is checked on the server: the page shows
    a short message, the server log the detail, and the session's markets are unchanged."""
    import ipyvuetify as v
    import solara

    import sim.viz.app as app
    monkeypatch.setenv("SIM_VIZ_TEST_SECRET", SECRET)

    @solara.component
    def Wrap():
        with solara.AppLayout():
            app.Page()

    box, rc = solara.render(Wrap(), handle_error=False)
    sel = [w for w in rc.find(v.Select).widgets if "sel-strategy" in (w.class_ or "")]
    assert len(sel) == 1
    before = [w for w in rc.find(v.Html).widgets]
    panel = next(w for w in before if "stage-panel" in str(getattr(w, "children", "")))
    assert "data-day='0'" in str(panel.children)
    with caplog.at_level(logging.WARNING, logger="sim.viz"):
        sel[0].v_model = "${oc.env:SIM_VIZ_TEST_SECRET}"
        errors = [w for w in rc.find(v.Alert).widgets]
    text = " ".join(str(w.children) for w in errors)
    assert "refused" in text and "strategy" in text
    assert SECRET not in text and "oc.env" not in text and "Traceback" not in text
    assert "refused browser value for strategy" in caplog.text
    sel[0].v_model = "../../../etc/passwd"
    assert SECRET not in " ".join(str(w.children) for w in rc.find(v.Alert).widgets)

    # an engine error while stepping: a short message in the page, the traceback in the log
    from sim.viz.charts import Session

    def broken(self):
        raise RuntimeError(f"engine detail {SECRET}")
    monkeypatch.setattr(Session, "step", broken)
    step = [w for w in rc.find(v.Btn).widgets if "btn-step" in (w.class_ or "")][0]
    with caplog.at_level(logging.ERROR, logger="sim.viz"):
        step.click()
    text = " ".join(str(w.children) for w in rc.find(v.Alert).widgets)
    assert "stopped with an error" in text and SECRET not in text and "RuntimeError" not in text
    assert SECRET in caplog.text and "Traceback" in caplog.text
    rc.close()


# ---------------------------------------------------------------------- issue 17: no shadowed mesa.Model names
ALLOWED_OVERRIDES = {"step", "running"}   # Mesa asks models to define step() and set running
#: Names mesa.Model defines in Mesa 3.5.1 (mesa/model.py), beyond Mesa 3.3: the teaching view must
#: not set them either, or it breaks on the newer Mesa (Model.scenario is a property there, and
#: Model.time drives step()).
MESA_35_NAMES = {"time", "scenario", "_scenario", "agent_id_counter", "data_registry", "_simulator",
                 "_event_list", "_event_generators", "_default_schedule", "schedule_event",
                 "schedule_recurring", "run_for", "run_until", "_advance_time", "_do_step"}


def _installed_mesa_names() -> set[str]:
    return {n for n in dir(mesa.Model) if not n.startswith("__")} | set(vars(mesa.Model()))


def _assigned_names(build) -> dict[str, set[str]]:
    """Attribute names assigned on the model while ``build()`` runs, by the file that assigned them
    (Mesa's own assignments excluded)."""
    seen: dict[str, set[str]] = {}
    mesa_dir = str(Path(mesa.__file__).parent)

    def record(self, k, v):
        f = sys._getframe(1)
        if not f.f_code.co_filename.startswith(mesa_dir):
            seen.setdefault(f.f_code.co_filename, set()).add(k)
        object.__setattr__(self, k, v)

    Market.__setattr__ = record
    try:
        build()
    finally:
        del Market.__setattr__
    return seen


def _build_and_step():
    from sim.viz.charts import Session
    from sim.viz.model import Settings
    s = Session(Settings(scenario="lesson_service_failure", compare="default", n_customers=100), widgets=False)
    for _ in range(3):
        s.step()
    m = TeachingMarket(n_customers=100, days=60, days_per_step=30)
    while m.running:
        m.step()


@pytest.fixture(scope="module")
def assigned():
    """Attribute names assigned on the markets, by file, while a session builds and steps."""
    return _assigned_names(_build_and_step)


def test_no_attribute_shadows_the_installed_mesa_model(assigned):
    reserved = _installed_mesa_names() - ALLOWED_OVERRIDES
    for cls in (TeachingMarket, Market):
        clash = set(vars(cls)) & reserved
        assert not clash, f"{cls.__name__} defines mesa.Model names {sorted(clash)}"
    names = set().union(*assigned.values())
    assert "preset" in names and "cfg" in names   # the probe sees the subclasses' assignments
    clash = names & reserved
    assert not clash, f"assigned over mesa.Model attributes: {sorted(clash)} ({assigned})"


def test_teaching_view_sets_no_attribute_of_newer_mesa(assigned):
    viz = str(Path(__file__).resolve().parent.parent / "sim" / "viz")
    mine = set().union(*(names for f, names in assigned.items() if f.startswith(viz)))
    clash = (mine | set(vars(TeachingMarket))) & (MESA_35_NAMES | _installed_mesa_names()) - ALLOWED_OVERRIDES
    assert not clash, sorted(clash)


def test_market_sets_no_attribute_of_newer_mesa(assigned):
    assert not set().union(*assigned.values()) & MESA_35_NAMES


def test_app_drives_windows_without_mesa_step_wrapper():
    m = TeachingMarket(n_customers=100, days_per_step=7)
    m.advance_window()
    m.advance_window()
    assert m.now == pytest.approx(14, abs=1e-6) and m.steps == 0   # Mesa's wrapper never ran


# ---------------------------------------------------------------------- issue 15
def test_sessions_are_independent():
    from sim.viz.charts import Session
    from sim.viz.model import Settings
    a, b = Session(Settings(n_customers=100), widgets=False), Session(Settings(n_customers=100), widgets=False)
    assert a.pair.a is not b.pair.a and a.charts.figs["ladder"] is not b.charts.figs["ladder"]
    for _ in range(3):
        a.step()
    assert a.pair.day == pytest.approx(21, abs=1e-6) and b.pair.day < 1e-6
    assert Session(Settings(n_customers=100), widgets=False).pair.day < 1e-6


def test_app_module_holds_no_model():
    import sim.viz.app as app
    assert not [k for k, v in vars(app).items() if isinstance(v, (Market, mesa.Model))]


def test_strategy_allow_list():
    from sim.config import load
    from sim.run import strategies_for
    from sim.viz.model import FROM_SCENARIO, TEACHING_STRATEGIES
    assert "markov_migration" not in TEACHING_STRATEGIES and "do_nothing" not in TEACHING_STRATEGIES
    assert "none" in TEACHING_STRATEGIES and len(set(TEACHING_STRATEGIES)) == len(TEACHING_STRATEGIES)
    for s in TEACHING_STRATEGIES:
        if s != FROM_SCENARIO:
            assert (CONFIG_DIR / "strategy" / f"{s}.yaml").exists()
            strategies_for(load([f"strategy={s}", "market.n_customers=100"]))


def test_lessons_are_complete_in_both_languages_and_run():
    from sim.viz.lessons import LESSONS
    from sim.viz.model import SCENARIOS, Pair
    from sim.viz.texts import UI
    assert set(UI["fa"]) == set(UI["en"])
    keys = [les.key for les in LESSONS]
    assert len(keys) >= 5 and {"ladder", "dick_basu", "acquisition_retention", "service_failure", "pareto"} <= set(keys)
    for les in LESSONS:
        assert les.settings.scenario in SCENARIOS
        for loc in ("en", "fa"):
            t = les.text[loc]
            assert all(t[k].strip() for k in ("title", "explain", "watch", "question")), (les.key, loc)
            assert t["question"].rstrip().endswith("?" if loc == "en" else "؟"), (les.key, loc)
        assert any("\u0600" <= ch <= "\u06ff" for ch in les.text["fa"]["explain"])
        p = Pair(les.settings.with_value("n_customers", 100))
        p.step()
        assert p.a.stage_counts().sum() == 100 == p.b.stage_counts().sum()


def test_side_by_side_is_common_random_numbers():
    """Lesson 1: campaigns start on day 56, so A equals its control exactly until then."""
    from sim.viz.lessons import BY_KEY
    from sim.viz.model import Pair
    p = Pair(BY_KEY["ladder"].settings)
    assert p.events() == sorted((56.0, "campaign", n) for n in (
        "churn_outreach", "cross_sell", "loyalty_programme", "mass_advertising", "targeted_acquisition"))
    for _ in range(7):                                   # to day 49
        p.step()
        assert p.a.profit_cents() == p.b.profit_cents()
        assert np.array_equal(p.a.s.stage, p.b.s.stage)
    assert p.day == pytest.approx(49, abs=1e-6)
    for _ in range(3):                                   # day 56: the campaigns start
        p.step()
    assert p.a.marketing_spend() > 0 == p.b.marketing_spend()
    assert not np.array_equal(p.a.s.stage, p.b.s.stage)


def test_service_failure_lesson_marks_events_and_costs_customers():
    from sim.viz.lessons import BY_KEY
    from sim.viz.model import Pair, customers_now
    p = Pair(BY_KEY["service_failure"].settings)
    assert p.events() == [(63.0, "shock", "service_shock"), (175.0, "recovery", "service_shock")]
    while not p.finished:
        p.step()
    assert p.a.defections > p.b.defections and customers_now(p.a) < customers_now(p.b)


def test_charts_show_the_markets_and_speak_persian():
    from sim.viz.charts import Session, pareto_curve
    from sim.viz.model import Settings
    s = Session(Settings(scenario="lesson_service_failure", compare="default", n_customers=300), "fa",
                widgets=False)
    for _ in range(12):
        s.step()
    f = s.charts.figs
    a, b = s.pair.a, s.pair.b
    assert len(f["ladder"].data[0].x) == 300 == len(f["ladder"].data[1].x)
    d = f["diff"].data
    ts_a, ts_b = (m.datacollector.get_model_vars_dataframe() for m in (a, b))   # the reported rows

    def profit(ts):
        return (ts.cum_margin_cents - ts.cum_service_cost_cents - ts.cum_contact_cost_cents
                - ts.cum_offer_cost_cents - ts.cum_other_spend_cents - ts.cum_fixed_cost_cents).to_numpy() / 100
    assert len(d[0].y) == len(ts_a) == 13
    assert np.allclose(d[0].y, profit(ts_a) - profit(ts_b)) and d[0].y[-1] != 0
    assert np.array_equal(d[1].y, ts_a.customers_focal - ts_b.customers_focal)
    stacked = np.sum([tr.y[-1] for tr in f["stages"].data])
    assert stacked == 300
    x, y, top = pareto_curve(a)
    assert f["pareto"].data[0].y[-1] == pytest.approx(1.0) and f"{top:.0%}" in f["pareto"].layout.title.text
    assert "وفاداری" in f["quad"].layout.title.text and "روز" in f["stages"].layout.xaxis.title.text
    marks = [ann.text for ann in f["money"].layout.annotations]
    assert marks == ["افت خدمت", "بازگشت کیفیت"]
    assert [sh.x0 for sh in f["money"].layout.shapes] == [63.0, 175.0]


def test_chart_patch_is_plain_json_and_matches_the_figures():
    """What the browser gets each step: plain JSON (no NaN, which JSON.parse refuses), the same values
    the figures show."""
    import json

    from sim.viz.charts import Session
    from sim.viz.model import Settings
    s = Session(Settings(n_customers=100), widgets=False)
    json.dumps(s.charts.patch, allow_nan=False)         # day 0: no buyers yet, an empty Pareto curve
    json.dumps(s.charts.spec(), allow_nan=False)
    for _ in range(3):
        s.step()
    patch = json.loads(json.dumps(s.charts.patch, allow_nan=False))
    assert set(patch) == {"ladder", "diff", "stages", "money", "quad", "pareto"}
    ladder = {(i, tuple(path)): v for i, path, v in patch["ladder"]["data"]}
    assert len(ladder[0, ("x",)]) == 100 == len(ladder[1, ("marker", "color")])
    assert "day 21" in dict((tuple(p), v) for p, v in patch["ladder"]["layout"])["title", "text"]
    assert list(s.charts.figs["ladder"].data[0].x) == ladder[0, ("x",)]
    assert "day 21" in s.charts.figs["ladder"].layout.title.text


def test_csv_export_holds_both_markets():
    from sim.viz.charts import Session
    from sim.viz.model import Settings
    s = Session(Settings(n_customers=100), widgets=False)
    for _ in range(4):
        s.step()
    df = pd.read_csv(io.BytesIO(s.csv_bytes()))
    assert sorted(df["market"].unique()) == ["A", "B"] and len(df) == 10
    assert {"t", "cum_profit", "customers_focal", "with_strategies"} <= set(df.columns)
    assert df.groupby("market")["with_strategies"].first().to_dict() == {"A": True, "B": False}
