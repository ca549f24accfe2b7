"""Friendlier command-line typos: name the unknown key, the closest valid ones and what is allowed.

Hydra rejects an override of a key that does not exist ("Key 'n_custmers' is not in struct");
this check runs first and says which keys exist. Anything it cannot judge (group choices,
``+``/``~`` overrides, ``hydra.*``, keys under a strategy) is left to Hydra and validation.
"""
from __future__ import annotations

import difflib

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf

GROUPS = ("ladder", "market", "strategy", "scenario", "experiment", "profile")


def _keys(node, prefix: str = "") -> list[str]:
    out = []
    if isinstance(node, DictConfig):
        items = [(k, node._get_node(k)) for k in node.keys()]
    elif isinstance(node, ListConfig):
        items = [(i, node._get_node(i)) for i in range(len(node))]
    else:
        return out
    for k, v in items:
        key = f"{prefix}{k}"
        out.append(key)
        if isinstance(v, (DictConfig, ListConfig)):
            out += _keys(v, key + ".")
    return out


def _parsed(argv: list[str]) -> list[tuple[str, Override]]:
    """(argument, Hydra override) for every argument Hydra's own parser reads as an override;
    flags (``-m``) and malformed arguments are left to Hydra."""
    parser = OverridesParser.create()
    out = []
    for arg in argv:
        try:
            out.append((arg, parser.parse_override(arg)))
        except HydraException:
            continue
    return out


def hydra_flag(argv: list[str], long: str, short: str) -> str | None:
    """The value of a Hydra flag such as ``--config-dir X``, ``--config-dir=X`` or ``-cd X`` (or None)."""
    for i, a in enumerate(argv):
        if a in (long, short) and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(long + "="):
            return a.split("=", 1)[1]
    return None


def unknown_key_message(argv: list[str]) -> str | None:
    """A message naming the first override whose key does not exist (with the closest ones), or None.

    Composes the config the command line will run: its ``--config-name`` and ``--config-dir``.
    """
    from .config import compose
    config_dir = hydra_flag(argv, "--config-dir", "-cd")
    config_name = hydra_flag(argv, "--config-name", "-cn") or "config"
    flag_values = {config_dir, config_name, hydra_flag(argv, "--config-path", "-cp")}
    argv = [a for a in argv if a not in flag_values]
    overrides = _parsed(argv)
    groups = [(a, o) for a, o in overrides if o.key_or_group in GROUPS]
    group_choices = [a for a, o in groups if not o.is_sweep_override()]
    swept = {o.key_or_group for _, o in groups if o.is_sweep_override()}
    try:
        cfg = compose(group_choices, config_name=config_name, config_dir=config_dir)
    except Exception:
        return None
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"])
    keys = _keys(cfg)
    known = set(keys)
    for arg, o in overrides:
        key = o.key_or_group
        if (o.type != OverrideType.CHANGE or o.is_hydra_override() or key.split(".")[0] in swept
                or key in GROUPS or key in known):
            continue
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        siblings = sorted({k[len(parent) + 1:].split(".")[0] for k in keys if parent and k.startswith(parent + ".")}) \
            if parent in known else sorted({k.split(".")[0] for k in keys})
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
        msg = f"sim: unknown configuration key '{key}' (in override '{arg}')"
        if close:
            msg += f"\n  did you mean: {', '.join(close)}?"
        where = f"under '{parent}'" if parent in known else "at the top level"
        msg += f"\n  keys {where}: {', '.join(siblings)}"
        msg += "\n  (to add a new key on purpose, prefix it with '+')"
        return msg
    return None
