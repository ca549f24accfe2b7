"""The firm's CRM view: what the firm has recorded about its customers, and what it can do.

This is the boundary between the firm and the customers' world. A strategy receives a
:class:`CrmView` and nothing else. The view exposes only what a real firm records (004's
campaign management, 000's KPI table): transactions, contacts and responses, complaints,
leads, enrolments, survey answers, and the ladder stage *as the firm classifies it from that
record* (:meth:`CrmView.stage`). Latent traits (true spend level, purchase rate, dropout,
satisfaction, trust, attitude) are not reachable through it; satisfaction can be learned
only through a survey (:class:`sim.strategies.Survey`), which costs money and is noisy.

The firm's actions (contact, convert, win back, sell, adjust) change the world through the
world's own rules: how a customer responds to a contact depends on the channel, on who the
customer really is (prospect, existing or lapsed customer), on the offer's value and on how
often the customer has been contacted lately (``channels.*.response``, ``economics.offer_*``,
``economics.contact_fatigue``).
"""
from __future__ import annotations

import numpy as np

from . import rng as R
from .ladder import CUSTOMER, LEAD, LOST, POOL, true_runs
from .state import CAUSE
from .world import _AUDIENCE_OF_ROLE

#: Columns of the customer table that the firm records (every other column is latent or engine state).
RECORDED = ("n_purchases", "revenue", "margin", "last_purchase_at", "acquired_at", "acquired_via", "n_contacts",
            "n_responses", "last_contact_at", "complaint_open", "n_complaints", "channel", "points", "lead_at",
            "surveyed_satisfaction", "surveyed_at", "clv", "contact_cost", "offer_cost")
#: Customer events the firm observes (a strategy may listen to them with ``crm.on``).
OBSERVED_EVENTS = ("purchase", "complaint", "lead", "acquisition")


def _stage_by_count(lad) -> tuple[np.ndarray, int]:
    """The recorded stage of a customer not lapsed, by purchase count 0..``top`` (a count above
    ``top`` classifies as ``top``): the pool (else lead) stage for none, then the highest
    customer stage whose ``crm_min_purchases`` the count reaches."""
    cust = lad.customer_stages()
    thresholds = lad.crm_min_purchases[cust]
    top = int(max(thresholds.max(initial=0), 0)) + 1   # any count above every threshold classifies as ``top``
    k = np.searchsorted(thresholds, np.arange(1, top + 1), side="right") - 1
    by_count = np.empty(top + 1, dtype=np.int16)       # stage by purchase count 0..top
    by_count[0] = lad.pool if lad.pool >= 0 else lad.lead
    by_count[1:] = cust[np.clip(k, 0, cust.size - 1)]
    return by_count, top


def _classify(lad, s, now: float, lapsed_after: float) -> np.ndarray:
    """The recorded stage of every row of the records ``s`` at ``now`` (see :meth:`CrmView.stage`)."""
    by_count, top = _stage_by_count(lad)
    npur = s.n_purchases
    out = by_count[np.minimum(npur, top)]
    if lad.lead >= 0 and lad.pool >= 0:
        out[(npur == 0) & ~np.isnan(s.lead_at)] = lad.lead
    out[(npur > 0) & ~((now - s.last_purchase_at) <= lapsed_after)] = lad.lost  # NaN: lapsed, as never
    return out


def _recorded_in(lad, s, now: float, lapsed_after: float, pick: np.ndarray) -> np.ndarray:
    """Mask of the rows of the records ``s`` whose recorded stage at ``now`` is picked (``pick``:
    one bool per stage): ``pick[_classify(lad, s, now, lapsed_after)]``, from comparisons on the
    recorded columns instead of a stage for every row. A picked set of customer stages is a few
    runs of purchase counts (a customer's stage never falls as its count grows)."""
    by_count, top = _stage_by_count(lad)
    npur = s.n_purchases
    parts = []
    first = by_count[0]  # the stage of those who never bought, unless registered as leads
    if lad.lead >= 0 and lad.pool >= 0 and pick[lad.lead] != pick[first]:
        is_lead = ~np.isnan(s.lead_at)
        parts.append((npur == 0) & (is_lead if pick[lad.lead] else ~is_lead))
    elif pick[first]:
        parts.append(npur == 0)
    runs = [(a + 1, b + 1) for a, b in true_runs(pick[by_count[1:]])]  # runs of counts 1..top
    if pick[lad.lost] or runs:
        recent = (now - s.last_purchase_at) <= lapsed_after           # NaN: lapsed, as never
        if pick[lad.lost]:
            parts.append((npur > 0) & ~recent)
        for a, b in runs:
            run = npur >= a if b >= top else (npur >= a) & (npur <= b)
            parts.append(run & recent)
    if not parts:
        return np.zeros(npur.size, dtype=bool)
    mask = parts[0]
    for p in parts[1:]:
        mask |= p
    return mask


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class CrmView:
    """One strategy's window on the firm's CRM database, and its actions on the market."""

    __slots__ = ("_m", "_st")

    def __init__(self, market, strategy):
        self._m = market
        self._st = strategy

    # ------------------------------------------------------------------ what the firm knows
    @property
    def now(self) -> float:
        """Today (days since the start)."""
        return self._m.now

    @property
    def n(self) -> int:
        """Rows of the CRM table (everyone on the firm's lists)."""
        return self._m.n

    @property
    def stage_names(self) -> list[str]:
        """The ladder's stage names, in order."""
        return list(self._m.stage_names)

    @property
    def channel_names(self) -> list[str]:
        """The firm's contact channels."""
        return list(self._m.channel_names)

    def channel_cost(self, channel: str) -> int:
        """Cost of one contact through ``channel``, cents."""
        m = self._m
        return int(m.world.channel_cost[m.channel_index(channel)])

    def record(self, column: str) -> np.ndarray:
        """A recorded column for every row (read-only). ``RECORDED`` lists them; money in cents."""
        if column not in RECORDED:
            raise KeyError(f"{column!r} is not in the firm's CRM records; recorded columns are {list(RECORDED)}")
        return _read_only(getattr(self._records(), column))

    def _records(self):
        return self._m.s

    def _books(self):
        """The books this view's spending goes to (the focal firm's; a rival's in RivalView)."""
        return self._m.books

    def stage(self) -> np.ndarray:
        """The ladder stage of every row as the firm classifies it from its records.

        Never bought: lead stage if the firm registered the person as a lead, else pool stage.
        Bought, but nothing for ``crm.lapsed_after_days``: the lost stage (lapsed). Otherwise
        the highest customer stage whose ``crm_min_purchases`` the purchase count reaches.
        """
        return self._stage().copy()

    def _stage(self) -> np.ndarray:
        """:meth:`stage`, computed once per (day, version of the records) and shared by every view
        on the same records (do not write to it)."""
        m = self._m
        s = self._records()
        w = m.world
        key = (m.now, w.version)
        hit = w.stage_cache.get(id(s))
        if hit is not None and hit[0] == key:
            return hit[1]
        out = _classify(m.ladder, s, m.now, m.cfg.crm.lapsed_after_days)
        w.stage_cache[id(s)] = (key, out)
        return out

    def role(self) -> np.ndarray:
        """Role of every row's recorded stage: 0 pool, 1 lead, 2 customer, 3 lapsed."""
        return self._m.ladder.role[self._stage()]

    def rows_in(self, stages: list[str]) -> np.ndarray:
        """Rows the firm classifies in any of ``stages`` (names; unknown names are ignored)."""
        pick = np.zeros(self._m.ladder.n, dtype=bool)
        pick[self._m.ladder.index(stages)] = True
        return np.flatnonzero(self._in(pick))

    def rows_with_role(self, *roles: int) -> np.ndarray:
        """Rows whose recorded stage has one of ``roles`` (POOL, LEAD, CUSTOMER, LOST)."""
        return np.flatnonzero(self._in(np.isin(self._m.ladder.role, roles)))

    def count_with_role(self, *roles: int) -> int:
        """How many rows :meth:`rows_with_role` would return."""
        return int(np.count_nonzero(self._in(np.isin(self._m.ladder.role, roles))))

    def _in(self, pick: np.ndarray) -> np.ndarray:
        """Mask of the rows whose recorded stage is picked (``pick[self._stage()]``, without
        classifying every row)."""
        m = self._m
        return _recorded_in(m.ladder, self._records(), m.now, m.cfg.crm.lapsed_after_days, pick)

    def days_since_purchase(self, rows) -> np.ndarray:
        """Days since each row's last recorded purchase (inf if none)."""
        last = self._records().last_purchase_at[rows]
        return np.where(np.isnan(last), np.inf, self._m.now - last)

    def avg_order_value(self, rows) -> np.ndarray:
        """Recorded revenue per purchase, currency (0 if none)."""
        s = self._records()
        n = s.n_purchases[rows]
        return np.where(n > 0, s.revenue[rows] / 100.0 / np.maximum(n, 1), 0.0)

    def observed_rate(self, rows) -> np.ndarray:
        """Purchases per day since the first recorded purchase (the firm's estimate of frequency)."""
        s = self._records()
        tenure = np.maximum(self._m.now - np.nan_to_num(s.acquired_at[rows], nan=self._m.now), 30.0)
        return s.n_purchases[rows] / tenure

    def uniform(self, rows, counter) -> np.ndarray:
        """The strategy's own uniform draws for ``rows`` (keyed by run, strategy and ``counter``)."""
        return self._m.crng.uniform(self._st.stream, np.asarray(rows, dtype=np.int64), counter)

    # ------------------------------------------------------------------ listening
    def on(self, event: str, fn) -> None:
        """Call ``fn(rows, t)`` whenever an observed event happens (``OBSERVED_EVENTS``)."""
        if event not in OBSERVED_EVENTS:
            raise ValueError(f"unknown or unobservable event {event!r}; the firm observes {list(OBSERVED_EVENTS)}")
        self._m.hooks.on(event, fn)

    # ------------------------------------------------------------------ money
    @property
    def remaining_budget(self) -> int:
        """The strategy's unspent budget, cents."""
        return self._st.ledger.remaining

    def contacts_affordable(self, channel: str | None = None) -> int | None:
        """At most how many of a list :meth:`contact` would reach now through ``channel`` (default
        the strategy's): what the remaining budget pays for. None when it cannot say (a holdout
        share, whose draws take rows out of the list first, or contacts that cost nothing)."""
        st = self._st
        if st.holdout > 0:
            return None
        cost = int(self._m.world.channel_cost[self._m.channel_index(channel or st.channel)])
        return st.ledger.remaining // cost if cost > 0 else None

    def affordable(self, rows, per_row_cents) -> np.ndarray:
        """The leading rows whose cumulative cost fits the strategy's remaining budget."""
        rows = np.asarray(rows, dtype=np.int64)
        per = np.broadcast_to(np.asarray(per_row_cents, dtype=np.int64), rows.shape)
        return rows[np.cumsum(per) <= self._st.ledger.remaining]

    def charge(self, cents: int) -> bool:
        """Firm-level marketing spend (e.g. advertising). False, and nothing spent, if unaffordable."""
        cents = int(cents)
        if cents <= 0:
            return True
        if cents > self._st.ledger.remaining:
            return False
        self._st.ledger.charge(cents)
        self._books().firm_spend(cents)
        return True

    def charge_rows(self, rows, per_row_cents, kind: str = "offer") -> np.ndarray:
        """Spend on identified customers (``kind`` offer or contact); returns the rows paid for."""
        rows = np.asarray(rows, dtype=np.int64)
        per = np.broadcast_to(np.asarray(per_row_cents, dtype=np.int64), rows.shape)
        rows = self.affordable(rows, per)
        per = per[: rows.size]
        if rows.size:
            self._st.ledger.charge(int(per.sum()))
            self._books().customer_cost(rows, per, self._m.now, kind)
        return rows

    def redeem(self, rows, value: float) -> np.ndarray:
        """Responders redeem an offer worth ``value`` each (discount, coupon, points, free
        service): the firm pays it per redemption. Rows the budget cannot pay for get nothing."""
        if value <= 0:
            return np.asarray(rows, dtype=np.int64)
        paid = self.charge_rows(rows, round(value * 100), "offer")
        self._st.count("redemptions", paid.size)
        return paid

    # ------------------------------------------------------------------ contact
    def contact(self, rows, channel: str | None = None, offer: float = 0.0,
                response: float | None = None) -> np.ndarray:
        """Contact ``rows`` (in priority order) through ``channel`` with an offer worth ``offer``.

        ``response`` replaces the channel's sales-response rate for requests that are not an
        offer to buy (a survey, an invitation to enrol); fatigue still applies.

        Holds out the strategy's control share, stops when the budget is exhausted, charges the
        channel's cost per contact, annoys customers contacted too often or through a channel
        they do not prefer, and returns the rows that responded. The offer is not paid here:
        call :meth:`redeem` for the responders who take it up.
        """
        m, st = self._m, self._st
        s, w, now = m.s, m.world, m.now
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return rows
        bit = np.uint64(1) << np.uint64(st.index)
        if st.holdout > 0:
            hold = m.crng.uniform(st.stream, rows, 0) < st.holdout
            s.held_out[rows[hold]] |= bit
            rows = rows[~hold]
        ch = m.channel_index(channel or st.channel)
        cost = int(w.channel_cost[ch])
        rows = rows[: st.ledger.affordable(cost, rows.size)]
        if rows.size == 0:
            return rows
        st.ledger.charge(cost * rows.size)
        m.books.customer_cost(rows, np.full(rows.size, cost, dtype=np.int64), now, "contact")
        st.count("contacts", rows.size)
        # a contact does not advance the customer's touch counter: the customer's own later draws
        # (purchases, service) stay those of the paired control; the response draw is keyed by
        # the contact count instead
        s.n_contacts[rows] += 1
        c = s.n_contacts[rows].astype(np.uint64)
        s.treated[rows] |= bit
        ec = m.cfg.economics
        last = s.last_contact_at[rows]
        decay = np.where(np.isnan(last), 0.0, np.exp(-(now - np.nan_to_num(last)) / 30.0))
        before = s.recent_contacts[rows] * decay
        s.recent_contacts[rows] = before + 1.0
        s.last_contact_at[rows] = now
        annoy = np.where(s.channel[rows] != ch, ec.annoyance_wrong_channel, 0.0)
        annoy = annoy + np.where(s.recent_contacts[rows] > ec.contact_tolerance, ec.annoyance_excess, 0.0)
        s.satisfaction[rows] = np.clip(s.satisfaction[rows] - annoy, 0, 1)
        p = self._response_probability(rows, ch, offer, before, response)
        responded = m.crng.uniform(st.stream ^ R.CONTACT, rows, c) < p
        resp = rows[responded]
        if response is None:  # offers to buy: response by channel and audience, for the measurements
            aud = _AUDIENCE_OF_ROLE[m.ladder.role[s.stage[rows]]]
            np.add.at(w.sales_contacts, (ch, aud), 1)
            np.add.at(w.sales_responses, (ch, aud[responded]), 1)
        s.n_responses[resp] += 1
        st.count("responders", resp.size)
        w.set_clocks(rows, now)
        return resp

    def _response_probability(self, rows, ch: int, offer: float, recent: np.ndarray,
                              response: float | None) -> np.ndarray:
        """The world's rule: base rate of (channel, true audience) × offer lift × fatigue."""
        m = self._m
        s, w, lad, ec = m.s, m.world, m.ladder, m.cfg.economics
        stage = s.stage[rows]
        if response is None:
            base = w.channel_response[ch, _AUDIENCE_OF_ROLE[lad.role[stage]]]
        else:
            base = np.full(rows.size, float(response))
        lift = 1.0
        if offer > 0:
            value = offer / np.maximum(w.basket(rows, m.now), 1e-9)   # offer as a share of the basket
            lift = 1.0 + ec.offer_max_lift * lad.price_sensitivity[stage] * (1.0 - 0.5 ** (value / ec.offer_half_value))
        fatigue = np.exp(-ec.contact_fatigue * recent)
        return np.minimum(1.0, base * lift * fatigue)

    # ------------------------------------------------------------------ actions
    def convert(self, rows, cause: str = "contact") -> np.ndarray:
        """Suspects and prospects among ``rows`` make their first purchase now."""
        m = self._m
        s, lad, w = m.s, m.ladder, m.world
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[lad.role[s.stage[rows]] <= LEAD]
        if rows.size:
            w.touch(rows)
            now = np.full(rows.size, m.now)
            pool = lad.role[s.stage[rows]] == POOL
            if pool.any():  # a suspect reached directly is exposed first
                s.h_expose[rows[pool]] = np.inf
                s.acquired_via[rows[pool]] = CAUSE[cause]
                w.apply_transitions(rows[pool], now[pool], "exposure", cause)
            lead = lad.role[s.stage[rows]] == LEAD
            w.apply_transitions(rows[lead], now[lead], "conversion", cause)
            self._push_seen()  # offers to prospects are seen in the market
        return rows

    def win_back(self, rows) -> np.ndarray:
        """Lost customers among ``rows`` come back and buy; customers the firm thought lapsed
        but who never left simply buy now (the offer subsidised a purchase). Returns buyers."""
        m = self._m
        s, lad, w = m.s, m.ladder, m.world
        rows = np.asarray(rows, dtype=np.int64)
        lost = rows[lad.role[s.stage[rows]] == LOST]
        back = np.zeros(0, np.int64)
        if lost.size:
            w.touch(lost)
            back = w.apply_transitions(lost, np.full(lost.size, m.now), "winback", "winback")
        active = rows[lad.role[s.stage[rows]] == CUSTOMER]
        active = active[~np.isin(active, back)]
        if active.size:
            w.purchase(active, np.full(active.size, m.now), wallet=False)
        return np.concatenate([back, active])

    def sell(self, rows, basket: float, margin: float | None = None) -> np.ndarray:
        """Current customers among ``rows`` buy another product now, worth ``basket`` × their
        usual basket, at gross margin ``margin`` (default ``economics.margin``)."""
        m = self._m
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[m.ladder.role[m.s.stage[rows]] == CUSTOMER]
        if rows.size:
            m.world.purchase(rows, np.full(rows.size, m.now), basket=basket, margin_share=margin, wallet=False)
        return rows

    def upgrade(self, rows, uplift: float, cap: float) -> np.ndarray:
        """Current customers among ``rows`` move to a premium basket: ``uplift`` more, at most
        ``cap`` more in all; the uplift fades (``economics.upsell_memory_days``) unless renewed."""
        m = self._m
        s = m.s
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[m.ladder.role[s.stage[rows]] == CUSTOMER]
        if rows.size:
            age = np.nan_to_num(m.now - s.upsell_at[rows], nan=np.inf)
            now_level = s.upsell[rows] * np.exp(-np.maximum(age, 0) / m.cfg.economics.upsell_memory_days)
            s.upsell[rows] = np.minimum(cap, now_level + uplift)
            s.upsell_at[rows] = m.now
        return rows

    def adjust(self, rows, *, satisfaction: float = 0.0, trust: float = 0.0, attitude: float = 0.0,
               switching_cost=None, more_switching_cost: float = 0.0, rate_boost=None,
               service_boost=None) -> None:
        """Effects of the firm's action on customers (additive for 0..1 scores, absolute for
        the others); clocks are re-timed so new rates apply now. The firm never reads these back."""
        m = self._m
        s = m.s
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        for name, dv in (("satisfaction", satisfaction), ("trust", trust), ("attitude", attitude)):
            if dv:
                arr = getattr(s, name)
                arr[rows] = np.clip(arr[rows] + dv, 0, 1)
        if more_switching_cost:
            s.switching_cost[rows] = np.minimum(1.0, s.switching_cost[rows] + more_switching_cost)
        if (switching_cost is not None or more_switching_cost) and m.world.public["loyalty_programme_since"] is None:
            m.world.public["loyalty_programme_since"] = m.now  # members' benefits are visible to rivals
        for name, val in (("switching_cost", switching_cost), ("rate_boost", rate_boost),
                          ("service_boost", service_boost)):
            if val is not None:
                getattr(s, name)[rows] = val
        m.world.set_clocks(rows, m.now)

    def resolve_complaints(self, rows) -> None:
        """The firm closes these customers' open complaints (recorded)."""
        self._m.s.complaint_open[np.asarray(rows, dtype=np.int64)] = False

    def add_points(self, rows, cents) -> None:
        """Record loyalty points credited to members (currency value, from cents)."""
        np.add.at(self._m.s.points, np.asarray(rows, dtype=np.int64), np.asarray(cents) / 100.0)

    def record_survey(self, rows, channel: str | None = None, response: float = 0.1,
                      noise_sd: float = 0.1) -> np.ndarray:
        """Survey ``rows``: a share ``response`` answers and states its satisfaction with noise
        (sd ``noise_sd``), which the firm records. Returns the rows that answered."""
        m = self._m
        resp = self.contact(rows, channel, response=response)
        if resp.size:
            z = m.crng.normal(R.SURVEY ^ self._st.stream, resp, m.s.n_contacts[resp].astype(np.uint64))
            m.s.surveyed_satisfaction[resp] = np.clip(m.s.satisfaction[resp] + noise_sd * z, 0, 1)
            m.s.surveyed_at[resp] = m.now
        return resp

    def launch(self, plugin) -> None:
        """Start another plug-in for this firm, acting from the next window on (e.g. a programme
        that answers a rival's). It gets its own view, budget and counters."""
        self._m.launch(plugin, getattr(self, "_f", None))

    # ------------------------------------------------------------------ market-wide levers
    def advertise(self, hazard_per_day: float) -> None:
        """Set the extra exposure hazard that paid media adds for every suspect."""
        self._m.world.ad_pressure = float(hazard_per_day)
        if hazard_per_day > 0:
            self._push_seen()

    def _push_seen(self) -> None:
        pub = self._m.world.public
        if pub["acquisition_push_since"] is None:
            pub["acquisition_push_since"] = self._m.now

    def set_offer(self, share: float) -> None:
        """A standing offer worth ``share`` of the basket on every purchase at the firm: it
        raises the firm's share of its customers' wallets (paid per redemption by the plug-in)."""
        self._m.world.wallet.offer[0] = float(share)

    def amplify_word_of_mouth(self, factor: float) -> None:
        """Multiply word of mouth (e.g. while a referral programme is funded)."""
        self._m.world.wom_boost = float(factor)


class RivalView(CrmView):
    """A rival's CRM view: only the rival's own customers' records (its transactions, contacts,
    points), the events it observes about them, and the actions a rival has in this market.

    A rival acts on the customers' share of wallet (:mod:`sim.wallet`): its loyalty programme's
    switching cost and rate uplift, its contacts' effect on attitude, and a standing offer. It
    also sees the focal firm's public moves (:meth:`market_signals`), never its records.
    """

    __slots__ = ("_f",)

    def __init__(self, market, firm, strategy):
        super().__init__(market, strategy)
        self._f = firm

    def _records(self):
        return self._f.records

    def _books(self):
        return self._f.books

    @property
    def firm_name(self) -> str:
        """The rival's name."""
        return self._f.name

    def market_signals(self) -> dict:
        """The focal firm's moves a rival can see: the day its loyalty programme (member
        benefits) and its acquisition push (advertising, offers to prospects) were first seen."""
        return dict(self._m.world.public)

    def on(self, event: str, fn) -> None:
        """Call ``fn(rows, t)`` on the rival's own customers' events (``purchase``, ``acquisition``)."""
        from .agents.firm import RIVAL_EVENTS
        if event not in RIVAL_EVENTS:
            raise ValueError(f"unknown or unobservable event {event!r}; a rival observes {list(RIVAL_EVENTS)}")
        self._f.hooks.on(event, fn)

    def contact(self, rows, channel: str | None = None, offer: float = 0.0,
                response: float | None = None) -> np.ndarray:
        """Contact ``rows`` through ``channel`` (paid from the budget); returns the responders.
        Without ``response``, the channel's rate for the audience as the rival records it."""
        m, st, rec = self._m, self._st, self._f.records
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return rows
        if st.holdout > 0:
            rows = rows[m.crng.uniform(st.stream, rows, 0) >= st.holdout]
        ch = m.channel_index(channel or st.channel)
        cost = int(m.world.channel_cost[ch])
        rows = rows[: st.ledger.affordable(cost, rows.size)]
        if rows.size == 0:
            return rows
        st.ledger.charge(cost * rows.size)
        self._f.books.customer_cost(rows, np.full(rows.size, cost, dtype=np.int64), m.now, "contact")
        st.count("contacts", rows.size)
        rec.n_contacts[rows] += 1
        rec.last_contact_at[rows] = m.now
        if response is None:
            aud = _AUDIENCE_OF_ROLE[m.ladder.role[self._stage()[rows]]]
            p = m.world.channel_response[ch, aud]
        else:
            p = np.full(rows.size, float(response))
        resp = rows[m.crng.uniform(st.stream ^ R.CONTACT, rows, rec.n_contacts[rows].astype(np.uint64)) < p]
        rec.n_responses[resp] += 1
        st.count("responders", resp.size)
        return resp

    def adjust(self, rows, *, satisfaction: float = 0.0, trust: float = 0.0, attitude: float = 0.0,
               switching_cost=None, more_switching_cost: float = 0.0, rate_boost=None,
               service_boost=None) -> None:
        """The rival's effect on customers' share of wallet: satisfaction, trust and attitude
        raise their attitude towards the rival; switching cost and rate uplift (its loyalty
        programme) pull purchases towards it. Service boosts have no effect for a rival."""
        wal = self._m.world.wallet
        k = self._f.index - 1
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        d = satisfaction + trust + attitude
        if d or switching_cost is not None or more_switching_cost or rate_boost is not None:
            wal._plain = False
        if d:
            wal.attitude[rows, k] = np.clip(wal.attitude[rows, k] + d, -1, 1)
        if switching_cost is not None:
            wal.lock[rows, k] = switching_cost
        if more_switching_cost:
            wal.lock[rows, k] = np.minimum(1.0, wal.lock[rows, k] + more_switching_cost)
        if rate_boost is not None:
            wal.boost[rows, k] = rate_boost
        if switching_cost is not None or more_switching_cost:
            wal._locked = True
            self._m.world.set_clocks(rows, self._m.now)  # the focal defection hazard changed

    def add_points(self, rows, cents) -> None:
        """Credit loyalty points worth ``cents`` to each of ``rows`` in the rival's records."""
        np.add.at(self._f.records.points, np.asarray(rows, dtype=np.int64), np.asarray(cents) / 100.0)

    def resolve_complaints(self, rows) -> None:
        """Mark the open complaints of ``rows`` as resolved in the rival's records."""
        self._f.records.complaint_open[np.asarray(rows, dtype=np.int64)] = False

    def set_offer(self, share: float) -> None:
        """Set the rival's standing offer: the share of wallet it offers customers to switch."""
        self._m.world.wallet.offer[self._f.index] = float(share)

    def _not_for_rivals(self, what: str):
        raise ValueError(f"{what}: a rival cannot do this in this market (rivals act on share of wallet: "
                         "loyalty programmes, contacts, offers)")

    def convert(self, rows, cause: str = "contact"):
        """Not available to a rival: raises ValueError (only the focal firm converts prospects here)."""
        self._not_for_rivals("convert")

    def win_back(self, rows):
        """Not available to a rival: raises ValueError (only the focal firm wins back lost customers here)."""
        self._not_for_rivals("win_back")

    def sell(self, rows, basket: float, margin: float | None = None):
        """Not available to a rival: raises ValueError (only the focal firm sells baskets here)."""
        self._not_for_rivals("sell")

    def upgrade(self, rows, uplift: float, cap: float):
        """Not available to a rival: raises ValueError (only the focal firm upgrades spend here)."""
        self._not_for_rivals("upgrade")

    def record_survey(self, rows, channel: str | None = None, response: float = 0.1, noise_sd: float = 0.1):
        """Not available to a rival: raises ValueError (only the focal firm surveys customers here)."""
        self._not_for_rivals("record_survey")

    def advertise(self, hazard_per_day: float) -> None:
        """Not available to a rival: raises ValueError (only the focal firm advertises to the pool here)."""
        self._not_for_rivals("advertise")

    def amplify_word_of_mouth(self, factor: float) -> None:
        """Not available to a rival: raises ValueError (only the focal firm amplifies word of mouth here)."""
        self._not_for_rivals("amplify_word_of_mouth")
