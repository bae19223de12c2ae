"""A small typed config loader: YAML (or dicts) into nested dataclasses, with checked keys.

Only plain values are read; nothing in a config can instantiate code. Unknown keys and
wrong types are errors naming the file and the dotted key. Command-line overrides use
``dotted.key=value`` with the value parsed as YAML.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from speech.errors import ConfigError
from speech.io import atomic_write

T = TypeVar("T")


def from_dict(
    cls: type[T], data: dict[str, Any] | None, where: str = "config", prefix: str = "", base: T | None = None
) -> T:
    """Build dataclass ``cls`` from ``data``, recursing into dataclass-typed fields.

    Args:
        cls: The dataclass.
        data: Its fields as a mapping (None = all defaults).
        where: The source, used as the error prefix (usually the YAML path).
        prefix: Dotted key of ``data`` inside the whole config (for messages).
        base: Values of the fields ``data`` leaves out; None uses the class defaults. A nested
            dataclass field whose default comes from a factory (e.g. ``LogMelConfig.tts``)
            starts from that factory's value, so a partial YAML section keeps the preset.

    Raises:
        ConfigError: ``where: unknown key 'a.b'`` or ``where: 'a.b' must be ...``.
    """
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: '{prefix or 'config'}' expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}' (known: {', '.join(sorted(names))})")
    kwargs = {
        name: _convert(hints[name], value, f"{prefix}{name}", where, _default(cls, name, base))
        for name, value in data.items()
    }
    try:
        return dataclasses.replace(base, **kwargs) if base is not None else cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'config'}: {e}") from None


def _default(cls: type, name: str, base: Any) -> Any:
    """The value field ``name`` has when a config leaves it out (a factory's value is built)."""
    if base is not None:
        return getattr(base, name)
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else None


def _convert(hint: Any, value: Any, key: str, where: str, default: Any = None) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        base = default if isinstance(default, hint) else None
        return from_dict(hint, value, where, key + ".", base)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, key, where) if len(args) == 1 else value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where}: '{key}' must be {hint.__name__}, got {value!r}")
    if origin in (list, tuple) and not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: '{key}' must be a list, got {value!r}")
    if origin is tuple:
        return tuple(value)
    return value


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as nested plain dicts and lists."""
    return dataclasses.asdict(obj)


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping; a missing or malformed file is a one-line ConfigError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config ({e.__class__.__name__})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}{line}: invalid YAML ({getattr(e, 'problem', None) or 'syntax error'})"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML) to a nested dict, in place."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' must look like key.sub=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ConfigError(f"override '{item}': value is not valid YAML") from None
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{item}': '{part}' is not a section")
        node[parts[-1]] = value
    return data


def save_yaml(data: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a mapping as YAML, atomically."""
    with atomic_write(path) as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)
