"""Teaching view: a Solara page over two small customer markets, one pair per browser session.

Run with ``python -m sim.viz`` (or ``solara run sim/viz/app.py``). Market A and its comparison
B (A's no-action control, or another scenario) share a seed, so they draw the same random
numbers (common random numbers) and step together; the page shows A's customers on the
ladder beside B's, stage counts, money, the difference A − B ("did it pay?"), the Dick & Basu
quadrants and the Pareto value split, with dated events marked. Five guided lessons
(``sim/viz/lessons.py``) set presets and explain what to watch; everything switches to
Persian, right-to-left.

Every session builds its own markets inside :func:`Page` (nothing model-like lives at module
level), and every value the browser sends is checked on the server (``sim.viz.model``) before
it is used; a refused value or a failed build shows a short message, details go to the log.
"""
from __future__ import annotations

import logging
import threading

import solara
import solara.server.settings

from sim.viz.charts import CHARTS, Session
from sim.viz.chartview import PLOTLY_JS_DIR
from sim.viz.lessons import BY_KEY, LESSONS
from sim.viz.model import (CONTROL, FROM_SCENARIO, LOCALES, RANGES, SCENARIOS, TEACHING_STRATEGIES, InputError,
                           Settings, check_choice, check_number, customers_now, extra_overrides,
                           stage_panel_html)
from sim.viz.texts import name, ui

log = logging.getLogger("sim.viz")
# plotly.js, loaded once per page by the charts (sim.viz.chartview), is served from the installed
# plotly package as /static/assets/plotly.min.js: no network needed, and the browser caches it
if str(PLOTLY_JS_DIR) not in solara.server.settings.assets.extra_locations:
    solara.server.settings.assets.extra_locations.append(str(PLOTLY_JS_DIR))
PLAY_INTERVAL_S = 0.3   # pause between steps once the browser has drawn the last one
NO_LESSON = "(none)"


def initial_choices() -> tuple[Settings, str]:
    """Starting settings and language from ``python -m sim.viz +scenario=... output.locale=...``
    (the operator's command line, checked at start-up; an unknown value falls back to the default)."""
    values, locale = {}, "en"
    numeric = {"seed": "seed", "market.n_customers": "n_customers", "market.days": "days",
               "engine.dt": "days_per_step"}
    for o in extra_overrides():
        key, _, val = o.partition("=")
        if key == "+scenario" and val in SCENARIOS:
            values["scenario"] = val
        elif key == "output.locale" and val in LOCALES:
            locale = val
        elif key in numeric:
            try:
                values[numeric[key]] = check_number(numeric[key], float(val))
            except (ValueError, InputError):
                log.warning("ignoring %s=%s from the command line: out of the page's range", key, val)
    return Settings(**values), locale


def _num(text: str) -> str:
    """A number kept left-to-right inside right-to-left text (so "+459" never reads "459+")."""
    return f"<bdi dir='ltr' style='direction:ltr;unicode-bidi:isolate'>{text}</bdi>"


def compare_panel_html(session: Session, locale: str) -> str:
    """Side-by-side table of A and B now, and the difference A − B (read by the browser tests)."""
    import html
    tx = ui(locale)
    a, b = session.pair.a, session.pair.b
    rows = (
        ("profit", a.profit_cents() / 100, b.profit_cents() / 100, True),
        ("customers", customers_now(a), customers_now(b), False),
        ("marketing", a.marketing_spend() / 100, b.marketing_spend() / 100, True),
        ("acquisitions", a.acquisitions, b.acquisitions, False),
        ("defections", a.defections, b.defections, False),
    )
    body = "".join(
        f"<tr data-row='{k}'><td>{html.escape(tx['cmp_' + k])}</td><td class='a'>{_num(f'{va:,.0f}')}</td>"
        f"<td class='b'>{_num(f'{vb:,.0f}')}</td><td class='d'><b>{_num(f'{va - vb:+,.0f}')}</b></td></tr>"
        for k, va, vb, _ in rows)
    dp = a.profit_cents() - b.profit_cents()
    dc = customers_now(a) - customers_now(b)
    verdict = (tx["verdict_same"] if dp == 0 else
               (tx["verdict_pays"] if dp > 0 else tx["verdict_costs"]).format(x=f"{abs(dp) / 100:,.0f}"))
    dm = a.marketing_spend() - b.marketing_spend()
    roi = f"<div id='roi-vs-b'>{html.escape(tx['roi_line'].format(roi=f'{dp / dm:.2f}'))}</div>" if dm > 0 else ""
    rtl = locale == "fa"
    return (
        f"<div id='compare-panel' data-day='{a.now:.0f}' data-profit-diff='{dp}' data-customers-diff='{dc}' "
        f"dir='{'rtl' if rtl else 'ltr'}' lang='{locale}' style='font-family:sans-serif;font-size:14px'>"
        "<style>#compare-panel td,#compare-panel th{padding:1px 8px;text-align:end}</style>"
        f"<b>{html.escape(tx['cmp_title'])}</b><br>"
        f"<small>{tx['market_a']}: {html.escape(name(a.preset, locale))} · "
        f"{tx['market_b']}: {html.escape(session.compare_label())}</small>"
        f"<table style='border-collapse:collapse;margin:4px 0'><tr><th></th><th>{tx['market_a']}</th>"
        f"<th>{tx['market_b']}</th><th>{tx['market_a']} − {tx['market_b']}</th></tr>{body}</table>"
        f"<div id='verdict'>{html.escape(verdict)}</div>{roi}"
        f"<small>{html.escape(tx['cmp_note'])}</small></div>")


def chart_rows(focus: str) -> list[list[str]]:
    """Chart layout: the lesson's chart first; the (wide) ladder chart on a row of its own."""
    if focus == "ladder":
        rest = [c for c in CHARTS if c != "ladder"]
        return [["ladder"]] + [rest[i:i + 2] for i in range(0, len(rest), 2)]
    rest = [c for c in CHARTS if c not in ("ladder", focus)]
    return [[focus, rest[0]], ["ladder"]] + [rest[i:i + 2] for i in range(1, len(rest), 2)]


def lesson_html(key: str, locale: str, finished: bool) -> str:
    """The lesson card as HTML: its title, explanation, what to watch and the question, in ``locale``."""
    import html
    lesson = BY_KEY[key]
    t, tx = lesson.text[locale], ui(locale)
    rtl = locale == "fa"
    done = f"<p class='done'><b>{html.escape(tx['lesson_done'])}</b></p>" if finished else ""
    return (
        f"<div id='lesson-card' data-lesson='{key}' data-done='{str(finished).lower()}' "
        f"dir='{'rtl' if rtl else 'ltr'}' lang='{locale}' style='font-family:sans-serif;font-size:15px;"
        "background:#f4f8fb;border-radius:6px;padding:8px 14px;margin-bottom:6px'>"
        f"<h3 style='margin:4px 0'>{html.escape(t['title'])}</h3>"
        f"<p><b>{html.escape(tx['explain'])}.</b> {html.escape(t['explain'])}</p>"
        f"<p><b>{html.escape(tx['watch'])}.</b> {html.escape(t['watch'])}</p>"
        f"<p class='question'><b>{html.escape(tx['question'])}:</b> {html.escape(t['question'])}</p>{done}</div>")


def _select(label: str, value: str, items: list[tuple[str, str]], on_value, cls: str):
    """A select whose shown text differs from the value it sends (the value is an allow-listed key)."""
    return solara.v.Select(label=label, v_model=value, items=[{"text": t, "value": k} for k, t in items],
                           on_v_model=on_value, dense=True, hide_details=True, class_=cls,
                           style_="margin-bottom:12px;max-width:360px")


@solara.component
def Page():
    """The teaching view's page: one session's two markets, their controls, the charts and the lessons."""
    start_settings, start_locale = solara.use_memo(initial_choices, [])
    # per browser session: this memo runs once per page, never at import
    session: Session = solara.use_memo(lambda: Session(start_settings, start_locale), [])
    locale = solara.use_reactive(start_locale)
    lesson = solara.use_reactive(NO_LESSON)
    tick = solara.use_memo(lambda: solara.reactive(0), [])  # read by Board only: a step re-renders the board
    playing = solara.use_reactive(False)
    message = solara.use_reactive("")
    version = solara.use_reactive(0)  # bumped by a rebuild: the sidebar shows the new settings
    tx = ui(locale.value)

    def bump():
        tick.set(tick.value + 1)

    def refuse(e: Exception, value_name: str) -> None:
        log.warning("refused browser value for %s: %s", value_name, e)
        message.set(f"{ui(locale.value)['refused']}: {e}")

    def rebuild(settings: Settings) -> None:
        playing.set(False)
        try:
            session.rebuild(settings)
        except Exception:  # details to the server log, a short message to the browser
            log.exception("building the teaching markets failed for %r", settings)
            message.set(ui(locale.value)["build_failed"])
            return
        message.set("")
        version.set(version.value + 1)
        bump()

    def set_value(key: str):
        def handler(value):
            try:
                new = session.settings.with_value(key, value)
            except InputError as e:
                refuse(e, key)
                return
            rebuild(new)
        return handler

    def choose_lesson(key):
        try:
            key = check_choice("lesson", key, (NO_LESSON,) + tuple(BY_KEY))
        except InputError as e:
            refuse(e, "lesson")
            return
        lesson.set(key)
        if key != NO_LESSON:
            base = BY_KEY[key].settings
            keep = {k: getattr(session.settings, k) for k in ("n_customers", "days_per_step", "seed")}
            rebuild(Settings(**{**base.__dict__, **keep}))

    def choose_locale(value):
        try:
            value = check_choice("language", value, LOCALES)
        except InputError as e:
            refuse(e, "language")
            return
        with session.lock:
            session.set_locale(value)
        locale.set(value)
        bump()

    def advance(how) -> bool:
        """Run ``how`` (a step, or to the end); on an engine error, log it and say so briefly."""
        try:
            how()
        except Exception:
            log.exception("stepping the teaching markets failed (%r)", session.settings)
            playing.set(False)
            message.set(ui(locale.value)["step_failed"])
            return False
        return True

    def step():
        advance(session.step)
        bump()

    def to_end():
        playing.set(False)
        advance(session.run_to_end)
        bump()

    def restart():
        rebuild(session.settings)

    def play_loop(cancel: threading.Event):
        while playing.value and not cancel.is_set():
            if session.pair.finished:
                playing.set(False)
                return
            drawn = session.view.tick + 1   # the view's next patch: this step's
            ok = advance(session.step)
            tick.set(tick.value + 1)
            if not ok:
                return
            session.view.wait_drawn(drawn, timeout=10.0)   # never run ahead of the browser
            cancel.wait(PLAY_INTERVAL_S)

    solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)

    _ = version.value
    st = session.settings
    loc = locale.value
    rtl = {"direction": "rtl", "text-align": "right"} if loc == "fa" else {}
    solara.Title(tx["title"])
    with solara.Sidebar():
        # a long lesson title must not widen the sidebar over the page
        with solara.Column(style={**rtl, "max-width": "370px", "overflow-x": "hidden"}):
            solara.ToggleButtonsSingle(value=loc, values=list(LOCALES), on_value=choose_locale, classes=["sel-lang"])
            _select(tx["lesson"], lesson.value,
                    [(NO_LESSON, tx["free_play"])] + [(les.key, les.text[loc]["title"]) for les in LESSONS],
                    choose_lesson, "sel-lesson")
            with solara.Row():
                solara.Button(tx["step"], on_click=step, classes=["btn-step"], disabled=playing.value)
                if playing.value:
                    solara.Button(tx["pause"], on_click=lambda: playing.set(False), classes=["btn-pause"])
                else:
                    solara.Button(tx["play"], on_click=lambda: playing.set(True), classes=["btn-play"])
            with solara.Row():
                solara.Button(tx["to_end"], on_click=to_end, classes=["btn-end"])
                solara.Button(tx["reset"], on_click=restart, classes=["btn-reset"])
            solara.HTML(tag="small", unsafe_innerHTML=tx["settings_note"])
            _select(tx["scenario"], st.scenario, [(k, name(k, loc)) for k in SCENARIOS],
                    set_value("scenario"), "sel-scenario")
            _select(tx["strategy"], st.strategy,
                    [(k, tx["from_scenario"] if k == FROM_SCENARIO else name(k, loc)) for k in TEACHING_STRATEGIES],
                    set_value("strategy"), "sel-strategy")
            _select(tx["compare"], st.compare,
                    [(CONTROL, tx["control"])] + [(k, name(k, loc)) for k in SCENARIOS],
                    set_value("compare"), "sel-compare")
            for key, step_size in (("n_customers", 50), ("days", 5), ("days_per_step", 1), ("seed", 1)):
                lo, hi, _ = RANGES[key]
                solara.SliderInt(tx[key], value=getattr(st, key), min=int(lo), max=int(hi), step=step_size,
                                 on_value=set_value(key), thumb_label="always" if key != "days" else True)
            cfg = session.pair.a.cfg
            current = {"service_quality": cfg.service.quality, "innovation": cfg.market.innovation,
                       "conversion": cfg.market.conversion, "defection": cfg.market.defection}
            for key, step_size in (("service_quality", 0.01), ("innovation", 0.0001), ("conversion", 0.0005),
                                   ("defection", 0.0001)):
                lo, hi, _ = RANGES[key]
                solara.SliderFloat(tx[key], value=min(max(current[key], lo), hi), min=lo, max=hi, step=step_size,
                                   on_value=set_value(key))
            with solara.Div(classes=["sel-csv"]):
                solara.FileDownload(session.csv_bytes, filename="teaching_timeseries.csv", label=tx["export_csv"])
            solara.HTML(tag="small", unsafe_innerHTML=tx["export_note"])

    Board(session, tick, loc, lesson.value, message.value)


@solara.component
def Board(session: Session, tick, loc: str, lesson: str, message: str):
    """Lesson card, the two panels and the charts; re-rendered on every step (reads ``tick``)."""
    _ = tick.value
    tx = ui(loc)
    rtl = {"direction": "rtl", "text-align": "right"} if loc == "fa" else {}
    with solara.Column(style={**rtl, "padding": "0 8px"}):
        solara.HTML(tag="div", unsafe_innerHTML=f"<h2 id='app-title' dir='{'rtl' if loc == 'fa' else 'ltr'}' "
                                                f"lang='{loc}' style='margin:4px 0'>{tx['title']}</h2>")
        if message:
            solara.Error(message, classes=["app-message"])
        if lesson != NO_LESSON:
            solara.HTML(tag="div", unsafe_innerHTML=lesson_html(lesson, loc, session.pair.finished))
        with solara.Columns([1, 1]):
            solara.HTML(tag="div", unsafe_innerHTML=stage_panel_html(session.pair.a, loc, tx))
            solara.HTML(tag="div", unsafe_innerHTML=compare_panel_html(session, loc))
        # one widget draws the six charts, updated in place (sim.viz.chartview), never re-created
        session.view.set_rows(chart_rows(BY_KEY[lesson].focus if lesson != NO_LESSON else "ladder"))
        solara.Column(children=[session.view], style={"direction": "ltr"})
    # after the panels above have gone out: the browser then draws panels and charts in one frame
    solara.use_effect(session.show, [session.charts, session.charts.version])
