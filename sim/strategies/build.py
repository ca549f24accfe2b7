"""Build strategy objects from the ``strategy`` config mapping (``name -> {_target_, ...}``)."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..config import ConfigError, format_errors
from ..ladder import resolve_stages
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
                     channels: list[str] | None = None, stage_roles: list[str] | None = None) -> list[Plugin]:
    """Instantiate and check every strategy; errors name the config key.

    ``market_stage_names`` (with their ``stage_roles``) and ``channels`` check the stages and
    channels a strategy names against the market's ladder and channels.
    """
    out = []
    for name, s in (spec or {}).items():
        where = f"strategy.{name}"
        if not isinstance(s, dict) or "_target_" not in s:
            raise ConfigError(f"invalid configuration:\n  {where}: needs a _target_ naming a strategy class")
        cls = _resolve(s["_target_"], where)
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            raise ConfigError(f"invalid configuration:\n  {where}._target_ = {s['_target_']!r}: "
                              f"not a sim.strategies.Strategy or MarketEvent subclass")
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
                    raise ConfigError(f"invalid configuration:\n  {key} = {list(selectors)!r}: {e}") from None
        out.append(obj)
    return out
