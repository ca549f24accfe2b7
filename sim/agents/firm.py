"""Firms: the focal firm (index 0) and its competitors (1..K).

Competitors are where defectors go and where win-back campaigns find them; their
attractiveness sets which rival a defector picks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Firm:
    index: int
    name: str
    attractiveness: float

    def customers(self, market) -> np.ndarray:
        """Rows of the customers currently buying from this firm."""
        return np.flatnonzero(market.s.firm == self.index)


def firms_from_config(cfg) -> list[Firm]:
    focal = Firm(0, "Focal firm", 1.0)
    return [focal] + [Firm(i + 1, c.name, c.attractiveness) for i, c in enumerate(cfg.market.competitors)]
