"""The teaching view's six charts in the browser: one widget, one plotly.js, drawn on demand.

:class:`ChartView` receives a session's figures once (:meth:`~sim.viz.charts.Charts.spec`, when
the markets or the language change) and then, every step, only the changed arrays and titles
(:attr:`~sim.viz.charts.Charts.patch`, a few kilobytes). In the browser it

* loads plotly.js once per page, as a static file (``/static/assets/plotly.min.js``, served from
  the installed plotly package; the page works offline), instead of one 5 MB copy per chart;
* redraws, in one animation frame, the charts that are in view (``Plotly.react``); charts
  scrolled out of view are redrawn one at a time when the browser is idle, or as soon as they
  scroll into view;
* tells the server which step it has drawn (:meth:`ChartView.wait_drawn`), so "Play" never runs
  ahead of a slow browser.

Nothing is sent back per chart (plotly's ``FigureWidget`` returns every figure's full state
after every update).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import ipyvue
import plotly
import traitlets

#: the folder holding ``plotly.min.js`` in the installed plotly package
PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"

TEMPLATE = r"""
<template>
  <div class="teaching-charts"
       style="direction:ltr;display:flex;flex-wrap:wrap;align-items:flex-start;gap:24px;padding-top:12px">
    <!-- fixed-size boxes, contained: a chart's redraw never re-lays out the rest of the page -->
    <div v-for="k in chart_keys" :key="k" :data-chart="k" :class="'teaching-chart chart-' + k"
         :style="{order: order[k] || 0, flex: k === wide ? '0 0 100%' : '0 0 calc(50% - 12px)', minWidth: 0,
                  height: (k === wide ? 360 : 330) + 'px', contain: 'strict'}"></div>
  </div>
</template>
<script>
module.exports = {
  mounted() {
    this.figs = {};
    this.fresh = new Set();      // charts to draw from scratch (new figures)
    this.dirty = new Set();      // charts whose data changed since they were drawn
    this.visible = new Set();
    this.shownRev = -1;
    this.shownTick = -1;
    this.raf = null;
    this.idle = null;
    this.alive = true;
    this.io = new IntersectionObserver(entries => {
      for (const e of entries) {
        const k = e.target.dataset.chart;
        if (e.isIntersecting) {
          this.visible.add(k);
          if (this.dirty.has(k)) this.schedule();
        } else {
          this.visible.delete(k);
        }
      }
    });
    this.$el.querySelectorAll('[data-chart]').forEach(el => this.io.observe(el));
    this.loadPlotly().then(P => { this.P = P; this.sync(); },
                      () => { this.$el.textContent = 'plotly.js could not be loaded'; });
  },
  beforeDestroy() {
    this.alive = false;
    this.io.disconnect();
    if (this.P) this.chart_keys.forEach(k => this.P.purge(this.chart(k)));
  },
  watch: {
    spec() { this.sync(); },
    patch() { this.sync(); },
  },
  methods: {
    loadPlotly() {   // one plotly.js per page, shared by every chart
      if (window.Plotly) return Promise.resolve(window.Plotly);
      if (!window.__teachingPlotly) {
        window.__teachingPlotly = new Promise((resolve, reject) => {
          const s = document.createElement('script');
          s.src = ((window.solara && window.solara.rootPath) || '') + '/static/assets/plotly.min.js';
          s.onload = () => resolve(window.Plotly);
          s.onerror = reject;
          document.head.appendChild(s);
        });
      }
      return window.__teachingPlotly;
    },
    setPath(obj, path, value) {
      for (let i = 0; i < path.length - 1; i++) {
        if (obj[path[i]] === undefined || obj[path[i]] === null) obj[path[i]] = {};
        obj = obj[path[i]];
      }
      obj[path[path.length - 1]] = value;
    },
    chart(k) { return this.$el.querySelector('[data-chart="' + k + '"]'); },
    sync() {
      if (!this.P || !this.alive) return;
      const spec = this.spec, patch = this.patch;
      if (spec.rev !== this.shownRev) {
        this.shownRev = spec.rev;
        this.shownTick = -1;
        for (const k of this.chart_keys) this.figs[k] = JSON.parse(JSON.stringify(spec.figures[k]));
        this.chart_keys.forEach(k => { this.fresh.add(k); this.dirty.add(k); });
      }
      if (patch.rev === this.shownRev && patch.tick !== this.shownTick) {
        this.shownTick = patch.tick;
        for (const k of Object.keys(patch.charts)) {
          const f = this.figs[k], ch = patch.charts[k];
          for (const [i, path, v] of ch.data) this.setPath(f.data[i], path, v);
          for (const [path, v] of ch.layout) this.setPath(f.layout, path, v);
          f.layout.datarevision = patch.tick;
          this.dirty.add(k);
        }
      }
      this.schedule();
    },
    schedule() {
      if (this.raf === null) this.raf = requestAnimationFrame(() => { this.raf = null; this.draw(); });
    },
    drawChart(k) {
      const f = this.figs[k], el = this.chart(k);
      this.dirty.delete(k);
      if (this.fresh.delete(k)) return this.P.newPlot(el, f.data, f.layout, f.config);
      // no config here: plotly.js would set it up again, reading the element's size (a forced layout)
      return this.P.react(el, f.data, f.layout);
    },
    draw() {
      if (!this.alive) return;
      const tick = this.shownTick;
      const now = this.chart_keys.filter(k => this.dirty.has(k) && this.visible.has(k));
      Promise.all(now.map(k => this.drawChart(k))).then(() => {
        this.$el.dataset.tick = tick;
        this.rendered(tick);
        this.later();
      });
    },
    later() {   // charts out of view: one at a time when the browser is idle
      if (this.idle !== null || !this.dirty.size) return;
      const next = () => {
        this.idle = null;
        if (!this.alive) return;
        const k = this.chart_keys.find(k => this.dirty.has(k));
        if (k === undefined) return;
        Promise.resolve(this.drawChart(k)).then(() => this.later());
      };
      this.idle = window.requestIdleCallback ? requestIdleCallback(next, {timeout: 1000}) : setTimeout(next, 50);
    },
  },
}
</script>
"""


class ChartView(ipyvue.VueTemplate):
    """The six charts of one session in the browser (see the module's docstring)."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    chart_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    order = traitlets.Dict().tag(sync=True)     # chart -> position on the page
    wide = traitlets.Unicode("ladder").tag(sync=True)  # the chart that takes a row of its own
    spec = traitlets.Dict({"rev": -1, "figures": {}}).tag(sync=True)
    patch = traitlets.Dict({"rev": -1, "tick": -1, "charts": {}}).tag(sync=True)

    def __init__(self, **kw):
        from .charts import CHARTS
        super().__init__(chart_keys=list(CHARTS), order={k: i for i, k in enumerate(CHARTS)}, **kw)
        self.tick = -1
        self.drawn = -1
        self._charts = None
        self._version = -1
        self._rev = -1
        self.changed = threading.Event()

    def show(self, charts) -> None:
        """Send ``charts``' current state: whole figures when they are new, else only this step's patch
        (nothing when the browser already has it)."""
        if charts is self._charts and charts.version == self._version:
            return
        self.tick += 1
        self._version = charts.version
        with self.hold_sync():
            if charts is not self._charts:
                self._charts, self._rev = charts, self._rev + 1
                self.spec = {"rev": self._rev, "figures": charts.spec()}
            self.patch = {"rev": self._rev, "tick": self.tick, "charts": charts.patch}

    def set_rows(self, rows: list[list[str]]) -> None:
        """Place the charts in ``rows`` (one chart alone on its row takes the full width)."""
        order = {k: i for i, k in enumerate(k for row in rows for k in row)}
        wide = next((row[0] for row in rows if len(row) == 1), "")
        if order != self.order or wide != self.wide:
            with self.hold_sync():
                self.order, self.wide = order, wide

    def vue_rendered(self, data) -> None:
        """Record the step the browser says it has drawn (ignored unless it is a number)."""
        try:
            self.drawn = int(data)
        except (TypeError, ValueError):  # from the browser: only a number means anything
            return
        self.changed.set()

    def wait_drawn(self, tick: int, timeout: float) -> None:
        """Wait until the browser has drawn step ``tick`` (the charts in view), or ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while self.drawn < tick and time.monotonic() < end:
            self.changed.clear()
            self.changed.wait(0.05)
