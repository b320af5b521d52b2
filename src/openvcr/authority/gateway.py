"""The ``SrcGateway`` port: the eight SRC e-HDM methods as typed calls.

Implementations (chosen by configuration, see ``openvcr.authority.factory``): the HTTP client for the real
SRC or a separately run sandbox, and the sandbox simulator in-process. Every implementation raises only
``AuthorityRetryable`` / ``AuthorityRejected``. ``seq`` is passed in by the caller (reserved and persisted
before the call); ``None`` means "send no seq".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PrintItem:
    adg_code: str
    dep: int
    good_code: str
    good_name: str
    quantity: Decimal
    unit: str
    price: Decimal
    discount: Decimal | None = None
    discount_type: int | None = None  # 1 percent, 2 per unit, 4 on the line total
    additional_discount: Decimal | None = None
    additional_discount_type: int | None = None  # 8 percent, 16 on the line total


@dataclass(frozen=True)
class PrintRequest:
    mode: int  # 2 products, 3 prepayment
    cashier_id: int
    cash_amount: Decimal
    card_amount: Decimal
    partial_amount: Decimal = Decimal("0.00")
    prepayment_amount: Decimal = Decimal("0.00")
    partner_tin: str | None = None
    items: tuple[PrintItem, ...] = ()
    emarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """A receipt as SRC returned it (print, printCopy, printReturnReceipt)."""

    receipt_id: int
    crn: str
    sn: str
    tin: str
    taxpayer: str
    address: str
    time_ms: int
    fiscal: str | None
    total: Decimal
    change: Decimal
    qr: str
    emark_count: int = 0
    emark_verification_code: str | None = None


@dataclass(frozen=True)
class ReturnedItem:
    receipt_product_id: int
    quantity: Decimal
    dep: int
    vat: Decimal
    tax_regime: int
    good_code: str
    good_name: str
    adg_code: str
    unit: str
    price: Decimal
    total_without_taxes: Decimal
    total_with_taxes: Decimal
    discount: Decimal | None = None
    discount_type: int | None = None
    additional_discount: Decimal | None = None
    additional_discount_type: int | None = None


@dataclass(frozen=True)
class ReturnedReceiptInfo:
    cashier_id: int
    card_amount: Decimal
    cash_amount: Decimal
    partial_amount: Decimal
    prepayment: Decimal
    sale_type: int
    receipt_type: int
    receipt_sub_type: int
    total_amount: Decimal
    time_ms: int
    partner_tin: str | None = None
    items: tuple[ReturnedItem, ...] = ()
    emarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnLine:
    receipt_product_id: int
    quantity: Decimal


@dataclass(frozen=True)
class ReturnRequest:
    receipt_id: int
    card_amount: Decimal
    cash_amount: Decimal
    prepayment_amount: Decimal = Decimal("0.00")
    items: tuple[ReturnLine, ...] = ()
    source_crn: str | None = None
    emarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Good:
    name: str
    code: str
    price: Decimal


@dataclass(frozen=True)
class GoodList:
    name: str
    tax_regime_name: str
    goods: tuple[Good, ...] = field(default_factory=tuple)


class SrcGateway(Protocol):
    """The SRC e-HDM web service, one method per endpoint."""

    def check_connection(self, crn: str) -> None: ...

    def activate(self, crn: str) -> None: ...

    def configure_departments(self, crn: str, seq: int | None, departments: Sequence[tuple[int, int]]) -> None:
        """``departments``: (dep number, SRC tax regime code 1/2/3/7) pairs."""
        ...

    def get_good_list(self, crn: str, tin: str, tax_regime: int) -> list[GoodList]: ...

    def print_receipt(self, crn: str, seq: int | None, request: PrintRequest) -> Receipt: ...

    def print_copy(self, crn: str, seq: int | None, receipt_id: int) -> Receipt: ...

    def get_returned_receipt_info(
        self, crn: str, seq: int | None, receipt_id: int, source_crn: str | None = None
    ) -> ReturnedReceiptInfo: ...

    def print_return_receipt(self, crn: str, seq: int | None, request: ReturnRequest) -> Receipt: ...
