"""End to end: serve the teaching view once, drive it in headless Chromium.

Covers: two browser sessions stay independent (and a new visitor starts at day 0); a lesson
runs from start to finish; the side-by-side view shows a difference after a campaign (and none
before it: common random numbers); the Persian, right-to-left interface. Saves the README's
screenshots with ``SIM_UPDATE_SCREENSHOT=1`` (otherwise into the test's temporary directory).

Needs Debian's chromium at /usr/bin/chromium (scripts/setup.sh installs it) and the
``playwright`` Python package (a dev dependency); no browser download.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _browser import CHROMIUM, launch

ROOT = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("SIM_UPDATE_SCREENSHOT") == "1"
VIEW = {"width": 1500, "height": 1300}
TALL = {"width": 1500, "height": 2050}   # the lesson / side-by-side / Persian page: every chart in view

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.environ.get("SIM_SKIP_BROWSER") == "1",
                                                   reason="SIM_SKIP_BROWSER=1")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"app server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own http://localhost server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"app server did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run scripts/setup.sh (installs Debian's chromium)"
    tmp = tmp_path_factory.mktemp("viz")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.viz", "--host", "127.0.0.1", "--port", str(port), "seed=1"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_http(url, proc, log)
        yield url, tmp, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


def _open(browser, url, viewport=VIEW):
    ctx = browser.new_context(viewport=viewport)  # a new context: its own cookies, so its own session
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#stage-counts td.stage-count")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    return page


@pytest.fixture(scope="module")
def page(server, browser):
    """One visitor's page, shared by the lesson, side-by-side and Persian tests (each starts by
    choosing a lesson, which restarts its markets at day 0)."""
    p = _open(browser, server[0], TALL)
    yield p
    p.context.close()


def _day(page) -> int:
    return int(page.locator("#stage-panel").get_attribute("data-day"))


def _wait_day(page, day: int) -> None:
    page.wait_for_function("d => +document.querySelector('#stage-panel').dataset.day === d", arg=day)


def _step(page, k: int = 1) -> None:
    for _ in range(k):
        d = _day(page)
        page.locator(".btn-step").click()
        page.wait_for_function("d => +document.querySelector('#stage-panel').dataset.day > d", arg=d)


def _counts(page) -> dict[str, int]:
    cells = page.eval_on_selector_all(
        "#stage-counts tr[data-stage]",
        "rows => rows.map(r => [r.dataset.stage, r.querySelector('td.stage-count').textContent])")
    return {k: int(v) for k, v in cells}


def _choose(page, select_class: str, option: str) -> None:
    page.locator(f".{select_class}").click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def _shot(page, tmp: Path, name: str) -> Path:
    path = ROOT / "docs" / name if UPDATE else tmp / name
    page.wait_for_timeout(700)  # let the last figures paint
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollLeft) e.scrollLeft = 0; })")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_two_sessions_are_independent(server, browser):
    url, tmp, _ = server
    a = _open(browser, url)
    b = _open(browser, url)
    before = _counts(a)
    assert sum(before.values()) == 400 and len(before) == 8, before
    assert a.locator("#stage-counts").inner_text().count("Suspect") == 1  # English by default
    _step(a, 3)
    assert _day(a) == 21
    assert _day(b) == 0                                  # B did not move when A stepped
    # the charts follow each step: the ladder (in view) at once, a chart below the fold (money) once idle
    a.wait_for_function("() => [...document.querySelectorAll('.chart-ladder .gtitle')]"
                        ".some(e => e.textContent.includes('day 21'))")
    a.wait_for_function("() => (document.querySelector('.chart-money.js-plotly-plot')?.data[0].x.length === 4)")
    # one plotly.js for the page, loaded as a static file (not a copy per chart)
    assert a.evaluate("() => document.querySelectorAll('script[src$=\"/static/assets/plotly.min.js\"]').length") == 1
    after = _counts(a)
    assert sum(after.values()) == 400 and after != before
    _step(b)
    assert _day(b) == 7 and _day(a) == 21                # nor A when B stepped
    # play runs one session on its own; pause stops it
    a.locator(".btn-play").click()
    a.wait_for_function("() => +document.querySelector('#stage-panel').dataset.day >= 35")
    a.locator(".btn-pause").click()
    a.locator(".btn-play").wait_for()
    a.wait_for_timeout(1500)  # a step already under way may still land
    day = _day(a)
    a.wait_for_timeout(1500)
    assert _day(a) == day and _day(b) == 7
    c = _open(browser, url)                              # a new visitor starts at day 0
    assert _day(c) == 0
    _shot(a, tmp, "teaching_view.png")
    for p in (a, b, c):
        p.context.close()


def test_lesson_runs_from_start_to_finish(server, page):
    tmp = server[1]
    _choose(page, "sel-lesson", "Service failure")
    page.wait_for_selector("#lesson-card[data-lesson='service_failure'][data-done='false']")
    card = page.locator("#lesson-card").inner_text()
    for part in ("The idea", "What to watch", "Question for the class", "day 63"):
        assert part in card, card
    assert _day(page) == 0
    # the failure and the recovery are marked on the time charts
    svg = page.locator(".js-plotly-plot").all_inner_texts()
    assert any("service failure" in t for t in svg) and any("quality recovers" in t for t in svg)
    _step(page, 2)
    page.locator(".btn-end").click()
    page.wait_for_selector("#lesson-card[data-done='true']")
    assert _day(page) == 365
    cmp = page.locator("#compare-panel")
    assert int(cmp.get_attribute("data-customers-diff")) < 0   # the failure cost customers
    assert int(cmp.get_attribute("data-profit-diff")) < 0
    # export: the time series of both markets as CSV, every chart as PNG from its toolbar
    with page.expect_download() as dl:
        page.locator(".sel-csv button").click()
    csv = Path(dl.value.path()).read_text().splitlines()
    # report days 0, 7, ..., 364, 365
    assert csv[0].startswith("market,scenario,with_strategies,t,") and len(csv) == 1 + 2 * 54
    _shot(page, tmp, "lesson.png")
    page.locator(".js-plotly-plot").first.hover()
    titles = page.eval_on_selector_all(".modebar-btn", "bs => bs.map(b => b.getAttribute('data-title'))")
    assert "Download plot as a PNG" in titles and not any("Share" in t for t in titles), titles


def test_side_by_side_shows_the_difference_after_a_campaign(server, page):
    tmp = server[1]
    _choose(page, "sel-lesson", "The ladder")
    page.wait_for_selector("#lesson-card[data-lesson='ladder']")
    cmp = page.locator("#compare-panel")
    assert "no-action control" in cmp.inner_text()
    _step(page, 7)                                       # day 49: campaigns start on day 56
    assert _day(page) == 49
    assert cmp.get_attribute("data-profit-diff") == "0" and cmp.get_attribute("data-customers-diff") == "0"
    assert "identical" in page.locator("#verdict").inner_text()
    _step(page, 2)                                       # day 63: a week of campaigns
    assert int(cmp.get_attribute("data-customers-diff")) != 0
    assert int(cmp.get_attribute("data-profit-diff")) != 0
    assert "identical" not in page.locator("#verdict").inner_text()
    page.locator(".btn-end").click()
    _wait_day(page, 365)
    _shot(page, tmp, "side_by_side.png")


def test_persian_interface(server, page):
    tmp = server[1]
    page.locator(".sel-lang button", has_text="fa").click()
    page.wait_for_selector("#app-title[lang='fa']")
    page.wait_for_selector("#stage-panel[lang='fa']")   # panels are separate widgets: they may land a moment later
    assert page.locator("#app-title").inner_text().startswith("نردبان وفاداری")
    assert page.locator("#stage-panel").get_attribute("dir") == "rtl"
    assert "مشتری وفادار" in page.locator("#stage-counts").inner_text()
    # the controls are another widget again: wait for their label too (under load it lands later)
    page.wait_for_function("document.querySelector('.btn-step').innerText.trim() === 'گام'")
    _choose(page, "sel-lesson", "دیک و باسو")
    page.wait_for_selector("#lesson-card[data-lesson='dick_basu'][lang='fa']")
    assert "پرسش برای کلاس" in page.locator("#lesson-card").inner_text()
    _step(page, 2)
    charts = " ".join(page.locator(".js-plotly-plot").all_inner_texts())
    for text in ("وفاداری دیک و باسو", "وفاداری کاذب", "روز", "سود الف − ب"):
        assert text in charts, text
    assert "Suspect" not in page.locator("#stage-counts").inner_text()
    page.locator(".btn-end").click()
    _wait_day(page, 365)
    _shot(page, tmp, "teaching_view_fa.png")
