"""Shared fixtures: small, fast markets composed from the real Hydra configs."""
from __future__ import annotations

import pytest

import sim


def small_overrides(n: int = 600, days: int = 180, *extra: str) -> list[str]:
    return [f"market.n_customers={n}", f"market.days={days}", "engine.progress=false", *extra]


@pytest.fixture
def small_cfg():
    def make(*extra: str, n: int = 600, days: int = 180, config_name: str = "config"):
        return sim.load(small_overrides(n, days, *extra), config_name=config_name)
    return make
