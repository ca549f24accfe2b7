"""Calibrate a market from a firm's own transaction log, and prove it on held-out time.

``python -m sim.calibrate LOG --out DIR [--holdout-start DATE]``: reads and checks the log
(:mod:`.log`), fits purchasing and dropout (BG/NBD or Pareto/NBD), spend (Gamma-Gamma) and
arrivals (Bass, constant or a closed cohort) (:mod:`.fit`), places every customer on the
ladder (:mod:`.ladder`), writes the starting population and a market config ``python -m sim``
selects (:mod:`.population`), and with a holdout simulates the held-out time with the engine
(:mod:`.holdout`); :mod:`.report` draws ``calibration.html``.
"""
from .pipeline import CalibrationError, Options, calibrate

__all__ = ["CalibrationError", "Options", "calibrate"]
