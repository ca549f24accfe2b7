"""Build strategy objects from the ``strategy`` config mapping (``name -> {_target_, ...}``)."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..config import ConfigError, format_errors
from .base import Plugin, Strategy


def _resolve(target: str, where: str):
    from hydra.utils import get_class
    try:
        cls = get_class(target)
    except Exception as e:  # hydra wraps import errors in several ways
        raise ConfigError(f"invalid configuration:\n  {where}._target_ = {target!r}: cannot import it ({e})") from None
    return cls


def _build(spec: Any, where: str):
    if isinstance(spec, dict) and "_target_" in spec:
        cls = _resolve(spec["_target_"], where)
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
                     channels: list[str] | None = None, *, where_prefix: str = "strategy",
                     rival: bool = False) -> list[Plugin]:
    """Instantiate and check every strategy; errors name the config key. ``rival``: the plug-ins
    of a rival firm (``where_prefix`` e.g. ``market.competitors[0].strategy``)."""
    out = []
    for name, s in (spec or {}).items():
        where = f"{where_prefix}.{name}"
        if not isinstance(s, dict) or "_target_" not in s:
            raise ConfigError(f"invalid configuration:\n  {where}: needs a _target_ naming a strategy class")
        cls = _resolve(s["_target_"], where)
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: "
                              f"not a sim.strategies.Strategy or MarketEvent subclass")
        if rival and not getattr(cls, "rival_ok", False):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: a rival cannot run "
                              "this plug-in; rivals run DoNothing, LoyaltyProgramme, Promotion and "
                              "CompetitiveResponse (plug-ins with rival_ok)")
        if not rival and getattr(cls, "rival_only", False):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: only a rival runs "
                              "this plug-in; put it under market.competitors[i].strategy")
        obj = _build({**s, "name": s.get("name") or name}, where)
        channel = getattr(obj, "channel", None)
        if channels is not None and channel is not None and channel not in channels:
            raise ConfigError(f"invalid configuration:\n  {where}.channel = {channel!r}: "
                              f"not a channel; channels are {channels}")
        if market_stage_names is not None:
            for attr in ("eligible_stages",):
                bad = [x for x in getattr(obj, attr, []) or [] if x not in market_stage_names]
                if bad:
                    raise ConfigError(f"invalid configuration:\n  {where}.{attr} = {bad!r}: unknown stage; "
                                      f"stages are {market_stage_names}")
            seg = getattr(obj, "segment", None)
            for x in getattr(seg, "stages", []) or []:
                if x not in market_stage_names:
                    raise ConfigError(f"invalid configuration:\n  {where}.segment.stages: unknown stage {x!r}; "
                                      f"stages are {market_stage_names}")
        out.append(obj)
    return out
