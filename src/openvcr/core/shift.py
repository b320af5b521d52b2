"""Shift totals: what an X or Z report of a register states, computed from the register's journal. Pure.

Rules:
- A register's shift is the run of its journal entries after its last Z report (or from entry 1). It opens
  with its first document; report entries (``x_report``, ``z_report``) are not documents of a shift.
- An X report states the totals of the open shift without closing it; a Z report states them and closes it:
  the next shift starts with the entry after it. Shifts are numbered 1, 2, 3 … per register: a report's
  ``shift`` is one more than the number of Z reports before it.
- The totals are a function of the signed bodies of the shift's entries only (``ShiftTally``), so anyone
  with the journal can recompute them: the verifier does, for every report entry, and a report whose totals
  or shift number are not what the entries before it add up to is a ``ShiftTotalsError``.
- Totals are plain JSON (amounts as decimal strings with two decimals, counts and numbers as integers), the
  form in which they are signed. Per document kind: count and sum; per tender and document kind; per tax
  regime: sales and refunds with their VAT (a line journaled without a tax regime counts as
  ``unspecified``); VAT; prepayments taken, used by sales, given back by sale refunds, and refunded; the
  shift's first and last journal entry, time and SRC receipt number.
- ``netCash`` (cash taken minus change and cash paid back) may be negative; every other amount is not.
- Adding up never fails: a missing amount counts as zero, a body without items adds to no tax regime, and a
  value that is not an amount (or a body that is not an object) marks the shift ``malformed``, so that
  every report of it fails verification (the checker never raises on a journal it did not write).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

X_REPORT = "x_report"
Z_REPORT = "z_report"
REPORT_TYPES = frozenset({X_REPORT, Z_REPORT})
UNSPECIFIED_REGIME = "unspecified"

_KINDS = ("sale", "sale_refund", "prepayment", "prepayment_refund")
_TENDERS: dict[str, tuple[str, ...]] = {
    "sale": ("cash", "nonCash", "prepayment", "compensation", "change"),
    "sale_refund": ("cash", "nonCash", "prepayment", "compensation"),
    "prepayment": ("cash", "nonCash"),
    "prepayment_refund": ("cash", "nonCash"),
}
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")


def _text(value: Decimal) -> str:
    return format(value.quantize(_CENT), "f")


class _NotAnAmount(Exception):
    pass


def _amount(body: Mapping[str, Any], name: str) -> Decimal | None:
    """The amount ``body[name]`` (None when absent, null or zero: nothing to add)."""
    value = body.get(name)
    if value is None or value == "0.00":
        return None
    if type(value) is not str and type(value) is not int:
        raise _NotAnAmount(name)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise _NotAnAmount(name) from None
    if not result.is_finite():
        raise _NotAnAmount(name)
    return result


class ShiftTally:
    """The running totals of one shift: ``add`` each document entry in journal order, read ``totals()``."""

    def __init__(self) -> None:
        self.count = 0
        self.first_number: int | None = None
        self.last_number: int | None = None
        self.opened_at: int | None = None
        self.first_receipt: int | None = None
        self.last_receipt: int | None = None
        self._counts = dict.fromkeys(_KINDS, 0)
        self._sums = dict.fromkeys(_KINDS, _ZERO)
        self._tenders = {kind: dict.fromkeys(names, _ZERO) for kind, names in _TENDERS.items()}
        self._regimes: dict[str, list[Decimal]] = {}
        self._other: dict[str, int] = {}
        self.malformed: str | None = None

    @property
    def empty(self) -> bool:
        """Whether the shift holds no document yet."""
        return self.count == 0

    def _regime(self, name: object) -> list[Decimal]:
        key = name if isinstance(name, str) and name else UNSPECIFIED_REGIME
        found = self._regimes.get(key)
        if found is None:
            found = self._regimes[key] = [_ZERO, _ZERO, _ZERO, _ZERO]
        return found

    def add(self, doc_type: str, number: int, time_ms: int, body: Mapping[str, Any]) -> None:
        """One journal entry of the shift (a report entry is ignored)."""
        if doc_type in REPORT_TYPES:
            return
        try:
            self._add(doc_type, number, time_ms, body)
        except _NotAnAmount as exc:
            self.malformed = self.malformed or f"entry #{number}: body field {exc.args[0]!r} is not an amount"

    def _add(self, doc_type: str, number: int, time_ms: int, body: Mapping[str, Any]) -> None:
        if not isinstance(body, Mapping):
            self.malformed = self.malformed or f"entry #{number}: the body is not an object"
            return
        self.count += 1
        if self.first_number is None:
            self.first_number, self.opened_at = number, time_ms
        self.last_number = number
        src = body.get("src")
        if isinstance(src, Mapping) and type(src.get("receiptId")) is int:
            if self.first_receipt is None:
                self.first_receipt = src["receiptId"]
            self.last_receipt = src["receiptId"]
        if doc_type not in self._counts:
            self._other[doc_type] = self._other.get(doc_type, 0) + 1
            return
        self._counts[doc_type] += 1
        total = _amount(body, "total" if doc_type.startswith("sale") else "amount")
        if total is not None:
            self._sums[doc_type] += total
        tenders = self._tenders[doc_type]
        for name in tenders:
            value = _amount(body, name)
            if value is not None:
                tenders[name] += value
        if doc_type in ("sale", "sale_refund"):
            self._lines(doc_type, number, body)

    def _lines(self, doc_type: str, number: int, body: Mapping[str, Any]) -> None:
        items = body.get("items")
        if not isinstance(items, list):
            return
        refund = doc_type == "sale_refund"
        for item in items:
            if not isinstance(item, Mapping):
                self.malformed = self.malformed or f"entry #{number}: an item is not an object"
                continue
            regime = self._regime(item.get("taxRegime"))
            offset = 2 if refund else 0
            amount = _amount(item, "amount" if refund else "total")
            if amount is not None:
                regime[offset] += amount
            vat = _amount(item, "vat")
            if vat is not None:
                regime[offset + 1] += vat

    def totals(self) -> dict[str, Any]:
        """The shift's totals as plain JSON (see the module rules)."""
        sale, refund = self._tenders["sale"], self._tenders["sale_refund"]
        prepayment, prepayment_refund = self._tenders["prepayment"], self._tenders["prepayment_refund"]
        net_cash = sale["cash"] - sale["change"] + prepayment["cash"] - refund["cash"] - prepayment_refund["cash"]
        vat_sales = sum((r[1] for r in self._regimes.values()), _ZERO)
        vat_refunds = sum((r[3] for r in self._regimes.values()), _ZERO)
        return {
            "documents": {
                **{kind: {"count": self._counts[kind], "total": _text(self._sums[kind])} for kind in _KINDS},
                **{kind: {"count": count, "total": None} for kind, count in sorted(self._other.items())},
            },
            "tenders": {
                kind: {name: _text(value) for name, value in tenders.items()} for kind, tenders in self._tenders.items()
            },
            "netCash": _text(net_cash),
            "taxRegimes": {
                name: {
                    "sales": _text(values[0]),
                    "salesVat": _text(values[1]),
                    "refunds": _text(values[2]),
                    "refundsVat": _text(values[3]),
                }
                for name, values in sorted(self._regimes.items())
            },
            "vat": {"sales": _text(vat_sales), "refunds": _text(vat_refunds)},
            "refunds": {
                "count": self._counts["sale_refund"] + self._counts["prepayment_refund"],
                "total": _text(self._sums["sale_refund"] + self._sums["prepayment_refund"]),
            },
            "prepayments": {
                "taken": _text(self._sums["prepayment"]),
                "used": _text(sale["prepayment"]),
                "returned": _text(refund["prepayment"]),
                "refunded": _text(self._sums["prepayment_refund"]),
            },
            "entries": {"count": self.count, "first": self.first_number, "last": self.last_number},
            "openedAt": self.opened_at,
            "receipts": {"first": self.first_receipt, "last": self.last_receipt},
        }


def report_body(report_id: int, report_type: str, shift: int, tally: ShiftTally) -> dict[str, Any]:
    """The journal body of an X (``report_type`` ``"x"``) or Z (``"z"``) report."""
    return {"report": report_id, "type": report_type, "shift": shift, "totals": tally.totals()}


class ShiftChecker:
    """Follows a register's journal in order and checks each report entry against the entries before it.

    ``feed`` returns a message when a report's shift number or totals are wrong, else None."""

    def __init__(self) -> None:
        self.shift = 1
        self.tally = ShiftTally()

    def feed(self, doc_type: str, number: int, time_ms: int, body: Mapping[str, Any]) -> str | None:
        if doc_type not in REPORT_TYPES:
            self.tally.add(doc_type, number, time_ms, body)
            return None
        problem = None
        expected_type = "z" if doc_type == Z_REPORT else "x"
        if body.get("type") != expected_type:
            problem = f"entry #{number}: a {doc_type} whose body says type {body.get('type')!r}"
        elif self.tally.malformed is not None:
            problem = f"entry #{number}: the {doc_type} adds up a malformed shift ({self.tally.malformed})"
        elif body.get("shift") != self.shift:
            problem = f"entry #{number}: a {doc_type} of shift {body.get('shift')!r}, the open shift is {self.shift}"
        elif body.get("totals") != self.tally.totals():
            problem = f"entry #{number}: the {doc_type}'s totals are not the sum of shift {self.shift}'s entries"
        if doc_type == Z_REPORT:
            self.shift += 1
            self.tally = ShiftTally()
        return problem


__all__ = [
    "REPORT_TYPES",
    "UNSPECIFIED_REGIME",
    "X_REPORT",
    "Z_REPORT",
    "ShiftChecker",
    "ShiftTally",
    "report_body",
]
