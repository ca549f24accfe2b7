"""Counter-based random numbers for customer events.

Every random number a customer's event needs is a pure function of
``(run key, stream, customer row, that customer's event counter)``.  This gives:

* **common random numbers**: a customer's k-th purchase draws the same numbers in a
  treated run and in its no-action control, whatever other customers did;
* **batching independence**: the per-agent path (one Mesa agent at a time) and the
  batched path (all due customers at once) consume identical numbers;
* **worker independence**: nothing depends on process, thread or launcher.

The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014) applied once per key
component, vectorised over numpy ``uint64`` arrays.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# Streams: one per purpose, so that adding a draw to one rule never shifts another.
PURCHASE_CLOCK = 1
MOVE_CLOCK = 2
AMOUNT = 3
QUALITY = 4
COMPLAINT = 5
TRANSITION = 6
DROPOUT = 7
COMPETITOR = 8
EXPOSURE = 9
CAUSE = 10
CONTACT = 11
HOLDOUT = 12
INIT = 13
NEG_WOM = 14
SURVEY = 15
WALLET = 16


_MASK = 0xFFFFFFFFFFFFFFFF


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (array arithmetic wraps modulo 2**64 silently)."""
    x = x + _GOLDEN          # a new array: the steps below work in place
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


class CounterRNG:
    """Vectorised keyed hash → uniforms in (0, 1)."""

    def __init__(self, key: int):
        self.key = int(key) & _MASK
        self._prefix: dict[int, np.uint64] = {}

    def uniform(self, stream: int, rows: np.ndarray, counter) -> np.ndarray:
        """Uniforms in (0, 1) for ``rows`` on ``stream`` at ``counter``; the same arguments give the same numbers."""
        pre = self._prefix.get(stream)
        if pre is None:
            # the scalar part of the key, hashed once per stream (as a one-element array, which wraps silently)
            scalar = self.key ^ ((int(stream) * int(_M2)) & _MASK)
            pre = self._prefix[stream] = _mix(np.array([scalar], dtype=np.uint64))[0]
        h = _mix(np.asarray(rows, dtype=np.uint64) ^ pre)
        h ^= np.asarray(counter, dtype=np.uint64)
        h = _mix(h)
        h >>= _S11
        u = h.astype(np.float64)
        u += 0.5
        u *= _INV53
        return u

    def exponential(self, stream: int, rows, counter) -> np.ndarray:
        """Standard exponential variates for ``rows`` on ``stream`` at ``counter`` (from :meth:`uniform`)."""
        return -np.log(self.uniform(stream, rows, counter))

    def normal(self, stream: int, rows, counter) -> np.ndarray:
        """Standard normal variates for ``rows`` on ``stream`` at ``counter`` (the inverse normal CDF of uniforms)."""
        return ndtri(self.uniform(stream, rows, counter))


def stream_id(name: str) -> int:
    """A stable stream number for a named purpose (e.g. a strategy's name): 64-bit FNV-1a."""
    h = 1469598103934665603
    for b in name.encode():
        h = ((h ^ b) * 1099511628211) & _MASK
    return h
