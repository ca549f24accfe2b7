"""The clock: a SimPy environment that walks the horizon in processing windows.

Customer events happen at their own exact times inside a window (see :mod:`sim.world`); the
window (``engine.dt`` days) only sets how often word of mouth is refreshed and the firm's
calendar (strategies, reports, market events) gets a turn. Calendar events fire at the first
window boundary at or after their time, lower ``priority`` first: reports (0) see the state
before strategies (1) act on it. At the horizon end only the final report fires.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Callable

import simpy


class Hooks:
    """Named customer events that plug-ins may listen to (``on(name, fn)``; ``fn(rows, t)``)."""

    def __init__(self, names: tuple[str, ...]):
        self._fns: dict[str, list[Callable]] = {k: [] for k in names}

    def on(self, name: str, fn: Callable) -> None:
        """Call ``fn(rows, t)`` whenever event ``name`` happens."""
        if name not in self._fns:
            raise ValueError(f"unknown hook {name!r}; hooks are {sorted(self._fns)}")
        self._fns[name].append(fn)

    def emit(self, name: str, rows, t) -> None:
        """Tell every listener of ``name`` (no-op when nobody listens)."""
        for fn in self._fns[name]:
            fn(rows, t)


class Clock:
    """SimPy calendar and processing windows over ``[0, days]``."""

    def __init__(self, days: float, dt: float):
        self.env = simpy.Environment()
        self.days, self.dt = float(days), float(dt)
        self._calendar: list = []
        self._seq = itertools.count()
        self.finished = False
        self.progress = None

    @property
    def now(self) -> float:
        """Simulated time in days."""
        return float(self.env.now)

    def at(self, t: float, priority: int = 1) -> simpy.Event:
        """An event that fires at the first window boundary >= ``t``, after that window's events."""
        ev = self.env.event()
        heapq.heappush(self._calendar, (float(t), priority, next(self._seq), ev))
        return ev

    def fire(self, now: float) -> None:
        """Fire the calendar events due at ``now``; at the horizon end only reports (priority 0)."""
        horizon_end = now >= self.days - 1e-9
        while self._calendar and self._calendar[0][0] <= now + 1e-9:
            _, priority, _, ev = heapq.heappop(self._calendar)
            if horizon_end and priority > 0:
                continue  # dropped: the run is over once the final report is taken
            ev.succeed(now)

    def windows(self, advance: Callable[[float, float], int]):
        """SimPy process: ``advance(t0, t1)`` for every window, then the calendar at its end."""
        t = 0.0
        self.fire(0.0)
        yield self.env.timeout(0)
        while t < self.days - 1e-9:
            t1 = min(t + self.dt, self.days)
            yield self.env.timeout(t1 - t)
            advance(t, t1)
            t = t1
            if self.progress is not None:
                self.progress.update(t1 - self.progress.n)
            self.fire(t)
            yield self.env.timeout(0)
        self.finished = True

    def every(self, start: float, every: float, fn: Callable[[float], None], priority: int):
        """SimPy process: ``fn(now)`` at ``start``, ``start + every``, ... up to the horizon end."""
        t = start
        while True:
            yield self.at(t, priority)
            fn(self.now)
            if t >= self.days - 1e-9:
                return
            t = min(t + every, self.days)
