"""How long one step of the teaching view takes at 400 customers (issue 15: under 200 ms).

    python benchmarks/bench_viz.py                    # server side: model, charts, whole page
    python benchmarks/bench_viz.py --browser          # also click Step in headless Chromium
    python benchmarks/bench_viz.py --customers 1000 --steps 60

Per step it times (median and a 95 % interval of the median, by bootstrap, over ``--steps``):

* ``model``: both markets (A and its no-action control) advance one 7-day window;
* ``charts``: the six plotly figures are updated in place (``FigureWidget``, what the page uses);
* ``page``: a click on Step in the rendered Solara page (``solara.render``): model, charts and
  the re-rendered panels, i.e. all the server does for one step;
* ``panel`` and ``browser`` (``--browser``): from a click on Step in headless Chromium until the
  page shows the new day (``panel``) and until plotly has also redrawn the ladder chart
  (``browser``): server, websocket and drawing.

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
    print(f"charts are {type(s.charts.figs['ladder']).__name__} objects")
    model, charts = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        s.pair.step()
        t1 = time.perf_counter()
        s.charts.update()
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


def bench_browser(customers: int, steps: int) -> None:
    """Time a Step click in headless Chromium against a ``python -m sim.viz`` server, until the page shows it."""
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
            page = b.new_page(viewport={"width": 1500, "height": 1300})
            page.set_default_timeout(120_000)
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except Exception:
                    time.sleep(0.5)
            page.wait_for_selector(".js-plotly-plot .main-svg")
            page.wait_for_timeout(1000)
            ms, panel = [], []
            for _ in range(steps):
                t_panel, t_all = page.evaluate("""() => new Promise(resolve => {
                    const day = +document.querySelector('#stage-panel').dataset.day;
                    const t0 = performance.now();
                    let tp = null;
                    const done = () => {
                        const p = document.querySelector('#stage-panel');
                        if (!(p && +p.dataset.day > day)) return false;
                        if (tp === null) tp = performance.now() - t0;
                        const title = [...document.querySelectorAll('.gtitle')].map(e => e.textContent).join('|');
                        return title.includes('day ' + p.dataset.day);
                    };
                    const obs = new MutationObserver(() => { if (done()) { obs.disconnect();
                        requestAnimationFrame(() => resolve([tp, performance.now() - t0])); } });
                    obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                                characterData: true});
                    document.querySelector('.btn-step').click();
                })""")
                panel.append(t_panel)
                ms.append(t_all)
            b.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    summarise("panel", panel)
    summarise("browser", ms)


def main() -> None:
    """Time teaching-view steps on the server and, with ``--browser``, in a headless browser."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=400)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--browser", action="store_true", help="also time a Step click in headless Chromium")
    a = ap.parse_args()
    print(f"teaching view, {a.customers} customers, 7 days per step, A + no-action control B; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    bench_server(a.customers, a.steps)
    if a.browser:
        bench_browser(a.customers, a.steps)


if __name__ == "__main__":
    main()
