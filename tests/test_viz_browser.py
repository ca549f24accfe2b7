"""End to end: serve the teaching view, open it in headless Chromium, step the model, and check
on the page that the stage counts change. Saves the screenshot shown in the README.

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

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
# The README's picture: regenerate it with SIM_UPDATE_SCREENSHOT=1; otherwise the test writes
# its screenshot next to its temporary files and leaves the committed one alone.
SCREENSHOT = ROOT / "docs" / "teaching_view.png" if os.environ.get("SIM_UPDATE_SCREENSHOT") == "1" else None
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 45.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"app server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"app server did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _counts(page) -> dict[str, int]:
    cells = page.eval_on_selector_all(
        "#stage-counts tr[data-stage]",
        "rows => rows.map(r => [r.dataset.stage, r.querySelector('td.stage-count').textContent])")
    return {k: int(v) for k, v in cells}


@pytest.mark.slow
def test_teaching_view_steps_in_browser(tmp_path):
    if os.environ.get("SIM_SKIP_BROWSER") == "1":
        pytest.skip("SIM_SKIP_BROWSER=1")
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run scripts/setup.sh (installs Debian's chromium)"
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.viz", "--host", "127.0.0.1", "--port", str(port), "seed=1"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_http(url, proc, log)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1400})
                page.set_default_timeout(30_000)
                page.goto(url)
                page.wait_for_selector("#stage-counts td.stage-count")
                before = _counts(page)
                n = sum(before.values())
                assert n == 400 and len(before) == 8, before
                assert page.locator("#stage-counts").inner_text().count("Suspect") == 1  # English by default
                step = page.get_by_role("button", name="Step")
                for k in range(1, 7):
                    step.click()
                    page.wait_for_function(
                        "d => document.querySelector('#stage-panel').dataset.day === String(d)", arg=7 * k)
                after = _counts(page)
                assert sum(after.values()) == n, after          # agents are conserved
                assert after != before, (before, after)          # and have moved on the ladder
                moved = sum(abs(after[s] - before[s]) for s in before)
                assert moved >= 5, (before, after)
                revenue = page.locator("[data-testid='kpi-revenue']").inner_text()
                assert float(revenue.replace(",", "")) > 0
                # play runs the model on its own; pause stops it
                page.get_by_role("button", name="▶").click()
                page.wait_for_function("() => +document.querySelector('#stage-panel').dataset.day >= 56")
                page.get_by_role("button", name="❚❚").click()
                page.get_by_role("button", name="▶").wait_for()
                page.wait_for_timeout(2000)  # a step already under way may still land and render
                day = page.locator("#stage-panel").get_attribute("data-day")
                page.wait_for_timeout(2000)
                assert page.locator("#stage-panel").get_attribute("data-day") == day
                page.wait_for_timeout(800)  # let the last figures paint
                shot = SCREENSHOT or tmp_path / "teaching_view.png"
                shot.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
            finally:
                browser.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
