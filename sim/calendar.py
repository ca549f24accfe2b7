"""Due lists: which customers have an event in a processing window, without scanning everyone.

Every time :meth:`sim.world.World.set_clocks` gives a customer a finite clock, the customer is
filed under the processing window its next event falls in (the windows :class:`sim.clock.Clock`
walks: ``[0, dt), [dt, 2 dt), ...`` up to the horizon) and, for suspects, under its exposure
threshold in a list kept sorted (the cumulative exposure hazard ``H`` only grows). A window takes
out what was filed up to its end and keeps the customers whose clocks still say they are due.
An entry made stale by a later clock change is dropped at that check: the later change filed the
customer again, under the window its clock now points to. So the due set is exactly what a full
scan of the clock arrays finds, and the cost of a window follows its events, not the number of
customers.
"""
from __future__ import annotations

import numpy as np

_EMPTY = np.zeros(0, dtype=np.int64)


def window_ends(dt: float, days: float) -> np.ndarray:
    """The ends of the processing windows over ``[0, days]``, computed as :class:`sim.clock.Clock` walks them."""
    ends, t, dt, days = [], 0.0, float(dt), float(days)
    while t < days - 1e-9:
        t = min(t + dt, days)
        ends.append(t)
    return np.array(ends, dtype=float)


class DueCalendar:
    """Customers filed by the window of their next event and by their exposure threshold."""

    def __init__(self, dt: float, days: float, n: int = 0):
        self.dt, self.days = float(dt), float(days)
        self._ends = window_ends(dt, days)
        self._ends_inf = np.append(self._ends, np.inf)
        # a power-of-two dt whose window ends are exactly k x dt (all but the last, the horizon):
        # t / dt is then exact and its integer part is the window (no rounding to correct)
        m, _ = np.frexp(self.dt)
        k = np.arange(1, self._ends.size, dtype=float)
        self._exact = bool(m == 0.5 and self._ends.size > 0 and np.array_equal(self._ends[:-1], k * self.dt)
                           and self._ends[-1] > (self._ends.size - 1) * self.dt)
        self.n = n                              # rows in the market (0: unknown)
        # bucket k: customers due in window k (before its end, from the previous end on); bucket
        # len(ends) holds clocks past every window's end but before the horizon
        self._buckets: dict[int, list[np.ndarray]] = {}
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, buckets) filed since the last take
        self._first = self._ends.size + 1       # no bucket below this one holds entries
        self._h = np.zeros(0)                   # exposure thresholds, sorted, from _hpos on
        self._hrows = _EMPTY
        self._hpos = 0
        self._hbuf: list[tuple[np.ndarray, np.ndarray]] = []
        self._hbuf_n = 0

    # ------------------------------------------------------------------ filing
    def _bucket(self, t_next: np.ndarray) -> np.ndarray:
        """The window each time falls in: how many window ends are at or before it
        (``np.searchsorted(ends, t_next, side="right")``, from ``t_next / dt`` and a check
        against the ends, which the clock accumulates with rounding)."""
        ends = self._ends_inf
        b = np.minimum(np.maximum(t_next, 0.0) / self.dt, float(self._ends.size)).astype(np.int64)
        if self._exact:  # the estimate is the answer (see __init__)
            return b
        while True:  # at most a step or two: the estimate is off only by rounding
            up = ends[b] <= t_next
            if not up.any():
                break
            b += up
        while True:
            down = (b > 0) & (ends[b - 1] > t_next)
            if not down.any():
                return b
            b -= down

    def _last(self, t1: float) -> int:
        """The last bucket a window ending at ``t1`` takes (the one holding ``t1`` if it is no window's end)."""
        return int(np.searchsorted(self._ends, t1, side="left")) if t1 < np.inf else self._ends.size

    def file_times(self, rows: np.ndarray, t_next: np.ndarray) -> None:
        """File ``rows`` under the window of ``t_next`` (their earliest clock); inf or past the
        horizon: not filed (such a clock never comes due)."""
        keep = t_next < self.days
        if not keep.all():
            rows, t_next = rows[keep], t_next[keep]
        if rows.size == 0:
            return
        self._file(rows, self._bucket(t_next))

    def refile_unless_stale(self, rows: np.ndarray, t_next: np.ndarray, t1: float) -> None:
        """Taken at ``t1`` but not due: file again the rows whose clock ``t_next`` is in the
        window holding ``t1`` (a window taken part-way); drop the others, stale entries whose
        customers were filed again, where they are due, when their clocks last changed."""
        keep = t_next < self.days
        rows, t_next = rows[keep], t_next[keep]
        b = self._bucket(t_next)
        keep = b <= self._last(t1)
        if keep.any():
            self._file(rows[keep], b[keep])

    def _file(self, rows: np.ndarray, b: np.ndarray) -> None:
        """File ``rows`` under buckets ``b``: kept aside until the next :meth:`take`, which sorts
        everything filed since the last one into the buckets at once (one piece per bucket per
        window instead of one per call, so a take concatenates fewer, larger pieces)."""
        self._pending.append((rows.astype(np.int64, copy=True), b))

    def _flush(self) -> None:
        """Sort what was filed since the last take into its buckets."""
        pend = self._pending
        if not pend:
            return
        if len(pend) == 1:
            rows, b = pend[0]
        else:
            rows = np.concatenate([x[0] for x in pend])
            b = np.concatenate([x[1] for x in pend])
        self._pending = []
        lo, hi = int(b.min()), int(b.max())
        if lo == hi:
            self._put(lo, rows)
            return
        if hi - lo < 65536:  # small keys: numpy's stable sort is a radix sort, linear in the rows
            b = (b - lo).astype(np.uint16)
        order = np.argsort(b, kind="stable")
        b, rows = b[order], rows[order]
        cut = (np.flatnonzero(b[1:] != b[:-1]) + 1).tolist()
        base = lo if b.dtype == np.uint16 else 0
        for a, z in zip([0, *cut], [*cut, b.size], strict=True):
            self._put(base + int(b[a]), rows[a:z])

    def _put(self, key: int, rows: np.ndarray) -> None:
        lst = self._buckets.get(key)
        if lst is None:
            self._buckets[key] = [rows]
        else:
            lst.append(rows)
        if key < self._first:
            self._first = key

    def file_thresholds(self, rows: np.ndarray, h: np.ndarray) -> None:
        """File suspects ``rows`` under their exposure thresholds ``h``."""
        if rows.size:
            self._hbuf.append((np.asarray(h, float).copy(), rows.astype(np.int64, copy=True)))
            self._hbuf_n += rows.size

    # ------------------------------------------------------------------ taking out
    def take(self, t1: float, H1: float) -> np.ndarray:
        """Everything filed for events before ``t1`` or thresholds up to ``H1`` (sorted, unique;
        may hold stale entries: the caller checks the clocks)."""
        self._flush()
        parts = []
        last = self._last(t1)
        for k in range(self._first, last + 1):
            lst = self._buckets.pop(k, None)
            if lst:
                parts.extend(lst)
        self._first = max(self._first, last + 1)
        # exposure thresholds: a sorted run plus a buffer of recent filings
        end = int(np.searchsorted(self._h, H1, side="right"))
        if end > self._hpos:
            parts.append(self._hrows[self._hpos:end])
            self._hpos = end
        if self._hbuf:
            h = np.concatenate([x[0] for x in self._hbuf])
            r = np.concatenate([x[1] for x in self._hbuf])
            now = h <= H1
            parts.append(r[now])
            h, r = h[~now], r[~now]
            if h.size > max(4096, (self._h.size - self._hpos) // 8):  # merge into the sorted run
                h = np.concatenate([self._h[self._hpos:], h])
                r = np.concatenate([self._hrows[self._hpos:], r])
                order = np.argsort(h, kind="stable")
                self._h, self._hrows, self._hpos = h[order], r[order], 0
                self._hbuf, self._hbuf_n = [], 0
            else:
                self._hbuf, self._hbuf_n = ([(h, r)] if h.size else []), h.size
        if not parts:
            return _EMPTY
        return self._sorted_unique(np.concatenate(parts))

    def _sorted_unique(self, rows: np.ndarray) -> np.ndarray:
        """``np.unique(rows)``. Many rows (below 2**32) are sorted in two passes on 16-bit keys, low
        half then high half: numpy's stable sort of 16-bit keys is a radix sort, linear in the rows."""
        if rows.size < 1024 or not 0 < self.n <= 1 << 32:
            rows = np.sort(rows)
        else:
            rows = rows[np.argsort((rows & 0xFFFF).astype(np.uint16), kind="stable")]
            rows = rows[np.argsort((rows >> 16).astype(np.uint16), kind="stable")]
        return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if rows.size else rows
