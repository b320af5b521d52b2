"""V-SDC domain types and pure rules (no I/O).

Rules:
- Tax slots: code A → ``h`` (hr/hb/ht), B → ``m``, C → ``l``, D → ``z``, whatever the configured rates are.
- ``itype`` is ``Normal`` | ``Pro Forma`` (also ``Proforma``) | ``Training``, letter N/P/T; ``ttype`` is
  ``Sale`` | ``Refund``, letter S/R.
- Counters only grow. Every invoice moves the invoice count and the count of its type pair (NS, NR, PS, PR,
  TS, TR). Only Normal invoices move money: a sale adds its total (taxable + taxes) to ``sales_total`` and its
  taxes to ``sales_tax_total``; a refund adds to ``refund_total`` / ``refund_tax_total``.
- ``numberRecu`` = ``<count of this itype+ttype>/<device invoice count><I><T>`` (e.g. ``5/7NS``).
- ``hash`` = Base64(MD5(``mcr|ino|date``)): an identifier, not a security primitive.
- ``verificationUrl`` = ``<base>/ticket/verify?`` + the parameters ``tin, date, bid, itype, ttype, mcr, ino,
  data, sign, hr, hb, ht, mr, mb, mt, lr, lb, lt, zr, zb, zt, cr, ct`` in this order; strings trimmed and left
  out when empty; amounts left out when zero, else at most 6 decimals without trailing zeros; encoded like a
  form (space → ``+``, only ``A–Z a–z 0–9 . - * _`` unescaped, everything else ``%XX`` of its UTF-8 bytes).
- Dates are ``yyyy-MM-dd HH:mm:ss Z`` (``2014-12-31 21:07:36 -0400``), strictly.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

SLOTS: tuple[tuple[str, str], ...] = (("A", "h"), ("B", "m"), ("C", "l"), ("D", "z"))
"""Tax code → slot prefix of the request fields."""

SLOT_BY_CODE: dict[str, str] = dict(SLOTS)

ITYPE_LETTER: dict[str, str] = {"Normal": "N", "Pro Forma": "P", "Proforma": "P", "Training": "T"}
TTYPE_LETTER: dict[str, str] = {"Sale": "S", "Refund": "R"}
PAIRS: tuple[str, ...] = ("NS", "NR", "PS", "PR", "TS", "TR")

DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
_DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}\Z")

URL_PARAMS: tuple[str, ...] = (
    "tin",
    "date",
    "bid",
    "itype",
    "ttype",
    "mcr",
    "ino",
    "data",
    "sign",
    "hr",
    "hb",
    "ht",
    "mr",
    "mb",
    "mt",
    "lr",
    "lb",
    "lt",
    "zr",
    "zb",
    "zt",
    "cr",
    "ct",
)
AMOUNT_PARAMS: frozenset[str] = frozenset(URL_PARAMS[9:])

CENT = Decimal("0.01")
_SIX = Decimal("0.000001")


def parse_date(text: str) -> datetime:
    """A ``yyyy-MM-dd HH:mm:ss Z`` date; ``ValueError`` for anything else."""
    if not _DATE_RE.match(text):
        raise ValueError(f"{text!r} is not yyyy-MM-dd HH:mm:ss Z")
    return datetime.strptime(text, DATE_FORMAT)


def format_date(moment: datetime) -> str:
    """``moment`` (timezone-aware) as ``yyyy-MM-dd HH:mm:ss Z``."""
    return moment.strftime(DATE_FORMAT)


def round_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal) -> str:
    """At most 6 decimals (half-up), no trailing zeros, never an exponent: ``21.550`` → ``21.55``."""
    text = format(value.quantize(_SIX, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def form_encode(text: str) -> str:
    """Form encoding: space → ``+``; ``A–Z a–z 0–9 . - * _`` kept; every other byte ``%XX``."""
    out: list[str] = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in ".-*_"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def verification_url(base: str, params: dict[str, str | Decimal | None]) -> str:
    """The ``verificationUrl`` for the given parameters (see the module rules)."""
    parts: list[str] = []
    for name in URL_PARAMS:
        value = params.get(name)
        if value is None:
            continue
        if name in AMOUNT_PARAMS:
            amount = value if isinstance(value, Decimal) else Decimal(value)
            if amount.is_zero():
                continue
            text = format_amount(amount)
        else:
            text = str(value).strip()
            if not text:
                continue
        parts.append(f"{name}={form_encode(text)}")
    return base.rstrip("/") + "/ticket/verify?" + "&".join(parts)


def invoice_hash(mcr: str, ino: str, date: str) -> str:
    """Base64 of MD5 over ``mcr|ino|date``."""
    digest = hashlib.md5(f"{mcr}|{ino}|{date}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Line:
    ean: str | None
    name: str | None
    quantity: Decimal
    base: Decimal
    discount: Decimal
    code: str
    total: Decimal

    @property
    def taxable(self) -> Decimal:
        """``base × quantity − discount`` to the cent."""
        return round_cent(self.base * self.quantity - self.discount)


@dataclass(frozen=True)
class Invoice:
    """A validated invoice request (amounts are Decimals; absent amounts are zero)."""

    tin: str
    date: str
    place: str | None
    bid: str | None
    ccid: str | None
    itype: str  # as sent ("Normal", "Pro Forma", "Proforma", "Training")
    ttype: str
    mcr: str
    ino: str
    journal: str
    phone: str | None
    md5: str | None
    rates: dict[str, Decimal | None]  # slot prefix → rate as sent (None when absent)
    bases: dict[str, Decimal]
    taxes: dict[str, Decimal]
    cr: Decimal | None
    ct: Decimal
    lines: tuple[Line, ...]

    @property
    def itype_letter(self) -> str:
        return ITYPE_LETTER[self.itype]

    @property
    def ttype_letter(self) -> str:
        return TTYPE_LETTER[self.ttype]

    @property
    def pair(self) -> str:
        return self.itype_letter + self.ttype_letter

    @property
    def moves_money(self) -> bool:
        return self.itype_letter == "N"

    @property
    def tax_total(self) -> Decimal:
        return sum(self.taxes.values(), Decimal("0")) + self.ct

    @property
    def total(self) -> Decimal:
        return sum(self.bases.values(), Decimal("0")) + self.tax_total


@dataclass(frozen=True)
class Counters:
    """A device's counters after an invoice. Money in AMD with 2 decimals."""

    invoice_count: int
    pairs: dict[str, int]
    sales_total: Decimal
    refund_total: Decimal
    sales_tax_total: Decimal
    refund_tax_total: Decimal

    _FORMAT = ">B7Q4q"
    _VERSION = 1

    def pack(self) -> bytes:
        """A fixed binary layout: version, invoice count, the six pair counts, four totals in cents."""
        cents = [
            int(value * 100)
            for value in (self.sales_total, self.refund_total, self.sales_tax_total, self.refund_tax_total)
        ]
        return struct.pack(self._FORMAT, self._VERSION, self.invoice_count, *(self.pairs[p] for p in PAIRS), *cents)

    @classmethod
    def unpack(cls, data: bytes) -> Counters:
        fields = struct.unpack(cls._FORMAT, data)
        if fields[0] != cls._VERSION:
            raise ValueError(f"unknown counters version {fields[0]}")
        amounts = [Decimal(v).scaleb(-2) for v in fields[8:12]]
        return cls(
            invoice_count=fields[1],
            pairs=dict(zip(PAIRS, fields[2:8], strict=True)),
            sales_total=amounts[0],
            refund_total=amounts[1],
            sales_tax_total=amounts[2],
            refund_tax_total=amounts[3],
        )

    def as_dict(self) -> dict[str, int | Decimal]:
        out: dict[str, int | Decimal] = {"invoiceCount": self.invoice_count}
        out.update({f"count{p}": self.pairs[p] for p in PAIRS})
        out.update(
            salesTotal=self.sales_total,
            refundTotal=self.refund_total,
            salesTaxTotal=self.sales_tax_total,
            refundTaxTotal=self.refund_tax_total,
        )
        return out

    def never_below(self, earlier: Counters) -> bool:
        """True when every counter is at least the ``earlier`` one's (counters only grow)."""
        mine, theirs = self.as_dict(), earlier.as_dict()
        return all(mine[name] >= theirs[name] for name in mine)


def number_recu(pair_count: int, invoice_count: int, pair: str) -> str:
    """``<count of this pair>/<device invoice count><pair>``, e.g. ``5/7NS``."""
    return f"{pair_count}/{invoice_count}{pair}"


JOURNAL_PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    ("$$date$$", "date"),
    ("$$nev$$", "nev"),
    ("$$numberRecu$$", "numberRecu"),
    ("$$idata$$", "idata"),
    ("$idata$$", "idata"),
    ("$$signature$$", "signature"),
    ("$signature$$", "signature"),
)


def fill_journal(journal: str, values: dict[str, str]) -> str:
    """Replace every placeholder (both spellings of ``idata`` and ``signature``) in one pass."""
    pattern = re.compile("|".join(re.escape(p) for p, _ in JOURNAL_PLACEHOLDERS))
    names = dict(JOURNAL_PLACEHOLDERS)
    return pattern.sub(lambda m: values[names[m.group(0)]], journal)
