"""JSON text of a request, read strictly. Pure: bytes in, Python values out.

Rules:
- UTF-8 only (no UTF-16, no byte order mark); numbers from their text (``Decimal`` for fractions and
  exponents, never a binary float; ``int`` for integers of at most ``MAX_INTEGER_DIGITS`` digits); no
  ``NaN`` / ``Infinity`` literals; nesting at most ``MAX_DEPTH`` deep; no lone surrogate escape (``"\\ud800"``:
  text no database or UTF-8 encoder can store).
- Every failure is a ``json.JSONDecodeError`` (a ``ValueError``) whose message and position never carry the
  input itself.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DEPTH = 32  # the deepest request of the VCR API nests 6 levels (items → offer → title → content → hy)
MAX_INTEGER_DIGITS = 40


def malformed(message: str, pos: int = 0) -> json.JSONDecodeError:
    """A decode error without the document (``doc`` stays empty)."""
    error = json.JSONDecodeError(message, "", 0)
    error.pos = pos
    return error


def _refuse_constant(name: str) -> Any:
    raise malformed(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise malformed(f"an integer has at most {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _check(value: Any, level: int = 0) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise malformed("a string holds a lone surrogate escape") from None
    elif isinstance(value, dict | list):
        if level >= MAX_DEPTH:
            raise malformed(f"JSON nests at most {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check(key, level + 1)
                _check(item, level + 1)
        else:
            for item in value:
                _check(item, level + 1)


def parse_json(body: bytes) -> Any:
    """``body`` as JSON by the rules above."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise malformed("the body is not UTF-8", exc.start) from None
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=_integer, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise malformed(exc.msg, exc.pos) from None
    except RecursionError:
        raise malformed(f"JSON nests at most {MAX_DEPTH} levels") from None
    except ValueError:  # int() of too many digits
        raise malformed("not a JSON number") from None
    _check(value)
    return value
