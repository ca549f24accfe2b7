"""The firm's books: exact cents, no silent overflow, churn measured from event times."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import metrics
from sim.books import MAX_CENTS, Books, BooksOverflow, to_cents
from sim.state import CustomerState


def test_money_that_does_not_fit_exact_cents_is_an_error_not_a_wrap():
    with pytest.raises(BooksOverflow):
        to_cents(np.array([np.inf]))
    with pytest.raises(BooksOverflow):
        to_cents(np.array([1e17]))
    s = CustomerState(2)
    b = Books(s, 0.1, 0.35)
    rows = np.array([0, 1])
    b.sale(rows, np.zeros(2), np.array([MAX_CENTS // 2, 5]), np.zeros(2, np.int64), np.zeros(2, np.int16))
    with pytest.raises(BooksOverflow):  # a customer's running revenue would pass the limit
        b.sale(rows[:1], np.zeros(1), np.array([MAX_CENTS // 2 + 10]), np.zeros(1, np.int64), np.zeros(1, np.int16))
    assert s.revenue[0] == MAX_CENTS // 2 and b.totals["revenue"] == MAX_CENTS // 2 + 5


def test_an_absurd_basket_stops_the_run_instead_of_wrapping():
    m = sim.build(sim.load(["market.n_customers=300", "market.days=60", "strategy=none", "engine.progress=false"]))
    m.s.spend[:] = 1e17  # far beyond what exact integer cents can hold
    with pytest.raises(BooksOverflow):
        m.run(progress=False)


def test_annual_churn_does_not_depend_on_how_often_the_run_reports():
    base = ["market.n_customers=800", "market.days=365", "strategy=none", "engine.progress=false"]
    rates = [metrics.summary(sim.simulate(sim.load(base + [f"engine.report_every={r}"]), progress=False))
             ["churn_rate_annual"] for r in (1, 7, 30, 91)]
    assert rates[0] > 0 and all(r == rates[0] for r in rates), rates


def test_annual_churn_is_defections_per_customer_year_at_risk():
    m = sim.simulate(sim.load(["market.n_customers=600", "market.days=200", "strategy=none",
                               "engine.progress=false", "engine.report_every=1"]), progress=False)
    ts = metrics.timeseries(m)
    # a fine report grid integrates the customer count: customer-days at risk
    days_at_risk = float(np.trapezoid(ts["customers_focal"], ts["t"]))
    expected = m.defections / (days_at_risk / 365.0)
    assert metrics.churn_rate_annual(m) == pytest.approx(expected, rel=0.03)
