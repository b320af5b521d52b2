"""Phone numbers in E.164 form, and how they appear in logs.

Rules:
- E.164 only: ``+``, a country code that does not start with 0, at most 15 digits in all and at least 7
  (``+37491123456``, ``+79261234567``, ``+14155550123``); no spaces, dashes or brackets.
- A number in a log or an error is masked: the ``+``, the first three digits and the last two are shown, every
  other digit is ``*`` (``+374******56``).
"""

from __future__ import annotations

import re
from typing import Final

E164: Final = re.compile(r"^\+[1-9]\d{6,14}$")
E164_HINT: Final = "must be an E.164 phone number: + and the country code, e.g. +37491123456"


def is_e164(value: str) -> bool:
    """Whether ``value`` is a phone number in E.164 form."""
    return E164.fullmatch(value) is not None


def mask(phone: str) -> str:
    """``+37491123456`` → ``+374******56`` (anything that is not a number is masked whole)."""
    if not is_e164(phone):
        return "*" * min(len(phone), 16)
    digits = phone[1:]
    return "+" + digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
