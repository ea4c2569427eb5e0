"""Settings dataclasses built from user values: types coerced and checked, ranges refused early.

Every method, evaluation and embedder is configured by a dataclass of the paper's defaults. Values
come typed from the API and YAML files, or as text from ``--set key=value``; ``make_config``
turns either into the dataclass, and each error names the setting, so a bad value stops a run
before any work instead of as a traceback halfway through it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any

import yaml

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """A setting of the wrong type or outside its range; the message names the setting."""


def make_config(cls: type, values: dict[str, Any] | None, where: str = "") -> Any:
    """Build the dataclass ``cls`` from ``values``: unknown keys refused, types checked and coerced
    (text from the command line included), ranges checked by the class's ``__post_init__``.
    ``where`` prefixes messages (e.g. the YAML file and section the values came from)."""
    prefix = f"{where}: " if where else ""
    if not isinstance(values or {}, dict):
        raise SettingError(f"{prefix}expected a mapping of settings, got {values!r}")
    values = dict(values or {})
    hints = _hints(cls)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise SettingError(
            f"{prefix}unknown setting(s) {unknown} for {cls.__name__}; known: {sorted(hints)}"
        )
    try:
        typed = {k: coerce(k, v, hints[k]) for k, v in values.items()}
        return cls(**typed)
    except SettingError as e:
        raise SettingError(f"{prefix}{e}") from None
    except (TypeError, ValueError) as e:
        raise SettingError(f"{prefix}{e}") from None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in typing.get_type_hints(cls).items() if k in names}


def coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` as the type ``hint`` names (bool, int, float, str, ``list[...]``, unions with
    None), or a ``SettingError`` naming ``name``. Text is parsed (``"3"``, ``"1e-3"``, ``"true"``,
    ``"[a, b]"``); a float is an int only when whole; NaN and infinities are refused."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        empty = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if empty and type(None) in args:
            return None
        errors = []
        options = [a for a in args if a is not type(None)]
        for option in sorted(options, key=lambda a: a is str):  # text last: it takes anything
            try:
                return coerce(name, value, option)
            except SettingError as e:
                errors.append(str(e).split(": expected ", 1)[-1].split(", got")[0])
        raise SettingError(f"{name}: expected {' or '.join(errors)}, got {value!r}")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = _parse_list(name, value)
        if not isinstance(value, (list, tuple)):
            raise SettingError(f"{name}: expected a list, got {value!r}")
        item = args[0] if args else Any
        items = [coerce(f"{name}[{i}]", v, item) for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if hint is Any:
        return value
    if hint is bool:
        return _to_bool(name, value)
    if hint is int:
        return _to_int(name, value)
    if hint is float:
        return _to_float(name, value)
    if hint is str:
        if isinstance(value, (dict, list, tuple)) or value is None:
            raise SettingError(f"{name}: expected text, got {value!r}")
        return value if isinstance(value, str) else str(value)
    return value


def _parse_list(name: str, text: str) -> list[Any]:
    """``[a, b]`` (YAML) or ``a,b``."""
    text = text.strip()
    if text.startswith("["):
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            raise SettingError(f"{name}: expected a list like [a, b], got {text!r}") from None
        if isinstance(parsed, list):
            return parsed
    return [part.strip() for part in text.split(",") if part.strip()]


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise SettingError(f"{name}: expected true or false, got {value!r}")


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise SettingError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip().replace("_", ""))
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                raise SettingError(f"{name}: expected an integer, got {value!r}") from None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise SettingError(f"{name}: expected an integer, got {value!r}")


def _to_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SettingError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise SettingError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise SettingError(f"{name}: expected a finite number, got {value!r}")
    return number


def at_least(config: Any, bound: float, *names: str) -> None:
    """Refuse any of ``names`` below ``bound`` (called from a config's ``__post_init__``)."""
    for name in names:
        value = getattr(config, name)
        if value is not None and value < bound:
            raise SettingError(f"{name} must be >= {bound}, got {value}")


def positive(config: Any, *names: str) -> None:
    """Refuse any of ``names`` that is not a finite number above 0."""
    for name in names:
        value = getattr(config, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise SettingError(f"{name} must be a finite number > 0, got {value}")


def one_of(config: Any, name: str, choices: tuple[str, ...]) -> None:
    """Refuse a value of ``name`` outside ``choices``."""
    value = getattr(config, name)
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
