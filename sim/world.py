"""The customers' world and its rules: what customers do, in continuous time.

Every customer carries the absolute time of its next purchase (``t_buy``) and of its next
stage event (``t_move``: conversion, defection or natural return); suspects carry a threshold
on the market's cumulative exposure hazard (Bass: p + q·F). :meth:`World.process_rows` handles
every event of the given customers inside one processing window at its exact time. Random
numbers come from :mod:`sim.rng`, keyed by customer and touch counter, so the order in which
customers are processed never matters.

Mechanisms from the seeds (000 unless noted): the ladder (after Jones 2003); satisfaction →
loyalty; loyal customers forgive a bad experience more easily (``service.forgiveness``);
dissatisfied and lost customers tell others (negative word of mouth reaching about 9 people,
"8 تا 10 نفر"), which lowers exposure and conversion; profit per customer grows with tenure.
This module never decides what the firm does: the firm acts through :mod:`sim.crm`.
"""
from __future__ import annotations

import numpy as np
from scipy.special import pdtr

from . import rng as R
from .books import Books, to_cents
from .calendar import DueCalendar
from .ladder import CUSTOMER, LEAD, LOST, POOL, Ladder
from .state import CAUSE, FOCAL, CustomerState
from .wallet import Wallet

AUDIENCES = ("prospect", "existing", "lapsed")   # columns of a channel's response table
_AUDIENCE_OF_ROLE = np.array([0, 0, 1, 2], dtype=np.int8)  # pool, lead -> prospect; customer; lost


class World:
    """Customer state, the ladder and the rules that move customers along it."""

    def __init__(self, cfg, ladder: Ladder, s: CustomerState, crng: R.CounterRNG, books: Books, hooks):
        self.cfg, self.ladder, self.s, self.crng, self.books = cfg, ladder, s, crng, books
        self.hooks = hooks
        self.n = s.n
        ch = cfg.channels
        self.channel_names = list(ch)
        self.channel_cost = np.array([round(c.cost * 100) for c in ch.values()], dtype=np.int64)
        self.channel_response = np.array([[getattr(c.response, a) for a in AUDIENCES] for c in ch.values()])
        pref = np.array([c.preference for c in ch.values()])
        self.channel_pref_share = pref / pref.sum()
        w = np.array([c.attractiveness for c in cfg.market.competitors], float)
        self.competitor_weights = w / w.sum()
        self.wallet = Wallet(cfg, ladder, s, crng)   # share of wallet among the firms (sim.wallet)
        self.rivals: list = []       # rival firms (sim.agents.firm.Firm), set by the market
        # what rivals can see of the focal firm's moves (a programme with member benefits; advertising
        # or offers to prospects): the day each was first seen, or None
        self.public: dict[str, float | None] = {"loyalty_programme_since": None, "acquisition_push_since": None}
        self.purchases_all = 0       # purchase events at any firm, and their value (cents): each goes
        self.purchase_cents_all = 0  # to exactly one firm's books
        self.H = 0.0                 # cumulative exposure hazard
        self.ad_pressure = 0.0       # extra exposure hazard per day from advertising (strategies)
        self.wom_boost = 1.0         # multiplier on word of mouth (referral programme)
        self.quality_shift = 0.0     # additive shift of service quality (e.g. a service shock)
        self.neg_told = 0.0          # people currently carrying a negative story (decays)
        self.neg_tellers = 0         # dissatisfied or lost customers who told others
        self.neg_told_total = 0      # people they told
        self.flows = np.zeros((ladder.n, ladder.n), dtype=np.int64)
        self.defections = 0
        self.acquisitions = 0
        self.at_risk_days = 0.0      # customer-days spent as a focal customer by finished spells
        # offers to buy, by channel and audience: contacts made and contacts that persuaded
        self.sales_contacts = np.zeros((len(self.channel_names), len(AUDIENCES)), dtype=np.int64)
        self.sales_responses = np.zeros_like(self.sales_contacts)
        # due lists per window (sim.calendar); None: find due customers by scanning every clock
        self.calendar: DueCalendar | None = DueCalendar(cfg.engine.dt, cfg.market.days, self.n)
        self._outside: int | None = None  # customers outside the firm (suspects, leads), counted once
        # bumped by every purchase and move: what the firms record (purchases, leads) may have changed
        self.version = 0
        self._counts: np.ndarray | None = None  # customers per stage, counted once, then kept by move()
        self.stage_cache: dict[int, tuple] = {}  # sim.crm: recorded stages by records, at (now, version)
        # (rows, h_expose, t_buy, t_move) as due() read them, for process_rows(rows) to start from
        self._due_read: tuple[np.ndarray, ...] | None = None

    # ------------------------------------------------------------------ rates & clocks
    def purchase_rate(self, rows: np.ndarray, st: np.ndarray | None = None,
                      role: np.ndarray | None = None) -> np.ndarray:
        """Purchases per day of ``rows`` now, at any firm (share of wallet splits them; without it,
        only focal customers buy). A lost customer buys at its rival (see :mod:`sim.wallet`).
        ``st``, ``role``: the rows' stages and their roles, if the caller has them."""
        s, lad = self.s, self.ladder
        st = s.stage[rows] if st is None else st
        role = lad.role[st] if role is None else role
        base = s.rate[rows] * np.take(lad.rate, st)
        r = base * s.rate_boost[rows]
        f = self.wallet.rate_factor
        cust = role == CUSTOMER
        if cust.all():  # a purchase batch, usually
            return r * f if self.wallet.on else r
        if not self.wallet.on:
            return np.where(cust, r, 0.0)
        return np.where(cust, r * f, np.where(role == LOST, base * f, 0.0))

    def negative_wom_factor(self) -> float:
        """Multiplier on exposure and conversion from negative word of mouth (1: none)."""
        mk = self.cfg.market
        if mk.negative_wom_effect <= 0 or self.neg_told <= 0:
            return 1.0
        if self._outside is None:  # kept up to date by move(), the only writer of stages after day 0
            self._outside = int(np.count_nonzero(self.ladder.role[self.s.stage] <= LEAD))
        outside = self._outside
        share = min(1.0, self.neg_told / max(outside, 1))
        return float(np.exp(-mk.negative_wom_effect * share))

    def move_rate(self, rows: np.ndarray, st: np.ndarray | None = None,
                  role: np.ndarray | None = None) -> np.ndarray:
        """Hazard of the next stage event: conversion (lead), defection (customer), return (lost).
        ``st``, ``role``: the rows' stages and their roles, if the caller has them."""
        s, m, lad = self.s, self.cfg.market, self.ladder
        st = s.stage[rows] if st is None else st
        role = lad.role[st] if role is None else role
        cust = role == CUSTOMER
        every = bool(cust.all())
        if not every:
            out = np.where(role == LEAD, m.conversion * self.negative_wom_factor(),
                           np.where(role == LOST, m.natural_return, 0.0))
            if not cust.any():
                return out
        rc, stc = (rows, st) if every else (rows[cust], st[cust])
        kind = m.purchase.kind
        if kind == "ladder":  # defection: computed for the customers only
            d = (m.defection * np.take(lad.defect, stc)
                 * np.exp(m.defection_sensitivity * (m.reference_satisfaction - s.satisfaction[rc]))
                 * (1.0 - s.switching_cost[rc]))
            if self.wallet.on and self.wallet._locked:  # a rival's programme pulls the other way (sim.wallet)
                d = d * self.wallet.defection_factor(rc)
        elif kind == "pareto_nbd":
            d = s.lifetime_rate[rc]
        else:  # bgnbd: dropout happens at purchases, never in between
            d = np.zeros(rc.size)
        if every:
            return d
        out[cust] = d
        return out

    def set_clocks(self, rows: np.ndarray, t) -> None:
        """Recompute both clocks of ``rows`` at time(s) ``t``.

        A running clock whose rate changed keeps its remaining cumulative hazard (exact for
        exponential waiting times). A clock that is off (rate 0) draws a new waiting time:
        event handlers switch off the clock they consume before calling this.
        """
        if rows.size == 0:
            return
        self._due_read = None  # the clocks due() read may change
        s = self.s
        t = np.broadcast_to(np.asarray(t, float), rows.shape)
        st = s.stage[rows]
        role = np.take(self.ladder.role, st)
        ev = s.ev[rows]
        nxt = []
        for clock, rate_arr, new_rate, stream in (
                (s.t_buy, s.r_buy, self.purchase_rate(rows, st, role), R.PURCHASE_CLOCK),
                (s.t_move, s.r_move, self.move_rate(rows, st, role), R.MOVE_CLOCK)):
            old = rate_arr[rows]
            live = new_rate > 0
            if old.any():
                cur = clock[rows]
                keep = (old > 0) & np.isfinite(cur) & live
                with np.errstate(divide="ignore", invalid="ignore"):  # rows not kept: their value is not used
                    out = np.where(keep, t + (cur - t) * (old / new_rate), np.inf)
                draw = live & ~keep
            else:  # every clock is off (a purchase consumed it, say): each live one draws afresh
                out = np.full(rows.size, np.inf)
                draw = live
            if draw.all():
                out = t + self.crng.exponential(stream, rows, ev) / new_rate
            elif draw.any():
                e = self.crng.exponential(stream, rows[draw], ev[draw])
                out[draw] = t[draw] + e / new_rate[draw]
            clock[rows] = out
            rate_arr[rows] = new_rate
            nxt.append(out)
        # exposure threshold for pool stages (cumulative-hazard units)
        pool = role == POOL
        if pool.any():
            need = pool & ~np.isfinite(s.h_expose[rows])
            if need.any():
                r = rows[need]
                e = self.crng.exponential(R.EXPOSURE, r, s.ev[r])
                s.h_expose[r] = self.H + e / np.maximum(s.susceptibility[r], 1e-12)
                if self.calendar is not None:
                    self.calendar.file_thresholds(r, s.h_expose[r])
        # other stages have none: a row that leaves the pool stages has it cleared (expose, move)
        if self.calendar is not None:
            self.calendar.file_times(rows, np.minimum(nxt[0], nxt[1]))

    def touch(self, rows: np.ndarray) -> np.ndarray:
        """Advance the touch counter; return the counter values to key this touch's draws."""
        c = self.s.ev[rows] + np.uint64(1)
        self.s.ev[rows] = c
        return c

    # ------------------------------------------------------------------ word of mouth
    def wom_share(self) -> float:
        """Word-of-mouth-weighted share of the market (advocates weigh most)."""
        if self._counts is None:  # move() is the only writer of stages after day 0
            self._counts = np.bincount(self.s.stage, minlength=self.ladder.n)
        counts = self._counts
        return float((self.ladder.wom * counts).sum() / self.n) * self.wom_boost

    def exposure_hazard(self) -> tuple[float, float, float]:
        """Per-day exposure hazard of a suspect: (organic p, advertising, word of mouth q·F)."""
        m = self.cfg.market
        f = self.negative_wom_factor()
        return m.innovation * f, self.ad_pressure * f, m.imitation * self.wom_share() * f

    def decay_negative_wom(self, days: float) -> None:
        """Stories fade: the negative word-of-mouth stock decays over a window of ``days``."""
        self.neg_told *= float(np.exp(-days / self.cfg.market.negative_wom_memory_days))

    def _tell(self, rows: np.ndarray) -> None:
        """Dissatisfied or lost customers tell others (about ``market.negative_wom_reach`` each)."""
        reach = self.cfg.market.negative_wom_reach
        if rows.size == 0 or reach <= 0:
            return
        u = self.crng.uniform(R.NEG_WOM, rows, self.s.ev[rows])
        told = _poisson_from_uniform(reach, u)
        self.neg_tellers += int(rows.size)
        self.neg_told_total += int(told.sum())
        self.neg_told += float(told.sum())

    # ------------------------------------------------------------------ moves
    def move(self, rows: np.ndarray, to, t: np.ndarray, cause: str | None = None, clocks: bool = True) -> None:
        """Move ``rows`` to stage(s) ``to`` at times ``t``; run entry effects. ``clocks`` False: the
        caller sets the rows' clocks itself, later in the same event (see :meth:`purchase`)."""
        if rows.size == 0:
            return
        self.version += 1
        s, lad = self.s, self.ladder
        to = np.broadcast_to(np.asarray(to, dtype=np.int16), rows.shape)
        frm = s.stage[rows]
        n_st = lad.n  # flows[from, to] += 1 per move, counted in one pass (integers: exact)
        self.flows += np.bincount(frm.astype(np.intp) * n_st + to, minlength=n_st * n_st).reshape(n_st, n_st)
        s.stage[rows] = to
        s.t_move[rows] = np.inf  # a new stage runs a new hazard process
        s.r_move[rows] = 0.0
        role_to, role_from = np.take(lad.role, to), np.take(lad.role, frm)
        if self._counts is not None:
            self._counts += np.bincount(to, minlength=lad.n) - np.bincount(frm, minlength=lad.n)
        # a step between two customer stages begins or ends nothing: no entry effects to run
        if not ((role_to == CUSTOMER) & (role_from == CUSTOMER)).all():
            self._change_role(rows, t, role_to, role_from, cause)
        if clocks:
            self.set_clocks(rows, t)

    def _change_role(self, rows: np.ndarray, t: np.ndarray, role_to: np.ndarray, role_from: np.ndarray,
                     cause: str | None) -> None:
        """Entry effects of :meth:`move` for rows that change role (or move among the lost or leads):
        a spell as a customer ends or begins (with its purchase), a customer defects, a lead is registered."""
        s = self.s
        if self._outside is not None:
            self._outside += int(np.count_nonzero(role_to <= LEAD)) - int(np.count_nonzero(role_from <= LEAD))
        s.h_expose[rows[(role_from == POOL) & (role_to != POOL)]] = np.inf  # only suspects have a threshold
        leave = (role_from == CUSTOMER) & (role_to != CUSTOMER)
        if leave.any():  # a spell as a focal customer ends: customer-days at risk of defection
            self.at_risk_days += float((t[leave] - s.customer_since[rows[leave]]).sum())
            s.customer_since[rows[leave]] = np.nan
        lost = role_to == LOST
        if lost.any():  # entering lost: defect to a competitor
            r, tl = rows[lost], t[lost]
            u = self.crng.uniform(R.COMPETITOR, r, s.ev[r])
            if self.wallet.on:  # the whole wallet moves to one rival, by its attraction for this customer
                s.firm[r] = self.wallet.defect_to(r, u)
            else:
                s.firm[r] = 1 + np.searchsorted(np.cumsum(self.competitor_weights), u * 0.999999999)
            s.churned_at[r] = tl
            s.first_churn_at[r] = np.where(np.isnan(s.first_churn_at[r]), tl, s.first_churn_at[r])
            self.defections += int(r.size)
            self._tell(r[s.satisfaction[r] < self.cfg.market.dissatisfied_below])
            self.hooks.emit("defection", r, tl)
        s.firm[rows[role_to == LEAD]] = -1
        lead = (role_to == LEAD) & np.isnan(s.lead_at[rows])
        s.lead_at[rows[lead]] = t[lead]  # the firm registers the lead
        if lead.any():
            self.hooks.emit("lead", rows[lead], t[lead])
        enter = (role_to == CUSTOMER) & (role_from != CUSTOMER)
        if enter.any():  # acquisition or win-back, with a purchase
            r, te = rows[enter], t[enter]
            s.firm[r] = FOCAL
            s.customer_since[r] = te
            new = np.isnan(s.acquired_at[r])
            if new.any():
                rn = r[new]
                s.acquired_at[rn] = te[new]
                if cause is not None:
                    s.acquired_via[rn] = CAUSE[cause]
                self.books.acquired(rn)
                self.acquisitions += int(rn.size)
                self.hooks.emit("acquisition", rn, te[new])
            self.purchase(r, te, evaluate_transitions=False, wallet=False)

    def apply_transitions(self, rows: np.ndarray, t: np.ndarray, on: str, cause: str | None = None) -> np.ndarray:
        """First matching transition of kind ``on`` for each row; returns the rows that moved.

        A customer is judged by the first transition it qualifies for (stage and conditions); it
        moves if its uniform (keyed by its touch counter as the call starts) is below ``p``.
        """
        return rows[self._transitions(rows, t, on, cause)]

    def _transitions(self, rows: np.ndarray, t: np.ndarray, on: str, cause: str | None = None,
                     clocks: bool = True) -> np.ndarray:
        """:meth:`apply_transitions`, returning which of ``rows`` moved (a mask). ``clocks`` False:
        the caller sets the moved rows' clocks (see :meth:`move`)."""
        moved = np.zeros(rows.size, bool)
        if rows.size == 0:
            return moved
        s = self.s
        ev = s.ev[rows]
        st = s.stage[rows]  # a row's stage changes only when it moves, and then it is judged
        forgive = None
        if on == "bad_service":  # forgiveness: trust (which grows with tenure) softens the fall
            forgive = np.maximum(1.0 - self.cfg.service.forgiveness * s.trust[rows], 1e-12)
        pending = np.ones(rows.size, bool)
        for from_mask, to, tr in self.ladder.transitions[on]:
            # positions still to be judged, on a stage this transition starts from (np.take: a
            # small table, looked up faster than by indexing)
            q = np.flatnonzero(pending & np.take(from_mask, st))
            if q.size == 0:
                continue
            r = rows[q]
            ok = None
            if tr.min_purchases:
                ok = s.n_purchases[r] >= tr.min_purchases
            if tr.min_satisfaction > 0 or tr.max_satisfaction < 1:
                sat = s.satisfaction[r]
                ok = _and(ok, (sat >= tr.min_satisfaction) & (sat <= tr.max_satisfaction))
            if tr.min_trust > 0:
                ok = _and(ok, s.trust[r] >= tr.min_trust)
            if tr.min_attitude > 0:
                ok = _and(ok, s.attitude[r] >= tr.min_attitude)
            if ok is not None:
                q = q[ok]
                if q.size == 0:
                    continue
            pending[q] = False
            if tr.p >= 1 and forgive is None:  # a uniform in (0, 1) is always below p
                fire = q
            else:
                u = self.crng.uniform(R.TRANSITION, rows[q], ev[q])
                if forgive is not None:
                    u = u / forgive[q]
                fire = q[u < tr.p]
            if fire.size:
                self.move(rows[fire], to, t[fire], cause, clocks)
                moved[fire] = True
        return moved

    # ------------------------------------------------------------------ purchases
    def basket(self, rows: np.ndarray, t, st: np.ndarray | None = None) -> np.ndarray:
        """Expected basket value of ``rows`` at time(s) ``t``: own level × stage × tenure × up-sell.
        ``st``: the rows' stages, if the caller has them."""
        s, ec = self.s, self.cfg.economics
        st = s.stage[rows] if st is None else st
        t = np.asarray(t, float)
        tenure = t - s.acquired_at[rows]
        tenure[np.isnan(tenure)] = 0.0
        g = ec.tenure_spend_growth if self.cfg.market.purchase.kind == "ladder" else 0.0  # BTYD stays pure
        growth = 1.0 + g * np.minimum(np.maximum(tenure / 365.0, 0.0), ec.tenure_growth_years)
        value = s.spend[rows] * np.take(self.ladder.spend, st) * growth
        up_at = s.upsell_at[rows]
        if np.isnan(up_at).all():  # nobody up-sold (an up-sell sets upsell_at): a factor of 1
            return value
        up_age = t - up_at
        up_age[np.isnan(up_age)] = np.inf
        return value * (1.0 + s.upsell[rows] * np.exp(-np.maximum(up_age, 0.0) / ec.upsell_memory_days))

    def purchase(self, rows: np.ndarray, t: np.ndarray, evaluate_transitions: bool = True,
                 basket: float | np.ndarray = 1.0, margin_share: float | None = None,
                 wallet: bool = True) -> None:
        """One purchase for every row, at times ``t``. With share of wallet (``wallet``: a
        purchase the customer's own clock brought), each goes to one firm by the customer's
        shares; the focal firm's purchases get its service encounter. A purchase the focal firm
        made happen (an entry purchase, a sale, a subsidised purchase) passes ``wallet=False``.

        Every row's clocks are set once, at the end: the rivals' sales, the moves its transitions
        made and the rest alike (no step in between changes what a moved row's clocks depend on)."""
        if rows.size == 0:
            return
        self.version += 1
        s, cfg, lad = self.s, self.cfg, self.ladder
        sv = cfg.service
        t = np.broadcast_to(np.asarray(t, float), rows.shape)
        rows_all, t_all = rows, t  # the rows whose clocks are set at the end
        c = self.touch(rows)
        st = s.stage[rows]
        if wallet and self.wallet.on:
            firm = self.wallet.assign(rows, c, st)
            away = firm > 0
            if away.any():  # by positions: several arrays are cut the same way
                a = np.flatnonzero(away)
                self._rival_purchase(rows[a], t[a], firm[a], c[a], st[a])
                keep = np.flatnonzero(~away)
                rows, t, c, st = rows[keep], t[keep], c[keep], st[keep]
                if np.ndim(basket):
                    basket = np.asarray(basket)[keep]
                if rows.size == 0:
                    self.set_clocks(rows_all, t_all)
                    return
        s.t_buy[rows] = np.inf  # this purchase consumes the purchase clock
        s.r_buy[rows] = 0.0
        sig = cfg.market.basket_noise
        z = self.crng.normal(R.AMOUNT, rows, c)
        amount = self.basket(rows, t, st) * basket * np.exp(sig * z - sig * sig / 2)
        cents = np.maximum(to_cents(amount), 1)
        self.books.sale(rows, t, cents, np.take(lad.service_cents, st), s.channel[rows], margin_share)
        self.purchases_all += int(rows.size)
        self.purchase_cents_all += int(cents.sum())
        # service encounter
        q = np.clip(sv.quality + self.quality_shift + s.service_boost[rows]
                    + sv.quality_sd * self.crng.normal(R.QUALITY, rows, c), 0, 1)
        sat = s.satisfaction[rows]
        sat = sat + sv.satisfaction_learning * (q - sat)
        bad = q < sv.bad_threshold
        complain = bad.copy()  # a bad experience becomes a complaint with complaint_prob
        if bad.any():
            complain[bad] = self.crng.uniform(R.COMPLAINT, rows[bad], c[bad]) < sv.complaint_prob
        any_complaint = bool(bad.any()) and bool(complain.any())
        if any_complaint:
            sat = np.where(complain, sat - sv.complaint_penalty, sat)
        sat = np.clip(sat, 0, 1)
        s.satisfaction[rows] = sat
        if any_complaint:
            voiced = rows[complain]
            s.complaint_open[voiced] = True
            s.n_complaints[voiced] += 1
        trust = np.clip(s.trust[rows] + sv.trust_learning * (q - 0.5), 0, 1)
        s.trust[rows] = trust
        target = 0.5 * sat + 0.5 * trust
        att = s.attitude[rows]
        s.attitude[rows] = att + sv.attitude_learning * (target - att)
        last = s.last_purchase_at[rows]
        never = np.isnan(last)
        decay = np.exp(-(t - np.where(never, 0.0, last)) / sv.patronage_memory_days)
        decay[never] = 0.0
        pat = s.patronage[rows] * decay
        s.patronage[rows] = pat + sv.patronage_gain * (1 - pat)
        s.last_purchase_at[rows] = t
        s.n_purchases[rows] += 1
        self.hooks.emit("purchase", rows, t)
        hurt = bad
        if bad.any():
            self.hooks.emit("complaint", rows[complain], t[complain])  # e.g. service recovery
            # a bad experience still unresolved (or never voiced) can send a customer down; read
            # after the hooks (which may resolve a complaint or restore satisfaction), for these rows only
            b = np.flatnonzero(bad)
            hurt = np.zeros(rows.size, bool)
            hurt[b] = s.complaint_open[rows[b]] | ~complain[b]
            r = rows[hurt]
            self._tell(r[s.satisfaction[r] < cfg.market.dissatisfied_below])
        moved = np.zeros(rows.size, bool)
        if evaluate_transitions:  # the moved rows' clocks are set below, with the others'
            if hurt.any():
                moved[hurt] = self._transitions(rows[hurt], t[hurt], "bad_service", clocks=False)
            rest = ~moved
            if rest.any():
                moved[rest] = self._transitions(rows[rest], t[rest], "purchase", clocks=False)
        if cfg.market.purchase.kind == "bgnbd" and evaluate_transitions:
            # BG/NBD (Fader, Hardie & Lee 2005): a customer may drop out after each *repeat*
            # purchase; the entry purchase (evaluate_transitions=False) starts the process alive.
            if moved.any():  # the moves' clocks first: a dropout may move the same row again
                self.set_clocks(rows[moved], t[moved])
            alive = lad.role[s.stage[rows]] == CUSTOMER
            drop = alive & (self.crng.uniform(R.DROPOUT, rows, c) < s.dropout[rows])
            if drop.any():
                self.move(rows[drop], lad.lost, t[drop])
            # no share of wallet without the ladder's purchase model: rows are all the rows
            self.set_clocks(rows[~(moved | drop)], t[~(moved | drop)])
            return
        # the purchase clock was consumed: a fresh one; the hazard clock keeps its remaining hazard
        self.set_clocks(rows_all, t_all)

    def _rival_purchase(self, rows: np.ndarray, t: np.ndarray, firm: np.ndarray, c: np.ndarray,
                        st: np.ndarray) -> None:
        """Purchases that went to rivals: the amount (same draw the focal firm would have had),
        the rival's books and records; the focal firm records nothing. ``st``: the rows' stages.
        The caller sets the clocks."""
        self.version += 1
        s = self.s
        s.t_buy[rows] = np.inf  # the purchase clock was consumed
        s.r_buy[rows] = 0.0
        sig = self.cfg.market.basket_noise
        z = self.crng.normal(R.AMOUNT, rows, c)
        amount = s.spend[rows] * np.take(self.ladder.spend, st) * np.exp(sig * z - sig * sig / 2)
        cents = np.maximum(to_cents(amount), 1)
        self.purchases_all += int(rows.size)
        self.purchase_cents_all += int(cents.sum())
        channel = s.channel[rows]
        for k in range(1, len(self.rivals) + 1):
            m = np.flatnonzero(firm == k)
            if m.size:
                self.rivals[k - 1].sale(rows[m], t[m], cents[m], channel[m])

    # ------------------------------------------------------------------ other events
    def stage_event(self, rows: np.ndarray, t: np.ndarray) -> None:
        """The stage-hazard clock fired: conversion, defection or natural return."""
        s = self.s
        self.touch(rows)
        s.t_move[rows] = np.inf  # the clock fired: its remaining hazard is spent
        s.r_move[rows] = 0.0
        role = np.take(self.ladder.role, s.stage[rows])
        for code, on, cause in ((LEAD, "conversion", None), (CUSTOMER, "defection", None),
                                (LOST, "winback", "winback")):
            m = role == code
            if m.any():
                rm, tm = rows[m], t[m]
                # the group's clocks are set once, moved or not (p < 1): the new clocks of a move (to
                # a customer or lost stage) depend on nothing the group's other moves change
                self._transitions(rm, tm, on, cause, clocks=False)
                self.set_clocks(rm, tm)

    def expose(self, rows: np.ndarray, t: np.ndarray, parts: tuple[float, float, float]) -> None:
        """Suspects reach their exposure threshold: attribute a cause, apply exposure transitions."""
        s = self.s
        c = self.touch(rows)
        organic, ads, wom = parts
        total = organic + ads + wom
        u = self.crng.uniform(R.CAUSE, rows, c) * total
        s.acquired_via[rows] = np.where(u < organic, CAUSE["organic"],
                                        np.where(u < organic + ads, CAUSE["advertising"], CAUSE["word_of_mouth"]))
        s.h_expose[rows] = np.inf
        self.hooks.emit("exposure", rows, t)
        stay = ~self._transitions(rows, t, "exposure")
        if stay.any():  # exposure without a move (p < 1): wait for the next one
            self.set_clocks(rows[stay], t[stay])

    def process_rows(self, rows: np.ndarray, t0: float, t1: float, H0: float, H1: float,
                     parts: tuple[float, float, float]) -> int:
        """Handle every event of ``rows`` inside [t0, t1). Shared by both paths. Returns events."""
        s = self.s
        n_ev = 0
        hrate = (H1 - H0) / (t1 - t0) if t1 > t0 else 0.0
        seen, self._due_read = self._due_read, None
        if seen is not None and seen[0] is rows:  # straight from due(): the clocks it read still hold
            _, h, tb, tm = seen
        else:
            h, tb, tm = s.h_expose[rows], None, None
        e = h <= H1
        exp = rows[e]
        if exp.size:
            te = t0 + (h[e] - H0) / hrate if hrate > 0 else np.full(exp.size, t0)
            self.expose(exp, np.clip(te, t0, t1), parts)
            n_ev += exp.size
            if tb is not None:  # the exposed rows have new clocks (and only they)
                tb[e], tm[e] = s.t_buy[exp], s.t_move[exp]
        cand, tb, tm = self._due_clocks(rows, t1, tb, tm)
        guard = 0
        while cand.size:
            # an event changes the clocks of its own rows only: each row's times, read once a round
            first_move = tm <= tb
            m = first_move & (tm < t1)
            if m.any():
                self.stage_event(cand[m], tm[m])
            b = ~first_move & (tb < t1)
            if b.any():
                self.purchase(cand[b], tb[b])
            n_ev += int(np.count_nonzero(m)) + int(np.count_nonzero(b))
            cand, tb, tm = self._due_clocks(cand, t1)
            guard += 1
            if guard > 100_000:
                raise RuntimeError("event loop did not settle inside a window; a rate is absurdly high")
        return n_ev

    def _due_clocks(self, rows: np.ndarray, t1: float, tb: np.ndarray | None = None,
                    tm: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows with a clock before ``t1``, and their purchase and stage-event times (``tb``,
        ``tm``: those times, if the caller has them)."""
        if tb is None:
            tb, tm = self.s.t_buy[rows], self.s.t_move[rows]
        now = (tb < t1) | (tm < t1)
        if now.all():
            return rows, tb, tm
        return rows[now], tb[now], tm[now]

    def due(self, t1: float, H1: float) -> np.ndarray:
        """Rows with an event due before ``t1`` (or an exposure threshold below ``H1``), ascending.

        Taken from the due lists (:mod:`sim.calendar`), so the cost follows the window's events;
        the same rows as :meth:`due_scan`, which checks every customer's clocks.
        """
        if self.calendar is None:
            return self.due_scan(t1, H1)
        s = self.s
        cand = self.calendar.take(t1, H1)
        h, tb, tm = s.h_expose[cand], s.t_buy[cand], s.t_move[cand]
        nxt = np.minimum(tb, tm)
        now = (h <= H1) | (nxt < t1)
        if not now.all():  # stale entries, or a window taken part-way
            later = ~now
            self.calendar.refile_unless_stale(cand[later], nxt[later], t1)
            cand, h, tb, tm = cand[now], h[now], tb[now], tm[now]
        self._due_read = (cand, h, tb, tm)  # process_rows(cand) reads them first; set_clocks forgets them
        return cand

    def due_scan(self, t1: float, H1: float) -> np.ndarray:
        """:meth:`due` by scanning every customer's clocks (the reference; cost ∝ customers)."""
        s = self.s
        return np.flatnonzero((s.h_expose <= H1) | (s.t_buy < t1) | (s.t_move < t1))

    def customer_days(self, now: float) -> float:
        """Customer-days at risk of defection so far: finished spells plus the open ones."""
        open_spells = self.s.customer_since[~np.isnan(self.s.customer_since)]
        return self.at_risk_days + float((now - open_spells).sum())


def _and(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    """``a & b``, where ``a`` None means no condition yet."""
    return b if a is None else a & b


def _poisson_from_uniform(mean: float, u: np.ndarray) -> np.ndarray:
    """Poisson(mean) draws by inverting the CDF at the uniforms ``u`` (counter-based, so CRN holds).

    The smallest ``k`` whose CDF reaches ``u``, from a table of the CDF; a uniform within 1e-12 of
    a table value is left to ``scipy.stats.poisson.ppf``, so every draw is the one it gives.
    """
    cdf = _POISSON_CDF.get(mean)
    if cdf is None:
        k = np.arange(64)
        while (cdf := pdtr(k, mean))[-1] < 1.0 and k.size < 1 << 20:
            k = np.arange(k.size * 2)
        _POISSON_CDF[mean] = cdf
    k = np.searchsorted(cdf, u, side="left")
    near = (k >= cdf.size) | (np.abs(cdf[np.minimum(k, cdf.size - 1)] - u) < 1e-12) \
        | ((k > 0) & (np.abs(u - cdf[np.maximum(k - 1, 0)]) < 1e-12))
    if near.any():
        from scipy.stats import poisson
        k[near] = poisson.ppf(u[near], mean).astype(np.int64)
    return k.astype(np.int64)


_POISSON_CDF: dict[float, np.ndarray] = {}
