"""The one canonical serializer: the exact bytes that are hashed and signed.

Rules:
- UTF-8 JSON, object keys sorted by Unicode code point, no insignificant whitespace, non-ASCII characters
  kept as they are (not ``\\u`` escaped); control characters, ``"`` and ``\\`` escaped as JSON requires.
- Object keys must be strings.
- ``Decimal`` is written as a JSON *string* in fixed-point notation that keeps its scale
  (``Decimal("44000.00")`` → ``"44000.00"``, never ``"4.4E+4"``); negative zero is written without its sign.
  NaN and infinities are refused.
- ``int`` is a JSON number (within the signed 64-bit range); ``bool`` and ``None`` are ``true``/``false``/``null``.
- ``float`` is refused everywhere (money never floats); so is every other type (dates, bytes, sets …):
  the caller turns them into strings or ints first.
- Tuples and lists are JSON arrays.
- Parsing canonical bytes and serializing the result again gives the same bytes
  (``canonical_bytes(json.loads(b)) == b``), so a verifier needs no knowledge of the original types.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


class CanonicalError(TypeError):
    """A value that has no canonical form (a float, an unknown type, a non-string key …)."""


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise CanonicalError(f"{value} has no canonical form: only finite decimals")
    if value.is_zero() and value.is_signed():
        value = -value
    return format(value, "f")


def _plain(value: Any, path: str) -> Any:
    # Exact type checks first: the common cases are str, int and dict.
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return value
    if kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise CanonicalError(f"{path}: integer {value} is out of the 64-bit range")
        return value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalError(f"{path}: object keys must be strings, not {type(key).__name__}")
            out[key] = _plain(item, f"{path}.{key}")
        return out
    if kind is list or kind is tuple:
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are refused; use Decimal")
    if isinstance(value, str):  # subclasses (StrEnum …) as their plain value
        return str.__str__(value)
    if isinstance(value, int):  # subclasses (IntEnum …) as their plain value
        return _plain(int.__index__(value), path)
    raise CanonicalError(f"{path}: {kind.__name__} has no canonical form")


def to_plain(obj: Any) -> Any:
    """``obj`` as plain JSON values (dict/list/str/int/bool/None; Decimals as strings), checked."""
    return _plain(obj, "$")


def canonical_bytes(obj: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of ``obj`` (see the module rules); raises ``CanonicalError``."""
    try:
        return orjson.dumps(_plain(obj, "$"), option=_OPTIONS)
    except orjson.JSONEncodeError as exc:  # e.g. a string with a lone surrogate
        raise CanonicalError(str(exc)) from exc


def canonical_bytes_of_parsed(obj: Any) -> bytes:
    """Canonical bytes of a value parsed from JSON (no Decimals): the fast path of verification.

    A parsed value has only JSON types, so no conversion is needed; a float in it (a tampered document)
    serializes to bytes that can never match a signed canonical form.
    """
    return orjson.dumps(obj, option=_OPTIONS)


def parse(data: bytes | str) -> Any:
    """Parse JSON text (canonical or not) into plain values."""
    return orjson.loads(data)
