"""Reading AMI header values into the typed fields of event records: pure, no I/O.

:class:`FieldReader` is derived from a record dataclass's fields (see the rule in
:mod:`ivr.ami.events`); the value readers never raise on malformed text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, get_type_hints

__all__ = ["FieldReader", "as_text", "headers", "parse_bool", "parse_float", "parse_int"]

_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_int(value: object) -> int | None:
    """ASCII decimal integer (surrounding blanks allowed), else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 30 or not _INT_RE.fullmatch(text):
        return None
    return int(text)


def parse_float(value: object) -> float | None:
    """Finite ASCII decimal number such as ``1718000000.123456``, else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 40 or not _FLOAT_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def parse_bool(value: object) -> bool | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


_HEADERS = "ami_headers"


def headers(*names: str) -> Mapping[str, tuple[str, ...]]:
    """Field metadata naming the AMI header(s) a field is read from.

    For a field whose header is not its name without underscores. With several
    names, the first header present with a non-empty value is used.
    """
    if not names:
        raise ValueError("headers() needs at least one header name")
    return MappingProxyType({_HEADERS: names})


_Convert = Callable[[object], object]


def as_text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


#: How a field's type is read from its header's text.
_CONVERTERS: dict[object, _Convert] = {
    str: as_text,
    int | None: parse_int,
    float | None: parse_float,
    bool | None: parse_bool,
}

#: (attribute, lower-case header, converter) for fields read from one header.
_Single = tuple[str, str, _Convert]
#: (attribute, lower-case headers, converter): the first non-empty header wins.
_Alternates = tuple[str, tuple[str, ...], _Convert]


@dataclass(frozen=True, slots=True)
class FieldReader:
    """The keyword arguments of one record class from lower-cased headers: derived
    from the class's fields."""

    singles: tuple[_Single, ...]
    alternates: tuple[_Alternates, ...]

    @classmethod
    def of(cls, record: type[Any], skip: frozenset[str] = frozenset()) -> FieldReader:
        hints = get_type_hints(record)
        singles: list[_Single] = []
        alternates: list[_Alternates] = []
        for f in fields(record):
            if f.name == "raw" or f.name in skip:
                continue
            convert = _CONVERTERS.get(hints[f.name])
            if convert is None:
                raise TypeError(f"{record.__name__}.{f.name}: no AMI reader for {hints[f.name]}")
            names = f.metadata.get(_HEADERS, (f.name.replace("_", ""),))
            keys = tuple(name.lower() for name in names)
            if len(keys) == 1:
                singles.append((f.name, keys[0], convert))
            else:
                alternates.append((f.name, keys, convert))
        return cls(tuple(singles), tuple(alternates))

    def kwargs(self, lower: Mapping[str, object], raw: Mapping[str, str]) -> dict[str, Any]:
        get = lower.get
        out: dict[str, Any] = {name: convert(get(key)) for name, key, convert in self.singles}
        for name, keys, convert in self.alternates:
            value: object = None
            for key in keys:
                value = get(key)
                if value is not None and as_text(value) != "":
                    break
            else:
                value = None
            out[name] = convert(value)
        out["raw"] = raw
        return out
