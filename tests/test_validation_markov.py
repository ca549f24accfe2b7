"""Markov-chain customer migration (Pfeifer & Carraway 2000): simulated mean CLV matches
sum_t (1+d)^-t P^t R.

Set-up: ladder=recency5 market=markov strategy=markov_migration (P&C's recency example:
purchase probabilities 0.30/0.20/0.15/0.05/0 by recency, margin 40, contact cost 4), periods
of 30 days, 25 periods booked, annual discount 10 % (the market's discount(t)).
"""
import numpy as np
import pytest

import sim
from sim.validation.markov import (MarkovMigration, clv_closed_form, clv_variance, period_rate,
                                   recency_chain, state_distribution)

BASE = ["ladder=recency5", "market=markov", "strategy=markov_migration", "engine.progress=false",
        "paired_control=false"]
T = 24  # periods 0..24 are booked in 750 days (acts at t = 0, 30, ..., 720)


def test_closed_form_against_value_iteration_and_infinite_horizon():
    P, R = recency_chain([0.3, 0.2, 0.15, 0.05, 0.0], 40.0, 4.0)
    assert np.allclose(P.sum(axis=1), 1) and R.tolist() == [36, -4, -4, -4, 0]
    d = 0.2
    # backward induction, written independently of the sum formula
    V = R.copy()
    for _ in range(T):
        V = R + P @ V / (1 + d)
    assert np.allclose(clv_closed_form(P, R, d, T), V)
    # Pfeifer & Carraway's infinite-horizon value; the finite sum converges to it
    Vinf = clv_closed_form(P, R, d)
    assert np.allclose(Vinf, R + P @ Vinf / (1 + d))
    assert np.allclose(clv_closed_form(P, R, d, 400), Vinf)
    # variance recursion: a deterministic chain has zero variance; a random one does not
    assert np.allclose(clv_variance(np.eye(2), [1.0, 2.0], d, 5), 0)
    assert clv_variance(P, R, d, T)[0] > 0


def test_mechanism_rejects_bad_matrices():
    with pytest.raises(ValueError, match="row-stochastic"):
        MarkovMigration(states=["a", "b"], P=[[0.5, 0.4], [0, 1]], R=[1, 0])
    with pytest.raises(ValueError, match="one margin per state"):
        MarkovMigration(states=["a", "b"], P=[[0.5, 0.5], [0, 1]], R=[1])
    with pytest.raises(ValueError, match="multiple of engine.dt"):
        sim.build(sim.load([*BASE, "market.n_customers=50", "engine.dt=7"]))


@pytest.fixture(scope="module")
def run():
    cfg = sim.load([*BASE, "market.n_customers=8000",
                    "market.initial_stages.recency_1=0.5",
                    "+market.initial_stages.recency_3=0.5"])
    m = sim.build(cfg)
    start = m.s.stage.copy()
    m.run(progress=False)
    return cfg, m, start


def test_simulated_mean_clv_matches_closed_form(run):
    cfg, m, start = run
    st = m.strategies[0]
    assert st.report()["actions"] == T + 1
    d = period_rate(cfg.economics.annual_discount_rate, st.every_days)
    V = clv_closed_form(st.P, st.R, d, T)
    sd = np.sqrt(clv_variance(st.P, st.R, d, T))
    for state in ("recency_1", "recency_3"):
        i = st.states.index(state)
        rows = start == m.stage_names.index(state)
        n = rows.sum()
        mean = m.s.clv[rows].mean()
        # Tolerance: 4 standard errors of the mean, with the *exact* per-customer sd of the
        # discounted value from clv_variance (about 52 for recency_1, so SE ~ 0.8 at n = 4000,
        # i.e. ~1.3 % of V = 63.5); 4 SE keeps a false alarm below 1 in 15,000. It still
        # catches a wrong discount convention (annual d applied per 30-day period: V = 56.7,
        # asserted below) or a wrong matrix.
        z = (mean - V[i]) / (sd[i] / np.sqrt(n))
        assert abs(z) < 4, f"{state}: simulated {mean:.3f} vs closed form {V[i]:.3f} (z = {z:.2f})"
    wrong = clv_closed_form(st.P, st.R, cfg.economics.annual_discount_rate, T)[0]
    rows = start == m.stage_names.index("recency_1")
    assert abs(m.s.clv[rows].mean() - wrong) > 4 * sd[0] / np.sqrt(rows.sum())
    # money stays consistent: per-customer margins add up to the market total
    assert m.s.margin.sum() == m.totals["margin"]


def test_state_distribution_matches_chain(run):
    cfg, m, start = run
    st = m.strategies[0]
    x0 = np.array([0.5, 0, 0.5, 0, 0])
    expect = state_distribution(st.P, x0, T + 1)  # each booked period is followed by a move
    got = np.array([(m.s.stage == m.stage_names.index(s)).mean() for s in st.states])
    se = np.sqrt(expect * (1 - expect) / m.n) + 1e-12
    # binomial 4.5-sigma band per state (5 states; nearly all mass is absorbed in `inactive`)
    assert np.all(np.abs(got - expect) <= 4.5 * se + 1.0 / m.n), (got, expect)
    # migration never leaves the chain's states (no defections, no lost customers)
    assert (m.s.stage == m.stage_names.index("lost")).sum() == 0
