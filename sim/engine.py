"""The market engine: the parts put together and run on the SimPy calendar, without Mesa.

* :mod:`sim.ladder` — the ladder compiled from its config;
* :mod:`sim.population` — who is in the market on day 0;
* :mod:`sim.world` — the customers' world and its rules, in continuous time;
* :mod:`sim.clock` — the SimPy calendar and processing windows;
* :mod:`sim.books` — the firm's books (integer cents, a complete P&L);
* :mod:`sim.crm` — the firm's CRM view and actions, the only thing strategies see;
* :mod:`sim.agents.firm` — the firms: the focal firm and its rivals, each with its books, its
  CRM table and (rivals) its own plug-ins; :mod:`sim.wallet` splits purchases among them.

:class:`MarketEngine` handles all due customers of a window in one vectorised call. It needs no
Mesa, so a run that only writes its outputs never imports it. :class:`sim.market.Market` is the
same engine as a Mesa model, with every customer a Mesa agent (a view on one row): the teaching
view, the per-agent path (``engine.mode=agents``) and Python sessions exploring agents use it.
Random numbers come from :mod:`sim.rng` (keyed by customer and touch counter), so both and the
paired control consume identical numbers for identical histories.
"""
from __future__ import annotations

import numpy as np

from . import rng as R
from .books import Books
from .clock import Clock, Hooks
from .config import ConfigError, SimConfig
from .ladder import CUSTOMER, Ladder
from .population import init_population
from .state import CustomerState
from .world import World

HOOKS = ("exposure", "lead", "acquisition", "purchase", "complaint", "defection")


class MarketEngine:
    """Customer lifecycle market, batched. ``strategies`` are built plug-ins (see ``sim.strategies``)."""

    def __init__(self, cfg: SimConfig, strategies: list | None = None, *, mode: str | None = None):
        self.cfg = cfg
        self.seed_seq = np.random.SeedSequence(cfg.seed, spawn_key=(cfg.replication,))
        init_ss, key_ss, self._model_ss = self.seed_seq.spawn(3)
        self.key = int(key_ss.generate_state(1, np.uint64)[0])
        self.crng = R.CounterRNG(self.key)
        self.mode = mode or cfg.engine.mode
        if self.mode == "agents" and type(self)._process_window is MarketEngine._process_window:
            raise ValueError("engine.mode=agents steps Mesa agents: build it as sim.market.Market")
        self.n = cfg.market.n_customers
        self.days = float(cfg.market.days)
        self.ladder = Ladder(cfg)
        self.s = CustomerState(self.n)
        self.books = Books(self.s, cfg.economics.annual_discount_rate, cfg.economics.margin)
        self.hooks = Hooks(HOOKS)
        self.world = World(cfg, self.ladder, self.s, self.crng, self.books, self.hooks)
        if self.mode == "agents":  # every agent checks its own clocks: no due lists
            self.world.calendar = None
        init_population(cfg, self.ladder, self.s, np.random.default_rng(init_ss),
                        self.world.channel_pref_share, self.world.competitor_weights)
        self.world.set_clocks(np.arange(self.n), 0.0)
        self.clock = Clock(self.days, cfg.engine.dt)
        from .agents.firm import firms_from_config
        self.firms = firms_from_config(cfg, self.s, self.books, self.hooks)
        self.world.rivals = self.firms[1:]
        self.strategies = list(strategies or [])
        for i, st in enumerate(self.strategies):
            try:
                st.bind(self, i)
            except ValueError as e:  # a plug-in that does not fit this market: a config error
                raise ConfigError(f"invalid configuration:\n  strategy.{st.name}: {e}") from None
        self._bind_rivals()
        self.customer_agents = None  # Mesa agent views: see sim.market.Market
        from .metrics import make_datacollector
        self.datacollector = make_datacollector(self)
        self._report_times: list[float] = []
        self._flow_rows: list[tuple[float, np.ndarray]] = []
        self._fixed_booked = 0
        self._proc = None

    def _bind_rivals(self) -> None:
        """Build and bind each rival's plug-ins (part of the focal firm's environment: they run in
        the paired no-action control too)."""
        from .strategies.build import build_strategies
        names, channels = self.ladder.names, self.channel_names
        for f in self.firms[1:]:
            where = f"market.competitors[{f.index - 1}].strategy"
            spec = self.cfg.market.competitors[f.index - 1].strategy
            f.strategies = build_strategies(spec, names, channels, where_prefix=where, rival=True)
            for j, st in enumerate(f.strategies):
                try:
                    st.bind(self, j, firm=f)
                except ValueError as e:
                    raise ConfigError(f"invalid configuration:\n  {where}.{st.name}: {e}") from None

    @property
    def rival_strategies(self) -> list:
        """Every rival's plug-ins (including programmes launched during the run)."""
        return [st for f in self.firms[1:] for st in f.strategies]

    def launch(self, plugin, firm=None) -> None:
        """Bind ``plugin`` for ``firm`` (None: the focal firm) and put it on the calendar now."""
        f = firm or self.firms[0]
        group = self.strategies if f.index == 0 else f.strategies
        plugin.bind(self, len(group), firm=f)
        group.append(plugin)
        if self._proc is not None:
            self.clock.env.process(plugin.process(self.clock))

    # ------------------------------------------------------------------ the parts, by their old names
    @property
    def role(self) -> np.ndarray:
        """Role code of each stage (0 pool, 1 lead, 2 customer, 3 lost)."""
        return self.ladder.role

    @property
    def stage_names(self) -> list[str]:
        """The names of the ladder's stages, in ladder order."""
        return self.ladder.names

    @property
    def n_stages(self) -> int:
        """How many stages the ladder has."""
        return self.ladder.n

    @property
    def lost_stage(self) -> int:
        """The index of the ladder's lost stage (gone to a competitor)."""
        return self.ladder.lost

    @property
    def channel_names(self) -> list[str]:
        """The names of the firm's contact and sales channels."""
        return self.world.channel_names

    @property
    def totals(self) -> dict[str, int]:
        """The firm's running totals, cents (see :class:`sim.books.Books`)."""
        return self.books.totals

    @property
    def flows(self) -> np.ndarray:
        """Ladder moves counted so far, as a from-stage × to-stage matrix."""
        return self.world.flows

    @property
    def defections(self) -> int:
        """How many customers have defected to a competitor so far."""
        return self.world.defections

    @property
    def acquisitions(self) -> int:
        """How many customers have been acquired so far."""
        return self.world.acquisitions

    @property
    def env(self):
        """The SimPy environment that runs the market's calendar."""
        return self.clock.env

    @property
    def now(self) -> float:
        """Simulated time, days."""
        return self.clock.now

    @property
    def finished(self) -> bool:
        """Whether the calendar has reached the horizon."""
        return self.clock.finished

    @property
    def quality_shift(self) -> float:
        """The additive shift of the focal firm's service quality (e.g. a service shock)."""
        return self.world.quality_shift

    @quality_shift.setter
    def quality_shift(self, v: float) -> None:
        self.world.quality_shift = float(v)

    def channel_index(self, name: str) -> int:
        """The index of the channel called ``name``; ValueError naming the known channels if there is none."""
        try:
            return self.channel_names.index(name)
        except ValueError:
            raise ValueError(f"unknown channel {name!r}; channels are {self.channel_names}") from None

    def exposure_hazard(self) -> tuple[float, float, float]:
        """A suspect's per-day hazards of exposure to the firm: organic, advertising and word of mouth."""
        return self.world.exposure_hazard()

    # ------------------------------------------------------------------ running
    def at(self, t: float, priority: int = 1):
        """A calendar event at the first window boundary >= ``t`` (see :meth:`sim.clock.Clock.at`)."""
        return self.clock.at(t, priority)

    def advance(self, t0: float, t1: float) -> int:
        """Process one window [t0, t1): every customer event at its exact time, then overheads."""
        w = self.world
        parts = w.exposure_hazard()
        H0 = w.H
        H1 = H0 + sum(parts) * (t1 - t0)
        n_ev = self._process_window(t0, t1, H0, H1, parts)
        w.H = H1
        w.decay_negative_wom(t1 - t0)
        fixed = round(self.cfg.economics.fixed_cost_per_month * 100 * t1 * 12 / 365)
        if fixed > self._fixed_booked:  # exact cents, however the horizon is cut into windows
            self.books.overhead(fixed - self._fixed_booked)
            self._fixed_booked = fixed
        return n_ev

    def _process_window(self, t0, t1, H0, H1, parts) -> int:
        """Every customer event due in [t0, t1), in one vectorised call; how many there were."""
        w = self.world
        return w.process_rows(w.due(t1, H1), t0, t1, H0, H1, parts)

    def process_rows(self, rows, t0, t1, H0, H1, parts) -> int:
        """Handle every event of ``rows`` inside [t0, t1) (the per-agent path calls this)."""
        return self.world.process_rows(rows, t0, t1, H0, H1, parts)

    def collect(self, now: float) -> None:
        """Take one row of the time series."""
        self._report_times.append(float(now))
        self._flow_rows.append((float(now), self.world.flows.copy()))
        self.datacollector.collect(self)

    def step(self) -> None:
        """Mesa API: one processing window."""
        self.clock.env.run(until=min(self.now + self.cfg.engine.dt, self.days) + 1e-9)

    def start(self) -> None:
        """Put reports, plug-ins and the windows on the SimPy calendar (once)."""
        if self._proc is None:
            env = self.clock.env
            env.process(self.clock.every(0.0, self.cfg.engine.report_every, self.collect, priority=0))
            for st in [*self.strategies, *self.rival_strategies]:
                env.process(st.process(self.clock))
            self._proc = env.process(self.clock.windows(self.advance))

    def run(self, progress: bool | None = None, desc: str = "simulating") -> "MarketEngine":
        """Run to the horizon (with a progress bar unless switched off)."""
        self.start()
        show = self.cfg.engine.progress if progress is None else progress
        if show:
            from tqdm.auto import tqdm
            self.clock.progress = tqdm(total=self.days, unit="day", desc=desc, leave=False, disable=None,
                                       bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} days [{elapsed}<{remaining}]")
        try:
            self.clock.env.run(until=self._proc)
            self.clock.env.run(until=self.now + 1e-6)  # let final boundary listeners (last report) run
        finally:
            if self.clock.progress is not None:
                self.clock.progress.close()
                self.clock.progress = None
        return self

    # ------------------------------------------------------------------ derived views (measurement)
    def stage_counts(self) -> np.ndarray:
        """How many customers are on each ladder stage now."""
        return np.bincount(self.s.stage, minlength=self.n_stages)

    def current_patronage(self, rows=None, t=None) -> np.ndarray:
        """Patronage of ``rows`` (default: everyone) at time ``t`` (default: now), decayed since each last purchase."""
        s = self.s
        t = self.now if t is None else t
        last = s.last_purchase_at if rows is None else s.last_purchase_at[rows]
        patronage = s.patronage if rows is None else s.patronage[rows]
        out = patronage * np.exp(-(t - last) / self.cfg.service.patronage_memory_days)
        out[np.isnan(last)] = 0.0  # never bought
        return out

    def _attitude_and_repeat(self, rows=None) -> tuple[np.ndarray, np.ndarray]:
        """Dick & Basu's two axes for ``rows`` (default: everyone): a favourable attitude, repeat patronage."""
        att = (self.s.attitude if rows is None else self.s.attitude[rows]) >= 0.5
        return att, self.current_patronage(rows) >= 0.5

    def loyalty_quadrant(self, rows=None) -> np.ndarray:
        """Dick & Basu (1994): 0 no loyalty, 1 latent, 2 spurious, 3 true loyalty."""
        att, repeat = self._attitude_and_repeat(rows)
        q = repeat.astype(np.int8)
        q *= 2
        q += att  # 1 attitude, 2 repeat patronage, 3 both
        return q

    def loyalty_quadrant_counts(self, rows=None) -> np.ndarray:
        """How many of ``rows`` (default: everyone) are in each quadrant of :meth:`loyalty_quadrant`."""
        att, repeat = self._attitude_and_repeat(rows)
        both, n_att, n_repeat = (int(np.count_nonzero(x)) for x in (att & repeat, att, repeat))
        return np.array([att.size - n_att - n_repeat + both, n_att - both, n_repeat - both, both], dtype=np.int64)

    def transactions(self):
        """The purchase log so far: customer row, time, amount in cents and channel, as arrays."""
        return self.books.transactions()

    def n_transactions(self) -> int:
        """How many purchases have been logged so far."""
        return self.books.n_transactions()

    def marketing_spend(self) -> int:
        """The focal firm's marketing spend so far, in cents."""
        return self.books.marketing_spend()

    def profit_cents(self) -> int:
        """The focal firm's profit so far, in cents."""
        return self.books.profit()

    def discount(self, t) -> np.ndarray:
        """The discount factor applied to money at time ``t`` (for present values)."""
        return self.books.discount(t)

    def active_customers(self) -> np.ndarray:
        """Rows currently buying from the focal firm (true state; for measurement, not strategies)."""
        return np.flatnonzero(self.ladder.role[self.s.stage] == CUSTOMER)

    # ------------------------------------------------------------------ for world mechanisms (validation models)
    def book_margin(self, rows, cents, t: float | None = None) -> None:
        """Book margin earned by ``rows`` outside a purchase (may be negative)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        cents = np.broadcast_to(np.asarray(cents, dtype=np.int64), rows.shape)
        self.books.margin_only(rows, cents, self.now if t is None else float(t))

    def migrate(self, rows, to, t: float | None = None) -> None:
        """Move ``rows`` to stage index (or per-row indices) ``to`` through the ordinary move path."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        t = self.now if t is None else float(t)
        self.world.move(rows, to, np.full(rows.size, t))
