"""Teaching view: a Mesa SolaraViz app over a small market (``python -m sim.viz``).

``sim.viz.model`` has the Mesa model the app builds (no browser dependencies);
``sim/viz/app.py`` is the Solara page.
"""
from .model import SCENARIOS, TeachingMarket, stage_panel_html, strategy_options, teaching_overrides

__all__ = ["SCENARIOS", "TeachingMarket", "stage_panel_html", "strategy_options", "teaching_overrides"]
