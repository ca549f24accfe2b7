"""Friendlier command-line typos: name the unknown key, the closest valid ones and what is allowed.

Hydra rejects an override of a key that does not exist ("Key 'n_custmers' is not in struct");
this check runs first and says which keys exist. Anything it cannot judge (group choices,
``+``/``~`` overrides, ``hydra.*``, keys under a strategy) is left to Hydra and validation.
"""
from __future__ import annotations

import difflib

from omegaconf import DictConfig, ListConfig, OmegaConf

GROUPS = ("ladder", "market", "strategy", "scenario", "experiment")


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


def unknown_key_message(argv: list[str]) -> str | None:
    from .config import compose
    def is_sweep(a: str) -> bool:
        v = a.split("=", 1)[1]
        return "," in v and not (v.startswith("[") and v.endswith("]")) or v.startswith(("range(", "choice(", "glob("))
    groups = [a for a in argv if "=" in a and a.split("=", 1)[0] in GROUPS]
    group_choices = [a for a in groups if not is_sweep(a)]
    swept = {a.split("=", 1)[0] for a in groups if is_sweep(a)}
    try:
        cfg = compose(group_choices)
    except Exception:
        return None
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"])
    keys = _keys(cfg)
    known = set(keys)
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key = arg.split("=", 1)[0]
        if key.startswith(("+", "~", "hydra")) or key.split(".")[0] in swept or key in GROUPS or key in known:
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
