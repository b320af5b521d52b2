"""API shapes of sales and sale refunds (VCR API v1 contract, "Sales")."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from openvcr.catalog.schemas import OfferTitleIn
from openvcr.core.limits import MAX_ID
from openvcr.documents.models import FiscalStatus
from openvcr.documents.schemas import (
    BuyerIn,
    CashierBrief,
    CashierRef,
    ReceiptOut,
    ReceiptRequest,
    ReceiptUrl,
    RefundReason,
    clean_comment,
)
from openvcr.schemas import (
    ApiModel,
    DecimalIn,
    MoneyIn,
    MoneyOut,
    OutModel,
    PositiveId,
    QuantityIn,
    TaxRegime,
    Text,
    TextEntry,
    Unit,
    UnitPriceIn,
)

_EMARK = re.compile(r"^[\x21-\x7e\x1d]{29,128}$")


def check_emarks(value: list[str] | None) -> list[str] | None:
    """eMark codes: 29 to 128 printable ASCII characters each (and GS, 0x1D, the GS1 separator)."""
    for code in value or []:
        if not 29 <= len(code) <= 128:
            raise ValueError("an eMark code is 29 to 128 characters")
        if not _EMARK.match(code):
            raise ValueError("an eMark code is printable ASCII (and GS, 0x1D)")
    return value


class OfferRef(ApiModel):
    """``{"externalId"}``, ``{"id"}``, or a whole new offer (created on the fly, reused by its externalId)."""

    id: int | None = Field(default=None, gt=0, le=MAX_ID)
    external_id: Text | None = Field(default=None, alias="externalId", min_length=1, max_length=100)
    title: OfferTitleIn | None = None
    type: Literal["product", "service"] | None = None
    classifier_code: Text | None = Field(default=None, alias="classifierCode", min_length=1, max_length=32)
    default_measure_unit: Unit | None = Field(default=None, alias="defaultMeasureUnit")
    default_department: PositiveId | None = Field(default=None, alias="defaultDepartment")

    @model_validator(mode="after")
    def _one_shape(self) -> OfferRef:
        if self.title is not None:
            missing = [
                name
                for name, value in (
                    ("type", self.type),
                    ("classifierCode", self.classifier_code),
                    ("defaultMeasureUnit", self.default_measure_unit),
                    ("defaultDepartment", self.default_department),
                    ("externalId", self.external_id),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"a new offer needs {', '.join(missing)}")
        elif (self.id is None) == (self.external_id is None):
            raise ValueError("an offer is referenced by exactly one of 'id', 'externalId', or a whole new offer")
        return self

    @property
    def is_new(self) -> bool:
        return self.title is not None


class BaseDiscountIn(ApiModel):
    type: Literal["percent", "price", "total"]
    value: MoneyIn


class AdditionalDiscountIn(ApiModel):
    type: Literal["percent", "total"]
    value: MoneyIn


class DiscountsIn(ApiModel):
    base: BaseDiscountIn | None = None
    additional: AdditionalDiscountIn | None = None


class SaleItemIn(ApiModel):
    offer: OfferRef
    department: PositiveId | None = Field(
        default=None, description="omitted: the offer's defaultDepartment (an inline new offer's own)"
    )
    quantity: QuantityIn
    price: UnitPriceIn = Field(
        description="per unit, up to 8 decimals; the line is price × quantity rounded half-up to 2 decimals"
    )
    unit: Unit
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    discounts: DiscountsIn | None = None
    total_amount_tolerance: DecimalIn | None = Field(default=None, alias="totalAmountTolerance")
    emarks: list[str] | None = Field(default=None, max_length=1000)

    _emarks = field_validator("emarks")(check_emarks)


class AmountIn(ApiModel):
    cash: MoneyIn | None = None
    non_cash: MoneyIn | None = Field(default=None, alias="nonCash")
    prepayment: MoneyIn | None = None
    compensation: MoneyIn | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> AmountIn:
        if all(v is None for v in (self.cash, self.non_cash, self.prepayment, self.compensation)):
            raise ValueError("give at least one of cash, nonCash, prepayment, compensation")
        return self


class AutoSettleIn(ApiModel):
    tender: Literal["cash", "nonCash"]


class SaleCreate(ApiModel):
    cashier: CashierRef
    items: list[SaleItemIn] = Field(min_length=1, max_length=500)
    amount: AmountIn | None = None
    auto_settle: AutoSettleIn | None = Field(default=None, alias="autoSettle")
    buyer: BuyerIn | None = None
    comment: str | None = Field(default=None, max_length=500)

    _clean = field_validator("comment", mode="before")(clean_comment)

    @model_validator(mode="after")
    def _one_payment(self) -> SaleCreate:
        if (self.amount is None) == (self.auto_settle is None):
            raise ValueError("give exactly one of 'amount' or 'autoSettle'")
        return self


class SaleCreated(OutModel):
    url_id: str
    sale_id: int
    crn: str
    src_receipt_id: int
    fiscal: str
    receipt_url: ReceiptUrl


class RefundItemOut(OutModel):
    quantity: MoneyOut


class RefundOut(OutModel):
    non_cash_amount: MoneyOut
    cash_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl
    items: list[RefundItemOut]


class DepartmentBrief(OutModel):
    internal_id: int
    tax_regime: TaxRegime
    title: list[TextEntry]


class OfferBrief(OutModel):
    type: Literal["product", "service"]
    classifier_code: str
    title: list[TextEntry]


class SaleItemOut(OutModel):
    src_id: int
    quantity: MoneyOut
    price: MoneyOut
    unit: str
    discount: MoneyOut | None
    discount_type: Literal["percent", "price", "total"] | None
    additional_discount: MoneyOut | None
    additional_discount_type: Literal["percent", "total"] | None
    department: DepartmentBrief
    offer: OfferBrief


class SaleDetail(OutModel):
    id: int
    fiscal_status: FiscalStatus = Field(
        description="completed once SRC registered it; receipt is null until then (deferred: late "
        "fiscalization will send it; in_doubt: being settled; dropped: never fiscalized)"
    )
    created_at: str
    buyer_tin: str | None
    comment: str | None
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    prepayment_amount: MoneyOut
    compensation_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl
    refunds: list[RefundOut]
    cashier: CashierBrief
    items: list[SaleItemOut]


class RefundItemIn(ApiModel):
    src_id: int = Field(alias="srcId", ge=0, le=MAX_ID)
    quantity: QuantityIn
    emarks: list[str] | None = Field(default=None, max_length=1000)

    _emarks = field_validator("emarks")(check_emarks)


class RefundAmountsIn(ApiModel):
    cash: MoneyIn | None = None
    non_cash: MoneyIn | None = Field(default=None, alias="nonCash")


class SaleRefundCreate(ApiModel):
    cashier: CashierRef
    sale_id: int = Field(alias="saleId", gt=0, le=MAX_ID)
    receipt: ReceiptRequest | None = None
    reason: RefundReason | None = None
    reason_note: str | None = Field(default=None, alias="reasonNote", max_length=500)
    refund_amounts: RefundAmountsIn | None = Field(default=None, alias="refundAmounts")
    items: list[RefundItemIn] | None = Field(default=None, max_length=500)

    _clean = field_validator("reason_note", mode="before")(clean_comment)


class SaleRefundCreated(OutModel):
    url_id: str
    sale_refund_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: ReceiptUrl


class SaleRefundStatus(OutModel):
    """A sale refund as its ``statusUrl`` shows it."""

    id: int
    sale_id: int
    fiscal_status: FiscalStatus
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl
