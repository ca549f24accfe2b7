"""How long one step of the teaching view takes at 400 customers (issue 15: under 200 ms).

    python benchmarks/bench_viz.py                    # server side: model, charts, whole page
    python benchmarks/bench_viz.py --browser          # also click Step in headless Chromium
    python benchmarks/bench_viz.py --customers 1000 --steps 60

Per step it times (median and a 95 % interval of the median, by bootstrap, over ``--steps``):

* ``model``: both markets (A and its no-action control) advance one 7-day window;
* ``charts``: the six charts' changes (the patch the browser gets) are computed and handed to
  the page's chart widget (``sim.viz.chartview.ChartView``);
* ``page``: a click on Step in the rendered Solara page (``solara.render``): model, charts and
  the re-rendered panels, i.e. all the server does for one step;
* with ``--browser``, a click on Step in headless Chromium against a ``python -m sim.viz`` server
  (server, websocket and drawing), timed in the page from the click until

  - ``panel``: the stage panel shows the new day;
  - ``visible``: that, and every chart inside the viewport has finished redrawing (plotly's
    ``plotly_afterplot`` event) and the browser has produced the frame after it: what the
    person in front of the page waits for (the issue's "a step renders");
  - ``all``: the same for all six charts, including those scrolled out of view (``--height
    2050`` puts all six in view, so there ``visible`` = ``all``).

  Clicks are ``--pause`` ms apart (default 300, play's pause between steps).

It prints each as milliseconds and as a ratio to the 200 ms budget. Timings depend on the
machine and on its load; run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET_MS = 200.0


def summarise(label: str, ms: list[float]) -> None:
    """Print the median of ``ms`` with its bootstrap 95 % interval, the 90th percentile and the share of the budget."""
    a = np.asarray(ms)
    rng = np.random.default_rng(0)
    boot = np.median(rng.choice(a, size=(2000, a.size)), axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    med = float(np.median(a))
    print(f"{label:<8} median {med:7.1f} ms  (95% CI {lo:6.1f}-{hi:6.1f})  p90 {np.percentile(a, 90):7.1f} ms  "
          f"= {med / BUDGET_MS:4.2f} x budget  [n={a.size}]")


def bench_server(customers: int, steps: int) -> None:
    """Time the server side of a teaching-view step: the two markets' window and the charts' update."""
    from sim.viz.charts import Session
    from sim.viz.model import Settings
    s = Session(Settings(n_customers=customers), widgets=True)
    model, charts = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        s.pair.step()
        t1 = time.perf_counter()
        s.charts.update()
        s.view.show(s.charts)
        t2 = time.perf_counter()
        model.append((t1 - t0) * 1000)
        charts.append((t2 - t1) * 1000)
    summarise("model", model)
    summarise("charts", charts)
    summarise("step", list(np.add(model, charts)))

    import ipyvuetify as v
    import solara

    import sim.viz.app as app
    from sim.viz.model import RANGES
    lo, hi = RANGES["n_customers"][:2]
    if not lo <= customers <= hi:  # a check that survives python -O
        raise SystemExit(f"--customers must be between {lo} and {hi} (the teaching view's range)")

    @solara.component
    def Wrap():
        with solara.AppLayout():
            app.Page()

    with contextlib.redirect_stdout(io.StringIO()):   # solara.display prints reprs outside a server
        box, rc = solara.render(Wrap(), handle_error=False)
        if customers != 400:
            slider = [w for w in rc.find(v.Slider).widgets if w.label == "Customers"][0]
            slider.v_model = customers
        btn = [w for w in rc.find(v.Btn).widgets if "btn-step" in (w.class_ or "")][0]
        page = []
        for _ in range(steps):
            t0 = time.perf_counter()
            btn.click()
            page.append((time.perf_counter() - t0) * 1000)
        rc.close()
    summarise("page", page)


STEP_JS = """() => new Promise((resolve, reject) => {
    // From the click on Step until the page shows the new day and every chart inside the viewport has
    // finished redrawing (plotly's afterplot event) and the frame after that has been produced.
    const panel = () => document.querySelector('#stage-panel');
    const day = +panel().dataset.day;
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    const inView = el => { const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth && r.height > 0; };
    const visible = new Set(plots.filter(inView));
    const drawn = new Set();
    let tPanel = null, tVisible = null, tAll = null, finished = false;
    const frame = () => new Promise(r => requestAnimationFrame(() => {
        const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); }));
    const check = () => {
        if (finished) return;
        const now = performance.now() - t0;
        if (tPanel === null && +panel().dataset.day > day) tPanel = now;
        if (tPanel === null) return;
        if (tVisible === null && [...visible].every(p => drawn.has(p))) {
            tVisible = -1;
            frame().then(() => { tVisible = performance.now() - t0; check(); });
        }
        if (tAll === null && plots.every(p => drawn.has(p))) {
            tAll = -1;
            frame().then(() => { tAll = performance.now() - t0; check(); });
        }
        if (tVisible > 0 && tAll > 0) {
            finished = true; obs.disconnect(); clearTimeout(timer);
            resolve([tPanel, tVisible, tAll, visible.size, plots.length]);
        }
    };
    plots.forEach(p => p.on('plotly_afterplot', () => { drawn.add(p); check(); }));
    const obs = new MutationObserver(check);
    obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    const timer = setTimeout(() => reject(new Error('no redraw within 20 s')), 20000);
    const t0 = performance.now();
    document.querySelector('.btn-step').click();
})"""


def bench_browser(customers: int, steps: int, height: int, pause_ms: int) -> None:
    """Time Step clicks in headless Chromium against a ``python -m sim.viz`` server (see :data:`STEP_JS`)."""
    from playwright.sync_api import sync_playwright
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim.viz", "--host", "127.0.0.1", "--port", str(port),
                             f"market.n_customers={customers}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = b.new_page(viewport={"width": 1500, "height": height})
            page.set_default_timeout(120_000)
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except Exception:
                    time.sleep(0.5)
            page.wait_for_selector("#stage-panel")
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6")
            page.wait_for_timeout(1500)
            panel, visible, every = [], [], []
            for _ in range(steps):
                if int(page.locator("#stage-panel").get_attribute("data-day")) + 7 > 365:
                    page.locator(".btn-reset").click()   # the horizon: start again (not timed)
                    page.wait_for_function("() => +document.querySelector('#stage-panel').dataset.day === 0")
                    page.wait_for_timeout(1500)
                tp, tv, ta, n_vis, n_all = page.evaluate(STEP_JS)
                panel.append(tp)
                visible.append(tv)
                every.append(ta)
                page.wait_for_timeout(pause_ms)   # as a person clicking, or play's pause between steps
            b.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    print(f"browser: viewport 1500x{height}, {n_vis} of {n_all} charts in view, {pause_ms} ms between clicks")
    summarise("panel", panel)
    summarise("visible", visible)
    summarise("all", every)


def main() -> None:
    """Time teaching-view steps on the server and, with ``--browser``, in a headless browser."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=400)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--browser", action="store_true", help="also time a Step click in headless Chromium")
    ap.add_argument("--height", type=int, default=1300,
                    help="browser viewport height in pixels (2050 puts every chart in view)")
    ap.add_argument("--pause", type=int, default=300, help="milliseconds between two Step clicks")
    a = ap.parse_args()
    print(f"teaching view, {a.customers} customers, 7 days per step, A + no-action control B; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    bench_server(a.customers, a.steps)
    if a.browser:
        bench_browser(a.customers, a.steps, a.height, a.pause)


if __name__ == "__main__":
    main()
