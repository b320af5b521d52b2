"""The V-SDC wire formats: JSON and XML requests in, JSON and XML responses out, and field validation.

Rules:
- A body is at most ``MAX_BODY_BYTES``. JSON is read by ``openvcr.core.jsontext`` (UTF-8, numbers as
  ``Decimal``, never float). XML is parsed by
  defusedxml with DTDs, entities and external references forbidden; root ``<invoice>``, one child element per
  JSON field, lines as ``<lines><line>…</line></lines>``.
- Unknown keys are ignored; ``null`` (or an empty XML element) is the same as an absent key.
- Field limits are the seed's (``tin``, ``mcr``, ``ino``, ``place``, ``ccid`` ≤ 15 characters, ``ean`` 8–18,
  line ``name`` ≤ 60); no text holds a control character other than tab and line breaks; ``date`` is
  ``yyyy-MM-dd HH:mm:ss Z`` strictly; ``itype``/``ttype`` are the contract's
  enums; amounts are non-negative with at most 2 decimals and at most ``MAX_AMOUNT``, rates at most 6
  decimals within 0–100, quantities at most 3 decimals and at most ``MAX_QUANTITY`` (``openvcr.core.limits``);
  ``journal`` is required.
- Every problem found is listed (``errors``); the first one is the ``message``.
- Arithmetic: ``<x>t = <x>b × <x>r / 100`` to the cent (half-up); ``ct = Σ taxable × cr / 100``; when lines are
  sent, the lines of each code sum (``base × quantity − discount``, to the cent) to that slot's taxable amount
  and each line's ``total`` is its taxable amount × (1 + rate/100), to the cent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from openvcr.core.canonical import canonical_bytes
from openvcr.core.jsontext import parse_json
from openvcr.core.limits import MAX_AMOUNT, MAX_QUANTITY
from openvcr.core.money import decimals as decimals_of
from openvcr.core.phone import E164_HINT, is_e164
from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.models import (
    ITYPE_LETTER,
    SLOT_BY_CODE,
    SLOTS,
    TTYPE_LETTER,
    Invoice,
    Line,
    parse_date,
    round_cent,
)

MAX_BODY_BYTES = 1024 * 1024
MAX_LINES = 1000
MAX_JOURNAL = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks are text (the journal)
_ZERO = Decimal("0")
_HUNDRED = Decimal("100")

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml")


def media_kind(content_type: str | None) -> str | None:
    """``json``, ``xml`` or None for a Content-Type / Accept value."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    if value in JSON_TYPES or value.endswith("+json"):
        return "json"
    if value in XML_TYPES or value.endswith("+xml"):
        return "xml"
    return None


def response_kind(request_kind: str, accept: str | None) -> str:
    """The request's format, unless ``Accept`` asks only for the other one."""
    if not accept:
        return request_kind
    kinds = [media_kind(part) for part in accept.split(",")]
    if request_kind in kinds or "*/*" in accept:
        return request_kind
    for kind in kinds:
        if kind is not None:
            return kind
    return request_kind


def parse_body(body: bytes, kind: str) -> dict[str, Any]:
    """The request fields as a dict (JSON numbers as Decimal; XML values as strings)."""
    if len(body) > MAX_BODY_BYTES:
        raise VsdcRejected.invalid([f"The request body is larger than {MAX_BODY_BYTES} bytes"])
    if kind == "xml":
        return _parse_xml(body)
    try:
        data = parse_json(body)
    except ValueError as exc:
        raise VsdcRejected.invalid(["The request body is not valid JSON"]) from exc
    if not isinstance(data, dict):
        raise VsdcRejected.invalid(["The request body must be a JSON object"])
    return data


def _xml_value(element: Element) -> Any:
    children = list(element)
    if not children:
        text = element.text
        return None if text is None or not text.strip() else text.strip()
    return {child.tag: _xml_value(child) for child in children}


def _parse_xml(body: bytes) -> dict[str, Any]:
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise VsdcRejected.invalid(["The request body is not acceptable XML"]) from exc
    if root.tag != "invoice":
        raise VsdcRejected.invalid(["The XML root element must be <invoice>"])
    out: dict[str, Any] = {}
    for child in root:
        if child.tag == "lines":
            out["lines"] = [_xml_value(line) for line in child if line.tag == "line"]
        else:
            out[child.tag] = _xml_value(child)
    return out


# --- validation --------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.problems: list[str] = []

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_len: int | None = None,
        min_len: int | None = None,
        label: str | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> str | None:
        label = label or name
        value = (self.fields if source is None else source).get(name)
        if isinstance(value, (bool, dict, list)):
            self.problems.append(f"{label} must be a text")
            return None
        if isinstance(value, int | Decimal):
            value = str(value)
        if value is None or (isinstance(value, str) and value == ""):
            if required:
                self.problems.append(f"{label[:1].upper()}{label[1:]} is missing")
            return None
        if not isinstance(value, str):
            self.problems.append(f"{label} must be a text")
            return None
        if max_len is not None and len(value) > max_len:
            self.problems.append(f"{label} is longer than {max_len} characters")
            return None
        if _CONTROL.search(value):
            self.problems.append(f"{label} holds a control character")
            return None
        if min_len is not None and len(value) < min_len:
            self.problems.append(f"{label} is shorter than {min_len} characters")
            return None
        return value

    def number(
        self,
        name: str,
        *,
        places: int,
        required: bool = False,
        label: str | None = None,
        source: Mapping[str, Any] | None = None,
        maximum: Decimal | None = None,
        positive: bool = False,
    ) -> Decimal | None:
        label = label or name
        value = (self.fields if source is None else source).get(name)
        if value is None or value == "":
            if required:
                self.problems.append(f"{label} is missing")
            return None
        if isinstance(value, bool):
            self.problems.append(f"{label} must be a number")
            return None
        try:
            number = Decimal(value) if isinstance(value, int | str) else value
        except InvalidOperation:
            number = None
        if not isinstance(number, Decimal) or not number.is_finite():
            self.problems.append(f"{label} must be a number")
            return None
        if number < 0 or (positive and number == 0):
            self.problems.append(f"{label} must be {'greater than' if positive else 'at least'} 0")
            return None
        if decimals_of(number) > places:
            self.problems.append(f"{label} has more than {places} decimals")
            return None
        if maximum is None:  # amounts and quantities: what every column and JSON client holds exactly
            maximum = MAX_QUANTITY if places == 3 else MAX_AMOUNT
        if number > maximum:
            self.problems.append(f"{label} must be at most {maximum}")
            return None
        return number


def identity(fields: Mapping[str, Any]) -> tuple[str, str]:
    """``tin`` and ``mcr`` (checked first: they select the taxpayer and the device)."""
    check = _Checker(fields)
    tin = check.text("tin", required=True, max_len=15, label="TIN")
    mcr = check.text("mcr", required=True, max_len=15, label="MCR")
    if check.problems:
        raise VsdcRejected.invalid(check.problems)
    assert tin is not None and mcr is not None
    return tin.strip(), mcr.strip()


def validate(fields: Mapping[str, Any]) -> Invoice:
    """Every field of the request; ``VsdcRejected`` listing every problem."""
    check = _Checker(fields)
    tin = check.text("tin", required=True, max_len=15, label="TIN")
    mcr = check.text("mcr", required=True, max_len=15, label="MCR")
    date = check.text("date", required=True, label="date")
    if date is not None:
        try:
            parse_date(date)
        except ValueError:
            check.problems.append("date must be formatted yyyy-MM-dd HH:mm:ss Z, e.g. 2014-12-31 21:07:36 -0400")
    itype = check.text("itype", required=True, label="itype")
    if itype is not None and itype not in ITYPE_LETTER:
        check.problems.append("itype must be one of Normal, Pro Forma, Training")
    ttype = check.text("ttype", required=True, label="ttype")
    if ttype is not None and ttype not in TTYPE_LETTER:
        check.problems.append("ttype must be one of Sale, Refund")
    ino = check.text("ino", required=True, max_len=15, label="ino")
    journal = check.text("journal", required=True, max_len=MAX_JOURNAL, label="journal")
    place = check.text("place", max_len=15)
    bid = check.text("bid", max_len=64)
    ccid = check.text("ccid", max_len=15)
    phone = check.text("phone", max_len=32)
    if phone is not None and not is_e164(phone):
        check.problems.append(f"phone {E164_HINT}")
    md5 = check.text("md5", max_len=128)
    rates: dict[str, Decimal | None] = {}
    bases: dict[str, Decimal] = {}
    taxes: dict[str, Decimal] = {}
    for _code, slot in SLOTS:
        rates[slot] = check.number(f"{slot}r", places=6, maximum=_HUNDRED)
        bases[slot] = check.number(f"{slot}b", places=2) or _ZERO
        taxes[slot] = check.number(f"{slot}t", places=2) or _ZERO
    cr = check.number("cr", places=6, maximum=_HUNDRED)
    ct = check.number("ct", places=2) or _ZERO
    lines = _lines(check, fields.get("lines"))
    if check.problems:
        raise VsdcRejected.invalid(check.problems)
    assert tin and mcr and date and itype and ttype and ino and journal
    return Invoice(
        tin=tin.strip(),
        date=date,
        place=place,
        bid=bid,
        ccid=ccid,
        itype=itype,
        ttype=ttype,
        mcr=mcr.strip(),
        ino=ino,
        journal=journal,
        phone=phone,
        md5=md5,
        rates=rates,
        bases=bases,
        taxes=taxes,
        cr=cr,
        ct=ct,
        lines=tuple(lines),
    )


def _lines(check: _Checker, raw: Any) -> list[Line]:
    if raw is None:
        return []
    if isinstance(raw, dict):  # one XML <line> or a JSON object
        raw = [raw]
    if not isinstance(raw, list):
        check.problems.append("lines must be a list")
        return []
    if len(raw) > MAX_LINES:
        check.problems.append(f"lines has more than {MAX_LINES} entries")
        return []
    lines: list[Line] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            check.problems.append(f"line {index} must be an object")
            continue
        before = len(check.problems)
        label = f"line {index} "
        ean = check.text("ean", max_len=18, min_len=8, label=label + "ean", source=item)
        name = check.text("name", max_len=60, label=label + "name", source=item)
        quantity = check.number(
            "quantity", places=3, required=True, positive=True, label=label + "quantity", source=item
        )
        base = check.number("base", places=2, required=True, label=label + "base", source=item)
        discount = check.number("discount", places=2, label=label + "discount", source=item) or _ZERO
        code = check.text("code", required=True, label=label + "code", source=item)
        if code is not None and code not in SLOT_BY_CODE:
            check.problems.append(f"{label}code must be one of A, B, C, D")
        total = check.number("total", places=2, required=True, label=label + "total", source=item)
        if len(check.problems) == before:
            assert quantity is not None and base is not None and code is not None and total is not None
            lines.append(Line(ean, name, quantity, base, discount, code, total))
    return lines


def first_rate_mismatch(invoice: Invoice, configured: Mapping[str, Decimal]) -> VsdcRejected | None:
    """The first slot (A, B, C, D) whose sent rate differs from the configured one."""
    for _code, slot in SLOTS:
        sent = invoice.rates[slot]
        if sent is not None and sent != configured[slot]:
            return VsdcRejected.rate_mismatch(f"{configured[slot]:.6f}", f"{sent:.6f}")
    return None


def arithmetic_problems(invoice: Invoice, configured: Mapping[str, Decimal]) -> list[str]:
    """Taxes against bases and rates; lines against slots (see the module rules)."""
    problems: list[str] = []
    for _code, slot in SLOTS:
        expected = round_cent(invoice.bases[slot] * configured[slot] / _HUNDRED)
        if invoice.taxes[slot] != expected:
            problems.append(f"{slot}t expected <{expected}> but was <{invoice.taxes[slot]}>")
    if invoice.cr is None:
        if invoice.ct != 0:
            problems.append("cr is missing while ct is not zero")
    else:
        taxable = sum(invoice.bases.values(), _ZERO)
        expected_ct = round_cent(taxable * invoice.cr / _HUNDRED)
        if invoice.ct != expected_ct:
            problems.append(f"ct expected <{expected_ct}> but was <{invoice.ct}>")
    if invoice.lines:
        sums = {slot: _ZERO for _c, slot in SLOTS}
        for index, line in enumerate(invoice.lines, start=1):
            slot = SLOT_BY_CODE[line.code]
            sums[slot] += line.taxable
            expected_total = round_cent(line.taxable * (_HUNDRED + configured[slot]) / _HUNDRED)
            if line.total != expected_total:
                problems.append(f"line {index} total expected <{expected_total}> but was <{line.total}>")
        for code, slot in SLOTS:
            if sums[slot] != invoice.bases[slot]:
                problems.append(f"lines of code {code} sum to <{sums[slot]}> but {slot}b is <{invoice.bases[slot]}>")
    return problems


def normalized(invoice: Invoice) -> dict[str, Any]:
    """The invoice as plain values (the form that is signed and compared on replay)."""
    return {
        "tin": invoice.tin,
        "date": invoice.date,
        "place": invoice.place,
        "bid": invoice.bid,
        "ccid": invoice.ccid,
        "itype": invoice.itype,
        "ttype": invoice.ttype,
        "mcr": invoice.mcr,
        "ino": invoice.ino,
        "journal": invoice.journal,
        "phone": invoice.phone,
        "md5": invoice.md5,
        "slots": {
            slot: {
                "r": None if invoice.rates[slot] is None else _plain_decimal(invoice.rates[slot]),
                "b": _plain_decimal(invoice.bases[slot]),
                "t": _plain_decimal(invoice.taxes[slot]),
            }
            for _code, slot in SLOTS
        },
        "cr": None if invoice.cr is None else _plain_decimal(invoice.cr),
        "ct": _plain_decimal(invoice.ct),
        "lines": [
            {
                "ean": line.ean,
                "name": line.name,
                "quantity": _plain_decimal(line.quantity),
                "base": _plain_decimal(line.base),
                "discount": _plain_decimal(line.discount),
                "code": line.code,
                "total": _plain_decimal(line.total),
            }
            for line in invoice.lines
        ],
    }


def _plain_decimal(value: Decimal | None) -> str:
    assert value is not None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def request_digest(invoice: Invoice) -> str:
    """SHA-256 (hex) of the normalized request: equal for the same invoice in JSON or XML."""
    return hashlib.sha256(canonical_bytes(normalized(invoice))).hexdigest()


# --- responses --------------------------------------------------------------------------------------------


def render(body: Mapping[str, Any], kind: str) -> tuple[bytes, str]:
    """The response bytes and media type."""
    if kind == "xml":
        return render_xml(body), "application/xml; charset=utf-8"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), (
        "application/json; charset=utf-8"
    )


def render_xml(body: Mapping[str, Any]) -> bytes:
    """``<response>`` with one element per field; ``errors`` as ``<errors><error>…</error></errors>``;
    null fields are left out."""
    root = Element("response")
    for key, value in body.items():
        if value is None:
            continue
        element = SubElement(root, key)
        if isinstance(value, list):
            for item in value:
                SubElement(element, "error").text = str(item)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        else:
            element.text = str(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(root, encoding="unicode").encode("utf-8")
