"""Budget pacing (Strategy.pacing): "even" spreads a strategy's budget over its actions and raises
its per-action contact cap so the budget is used; the default ("none") leaves behaviour unchanged."""
from __future__ import annotations

import pytest

from sim import metrics
from sim.config import load
from sim.run import simulate

BASE = ["strategy=targeted_acquisition", "market.n_customers=1000", "market.days=364", "engine.progress=false",
        # 13 actions, contacts only
        "strategy.targeted_acquisition.every_days=28", "strategy.targeted_acquisition.offer=0"]


def spend_path(*overrides: str):
    m = simulate(load([*BASE, *overrides]), progress=False)
    ts = metrics.timeseries(m)
    st = m.strategies[0]
    return st, ts["spend_targeted_acquisition"].to_numpy()


def test_even_pacing_raises_a_binding_contact_cap_until_the_budget_is_used():
    cap = ["strategy.targeted_acquisition.budget=1200", "strategy.targeted_acquisition.max_contacts=5"]
    plain, _ = spend_path(*cap)
    paced, _ = spend_path(*cap, "strategy.targeted_acquisition.pacing=even")
    assert plain.ledger.spent / 100 == pytest.approx(13 * 5 * 4.0)   # 5 call-centre contacts a month at 4.00
    assert paced.ledger.spent / 100 == pytest.approx(1200, rel=0.02)  # the cap rose to what the budget buys


def test_even_pacing_spreads_the_budget_instead_of_spending_it_first():
    budget = ["strategy.targeted_acquisition.budget=400", "strategy.targeted_acquisition.max_contacts=null"]
    _, plain = spend_path(*budget)
    st, paced = spend_path(*budget, "strategy.targeted_acquisition.pacing=even")
    assert plain[1] == pytest.approx(400)                      # unpaced: all spent in the first action
    first_action = paced[1]
    assert first_action <= 400 / 13 + 4.0                      # one action: a 13th of it (whole contacts)
    assert paced[len(paced) // 2] < 0.7 * 400                  # half-way, well short of all
    assert st.ledger.spent / 100 == pytest.approx(400, abs=4.0)  # and by the end all of it
