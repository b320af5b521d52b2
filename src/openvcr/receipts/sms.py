"""The receipt SMS: a short text in the document's language, and how it is cut into SMS parts.

Rules:
- One line: the business name (at most ``MAX_BUSINESS`` characters), what the document is, the total, the
  fiscal number and the receipt link — ``"<business>: <kind> <total> <currency>, <fiscal label> <fiscal>
  <url>"``. Languages hy (default), ru, en; a document without a fiscal number leaves that part out.
- The alphabet: GSM 7-bit (SMPP ``data_coding`` 0, one septet per octet, extension characters take two) when
  every character has a GSM-7 code, else UCS-2 (``data_coding`` 8, UTF-16 big-endian) — Armenian and Russian
  texts are always UCS-2.
- One SMS carries 160 GSM-7 septets or 70 UCS-2 characters. A longer text is cut into concatenated parts
  with a 6-octet user data header (``05 00 03 <reference> <count> <index>``, SMPP ``esm_class`` 0x40): 153
  septets or 67 characters each, never inside a GSM-7 escape pair or a UTF-16 surrogate pair; at most 255.
  The reference is given by the caller and is the same on every attempt of one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from openvcr.receipts.i18n import DEFAULT_LANGUAGE, LANGUAGES

MAX_BUSINESS: Final = 40
GSM7: Final = 0  # SMPP data_coding: the SMSC's default alphabet (GSM 03.38)
UCS2: Final = 8  # SMPP data_coding: UCS-2 (ISO/IEC 10646)
UDHI: Final = 0x40  # SMPP esm_class: the short message starts with a user data header
SINGLE: Final = {GSM7: 160, UCS2: 70}  # septets / characters in one SMS
PART: Final = {GSM7: 153, UCS2: 67}  # … in one part of a concatenated SMS
MAX_PARTS: Final = 255

SMS_STRINGS: Final[dict[str, dict[str, str]]] = {
    "hy": {
        "sale": "Կտրոն",
        "sale_refund": "Վերադարձ",
        "prepayment": "Կանխավճար",
        "prepayment_refund": "Կանխավճարի վերադարձ",
        "currency": "֏",
        "fiscal": "ՖՀ",
    },
    "ru": {
        "sale": "Чек",
        "sale_refund": "Возврат",
        "prepayment": "Предоплата",
        "prepayment_refund": "Возврат предоплаты",
        "currency": "драм",
        "fiscal": "ФН",
    },
    "en": {
        "sale": "Receipt",
        "sale_refund": "Refund",
        "prepayment": "Prepayment",
        "prepayment_refund": "Prepayment refund",
        "currency": "AMD",
        "fiscal": "fiscal No.",
    },
}

# GSM 03.38: the basic table (one septet each, by code) and the extension table (escape 0x1B + code).
_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION: Final = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
_EXTENSION_EURO: Final = {"|": 0x40, "€": 0x65}
_GSM_BASIC: Final = {char: code for code, char in enumerate(_BASIC) if char != "\x1b"}
_GSM_EXT: Final = {**_EXTENSION, **_EXTENSION_EURO}


@dataclass(frozen=True)
class SmsFacts:
    """What a receipt SMS says."""

    kind: str  # sale | sale_refund | prepayment | prepayment_refund
    business: str
    total: Decimal
    fiscal: str
    url: str
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class SmsParts:
    """A text as SMPP short messages: ``data_coding``, ``esm_class`` and one ``short_message`` per part."""

    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def money(total: Decimal) -> str:
    """``1500`` → ``1500.00`` (no grouping: a thin space would force UCS-2)."""
    return f"{total.quantize(Decimal('0.01')):f}"


def compose(facts: SmsFacts) -> str:
    """The text of the receipt SMS (see the module rules)."""
    t = SMS_STRINGS[language_or_default(facts.language)]
    business = " ".join(facts.business.split())
    if len(business) > MAX_BUSINESS:
        business = business[: MAX_BUSINESS - 3].rstrip() + "..."
    text = f"{business}: {t.get(facts.kind, t['sale'])} {money(facts.total)} {t['currency']}"
    if facts.fiscal:
        text += f", {t['fiscal']} {facts.fiscal}"
    return f"{text} {facts.url}"


def gsm7_septets(text: str) -> int | None:
    """How many septets ``text`` takes in GSM-7, or None when a character has no GSM-7 code."""
    count = 0
    for char in text:
        if char in _GSM_BASIC:
            count += 1
        elif char in _GSM_EXT:
            count += 2
        else:
            return None
    return count


def _gsm7_bytes(char: str) -> bytes:
    if char in _GSM_BASIC:
        return bytes([_GSM_BASIC[char]])
    return bytes([0x1B, _GSM_EXT[char]])


def _ucs2_bytes(char: str) -> bytes:
    return char.encode("utf-16-be")


def encode(text: str, reference: int) -> SmsParts:
    """``text`` as one SMS or as concatenated parts (``reference`` 0–255 ties the parts together)."""
    if not text:
        raise ValueError("an SMS needs a text")
    coding = GSM7 if gsm7_septets(text) is not None else UCS2
    unit = 1 if coding == GSM7 else 2  # octets per septet / per UTF-16 code unit
    pieces = [_gsm7_bytes(char) if coding == GSM7 else _ucs2_bytes(char) for char in text]
    whole = b"".join(pieces)
    if len(whole) // unit <= SINGLE[coding]:
        return SmsParts(coding, 0, (whole,))
    chunks: list[bytes] = []
    current = b""
    for piece in pieces:
        if (len(current) + len(piece)) // unit > PART[coding]:
            chunks.append(current)
            current = b""
        current += piece
    chunks.append(current)
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"the text needs more than {MAX_PARTS} SMS parts")
    header = bytes([0x05, 0x00, 0x03, reference % 256, len(chunks)])
    return SmsParts(coding, UDHI, tuple(header + bytes([index]) + chunk for index, chunk in enumerate(chunks, 1)))


def decode(parts: SmsParts) -> str:
    """The text back from its parts (for tests and logs)."""
    text = []
    for part in parts.parts:
        body = part[part[0] + 1 :] if parts.esm_class & UDHI else part
        text.append(body.decode("utf-16-be") if parts.data_coding == UCS2 else _gsm7_text(body))
    return "".join(text)


def _gsm7_text(body: bytes) -> str:
    by_code = {code: char for char, code in _GSM_BASIC.items()}
    by_ext = {code: char for char, code in _GSM_EXT.items()}
    out = []
    escape = False
    for octet in body:
        if escape:
            out.append(by_ext.get(octet, " "))
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            out.append(by_code.get(octet, " "))
    return "".join(out)
