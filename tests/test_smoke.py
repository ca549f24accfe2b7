import numpy as np

import sim


def test_small_market_runs_and_conserves_population(small_cfg):
    m = sim.simulate(small_cfg(), progress=False)
    counts = m.datacollector.get_model_vars_dataframe()
    stage_cols = [c for c in counts.columns if c.startswith("stage_")]
    assert (counts[stage_cols].sum(axis=1) == m.n).all()
    assert m.s.revenue.sum() == m.totals["revenue"]
    assert np.all(np.isin(m.s.stage, np.arange(m.n_stages)))
