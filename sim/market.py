"""The market: a Mesa model whose clock is a SimPy environment.

Customer events (exposure, conversion, purchase + service encounter, defection, win-back)
happen in continuous time: every customer carries the absolute time of its next purchase
(``t_buy``) and of its next stage event (``t_move``); suspects carry a threshold on the
market's cumulative exposure hazard (Bass: p + q·F). A SimPy process walks the calendar in
processing windows of ``engine.dt`` days and handles every event that falls due inside a
window at its own exact time. Nothing in the rules refers to the window: ``dt`` only sets how
often word of mouth and strategies see the state (see README, "Engine").

The same rule kernels run in two ways:

* ``engine.mode=batched`` — all due customers of a window in one vectorised call;
* ``engine.mode=agents`` — every Mesa ``Customer`` agent steps itself through
  ``model.agents.shuffle_do("step", ...)``, calling the kernels on its own row.

Random numbers come from :mod:`sim.rng` (keyed by customer and touch counter), so both ways
and the paired control consume identical numbers for identical histories.
"""
from __future__ import annotations

import heapq
import itertools
import math
from typing import Callable

import mesa
import numpy as np
import simpy

from . import rng as R
from .config import SimConfig
from .state import CAUSE, FOCAL, CustomerState

ROLE_CODES = {"pool": 0, "lead": 1, "customer": 2, "lost": 3}


class BudgetLedger:
    """Money a strategy may spend (cents). Never goes below zero."""

    def __init__(self, cents: int):
        self.budget = int(cents)
        self.spent = 0

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    def affordable(self, unit_cents: int, wanted: int) -> int:
        if unit_cents <= 0:
            return wanted
        return int(min(wanted, self.remaining // unit_cents))

    def charge(self, cents: int) -> None:
        if cents > self.remaining:
            raise RuntimeError(f"overspend: {cents} > remaining {self.remaining}")
        self.spent += int(cents)


class Market(mesa.Model):
    """Customer lifecycle market. ``strategies`` are built objects (see ``sim.strategies``)."""

    def __init__(self, cfg: SimConfig, strategies: list | None = None, *, mode: str | None = None,
                 materialize: bool | None = None):
        self.cfg = cfg
        self.seed_seq = np.random.SeedSequence(cfg.seed, spawn_key=(cfg.replication,))
        init_ss, key_ss, model_ss = self.seed_seq.spawn(3)
        super().__init__(rng=np.random.default_rng(model_ss))
        self.key = int(key_ss.generate_state(1, np.uint64)[0])
        self.crng = R.CounterRNG(self.key)
        self.mode = mode or cfg.engine.mode
        self.n = cfg.market.n_customers
        self.days = float(cfg.market.days)
        self.env = simpy.Environment()
        self._build_ladder()
        self._build_channels()
        from .agents.firm import firms_from_config
        self.firms = firms_from_config(cfg)
        self.competitor_weights = np.array([c.attractiveness for c in cfg.market.competitors], float)
        self.competitor_weights /= self.competitor_weights.sum()
        # market-level accumulators
        self.H = 0.0                 # cumulative exposure hazard
        self.ad_pressure = 0.0       # extra exposure hazard per day from advertising (strategies)
        self.wom_boost = 1.0         # multiplier on word of mouth (referral programme)
        self.quality_shift = 0.0     # additive shift of service quality (e.g. a service shock)
        self.totals = {k: 0 for k in ("revenue", "margin", "service_cost", "contact_cost", "other_spend")}
        self.flows = np.zeros((self.n_stages, self.n_stages), dtype=np.int64)
        self.defections = 0
        self.acquisitions = 0
        self._txn: list[tuple[np.ndarray, ...]] = []
        self._hooks: dict[str, list[Callable]] = {k: [] for k in (
            "exposure", "acquisition", "purchase", "bad_service", "defection")}
        self._calendar: list = []
        self._cal_seq = itertools.count()
        self.s = CustomerState(self.n)
        self._init_population(np.random.default_rng(init_ss))
        self.strategies = list(strategies or [])
        for i, st in enumerate(self.strategies):
            try:
                st.bind(self, i)
            except ValueError as e:  # a plug-in that does not fit this market: a config error
                from .config import ConfigError
                raise ConfigError(f"invalid configuration:\n  strategy.{st.name}: {e}") from None
        # Mesa agent views: needed for the per-agent path and the teaching view
        want = materialize if materialize is not None else (self.mode == "agents" or self.n <= cfg.engine.agents_max)
        self.customer_agents = None
        if want:
            from .agents.customer import Customer
            self.customer_agents = Customer.create_agents(self, self.n, row=np.arange(self.n))
        from .metrics import make_datacollector
        self.datacollector = make_datacollector(self)
        self._report_times: list[float] = []
        self._flow_rows: list[tuple[float, np.ndarray]] = []
        self._progress = None
        self._proc = None
        self.finished = False

    # ------------------------------------------------------------------ set-up
    def _build_ladder(self) -> None:
        lad = self.cfg.ladder
        self.stage_names = [s.name for s in lad.stages]
        self.n_stages = len(self.stage_names)
        self.role = np.array([ROLE_CODES[s.role] for s in lad.stages], dtype=np.int8)
        self.lost_stage = int(np.flatnonzero(self.role == 3)[0])
        kind = self.cfg.market.purchase.kind
        ladder_mode = kind == "ladder"
        self.st_rate = np.array([s.purchase_rate if ladder_mode else 1.0 for s in lad.stages])
        self.st_spend = np.array([s.spend if ladder_mode else 1.0 for s in lad.stages])
        self.st_svc = np.array([round(s.service_cost * 100) for s in lad.stages], dtype=np.int64)
        self.st_defect = np.array([s.defection for s in lad.stages])
        self.st_wom = np.array([s.word_of_mouth for s in lad.stages])
        self.transitions: dict[str, list] = {k: [] for k in (
            "exposure", "conversion", "purchase", "bad_service", "defection", "winback")}
        for t in lad.transitions:
            from_mask = np.zeros(self.n_stages, bool)
            from_mask[[self.stage_names.index(f) for f in t.from_]] = True
            self.transitions[t.event].append((from_mask, self.stage_names.index(t.to), t))

    def _build_channels(self) -> None:
        ch = self.cfg.channels
        self.channel_names = list(ch)
        self.channel_cost = np.array([round(c.cost * 100) for c in ch.values()], dtype=np.int64)
        self.channel_response = np.array([c.response for c in ch.values()])
        pref = np.array([c.preference for c in ch.values()])
        self.channel_pref_share = pref / pref.sum()

    def _init_population(self, g: np.random.Generator) -> None:
        cfg, s, n = self.cfg, self.s, self.n
        shares = np.array([cfg.market.initial_stages.get(nm, 0.0) for nm in self.stage_names])
        counts = np.floor(shares * n).astype(np.int64)
        rest = n - counts.sum()
        order = np.argsort(-(shares * n - counts), kind="stable")
        counts[order[:rest]] += 1
        s.stage[:] = g.permutation(np.repeat(np.arange(self.n_stages, dtype=np.int16), counts))
        m = cfg.market
        sig = m.spend_sigma
        s.spend[:] = g.lognormal(math.log(m.mean_spend) - sig * sig / 2, sig, n) if sig > 0 else m.mean_spend
        pp = m.purchase
        s.rate[:] = g.gamma(pp.r, 1.0 / pp.alpha, n)
        s.lifetime_rate[:] = g.gamma(pp.s, 1.0 / pp.beta, n)
        s.dropout[:] = g.beta(pp.a, pp.b, n)
        s.channel[:] = g.choice(len(self.channel_names), size=n, p=self.channel_pref_share)
        conc = 20.0
        for k, st in enumerate(cfg.ladder.stages):
            rows = np.flatnonzero(s.stage == k)
            if rows.size == 0:
                continue
            for attr in ("satisfaction", "trust", "attitude", "patronage"):
                mu = getattr(st.init, attr)
                if 0 < mu < 1:
                    getattr(s, attr)[rows] = g.beta(mu * conc, (1 - mu) * conc, rows.size)
                else:
                    getattr(s, attr)[rows] = mu
            s.n_purchases[rows] = st.init.purchases
            if st.role in ("customer", "lost"):
                s.acquired_at[rows] = -g.uniform(30, 720, rows.size)
                s.acquired_via[rows] = CAUSE["initial"]
                s.last_purchase_at[rows] = -g.uniform(0, 60, rows.size)
                s.n_purchases[rows] = np.maximum(s.n_purchases[rows], 1)
            if st.role == "lost":
                s.churned_at[rows] = -g.uniform(0, 365, rows.size)
                s.first_churn_at[rows] = s.churned_at[rows]
                s.firm[rows] = 1 + g.choice(len(self.competitor_weights), rows.size, p=self.competitor_weights)
            elif st.role == "customer":
                s.firm[rows] = FOCAL
            else:
                s.firm[rows] = -1
        rows = np.arange(n)
        self._set_clocks(rows, 0.0)

    # ------------------------------------------------------------------ rates & clocks
    def stage_of(self, rows: np.ndarray) -> np.ndarray:
        return self.s.stage[rows]

    def purchase_rate(self, rows: np.ndarray) -> np.ndarray:
        s = self.s
        r = s.rate[rows] * self.st_rate[s.stage[rows]] * s.rate_boost[rows]
        return np.where(self.role[s.stage[rows]] == 2, r, 0.0)

    def move_rate(self, rows: np.ndarray) -> np.ndarray:
        """Hazard of the next stage event: conversion (lead), defection (customer), return (lost)."""
        s, m = self.s, self.cfg.market
        role = self.role[s.stage[rows]]
        kind = m.purchase.kind
        if kind == "ladder":
            d = (m.defection * self.st_defect[s.stage[rows]]
                 * np.exp(m.defection_sensitivity * (m.reference_satisfaction - s.satisfaction[rows]))
                 * (1.0 - s.switching_cost[rows]))
        elif kind == "pareto_nbd":
            d = s.lifetime_rate[rows]
        else:  # bgnbd: dropout happens at purchases, never in between
            d = np.zeros(rows.size)
        out = np.zeros(rows.size)
        out[role == 1] = m.conversion
        out[role == 2] = d[role == 2]
        out[role == 3] = m.natural_return
        return out

    def _set_clocks(self, rows: np.ndarray, t) -> None:
        """Recompute both clocks of ``rows`` at time(s) ``t``.

        A running clock whose rate changed keeps its remaining cumulative hazard (exact for
        exponential waiting times). A clock that is off (rate 0) draws a new waiting time:
        event handlers switch off the clock they consume before calling this.
        """
        if rows.size == 0:
            return
        s = self.s
        t = np.broadcast_to(np.asarray(t, float), rows.shape)
        ev = s.ev[rows]
        for clock, rate_arr, new_rate, stream in (
                (s.t_buy, s.r_buy, self.purchase_rate(rows), R.PURCHASE_CLOCK),
                (s.t_move, s.r_move, self.move_rate(rows), R.MOVE_CLOCK)):
            old = rate_arr[rows]
            cur = clock[rows]
            keep = (old > 0) & np.isfinite(cur) & (new_rate > 0)
            out = np.full(rows.size, np.inf)
            out[keep] = t[keep] + (cur[keep] - t[keep]) * (old[keep] / new_rate[keep])
            draw = (~keep) & (new_rate > 0)
            if draw.any():
                e = self.crng.exponential(stream, rows[draw], ev[draw])
                out[draw] = t[draw] + e / new_rate[draw]
            clock[rows] = out
            rate_arr[rows] = new_rate
        # exposure threshold for pool stages (cumulative-hazard units)
        pool = self.role[s.stage[rows]] == 0
        need = pool & ~np.isfinite(s.h_expose[rows])
        if need.any():
            r = rows[need]
            e = self.crng.exponential(R.EXPOSURE, r, s.ev[r])
            s.h_expose[r] = self.H + e / np.maximum(s.susceptibility[r], 1e-12)
        s.h_expose[rows[~pool]] = np.inf

    def refresh(self, rows: np.ndarray, t: float) -> None:
        """Public: call after changing a customer's attributes (strategies do)."""
        self._set_clocks(np.asarray(rows, dtype=np.int64), t)

    def touch(self, rows: np.ndarray) -> np.ndarray:
        """Advance the touch counter; return the counter values to key this touch's draws."""
        self.s.ev[rows] += np.uint64(1)
        return self.s.ev[rows]

    # ------------------------------------------------------------------ discounting
    def discount(self, t) -> np.ndarray:
        d = self.cfg.economics.annual_discount_rate
        return np.power(1.0 + d, -np.maximum(np.asarray(t, float), 0.0) / 365.0)

    # ------------------------------------------------------------------ rule kernels
    def wom_share(self) -> float:
        counts = np.bincount(self.s.stage, minlength=self.n_stages)
        focal = counts.astype(float)
        return float((self.st_wom * focal).sum() / self.n) * self.wom_boost

    def exposure_hazard(self) -> tuple[float, float, float]:
        m = self.cfg.market
        return m.innovation, self.ad_pressure, m.imitation * self.wom_share()

    def _move(self, rows: np.ndarray, to, t: np.ndarray, cause: str | None = None) -> None:
        """Move ``rows`` to stage(s) ``to`` at times ``t``; run entry effects."""
        if rows.size == 0:
            return
        s = self.s
        to = np.broadcast_to(np.asarray(to, dtype=np.int16), rows.shape)
        frm = s.stage[rows]
        np.add.at(self.flows, (frm, to), 1)
        s.stage[rows] = to
        s.t_move[rows] = np.inf  # a new stage runs a new hazard process
        s.r_move[rows] = 0.0
        role_to, role_from = self.role[to], self.role[frm]
        # entering lost: defect to a competitor
        lost = role_to == 3
        if lost.any():
            r, tl = rows[lost], t[lost]
            u = self.crng.uniform(R.COMPETITOR, r, s.ev[r])
            s.firm[r] = 1 + np.searchsorted(np.cumsum(self.competitor_weights), u * 0.999999999)
            s.churned_at[r] = tl
            s.first_churn_at[r] = np.where(np.isnan(s.first_churn_at[r]), tl, s.first_churn_at[r])
            s.complaint_open[r] = False
            self.defections += int(r.size)
            for h in self._hooks["defection"]:
                h(r, tl)
        s.firm[rows[role_to == 1]] = -1
        # entering a customer stage from outside: acquisition or win-back, with a purchase
        enter = (role_to == 2) & (role_from != 2)
        if enter.any():
            r, te = rows[enter], t[enter]
            s.firm[r] = FOCAL
            new = np.isnan(s.acquired_at[r])
            if new.any():
                rn = r[new]
                s.acquired_at[rn] = te[new]
                if cause is not None:
                    s.acquired_via[rn] = CAUSE[cause]
                s.clv[rn] -= s.pending_acq_cost[rn]
                s.pending_acq_cost[rn] = 0.0
                self.acquisitions += int(rn.size)
                for h in self._hooks["acquisition"]:
                    h(rn, te[new])
            self._purchase(r, te, evaluate_transitions=False)
        self._set_clocks(rows, t)

    def _apply_transitions(self, rows: np.ndarray, t: np.ndarray, on: str, cause: str | None = None) -> np.ndarray:
        """First matching transition of kind ``on`` for each row; returns the rows that moved."""
        if rows.size == 0:
            return rows
        s = self.s
        u = self.crng.uniform(R.TRANSITION, rows, s.ev[rows])
        pending = np.ones(rows.size, bool)
        moved = np.zeros(rows.size, bool)
        for from_mask, to, tr in self.transitions[on]:
            ok = pending & from_mask[s.stage[rows]]
            if not ok.any():
                continue
            if tr.min_purchases:
                ok &= s.n_purchases[rows] >= tr.min_purchases
            if tr.min_satisfaction > 0 or tr.max_satisfaction < 1:
                sat = s.satisfaction[rows]
                ok &= (sat >= tr.min_satisfaction) & (sat <= tr.max_satisfaction)
            if tr.min_trust > 0:
                ok &= s.trust[rows] >= tr.min_trust
            if tr.min_attitude > 0:
                ok &= s.attitude[rows] >= tr.min_attitude
            fire = ok & (u < tr.p)
            pending &= ~ok  # a customer is judged by the first transition it qualifies for
            if fire.any():
                self._move(rows[fire], to, t[fire], cause)
                moved |= fire
        return rows[moved]

    def _purchase(self, rows: np.ndarray, t: np.ndarray, evaluate_transitions: bool = True,
                  basket: float | np.ndarray = 1.0) -> None:
        """One purchase and its service encounter for every row, at times ``t``."""
        if rows.size == 0:
            return
        s, cfg = self.s, self.cfg
        sv = cfg.service
        c = self.touch(rows)
        s.t_buy[rows] = np.inf  # this purchase consumes the purchase clock
        s.r_buy[rows] = 0.0
        st = s.stage[rows]
        sig = cfg.market.basket_noise
        z = self.crng.normal(R.AMOUNT, rows, c)
        amount = s.spend[rows] * self.st_spend[st] * s.upsell[rows] * basket * np.exp(sig * z - sig * sig / 2)
        cents = np.maximum(np.rint(amount * 100).astype(np.int64), 1)
        marg = np.rint(cents * cfg.economics.margin).astype(np.int64)
        svc = self.st_svc[st]
        s.revenue[rows] += cents
        s.margin[rows] += marg
        s.service_cost[rows] += svc
        s.clv[rows] += self.discount(t) * (marg - svc) / 100.0
        self.totals["revenue"] += int(cents.sum())
        self.totals["margin"] += int(marg.sum())
        self.totals["service_cost"] += int(svc.sum())
        self._txn.append((rows.astype(np.int64), np.asarray(t, float).copy(), cents, s.channel[rows].copy()))
        # service encounter
        q = np.clip(sv.quality + self.quality_shift + s.service_boost[rows] + sv.quality_sd * self.crng.normal(R.QUALITY, rows, c), 0, 1)
        sat = s.satisfaction[rows]
        sat = sat + sv.satisfaction_learning * (q - sat)
        bad = q < sv.bad_threshold
        complain = bad & (self.crng.uniform(R.COMPLAINT, rows, c) < sv.complaint_prob)
        sat = np.where(complain, sat - sv.complaint_penalty, sat)
        s.satisfaction[rows] = np.clip(sat, 0, 1)
        s.complaint_open[rows] = s.complaint_open[rows] | complain
        s.trust[rows] = np.clip(s.trust[rows] + sv.trust_learning * (q - 0.5), 0, 1)
        target = 0.5 * s.satisfaction[rows] + 0.5 * s.trust[rows]
        s.attitude[rows] += sv.attitude_learning * (target - s.attitude[rows])
        last = s.last_purchase_at[rows]
        decay = np.where(np.isnan(last), 0.0, np.exp(-(t - np.nan_to_num(last)) / sv.patronage_memory_days))
        pat = s.patronage[rows] * decay
        s.patronage[rows] = pat + sv.patronage_gain * (1 - pat)
        s.last_purchase_at[rows] = t
        s.n_purchases[rows] += 1
        for h in self._hooks["purchase"]:
            h(rows, t)
        if bad.any():
            for h in self._hooks["bad_service"]:  # e.g. service recovery closes complaints
                h(rows[complain], t[complain])
            # a bad experience that is still unresolved (or was never voiced) can send a customer down
            hurt = bad & (s.complaint_open[rows] | ~complain)
        else:
            hurt = bad
        moved = np.zeros(rows.size, bool)
        if evaluate_transitions:
            if hurt.any():
                down = self._apply_transitions(rows[hurt], t[hurt], "bad_service")
                moved[np.isin(rows, down)] = True
            rest = ~moved
            if rest.any():
                up = self._apply_transitions(rows[rest], t[rest], "purchase")
                moved[np.isin(rows, up)] = True
        if cfg.market.purchase.kind == "bgnbd" and evaluate_transitions:
            # BG/NBD (Fader, Hardie & Lee 2005): a customer may drop out after each *repeat*
            # purchase; the first purchase that makes (or re-makes) a customer starts the
            # process alive, so the entry purchase (evaluate_transitions=False) is exempt.
            alive = self.role[s.stage[rows]] == 2
            drop = alive & (self.crng.uniform(R.DROPOUT, rows, c) < s.dropout[rows])
            if drop.any():
                self._move(rows[drop], self.lost_stage, t[drop])
                moved |= drop
        # the purchase clock was consumed: a fresh one; the hazard clock keeps its remaining hazard
        self._set_clocks(rows[~moved], t[~moved])

    def _stage_event(self, rows: np.ndarray, t: np.ndarray) -> None:
        """The stage-hazard clock fired: conversion, defection or natural return."""
        s = self.s
        self.touch(rows)
        s.t_move[rows] = np.inf  # the clock fired: its remaining hazard is spent
        s.r_move[rows] = 0.0
        role = self.role[s.stage[rows]]
        for code, on, cause in ((1, "conversion", None), (2, "defection", None), (3, "winback", "winback")):
            m = role == code
            if m.any():
                moved = self._apply_transitions(rows[m], t[m], on, cause)
                stay = ~np.isin(rows[m], moved)
                if stay.any():  # clock fired but no transition applied (p < 1): draw the next one
                    self._set_clocks(rows[m][stay], t[m][stay])

    def _expose(self, rows: np.ndarray, t: np.ndarray, parts: tuple[float, float, float]) -> None:
        s = self.s
        c = self.touch(rows)
        organic, ads, wom = parts
        total = organic + ads + wom
        u = self.crng.uniform(R.CAUSE, rows, c) * total
        causes = np.where(u < organic, CAUSE["organic"], np.where(u < organic + ads, CAUSE["advertising"],
                                                                   CAUSE["word_of_mouth"]))
        s.acquired_via[rows] = causes
        s.h_expose[rows] = np.inf
        for h in self._hooks["exposure"]:
            h(rows, t)
        moved = self._apply_transitions(rows, t, "exposure")
        stay = ~np.isin(rows, moved)
        if stay.any():  # exposure without a move (p < 1): wait for the next one
            self._set_clocks(rows[stay], t[stay])

    def process_rows(self, rows: np.ndarray, t0: float, t1: float, H0: float, H1: float,
                     parts: tuple[float, float, float]) -> int:
        """Handle every event of ``rows`` inside [t0, t1). Shared by both paths. Returns events."""
        s = self.s
        n_ev = 0
        hrate = (H1 - H0) / (t1 - t0) if t1 > t0 else 0.0
        exp = rows[s.h_expose[rows] <= H1]
        if exp.size:
            te = t0 + (s.h_expose[exp] - H0) / hrate if hrate > 0 else np.full(exp.size, t0)
            self._expose(exp, np.clip(te, t0, t1), parts)
            n_ev += exp.size
        cand = rows[(s.t_buy[rows] < t1) | (s.t_move[rows] < t1)]
        guard = 0
        while cand.size:
            tb, tm = s.t_buy[cand], s.t_move[cand]
            first_move = tm <= tb
            mv = cand[first_move & (tm < t1)]
            if mv.size:
                self._stage_event(mv, s.t_move[mv])
            pb = cand[~first_move & (tb < t1)]
            if pb.size:
                self._purchase(pb, s.t_buy[pb].copy())
            n_ev += mv.size + pb.size
            cand = cand[(s.t_buy[cand] < t1) | (s.t_move[cand] < t1)]
            guard += 1
            if guard > 100_000:
                raise RuntimeError("event loop did not settle inside a window; a rate is absurdly high")
        return n_ev

    # ------------------------------------------------------------------ SimPy calendar
    def at(self, t: float, priority: int = 1) -> simpy.Event:
        """An event that fires at the first window boundary >= t, after that window's events.

        Lower ``priority`` fires first among events due at one boundary (reporting uses 0,
        strategies 1), so reports see the state before strategies act on it. At the horizon end
        only the final report fires: events of priority > 0 due there never fire, so nothing
        acts or spends after the final report.
        """
        ev = self.env.event()
        heapq.heappush(self._calendar, (float(t), priority, next(self._cal_seq), ev))
        return ev

    def _fire_calendar(self, now: float) -> None:
        horizon_end = now >= self.days - 1e-9
        while self._calendar and self._calendar[0][0] <= now + 1e-9:
            _, priority, _, ev = heapq.heappop(self._calendar)
            if horizon_end and priority > 0:
                continue  # dropped: the run is over once the final report is taken
            ev.succeed(now)

    def _windows(self):
        dt = self.cfg.engine.dt
        t = 0.0
        self._fire_calendar(0.0)
        yield self.env.timeout(0)
        while t < self.days - 1e-9:
            t1 = min(t + dt, self.days)
            yield self.env.timeout(t1 - t)
            self.advance(t, t1)
            t = t1
            if self._progress is not None:
                self._progress.update(t1 - self._progress.n)
            self._fire_calendar(t)
            yield self.env.timeout(0)
        self.finished = True

    def advance(self, t0: float, t1: float) -> int:
        parts = self.exposure_hazard()
        H0 = self.H
        H1 = H0 + sum(parts) * (t1 - t0)
        if self.mode == "agents":
            self._window = (t0, t1, H0, H1, parts)
            self._window_events = 0
            self.agents.shuffle_do("step")
            n_ev = self._window_events
        else:
            s = self.s
            due = np.flatnonzero((s.h_expose <= H1) | (s.t_buy < t1) | (s.t_move < t1))
            n_ev = self.process_rows(due, t0, t1, H0, H1, parts)
        self.H = H1
        self.time = t1
        return n_ev

    def _reporter(self):
        every = self.cfg.engine.report_every
        t = 0.0
        while True:
            yield self.at(t, priority=0)
            self.collect(self.env.now)
            if t >= self.days - 1e-9:
                return
            t = min(t + every, self.days)

    def collect(self, now: float) -> None:
        self._report_times.append(float(now))
        self._flow_rows.append((float(now), self.flows.copy()))
        self.datacollector.collect(self)

    def step(self) -> None:  # Mesa API: one processing window
        t0 = self.env.now
        self.env.run(until=min(t0 + self.cfg.engine.dt, self.days) + 1e-9)

    def start(self) -> None:
        if self._proc is None:
            self.env.process(self._reporter())
            for st in self.strategies:
                self.env.process(st.process(self))
            self._proc = self.env.process(self._windows())

    def run(self, progress: bool | None = None, desc: str = "simulating") -> "Market":
        self.start()
        show = self.cfg.engine.progress if progress is None else progress
        if show:
            from tqdm.auto import tqdm
            self._progress = tqdm(total=self.days, unit="day", desc=desc, leave=False, disable=None,
                                  bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} days [{elapsed}<{remaining}]")
        try:
            self.env.run(until=self._proc)
            self.env.run(until=self.env.now + 1e-6)  # let final boundary listeners (last report) run
        finally:
            if self._progress is not None:
                self._progress.close()
                self._progress = None
        return self

    # ------------------------------------------------------------------ hooks for strategies
    def on(self, event: str, fn: Callable) -> None:
        if event not in self._hooks:
            raise ValueError(f"unknown hook {event!r}; hooks are {sorted(self._hooks)}")
        self._hooks[event].append(fn)

    # ------------------------------------------------------------------ derived views
    @property
    def now(self) -> float:
        return float(self.env.now)

    def stage_counts(self) -> np.ndarray:
        return np.bincount(self.s.stage, minlength=self.n_stages)

    def current_patronage(self, rows=None, t=None) -> np.ndarray:
        s = self.s
        rows = np.arange(self.n) if rows is None else rows
        t = self.now if t is None else t
        last = s.last_purchase_at[rows]
        return np.where(np.isnan(last), 0.0,
                        s.patronage[rows] * np.exp(-(t - np.nan_to_num(last)) / self.cfg.service.patronage_memory_days))

    def loyalty_quadrant(self, rows=None) -> np.ndarray:
        """Dick & Basu (1994): 0 no loyalty, 1 latent, 2 spurious, 3 true loyalty."""
        rows = np.arange(self.n) if rows is None else rows
        att = self.s.attitude[rows] >= 0.5
        rep = self.current_patronage(rows) >= 0.5
        return np.where(att & rep, 3, np.where(att, 1, np.where(rep, 2, 0))).astype(np.int8)

    def transactions(self):
        if not self._txn:
            return (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int16))
        cols = [np.concatenate([x[i] for x in self._txn]) for i in range(4)]
        order = np.lexsort((cols[0], cols[1]))
        return tuple(c[order] for c in cols)

    def n_transactions(self) -> int:
        """Purchases logged so far (without assembling the log)."""
        return int(sum(x[0].size for x in self._txn))

    def marketing_spend(self) -> int:
        return self.totals["contact_cost"] + self.totals["other_spend"]

    def profit_cents(self) -> int:
        t = self.totals
        return t["margin"] - t["service_cost"] - self.marketing_spend()

    # ------------------------------------------------------------------ strategy-facing API
    def channel_index(self, name: str) -> int:
        try:
            return self.channel_names.index(name)
        except ValueError:
            raise ValueError(f"unknown channel {name!r}; channels are {self.channel_names}") from None

    def contact(self, strategy, rows, channel: str | None = None, response: float = 1.0) -> np.ndarray:
        """Contact ``rows`` (in priority order) for ``strategy`` through ``channel``.

        Holds out the strategy's control share, stops when the budget is exhausted, charges
        the channel's cost per contact, annoys customers contacted too often or through a
        channel they do not prefer, and returns the rows that responded. A customer who is not
        yet a customer (suspect, prospect) needs ``economics.contacts_to_convert_new`` contacts
        on average; an existing or former customer ``contacts_to_convert_existing``.
        """
        s, now = self.s, self.now
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return rows
        bit = np.uint64(1) << np.uint64(strategy.index)
        if strategy.holdout > 0:
            u = self.crng.uniform(strategy.stream, rows, 0)
            hold = u < strategy.holdout
            s.held_out[rows[hold]] |= bit
            rows = rows[~hold]
        ch = self.channel_index(channel or strategy.channel)
        cost = int(self.channel_cost[ch])
        k = strategy.ledger.affordable(cost, rows.size)
        rows = rows[:k]
        if rows.size == 0:
            return rows
        strategy.ledger.charge(cost * rows.size)
        self._attribute_cost(rows, np.full(rows.size, cost, dtype=np.int64), now)
        strategy.count("contacts", rows.size)
        c = self.touch(rows)
        s.n_contacts[rows] += 1
        s.treated[rows] |= bit
        # annoyance: contact pressure (30-day memory) and unwanted channel
        ec = self.cfg.economics
        last = s.last_contact_at[rows]
        decay = np.where(np.isnan(last), 0.0, np.exp(-(now - np.nan_to_num(last)) / 30.0))
        s.recent_contacts[rows] = s.recent_contacts[rows] * decay + 1.0
        s.last_contact_at[rows] = now
        annoy = np.where(s.channel[rows] != ch, ec.annoyance_wrong_channel, 0.0)
        annoy = annoy + np.where(s.recent_contacts[rows] > ec.contact_tolerance, ec.annoyance_excess, 0.0)
        s.satisfaction[rows] = np.clip(s.satisfaction[rows] - annoy, 0, 1)
        new = self.role[s.stage[rows]] <= 1
        need = np.where(new, ec.contacts_to_convert_new, ec.contacts_to_convert_existing)
        p = np.minimum(1.0, self.channel_response[ch] * response / need)
        responded = self.crng.uniform(strategy.stream ^ R.CONTACT, rows, c) < p
        resp = rows[responded]
        strategy.count("responders", resp.size)
        self._set_clocks(rows, now)
        return resp

    def _attribute_cost(self, rows: np.ndarray, cents: np.ndarray, t: float) -> None:
        """Strategy money spent on identified customers: contact cost, CLV or pending acquisition cost."""
        s = self.s
        np.add.at(s.contact_cost, rows, cents)
        self.totals["contact_cost"] += int(cents.sum())
        disc = float(self.discount(t)) * cents / 100.0
        pre = np.isnan(s.acquired_at[rows])
        np.add.at(s.pending_acq_cost, rows[pre], disc[pre])
        np.subtract.at(s.clv, rows[~pre], disc[~pre])

    def charge(self, strategy, cents: int, rows=None, per_row_cents=None) -> bool:
        """Spend from a strategy's budget. With ``rows``/``per_row_cents`` the cost is attributed
        to those customers; otherwise it is firm-level spend (e.g. advertising). Returns False
        (and spends nothing) when the budget cannot cover it."""
        if rows is not None:
            rows = np.asarray(rows, dtype=np.int64)
            per = np.asarray(per_row_cents, dtype=np.int64)
            total = int(per.sum())
        else:
            total = int(cents)
        if total <= 0:
            return True
        if total > strategy.ledger.remaining:
            return False
        strategy.ledger.charge(total)
        if rows is not None:
            self._attribute_cost(rows, per, self.now)
        else:
            self.totals["other_spend"] += total
        return True

    def affordable_rows(self, strategy, rows, per_row_cents) -> np.ndarray:
        """The leading rows whose cumulative cost fits the strategy's remaining budget."""
        rows = np.asarray(rows, dtype=np.int64)
        per = np.broadcast_to(np.asarray(per_row_cents, dtype=np.int64), rows.shape)
        return rows[np.cumsum(per) <= strategy.ledger.remaining]

    def convert(self, rows, cause: str = "contact") -> np.ndarray:
        """Suspects/prospects make their first purchase now (acquisition through ``cause``)."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[self.role[self.s.stage[rows]] <= 1]
        if rows.size:
            self.touch(rows)
            now = np.full(rows.size, self.now)
            pool = self.role[self.s.stage[rows]] == 0
            if pool.any():  # a suspect reached directly is exposed first
                self.s.h_expose[rows[pool]] = np.inf
                self.s.acquired_via[rows[pool]] = CAUSE[cause]
                self._apply_transitions(rows[pool], now[pool], "exposure", cause)
            lead = self.role[self.s.stage[rows]] == 1
            self._apply_transitions(rows[lead], now[lead], "conversion", cause)
        return rows

    def expose(self, rows, cause: str = "contact") -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[self.role[self.s.stage[rows]] == 0]
        if rows.size:
            self.touch(rows)
            self.s.acquired_via[rows] = CAUSE[cause]
            self.s.h_expose[rows] = np.inf
            self._apply_transitions(rows, np.full(rows.size, self.now), "exposure")
        return rows

    def win_back(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[self.role[self.s.stage[rows]] == 3]
        if rows.size:
            self.touch(rows)
            return self._apply_transitions(rows, np.full(rows.size, self.now), "winback", "winback")
        return rows

    def extra_purchase(self, rows, basket: float) -> np.ndarray:
        """An additional purchase now (cross-sell), worth ``basket`` × the usual basket."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[self.role[self.s.stage[rows]] == 2]
        if rows.size:
            self._purchase(rows, np.full(rows.size, self.now), evaluate_transitions=True, basket=basket)
        return rows

    def adjust(self, rows, *, satisfaction: float = 0.0, trust: float = 0.0, attitude: float = 0.0,
               switching_cost: float | None = None, rate_boost: float | None = None,
               upsell: float | None = None, service_boost: float | None = None) -> None:
        """Shift customers' state (additive for 0..1 scores, absolute for the others) and
        re-time their clocks so the new rates take effect now."""
        s = self.s
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        for name, dv in (("satisfaction", satisfaction), ("trust", trust), ("attitude", attitude)):
            if dv:
                arr = getattr(s, name)
                arr[rows] = np.clip(arr[rows] + dv, 0, 1)
        for name, val in (("switching_cost", switching_cost), ("rate_boost", rate_boost),
                          ("upsell", upsell), ("service_boost", service_boost)):
            if val is not None:
                getattr(s, name)[rows] = val
        self._set_clocks(rows, self.now)

    # ------------------------------------------------------------------ mechanism-facing API (validation models)
    def book_margin(self, rows, cents, t: float | None = None) -> None:
        """Book margin earned by ``rows`` outside a purchase (e.g. the per-period margin of a
        Markov migration model, which may be negative): adds ``cents`` (integer, per row) to
        each customer's margin and its discounted value at time ``t`` to CLV, and the total to
        ``totals["margin"]``. Revenue and service cost are untouched."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        cents = np.broadcast_to(np.asarray(cents, dtype=np.int64), rows.shape)
        t = self.now if t is None else float(t)
        np.add.at(self.s.margin, rows, cents)
        np.add.at(self.s.clv, rows, float(self.discount(t)) * cents / 100.0)
        self.totals["margin"] += int(cents.sum())

    def migrate(self, rows, to, t: float | None = None) -> None:
        """Move ``rows`` to stage index (or per-row indices) ``to`` now, through the same path as
        any ladder move (flows, entry effects, re-timed clocks). Meant for migration mechanisms
        that move customers between stages outside the ladder's own events."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        t = self.now if t is None else float(t)
        self._move(rows, to, np.full(rows.size, t))
