"""Share of wallet: how a customer splits its category purchases among the firms.

Seed 003: today's customer faces many suppliers («با تعداد زیادی از عرضه کنندگان روبروست»);
000: Newell's middle tier buys partly through competitors, and the share of the customer's
purchase budget («سهم از بودجه خرید مشتری») is a CRM result to measure. Every purchase event of a
customer goes to exactly one firm, chosen by a counter-based draw (stream ``WALLET``, keyed by
customer and touch counter, so common random numbers hold) from the customer's shares:

* focal attraction ``A0 = exp(b_att (attitude - reference)) × lift(focal offer)``;
* rival k ``A_k = ρ w_k exp(b_att a_k + b_sw (lock_k - switching cost)) × boost_k × lift(offer_k)``,

where ``ρ = rival_share / (1 - rival_share)``, ``w_k`` the rivals' normalised attractiveness,
``a_k``, ``lock_k`` and ``boost_k`` what rival k's own actions did to the customer (attitude,
its loyalty programme's switching cost, its rate uplift), and ``lift`` the saturating offer lift
of ``economics.offer_*`` (an offer as a share of the basket; price sensitivity by stage). The
share of firm f is ``A_f / (A0 + Σ A_k)``. A lost customer has moved its whole wallet to the
rival it defected to: defection is the extreme case. Customers' total purchase rate is the
focal rate divided by the reference focal share ``1 - rival_share``, so that with no offers,
no programmes and the reference attitude the focal firm sees today's purchase rate.
"""
from __future__ import annotations

import numpy as np

from . import rng as R
from .ladder import CUSTOMER, LOST


class Wallet:
    """Per-customer attraction of each firm, and the draw that sends a purchase to one of them."""

    def __init__(self, cfg, ladder, s, crng: R.CounterRNG):
        wc = cfg.market.wallet
        self.cfg, self.ladder, self.s, self.crng = cfg, ladder, s, crng
        self.on = bool(wc.enabled) and cfg.market.purchase.kind == "ladder"
        w = np.array([c.attractiveness for c in cfg.market.competitors], float)
        self.weights = w / w.sum()
        self.K = w.size
        self.rho = wc.rival_share / (1.0 - wc.rival_share)
        self.rate_factor = 1.0 / (1.0 - wc.rival_share) if self.on else 1.0
        n = s.n
        # what rivals' own actions did to each customer (n x K, float32: cheap)
        self.lock = np.zeros((n, self.K), np.float32)      # switching cost towards rival k (its programme)
        self.attitude = np.zeros((n, self.K), np.float32)  # attitude towards rival k, relative to neutral
        self.boost = np.ones((n, self.K), np.float32)      # rival k's rate uplift (its programme)
        self.offer = np.zeros(self.K + 1)                  # standing offer of each firm, share of the basket
        self._locked = False                               # has any rival given anyone a switching cost?
        self._plain = True                                 # no rival has changed lock, attitude or boost yet

    def _lift(self, offer: float, stage: np.ndarray) -> np.ndarray | float:
        if offer <= 0:
            return 1.0
        ec = self.cfg.economics
        saturation = 1.0 - 0.5 ** (offer / ec.offer_half_value)
        return 1.0 + ec.offer_max_lift * self.ladder.price_sensitivity[stage] * saturation

    def attraction(self, rows: np.ndarray) -> np.ndarray:
        """(rows, 1 + K) attraction of the focal firm (column 0) and each rival."""
        return np.column_stack(self._columns(rows))

    def _columns(self, rows: np.ndarray) -> list[np.ndarray]:
        """:meth:`attraction` as one array per firm."""
        s, wc = self.s, self.cfg.market.wallet
        st = s.stage[rows] if self.offer.any() else None  # for the offers' lift: without offers, 1
        cols = [np.exp(wc.attitude_sensitivity * (s.attitude[rows] - wc.reference_attitude))]
        if self.offer[0] > 0:
            cols[0] = cols[0] * self._lift(self.offer[0], st)
        if self._plain:  # lock 0, attitude 0, boost 1 for every rival: the same numbers, one exp per row
            e = np.exp(wc.switching_sensitivity * (0.0 - s.switching_cost[rows]))
            c = self.rho * self.weights
            cols += [c[k] * e for k in range(self.K)]
        else:
            sc = s.switching_cost[rows][:, None]
            a = (self.rho * self.weights[None, :]
                 * np.exp(wc.attitude_sensitivity * self.attitude[rows]
                          + wc.switching_sensitivity * (self.lock[rows] - sc))
                 * self.boost[rows])
            cols += [a[:, k] for k in range(self.K)]
        for k in range(self.K):
            if self.offer[k + 1] > 0:
                cols[k + 1] = cols[k + 1] * self._lift(self.offer[k + 1], st)
        return cols

    def shares(self, rows: np.ndarray) -> np.ndarray:
        """(rows, 1 + K) share of wallet of every firm; a lost customer's whole wallet is its rival's."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = self._columns(rows)
        if len(cols) < 8:  # numpy sums so few columns one after another: the same total, without the matrix
            total = cols[0]
            for c in cols[1:]:
                total = total + c
            sh = np.empty((rows.size, len(cols)))
            for k, c in enumerate(cols):
                np.divide(c, total, out=sh[:, k])
        else:
            a = np.column_stack(cols)
            sh = a / a.sum(axis=1, keepdims=True)
        lost = self.ladder.role[self.s.stage[rows]] == LOST
        if lost.any():
            sh[lost] = 0.0
            f = np.clip(self.s.firm[rows[lost]], 1, self.K)
            sh[np.flatnonzero(lost), f] = 1.0
        return sh

    def mean_shares(self, rows: np.ndarray) -> np.ndarray:
        """``shares(rows).mean(axis=0)`` (``rows`` not empty), without the (rows, 1 + K) matrix when
        no row is lost: each firm's shares summed row after row (``cumsum``), the order in which
        numpy's mean over axis 0 of a C-ordered matrix adds them, so the result is the same to the bit."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = self._columns(rows)
        if len(cols) >= 8 or (self.s.stage[rows] == self.ladder.lost).any():  # a ladder has one lost stage
            return self.shares(rows).mean(axis=0)
        total = cols[0]
        for c in cols[1:]:
            total = total + c
        share = np.empty(rows.size)  # one firm's shares, then their running sum
        sums = [np.add.accumulate(np.divide(c, total, out=share), out=share)[-1] for c in cols]
        return np.array(sums) / rows.size

    def assign(self, rows: np.ndarray, counter: np.ndarray, st: np.ndarray | None = None) -> np.ndarray:
        """The firm (0 focal, 1..K) each purchase of ``rows`` goes to (draw keyed by ``counter``).
        ``st``: the rows' stages, if the caller has them."""
        firm = np.zeros(rows.size, np.int64)
        role = np.take(self.ladder.role, self.s.stage[rows] if st is None else st)
        lost = np.flatnonzero(role == LOST)
        if lost.size:
            firm[lost] = np.clip(self.s.firm[rows[lost]], 1, self.K)
        cust = np.flatnonzero(role == CUSTOMER)
        if cust.size:  # the firm whose cumulative attraction first reaches u x the total
            cols = self._columns(rows[cust])
            cum = [cols[0]]
            for c in cols[1:]:
                cum.append(cum[-1] + c)
            u = self.crng.uniform(R.WALLET, rows[cust], counter[cust]) * cum[-1]
            f = np.zeros(cust.size, np.int64)
            for c in cum:
                f += c < u
            firm[cust] = f
        return firm

    def defect_to(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The rival (1..K) each defector moves its whole wallet to, from uniforms ``u``: in
        proportion to the rivals' attraction for that customer (their attractiveness when no
        rival acts, as without share of wallet)."""
        a = self.attraction(rows)[:, 1:]
        cum = np.cumsum(a / a.sum(axis=1, keepdims=True), axis=1)
        return 1 + np.minimum((cum < (u * 0.999999999)[:, None]).sum(axis=1), self.K - 1)

    def defection_factor(self, rows: np.ndarray) -> np.ndarray:
        """Multiplier on a focal customer's defection hazard from rivals' programmes: ``1 + the
        largest switching cost a rival holds on the customer`` (the mirror of the focal firm's
        own programme, whose switching cost multiplies the hazard by ``1 - switching cost``)."""
        if not self._locked:
            return np.ones(rows.size)
        return 1.0 + self.lock[rows].max(axis=1)

    def focal_share(self, rows: np.ndarray) -> np.ndarray:
        """The focal firm's share of wallet of ``rows``."""
        return self.shares(rows)[:, 0]
