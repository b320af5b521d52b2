"""Domain types of sales and sale refunds: the stored rows, typed, and the views the service hands to the edge.

Rules:
- Amounts and quantities are ``Decimal`` exactly as their columns hold them (``store.types``); nothing here
  re-rounds them.
- A line keeps snapshots of its offer and department as they were when sold (``OfferSnapshot``,
  ``DepartmentSnapshot``); their JSON shapes are the stored ones (``to_json`` / ``from_json`` round-trip).
- A sale's or refund's state and receipt are its document's (``openvcr.documents``); ``receipt`` is the stored
  SRC receipt, ``None`` until the document is completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openvcr.catalog.models import Cashier, OfferTitle
from openvcr.catalog.service import OfferSpec
from openvcr.documents.models import DocumentState


@dataclass(frozen=True)
class OfferSnapshot:
    """The offer of a sale line as it was sold."""

    type: str
    classifier_code: str
    external_id: str | None
    title: OfferTitle

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "classifierCode": self.classifier_code,
            "externalId": self.external_id,
            "title": self.title.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OfferSnapshot:
        return cls(
            type=str(data["type"]),
            classifier_code=str(data["classifierCode"]),
            external_id=data.get("externalId"),
            title=OfferTitle.from_json(data["title"]),
        )


@dataclass(frozen=True)
class DepartmentSnapshot:
    """The department of a sale line as it was sold."""

    dep: int
    tax_regime: str
    title: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"dep": self.dep, "taxRegime": self.tax_regime, "title": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DepartmentSnapshot:
        return cls(
            dep=int(data["dep"]),
            tax_regime=str(data["taxRegime"]),
            title={str(k): str(v) for k, v in dict(data["title"]).items()},
        )


@dataclass(frozen=True)
class SaleLine:
    """One line of a sale (``line_no`` is SRC's ``receiptProductId``), with what its refunds took back."""

    line_no: int
    offer_id: int | None
    offer: OfferSnapshot
    department_id: int
    department: DepartmentSnapshot
    quantity: Decimal
    price: Decimal  # AMD
    foreign_price: Decimal | None
    unit: str
    discount: Decimal | None
    discount_type: str | None
    additional_discount: Decimal | None
    additional_discount_type: str | None
    total: Decimal
    vat: Decimal
    emarks: tuple[str, ...] | None
    refunded_quantity: Decimal = Decimal("0.000")
    refunded_amount: Decimal = Decimal("0.00")

    @property
    def refundable_quantity(self) -> Decimal:
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True)
class Sale:
    """One sale's detail row."""

    id: int
    document_id: int
    register_id: int
    entity_id: int
    buyer_tin: str | None
    customer_ref: str | None
    comment: str | None
    currency: str | None
    exchange_rate: Decimal | None
    total: Decimal
    vat: Decimal
    cash: Decimal
    non_cash: Decimal
    prepayment: Decimal
    compensation: Decimal
    change: Decimal
    offers_to_create: tuple[OfferSpec, ...]


@dataclass(frozen=True)
class SaleDocument:
    """A sale with what its document says of it."""

    sale: Sale
    state: DocumentState
    cashier_id: int
    receipt: dict[str, Any] | None
    created_at: int
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in
    receipt_phone: str | None = None  # the buyer's phone for receipt SMS (when the register sent them)


@dataclass(frozen=True)
class SaleRefundLine:
    """One refunded line of a sale refund (``line_no`` is the sale line's)."""

    line_no: int
    quantity: Decimal
    amount: Decimal
    vat: Decimal
    emarks: tuple[str, ...] | None


@dataclass(frozen=True)
class SaleRefund:
    """One sale refund's detail row."""

    id: int
    document_id: int
    register_id: int
    sale_id: int
    reason: str | None
    reason_note: str | None
    total: Decimal
    vat: Decimal
    cash: Decimal
    non_cash: Decimal
    prepayment: Decimal
    compensation: Decimal


@dataclass(frozen=True)
class SaleRefundView:
    """A sale refund with its document's state and receipt, and its lines."""

    refund: SaleRefund
    state: DocumentState
    receipt: dict[str, Any] | None
    lines: tuple[SaleRefundLine, ...]
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in


@dataclass(frozen=True)
class SaleView:
    """A sale with its document's state and receipt, its lines, its completed refunds and its cashier."""

    sale: Sale
    state: DocumentState
    created_at: int
    receipt: dict[str, Any] | None
    lines: tuple[SaleLine, ...]
    refunds: tuple[SaleRefundView, ...]
    cashier: Cashier
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in
