"""A document's SRC request as stored JSON (``documents.src_request``), to send it again after a crash or
when late fiscalization catches up."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from openvcr.authority.gateway import PrintItem, PrintRequest, ReturnLine, ReturnRequest


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(request: PrintRequest | ReturnRequest) -> dict[str, Any]:
    kind = "print" if isinstance(request, PrintRequest) else "return"
    return {"kind": kind, **_plain(asdict(request))}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _print_item(item: dict[str, Any]) -> PrintItem:
    return PrintItem(
        adg_code=str(item["adg_code"]),
        dep=int(item["dep"]),
        good_code=str(item["good_code"]),
        good_name=str(item["good_name"]),
        quantity=Decimal(item["quantity"]),
        unit=str(item["unit"]),
        price=Decimal(item["price"]),
        discount=_dec(item.get("discount")),
        discount_type=item.get("discount_type"),
        additional_discount=_dec(item.get("additional_discount")),
        additional_discount_type=item.get("additional_discount_type"),
    )


def from_json(data: dict[str, Any]) -> PrintRequest | ReturnRequest:
    if data["kind"] == "print":
        return PrintRequest(
            mode=int(data["mode"]),
            cashier_id=int(data["cashier_id"]),
            cash_amount=Decimal(data["cash_amount"]),
            card_amount=Decimal(data["card_amount"]),
            partial_amount=Decimal(data["partial_amount"]),
            prepayment_amount=Decimal(data["prepayment_amount"]),
            partner_tin=data.get("partner_tin"),
            items=tuple(_print_item(item) for item in data["items"]),
            emarks=tuple(data.get("emarks") or ()),
        )
    return ReturnRequest(
        receipt_id=int(data["receipt_id"]),
        card_amount=Decimal(data["card_amount"]),
        cash_amount=Decimal(data["cash_amount"]),
        prepayment_amount=Decimal(data["prepayment_amount"]),
        items=tuple(ReturnLine(int(i["receipt_product_id"]), Decimal(i["quantity"])) for i in data["items"]),
        source_crn=data.get("source_crn"),
        emarks=tuple(data.get("emarks") or ()),
    )
