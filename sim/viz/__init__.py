"""Teaching view: a Solara page over a pair of small markets per browser session (``python -m sim.viz``).

``sim.viz.model`` has the markets and the checks on browser input, ``sim.viz.charts`` the plotly
charts and a session's state, ``sim.viz.lessons`` and ``sim.viz.texts`` the lessons and words
(English and Persian); none needs a browser. ``sim/viz/app.py`` is the Solara page and
``sim.viz.chartview`` the widget that draws the charts in it.
"""
from .model import (SCENARIOS, TEACHING_STRATEGIES, InputError, Pair, Settings, TeachingMarket, stage_panel_html,
                    strategy_options, teaching_overrides)

__all__ = ["SCENARIOS", "TEACHING_STRATEGIES", "InputError", "Pair", "Settings", "TeachingMarket",
           "stage_panel_html", "strategy_options", "teaching_overrides"]
