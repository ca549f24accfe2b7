"""Friendlier command-line typos: name the unknown key, the closest valid ones and what is allowed.

Hydra rejects an override of a key that does not exist ("Key 'n_custmers' is not in struct");
this check runs first and says which keys exist. Anything it cannot judge (group choices,
``+``/``~`` overrides, ``hydra.*``, keys under a strategy) is left to Hydra and validation.
"""
from __future__ import annotations

import difflib
from pathlib import Path

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


# ----------------------------------------------------------------------------- composition check
_INFO_FLAGS = {"-h", "--help", "--hydra-help", "--info", "-i", "--cfg", "-c", "--version", "--shell-completion", "-sc"}
_VALUE_FLAGS = {"--config-dir", "-cd", "--config-name", "-cn", "--config-path", "-cp", "--experimental-rerun",
                "--package", "-p", "--resolve"}


def _split_argv(argv: list[str]) -> tuple[list[str], dict[str, str], bool]:
    """(override arguments, flag values, whether Hydra should answer itself, e.g. --help)."""
    overrides, flags, info, i = [], {}, False, 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-"):
            name, eq, val = a.partition("=")
            if name in _INFO_FLAGS:
                info = True
            if name in _VALUE_FLAGS:
                if not eq and i + 1 < len(argv):
                    val, i = argv[i + 1], i + 1
                flags[name] = val
        else:
            overrides.append(a)
        i += 1
    return overrides, flags, info


def _hydra_setting(o: Override) -> bool:
    """``hydra.*`` settings are Hydra's business; ``hydra/<group>=option`` choices are composed."""
    return o.key_or_group == "hydra" or o.key_or_group.startswith("hydra.")


def _quote_hint(arg: str) -> str:
    return ("\n  quote a value with spaces, non-ASCII letters (e.g. Persian) or special characters, for "
            f"example {arg.partition('=')[0]}=\"'{arg.partition('=')[2]}'\"")


def composition_message(argv: list[str]) -> str | None:
    """What Hydra would report while reading the command line and composing the configs (an
    override it cannot parse, an unknown group option, malformed YAML naming the file and line),
    as one message for exit code 2; None if the config composes."""
    import yaml

    args, flags, info = _split_argv(argv)
    if info:
        return None
    parser = OverridesParser.create()
    parsed = []
    for arg in args:
        try:
            parsed.append((arg, parser.parse_override(arg)))
        except HydraException as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return f"sim: cannot read the override '{arg}': {first}" + _quote_hint(arg)
    if flags.get("--config-path") or flags.get("-cp"):
        return None  # a different primary config: left to Hydra
    keep = [a for a, o in parsed if not o.is_sweep_override() and not _hydra_setting(o)]
    variants = [keep]
    for _a, o in parsed:  # every choice of a swept config group must exist
        if o.is_sweep_override() and "." not in o.key_or_group and not _hydra_setting(o) \
                and not o.is_interval_sweep():
            try:
                variants += [[*keep, f"{o.key_or_group}={v}"] for v in o.sweep_string_iterator()]
            except Exception:  # noqa: BLE001, S112 - an unusual sweep: Hydra judges it
                continue
    for ov in variants:
        try:
            _compose_argv(flags, ov)
        except yaml.YAMLError as e:
            return f"sim: malformed YAML: {' '.join(str(e).split())}"
        except HydraException as e:
            cause = e.__cause__ or e.__context__
            if isinstance(cause, yaml.YAMLError):
                return f"sim: malformed YAML: {' '.join(str(cause).split())}"
            msg = str(e).strip()
            if "Could not find" in msg or "Error merging" in msg or "Could not override" in msg \
                    or "Could not load" in msg or "Could not append" in msg or "Could not delete" in msg:
                msg = msg.split("Config search path:")[0].strip()
                return "sim: " + msg.replace("\n\n", "\n").replace("\n", "\n  ")
            return None  # anything else: Hydra reports it
        except Exception:  # noqa: BLE001 - e.g. a resolver needing the run context: Hydra judges it
            return None
    return None


def _compose_argv(flags: dict[str, str], overrides: list[str]):
    """Compose as ``python -m sim`` would, with its ``--config-dir`` / ``--config-name``."""
    from hydra import compose as _compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from .config import CONFIG_DIR

    config_dir = flags.get("--config-dir") or flags.get("-cd")
    config_name = flags.get("--config-name") or flags.get("-cn") or "config"
    # --config-dir adds a directory to the search path; composing from it with the project's
    # configs on the search path finds the same files (primary configs are looked up first there)
    primary, extra = CONFIG_DIR, []
    if config_dir:
        cd = Path(config_dir).resolve()
        if (cd / f"{config_name}.yaml").exists():
            primary, extra = cd, [f"hydra.searchpath=[file://{CONFIG_DIR}]"]
        else:
            extra = [f"hydra.searchpath=[file://{cd}]"]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(primary), version_base=None):
            return _compose(config_name=config_name, overrides=[*extra, *overrides])
    finally:
        GlobalHydra.instance().clear()


def check_command_line(argv: list[str]) -> str | None:
    """Every check ``python -m sim`` makes before simulating, in-process: the message it would
    print (with exit code 2), or None if the command would start simulating. Composes once when
    the command line is sound; for a sweep, the swept values are checked by composition only
    (each job validates its own config)."""
    args, flags, info = _split_argv(argv)
    if info or flags.get("--config-path") or flags.get("-cp"):
        return None
    parser = OverridesParser.create()
    try:
        parsed = [parser.parse_override(a) for a in args]
    except HydraException:
        return composition_message(argv)
    keep = [a for a, o in zip(args, parsed, strict=True) if not o.is_sweep_override() and not _hydra_setting(o)]
    try:
        cfg = _compose_argv(flags, keep)
    except Exception as e:  # noqa: BLE001 - worded by the checks the command line runs
        return (unknown_key_message(argv) or composition_message(argv)
                or "sim: " + str(e).split("Config search path:")[0].strip())
    if any(o.is_sweep_override() for o in parsed):
        msg = unknown_key_message(argv) or composition_message(argv)
        if msg:
            return msg
    from .config import ConfigError, validate
    from .run import strategies_for
    from .sweep import sweep_options
    try:
        cfg = OmegaConf.to_container(cfg, resolve=True)
        cfg.pop("hydra", None)
        sweep_options(cfg.pop("sweep", None))
        cfg.pop("study", None)
        strategies_for(validate(cfg))
    except (ConfigError, ValueError) as e:
        return f"sim: {e}"
    return None
