"""The SRC e-HDM wire format: request bodies, response parsing, JSON with exact decimals.

Rules:
- Every body carries ``crn``; seq-carrying methods (configureDepartments, print, printCopy,
  getReturnedReceiptInfo, printReturnReceipt) carry ``seq`` when one is given.
- Money is sent as a JSON number with exactly 2 decimals (``40000.00``), quantities with exactly 3
  (``2.000``); integers (mode, dep, types, cashierId) as JSON integers; ``receiptId`` as a string.
- Optional fields are omitted when unused (discounts, ``partnerTin``, ``emarks``, ``sourceCrn``); ``items``
  is ``null`` in mode 3, as in the manual.
- Responses are parsed with ``Decimal`` for every number; numbers sent as strings are accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from openvcr.authority.gateway import (
    Good,
    GoodList,
    PrintRequest,
    Receipt,
    ReturnedItem,
    ReturnedReceiptInfo,
    ReturnRequest,
)

API_PREFIX = "/api/v1.0/"
METHODS = (
    "checkConnection",
    "activate",
    "configureDepartments",
    "getGoodList",
    "print",
    "printCopy",
    "getReturnedReceiptInfo",
    "printReturnReceipt",
)
SEQ_METHODS = frozenset({"configureDepartments", "print", "printCopy", "getReturnedReceiptInfo", "printReturnReceipt"})

MONEY = Decimal("0.01")
QUANTITY = Decimal("0.001")


class Money(Decimal):
    """A Decimal written with exactly 2 decimals."""


class Quantity(Decimal):
    """A Decimal written with exactly 3 decimals."""


def money(value: Decimal) -> Money:
    return Money(value.quantize(MONEY, rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> Quantity:
    return Quantity(value.quantize(QUANTITY, rounding=ROUND_HALF_UP))


def _number(value: Any) -> orjson.Fragment:
    """A Decimal as the exact JSON number it stands for (money with 2 decimals, quantities with 3)."""
    if isinstance(value, Decimal):
        if isinstance(value, Money):
            value = value.quantize(MONEY, rounding=ROUND_HALF_UP)
        elif isinstance(value, Quantity):
            value = value.quantize(QUANTITY, rounding=ROUND_HALF_UP)
        if not value.is_finite():
            raise TypeError(f"cannot encode {value} on the wire")
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON text (UTF-8, keys in order) with Decimals written as exact JSON numbers. Bodies are built
    from typed requests (``gateway``) whose amounts are Decimals, so no float is on the way."""
    return orjson.dumps(value, default=_number, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def _with_seq(body: dict[str, Any], seq: int | None) -> dict[str, Any]:
    if seq is not None:
        body["seq"] = seq
    return body


def check_connection_body(crn: str) -> dict[str, Any]:
    return {"crn": crn}


def activate_body(crn: str) -> dict[str, Any]:
    return {"crn": crn}


def configure_departments_body(crn: str, seq: int | None, departments: Sequence[tuple[int, int]]) -> dict[str, Any]:
    body: dict[str, Any] = {"crn": crn}
    _with_seq(body, seq)
    body["departments"] = [{"dep": dep, "taxRegime": regime} for dep, regime in departments]
    return body


def get_good_list_body(crn: str, tin: str, tax_regime: int) -> dict[str, Any]:
    return {"crn": crn, "taxRegime": tax_regime, "tin": tin}


def print_body(crn: str, seq: int | None, request: PrintRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"crn": crn}
    _with_seq(body, seq)
    body.update(
        {
            "cardAmount": money(request.card_amount),
            "cashAmount": money(request.cash_amount),
            "partialAmount": money(request.partial_amount),
            "prePaymentAmount": money(request.prepayment_amount),
            "cashierId": request.cashier_id,
            "mode": request.mode,
            "partnerTin": request.partner_tin,
        }
    )
    if request.mode == 3 and not request.items:
        body["items"] = None
    else:
        items = []
        for item in request.items:
            line: dict[str, Any] = {
                "adgCode": item.adg_code,
                "dep": item.dep,
                "goodCode": item.good_code,
                "goodName": item.good_name,
                "quantity": quantity(item.quantity),
                "unit": item.unit,
                "price": money(item.price),
            }
            if item.discount is not None:
                line["discount"] = money(item.discount)
                line["discountType"] = item.discount_type if item.discount_type is not None else 1
            if item.additional_discount is not None:
                line["additionalDiscount"] = money(item.additional_discount)
                line["additionalDiscountType"] = (
                    item.additional_discount_type if item.additional_discount_type is not None else 16
                )
            items.append(line)
        body["items"] = items
    if request.emarks:
        body["emarks"] = list(request.emarks)
    return body


def print_copy_body(crn: str, seq: int | None, receipt_id: int) -> dict[str, Any]:
    return _with_seq({"crn": crn}, seq) | {"receiptId": str(receipt_id)}


def returned_info_body(crn: str, seq: int | None, receipt_id: int, source_crn: str | None) -> dict[str, Any]:
    body = _with_seq({"crn": crn}, seq) | {"receiptId": str(receipt_id)}
    if source_crn is not None:
        body["sourceCrn"] = source_crn
    return body


def return_body(crn: str, seq: int | None, request: ReturnRequest) -> dict[str, Any]:
    body = _with_seq({"crn": crn}, seq) | {"receiptId": str(request.receipt_id)}
    if request.source_crn is not None:
        body["sourceCrn"] = request.source_crn
    body["cardAmountForReturn"] = money(request.card_amount)
    body["cashAmountForReturn"] = money(request.cash_amount)
    body["prePaymentAmountForReturn"] = money(request.prepayment_amount)
    body["returnItemList"] = [
        {"receiptProductId": line.receipt_product_id, "quantity": quantity(line.quantity)} for line in request.items
    ]
    if request.emarks:
        body["emarks"] = list(request.emarks)
    return body


# --- responses ---------------------------------------------------------------------------------------


def dec(value: Any) -> Decimal:
    """A Decimal from a JSON number or a numeric string."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value).strip())


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else dec(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def parse_receipt(result: Mapping[str, Any]) -> Receipt:
    fiscal = result.get("fiscal")
    return Receipt(
        receipt_id=int(result["receiptId"]),
        crn=str(result["crn"]),
        sn=str(result["sn"]),
        tin=str(result["tin"]),
        taxpayer=str(result["taxpayer"]),
        address=str(result["address"]),
        time_ms=int(result["time"]),
        fiscal=None if fiscal is None else str(fiscal),
        total=dec(result["total"]),
        change=dec(result["change"]),
        qr=str(result["qr"]),
        emark_count=int(result.get("emarkCount", result.get("emarkAccount", 0)) or 0),
        emark_verification_code=result.get("emarkVerificationCode"),
    )


def receipt_to_json(receipt: Receipt) -> dict[str, Any]:
    """A receipt as the response ``result`` object (used to store outcomes)."""
    out: dict[str, Any] = {
        "receiptId": str(receipt.receipt_id),
        "crn": receipt.crn,
        "sn": receipt.sn,
        "tin": receipt.tin,
        "taxpayer": receipt.taxpayer,
        "address": receipt.address,
        "time": receipt.time_ms,
        "total": receipt.total,
        "change": receipt.change,
        "qr": receipt.qr,
        "emarkCount": receipt.emark_count,
        "emarkVerificationCode": receipt.emark_verification_code,
    }
    if receipt.fiscal is not None:
        out["fiscal"] = receipt.fiscal
    return out


def parse_returned_info(result: Mapping[str, Any]) -> ReturnedReceiptInfo:
    items = tuple(
        ReturnedItem(
            receipt_product_id=int(item["receiptProductId"]),
            quantity=dec(item["quantity"]),
            dep=int(item["dep"]),
            vat=dec(item["vat"]),
            tax_regime=int(item["taxRegime"]),
            good_code=str(item["goodCode"]),
            good_name=str(item["goodName"]),
            adg_code=str(item["adgCode"]),
            unit=str(item["unit"]),
            price=dec(item["price"]),
            total_without_taxes=dec(item["totalWithoutTaxes"]),
            total_with_taxes=dec(item["totalWithTaxes"]),
            discount=_opt_dec(item.get("discount")),
            discount_type=_opt_int(item.get("discountType")),
            additional_discount=_opt_dec(item.get("additionalDiscount")),
            additional_discount_type=_opt_int(item.get("additionalDiscountType")),
        )
        for item in (result.get("items") or [])
    )
    partner = result.get("partnerTin")
    return ReturnedReceiptInfo(
        cashier_id=int(result["cashierId"]),
        card_amount=dec(result["cardAmount"]),
        cash_amount=dec(result["cashAmount"]),
        partial_amount=dec(result["partialAmount"]),
        prepayment=dec(result["prePayment"]),
        sale_type=int(result["saleType"]),
        receipt_type=int(result["receiptType"]),
        receipt_sub_type=int(result["receiptSubType"]),
        total_amount=dec(result["totalAmount"]),
        time_ms=int(result["time"]),
        partner_tin=None if partner is None else str(partner),
        items=items,
        emarks=tuple(str(e) for e in (result.get("emarks") or [])),
    )


def parse_good_lists(result: Mapping[str, Any]) -> list[GoodList]:
    return [
        GoodList(
            name=str(entry["listname"]),
            tax_regime_name=str(entry["taxRegimeName"]),
            goods=tuple(
                Good(name=str(g["goodName"]), code=str(g["goodCode"]), price=dec(g["price"]))
                for g in (entry.get("goods") or [])
            ),
        )
        for entry in (result.get("goodLists") or [])
    ]


def parse_qr(qr: str) -> dict[str, str]:
    """The ``KEY: value`` pairs of a receipt's QR text (amounts keep their thousands separators)."""
    out: dict[str, str] = {}
    for part in qr.split(", "):
        key, sep, value = part.partition(": ")
        if sep:
            out[key.strip()] = value.strip()
        elif out:
            # a value that itself contained ", " (e.g. "1,234, 5"): glue it back
            last = next(reversed(out))
            out[last] += ", " + part
    return out


def qr_amount(value: str) -> Decimal:
    return Decimal(value.replace(",", ""))
