"""Build strategy objects from the ``strategy`` config mapping (``name -> {_target_, ...}``).

A config names classes, never code to run: every ``_target_`` at any depth is resolved to a
class and checked against an allow-list (a subclass of :class:`Strategy` or :class:`Segmenter`,
the project's plug-in bases; market events such as ``ServiceShock`` are strategies) before any
class is called. Resolving imports the class's module but calls nothing in it; a module of
Python's standard library is refused outright (no plug-in lives there). Anything else stops
with a :class:`ConfigError` naming the key.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

from pydantic import ValidationError

from ..config import ConfigError, format_errors
from ..ladder import resolve_stages
from .base import MarketEvent, Plugin, Segmenter, Strategy

#: the plug-in bases a ``_target_`` may name a subclass of (strategies, market events, segmenters)
PLUGIN_BASES: tuple[type, ...] = (Strategy, MarketEvent, Segmenter)
_PATH_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _bad(where: str, target: Any, why: str) -> ConfigError:
    return ConfigError(f"invalid configuration:\n  {where}._target_ = {target!r}: {why}")


def _locate(target: Any, where: str) -> type:
    """The class a ``_target_`` names (imported, never called), or a ConfigError."""
    if not isinstance(target, str) or not target or not set(target) <= _PATH_OK or "." not in target \
            or any(not part.isidentifier() for part in target.split(".")):
        raise _bad(where, target, "must be a dotted class path such as sim.strategies.WinBack")
    top = target.split(".")[0]
    if top in sys.stdlib_module_names or top == "builtins":
        raise _bad(where, target, "not a plug-in class (Python's standard library is never a plug-in)")
    parts = target.split(".")
    obj, err = None, None
    for i in range(len(parts) - 1, 0, -1):  # the longest importable module prefix, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError as e:
            err = e
            continue
        except Exception as e:  # noqa: BLE001 - a module that fails while importing
            raise _bad(where, target, f"importing it failed ({type(e).__name__}: {e})") from None
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError as e:
            raise _bad(where, target, f"cannot import it ({e})") from None
        break
    else:
        raise _bad(where, target, f"cannot import it ({err})")
    return obj


def _allowed(target: Any, where: str, base: type | tuple[type, ...] = PLUGIN_BASES) -> type:
    cls = _locate(target, where)
    bases = base if isinstance(base, tuple) else (base,)
    if not (isinstance(cls, type) and issubclass(cls, bases)):
        names = " or ".join(f"{b.__module__.replace('.base', '')}.{b.__name__}" for b in bases)
        raise _bad(where, target, f"not a {names} subclass (a config may only name plug-in classes)")
    return cls


def check_targets(spec: Any, where: str, base: type | tuple[type, ...] = PLUGIN_BASES) -> None:
    """Check every ``_target_`` in ``spec`` (any depth) against the allow-list; call nothing.
    A strategy's ``segment`` / ``method`` must name a segmenter."""
    if isinstance(spec, dict):
        if "_target_" in spec:
            _allowed(spec["_target_"], where, base)
        for k, v in spec.items():
            if k == "_target_":
                continue
            sub = Segmenter if k in ("segment", "method") else PLUGIN_BASES
            check_targets(v, f"{where}.{k}", sub)
    elif isinstance(spec, (list, tuple)):
        for i, v in enumerate(spec):
            check_targets(v, f"{where}[{i}]")


def _build(spec: Any, where: str):
    if isinstance(spec, dict) and "_target_" in spec:
        cls = _allowed(spec["_target_"], where)  # checked again: _build never calls an unchecked class
        kwargs = {k: _build(v, f"{where}.{k}") for k, v in spec.items() if k != "_target_"}
        try:
            return cls(**kwargs)
        except ValidationError as e:
            raise ConfigError(format_errors(e, prefix=where)) from None
        except TypeError as e:
            raise ConfigError(f"invalid configuration:\n  {where}: {e}") from None
    if isinstance(spec, dict):
        return {k: _build(v, f"{where}.{k}") for k, v in spec.items()}
    if isinstance(spec, list):
        return [_build(v, f"{where}[{i}]") for i, v in enumerate(spec)]
    return spec


def build_strategies(spec: dict[str, dict], market_stage_names: list[str] | None = None,
                     channels: list[str] | None = None, stage_roles: list[str] | None = None, *,
                     where_prefix: str = "strategy", rival: bool = False) -> list[Plugin]:
    """Instantiate and check every strategy; errors name the config key.

    ``market_stage_names`` (with their ``stage_roles``) and ``channels`` check the stages and
    channels a strategy names against the market's ladder and channels. ``rival``: the plug-ins
    of a rival firm (``where_prefix`` e.g. ``market.competitors[0].strategy``).
    """
    spec = spec or {}
    for name, s in spec.items():  # the whole tree is checked before anything is built
        where = f"{where_prefix}.{name}"
        if not isinstance(s, dict) or "_target_" not in s:
            raise ConfigError(f"invalid configuration:\n  {where}: needs a _target_ naming a strategy class")
        check_targets(s, where, (Strategy, MarketEvent))
        cls = _allowed(s["_target_"], where, (Strategy, MarketEvent))
        if rival and not getattr(cls, "rival_ok", False):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: a rival cannot run "
                              "this plug-in; rivals run DoNothing, LoyaltyProgramme, Promotion and "
                              "CompetitiveResponse (plug-ins with rival_ok)")
        if not rival and getattr(cls, "rival_only", False):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: only a rival runs "
                              "this plug-in; put it under market.competitors[i].strategy")
    out = []
    for name, s in spec.items():
        where = f"{where_prefix}.{name}"
        obj = _build({**s, "name": s.get("name") or name}, where)
        channel = getattr(obj, "channel", None)
        if channels is not None and channel is not None and channel not in channels:
            raise ConfigError(f"invalid configuration:\n  {where}.channel = {channel!r}: "
                              f"not a channel; channels are {channels}")
        if market_stage_names is not None:
            # without roles, a group counts as a customer stage group (the check is on names)
            roles = stage_roles if stage_roles is not None else ["customer"] * len(market_stage_names)
            checks = [(f"{where}.eligible_stages", getattr(obj, "eligible_stages", None)),
                      (f"{where}.segment.stages", getattr(getattr(obj, "segment", None), "stages", None))]
            for key, selectors in checks:
                try:
                    resolve_stages(selectors or [], market_stage_names, roles)
                except ValueError as e:
                    raise ConfigError(f"invalid configuration:\n  {key}: {e}") from None
        out.append(obj)
    return out
