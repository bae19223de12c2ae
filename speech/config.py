"""A small typed config loader: YAML (or dicts) into nested dataclasses, with checked keys.

Only plain values are read; nothing in a config can instantiate code. Unknown keys, wrong
types (list elements included) and NaN or infinite floats are errors naming the file and the
dotted key. Ranges are checked by each dataclass's ``__post_init__`` with the ``check_*``
helpers below, which raise a :class:`FieldError` naming the field; :func:`from_dict` prefixes
the section, so every message reads ``conf.yaml: 'optim.lr' must be > 0, got -1``.
Command-line overrides use ``dotted.key=value`` with the value parsed as YAML.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from speech.errors import ConfigError
from speech.io import atomic_write

T = TypeVar("T")

_SCALARS = (bool, int, float, str)
ALLOW_NONFINITE = "allow_nonfinite"
"""Field metadata key: ``field(metadata={ALLOW_NONFINITE: True})`` lets a float field hold NaN or ±inf."""


class FieldError(ConfigError, ValueError):
    """A config field holds a value out of range; raised by the ``check_*`` helpers in ``__post_init__``.

    It names the field, so :func:`from_dict` can prefix the section and the file:
    ``conf.yaml: 'optim.lr' must be > 0, got -1``. Raised by a dataclass built directly, it
    reads ``'OptimConfig.lr' must be > 0, got -1``. It is a :class:`ValueError` too.

    Args:
        key: The field's name (dotted below a nested section, e.g. ``listener.dropout``).
        problem: What is wrong, e.g. ``must be > 0, got -1``.
        owner: Name of the dataclass the field belongs to.
    """

    def __init__(self, key: str, problem: str, owner: str = "") -> None:
        self.key, self.problem, self.owner = key, problem, owner
        super().__init__(f"'{owner + '.' if owner else ''}{key}' {problem}")


def from_dict(
    cls: type[T], data: dict[str, Any] | None, where: str = "config", prefix: str = "", base: T | None = None
) -> T:
    """Build dataclass ``cls`` from ``data``, recursing into dataclass-typed fields.

    Scalars must have the field's type (an int is accepted, and converted, where the hint is
    ``float``; floats must be finite unless the field's metadata sets :data:`ALLOW_NONFINITE`);
    list and tuple elements are checked the same way; a union takes the first member the
    value fits. Range checks run in each dataclass's ``__post_init__``.

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
        section = prefix.rstrip(".") or "config"
        raise ConfigError(f"{where}: '{section}' expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}' (known: {', '.join(sorted(fields))})")
    kwargs = {
        name: _convert(
            hints[name],
            value,
            f"{prefix}{name}",
            where,
            _default(cls, name, base),
            fields[name].metadata.get(ALLOW_NONFINITE, False),
        )
        for name, value in data.items()
    }
    try:
        return dataclasses.replace(base, **kwargs) if base is not None else cls(**kwargs)
    except FieldError as e:
        raise ConfigError(f"{where}: '{prefix}{e.key}' {e.problem}") from None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'config'}: {e}") from None


def _default(cls: type, name: str, base: Any) -> Any:
    """The value field ``name`` has when a config leaves it out (a factory's value is built)."""
    if base is not None:
        return getattr(base, name)
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else None


def _convert(
    hint: Any, value: Any, key: str, where: str, default: Any = None, nonfinite: bool = False
) -> Any:
    """``value`` checked against type ``hint`` (and converted: int to float, list to tuple)."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        base = default if isinstance(default, hint) else None
        return from_dict(hint, value, where, key + ".", base)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(hint, value, key, where, default, nonfinite)
    if origin is typing.Literal:
        if value not in typing.get_args(hint) or isinstance(value, bool) != any(
            isinstance(a, bool) for a in typing.get_args(hint)
        ):
            choices = ", ".join(map(repr, typing.get_args(hint)))
            raise ConfigError(f"{where}: '{key}' must be one of {choices}, got {_show(value)}")
        return value
    if hint in _SCALARS:
        return _convert_scalar(hint, value, key, where, nonfinite)
    if hint in (list, tuple) or origin in (list, tuple):
        return _convert_sequence(hint, value, key, where, nonfinite)
    if (hint is dict or origin is dict) and not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' must be a mapping, got {_show(value)}")
    return value


def _convert_union(hint: Any, value: Any, key: str, where: str, default: Any, nonfinite: bool) -> Any:
    args = typing.get_args(hint)
    members = [a for a in args if a is not type(None)]
    if value is None and len(members) < len(args):
        return None
    if len(members) == 1 and members[0] in _SCALARS:
        return _convert_scalar(members[0], value, key, where, nonfinite, len(members) < len(args))
    if len(members) == 1:  # Optional[X]: X's own message (with an element's index, say)
        return _convert(members[0], value, key, where, default, nonfinite)
    for member in members:
        try:
            return _convert(member, value, key, where, default, nonfinite)
        except ConfigError:
            continue
    names = " or ".join([_type_name(m) for m in members] + (["null"] if len(members) < len(args) else []))
    raise ConfigError(f"{where}: '{key}' must be {names}, got {_show(value)}")


_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _convert_scalar(
    hint: type, value: Any, key: str, where: str, nonfinite: bool, nullable: bool = False
) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if hint is float and isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads ``1e-4`` (no dot) as a string
    if not isinstance(value, hint) or (hint is not bool and isinstance(value, bool)):
        name = hint.__name__ + (" or null" if nullable else "")
        raise ConfigError(f"{where}: '{key}' must be {name}, got {_show(value)}")
    if hint is float and not nonfinite and not math.isfinite(value):
        raise ConfigError(f"{where}: '{key}' must be a finite number, got {_show(value)}")
    return value


def _convert_sequence(hint: Any, value: Any, key: str, where: str, nonfinite: bool) -> list | tuple:
    origin = typing.get_origin(hint) or hint
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: '{key}' must be a list, got {_show(value)}")
    args = typing.get_args(hint)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            raise ConfigError(f"{where}: '{key}' must have {len(args)} items, got {len(value)}")
        elements = args
    else:
        elements = [args[0] if args else Any] * len(value)
    items = [
        _convert(h, v, f"{key}[{i}]", where, nonfinite=nonfinite)
        for i, (h, v) in enumerate(zip(elements, value, strict=True))
    ]
    return tuple(items) if origin is tuple else items


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _show(value: Any) -> str:
    """A value for a one-line message: repr, shortened; floats without a trailing ``.0``."""
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, dict | list | tuple | set):
        text = repr(value)
        return text if len(text) <= 60 else f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# Range checks for ``__post_init__`` ---------------------------------------------------------------
# Each names the field, so a dataclass checks one field per line:
#     def __post_init__(self) -> None:
#         check_range(self, "lr", gt=0)
#         check_dropout(self, "dropout")
# Numbers are checked against the field's type hint first (int: an integer, not a bool;
# float: a finite number, an int converted), and None passes where the hint allows it.


def field_error(obj: Any, name: str, problem: str) -> FieldError:
    """A :class:`FieldError` for field ``name`` of ``obj``; ``problem`` reads ``must be ..., got ...``."""
    return FieldError(name, problem, type(obj).__name__)


@functools.cache
def _field_hints(cls: type) -> dict[str, tuple[Any, bool]]:
    """Per field: its type with None dropped, and whether None is allowed."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else ()
        members = [a for a in args if a is not type(None)]
        if not args:
            out[name] = (hint, False)
        else:
            out[name] = (members[0] if len(members) == 1 else hint, len(members) < len(args))
    return out


def _allows_nonfinite(obj: Any, name: str) -> bool:
    field = next((f for f in dataclasses.fields(obj) if f.name == name), None)
    return bool(field and field.metadata.get(ALLOW_NONFINITE))


def _checked_number(value: Any, integer: bool, nonfinite: bool, owner: str, key: str) -> float | int:
    """``value`` as an int (not a bool) or a finite float (an int converted), else a FieldError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integer else numbers.Real):
        raise FieldError(key, f"must be {'int' if integer else 'a number'}, got {_show(value)}", owner)
    if integer:
        return value
    if not nonfinite and not math.isfinite(value):
        raise FieldError(key, f"must be a finite number, got {_show(value)}", owner)
    return float(value)


def _check_bounds(value: float, owner: str, key: str, note: str = "", **bounds: float | None) -> None:
    gt, ge, lt, le = (bounds.get(k) for k in ("gt", "ge", "lt", "le"))
    ok = (
        (gt is None or value > gt)
        and (ge is None or value >= ge)
        and (lt is None or value < lt)
        and (le is None or value <= le)
    )
    if not ok:
        why = f" ({note})" if note else ""
        raise FieldError(key, f"must be {_bounds(gt, ge, lt, le)}{why}, got {_show(value)}", owner)


def _number(obj: Any, name: str) -> float | int | None:
    """Field ``name`` of ``obj`` checked as a number of its hinted type (int or float); None if allowed.

    A float field given an int holds the float afterwards (frozen dataclasses too).
    """
    value = getattr(obj, name)
    hint, optional = _field_hints(type(obj)).get(name, (float, False))
    if value is None and optional:
        return None
    checked = _checked_number(value, hint is int, _allows_nonfinite(obj, name), type(obj).__name__, name)
    if checked is not value:
        object.__setattr__(obj, name, checked)
    return checked


def _bounds(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    low = f"{'(' if gt is not None else '['}{_show(gt if gt is not None else ge)}"
    high = f"{_show(lt if lt is not None else le)}{')' if lt is not None else ']'}"
    if (gt is not None or ge is not None) and (lt is not None or le is not None):
        return f"in {low}, {high}"
    if gt is not None or ge is not None:
        return f"{'>' if gt is not None else '>='} {_show(gt if gt is not None else ge)}"
    return f"{'<' if lt is not None else '<='} {_show(lt if lt is not None else le)}"


def check_range(
    obj: Any,
    name: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    note: str = "",
) -> None:
    """Field ``name`` must be a number of its hinted type within the given bounds (None passes if allowed).

    Args:
        obj: The dataclass instance.
        name: The field.
        gt: Exclusive lower bound.
        ge: Inclusive lower bound.
        lt: Exclusive upper bound.
        le: Inclusive upper bound.
        note: Where a bound comes from, e.g. ``at most beam_size``; shown in the message.

    Raises:
        FieldError: e.g. ``'dropout' must be in [0, 1), got 1.5``.
    """
    value = _number(obj, name)
    if value is not None:
        _check_bounds(value, type(obj).__name__, name, note, gt=gt, ge=ge, lt=lt, le=le)


def check_list(obj: Any, name: str, *, min_items: int = 0, **bounds: float) -> None:
    """Field ``name`` must be a list (or tuple) of at least ``min_items`` numbers within ``bounds``.

    Args:
        obj: The dataclass instance.
        name: The field; its hint's element type (``list[int]``, say) decides int or float.
        min_items: Fewest items.
        **bounds: ``gt``, ``ge``, ``lt``, ``le`` as in :func:`check_range`, for every item.

    Raises:
        FieldError: e.g. ``'prenet_dims[1]' must be >= 1, got 0``.
    """
    value, owner = getattr(obj, name), type(obj).__name__
    if not isinstance(value, list | tuple) or len(value) < min_items:
        items = f"at least {min_items} number{'s' if min_items != 1 else ''}"
        raise field_error(obj, name, f"must be a list of {items}, got {_show(value)}")
    hint = _field_hints(type(obj)).get(name, (list, False))[0]
    integer = (typing.get_args(hint) or (float,))[0] is int
    for i, item in enumerate(value):
        item = _checked_number(item, integer, _allows_nonfinite(obj, name), owner, f"{name}[{i}]")
        _check_bounds(item, owner, f"{name}[{i}]", **bounds)


def check_finite(obj: Any, *names: str) -> None:
    """Each field must be a finite number (or None where allowed)."""
    for name in names:
        _number(obj, name)


def check_positive(obj: Any, *names: str) -> None:
    """Each field must be > 0 (an int field: >= 1)."""
    for name in names:
        if _field_hints(type(obj)).get(name, (float,))[0] is int:
            check_range(obj, name, ge=1)
        else:
            check_range(obj, name, gt=0)


def check_non_negative(obj: Any, *names: str) -> None:
    """Each field must be >= 0."""
    for name in names:
        check_range(obj, name, ge=0)


def check_probability(obj: Any, *names: str) -> None:
    """Each field must lie in [0, 1]."""
    for name in names:
        check_range(obj, name, ge=0, le=1)


def check_dropout(obj: Any, *names: str) -> None:
    """Each field must lie in [0, 1) (a dropout of 1 would zero everything)."""
    for name in names:
        check_range(obj, name, ge=0, lt=1)


def check_odd(obj: Any, *names: str) -> None:
    """Each field must be a positive odd int (a convolution width that keeps the length)."""
    for name in names:
        check_range(obj, name, ge=1)
        if getattr(obj, name) % 2 != 1:
            raise field_error(obj, name, f"must be odd, got {getattr(obj, name)}")


def check_choice(obj: Any, name: str, choices: Iterable[Any]) -> None:
    """Field ``name`` must be one of ``choices`` (compared with ``==``; True never counts as 1)."""
    value, choices = getattr(obj, name), tuple(choices)
    if not any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices):
        raise field_error(obj, name, f"must be one of {', '.join(map(repr, choices))}, got {_show(value)}")


def check_nonempty(obj: Any, *names: str) -> None:
    """Each field must be a non-empty string (None passes where the hint allows it)."""
    for name in names:
        value = getattr(obj, name)
        if value is None and _field_hints(type(obj)).get(name, (str, False))[1]:
            continue
        if not isinstance(value, str) or not value.strip():
            raise field_error(obj, name, f"must be a non-empty string, got {_show(value)}")


def check_section(obj: Any, name: str, cls: type) -> None:
    """Field ``name`` must hold a ``cls``; a mapping (from a checkpoint) is built into one.

    A bad value inside the mapping is reported as ``name.key``.
    """
    value = getattr(obj, name)
    if isinstance(value, dict):
        try:
            value = cls(**value)
        except FieldError as e:
            raise FieldError(f"{name}.{e.key}", e.problem, type(obj).__name__) from None
        except TypeError as e:
            raise field_error(obj, name, f"is not a valid {cls.__name__} ({e})") from None
        object.__setattr__(obj, name, value)
    elif not isinstance(value, cls):
        raise field_error(obj, name, f"must be a {cls.__name__} or a mapping, got {_show(value)}")


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


def load_config_yaml(path: str | os.PathLike, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's mapping, with its ``base:`` file (relative to it) underneath.

    A config may start from another: ``base: train.yaml`` takes that file's settings, and this
    file's own keys replace them section by section (mappings merge, other values replace).
    Bases may chain; a cycle is a one-line ConfigError.
    """
    path = Path(path)
    data = load_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: 'base' must be the path of another config file")
    base_path = path.parent / base
    if base_path.resolve() in _seen or base_path.resolve() == path.resolve():
        raise ConfigError(f"{path}: 'base' makes a cycle ({base})")
    merged = load_config_yaml(base_path, (*_seen, path.resolve()))
    _merge(merged, data)
    return merged


def _merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


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
