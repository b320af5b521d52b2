"""API shapes of sales and sale refunds (VCR API v1 contract, "Sales")."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from openvcr.catalog.schemas import OfferTitleIn
from openvcr.schemas import (
    ApiModel,
    DecimalIn,
    MoneyIn,
    MoneyOut,
    OutModel,
    PositiveId,
    QuantityIn,
    TaxRegime,
    TextEntry,
    Unit,
)

RefundReason = Literal[
    "customer_request", "defective_goods", "wrong_goods", "cashier_error", "duplicate_receipt", "other"
]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CashierRef(ApiModel):
    id: int | None = Field(default=None, gt=0)
    desk_id: str | None = Field(default=None, alias="deskId", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _exactly_one(self) -> CashierRef:
        if (self.id is None) == (self.desk_id is None):
            raise ValueError("a cashier is referenced by exactly one of 'id' or 'deskId'")
        return self


class OfferRef(ApiModel):
    """``{"externalId"}``, ``{"id"}``, or a whole new offer (created on the fly, reused by its externalId)."""

    id: int | None = Field(default=None, gt=0)
    external_id: str | None = Field(default=None, alias="externalId", min_length=1, max_length=100)
    title: OfferTitleIn | None = None
    type: Literal["product", "service"] | None = None
    classifier_code: str | None = Field(default=None, alias="classifierCode", min_length=1, max_length=32)
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
    department: PositiveId
    quantity: QuantityIn
    price: MoneyIn
    unit: Unit
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    discounts: DiscountsIn | None = None
    total_amount_tolerance: DecimalIn | None = Field(default=None, alias="totalAmountTolerance")
    emarks: list[str] | None = Field(default=None, max_length=1000)

    @field_validator("emarks")
    @classmethod
    def _emark_codes(cls, value: list[str] | None) -> list[str] | None:
        for code in value or []:
            if not 29 <= len(code) <= 128:
                raise ValueError("an eMark code is 29 to 128 characters")
        return value


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


class ReceiptRequest(ApiModel):
    email: EmailStr
    language: Literal["hy", "ru", "en"] = "hy"


class BuyerIn(ApiModel):
    type: Literal["individual", "business_entity"]
    tin: str | None = Field(default=None, pattern=r"^\d{8}$")
    email: EmailStr | None = None
    phone: str | None = None
    receipt: ReceiptRequest | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not _E164.match(value):
            raise ValueError("phone must be in E.164 form, e.g. +37491123456")
        return value

    @model_validator(mode="after")
    def _tin_for_businesses(self) -> BuyerIn:
        if self.type == "business_entity" and self.tin is None:
            raise ValueError("a business_entity buyer needs its 8-digit 'tin'")
        if self.type == "individual" and self.tin is not None:
            raise ValueError("an individual buyer has no 'tin'")
        return self

    def customer_ref(self) -> str | None:
        """The ledger identity: TIN, else E.164 phone, else the lower-cased e-mail."""
        if self.tin:
            return self.tin
        if self.phone:
            return self.phone
        if self.email:
            return str(self.email).lower()
        return None


def clean_comment(value: Any) -> Any:
    if isinstance(value, str):
        value = _CONTROL.sub("", value).strip()
        return value or None
    return value


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


class ReceiptOut(OutModel):
    src_id: int
    time: str
    tin: str
    fiscal: str | None
    sn: str
    address: str | None
    total: MoneyOut
    taxpayer: str
    change: MoneyOut


class RefundItemOut(OutModel):
    quantity: MoneyOut


class RefundOut(OutModel):
    non_cash_amount: MoneyOut
    cash_amount: MoneyOut
    receipt: ReceiptOut | None
    items: list[RefundItemOut]


class CashierBrief(OutModel):
    internal_id: int
    desk_id: str
    name: list[TextEntry]


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
    created_at: str
    buyer_tin: str | None
    comment: str | None
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    prepayment_amount: MoneyOut
    compensation_amount: MoneyOut
    receipt: ReceiptOut | None
    refunds: list[RefundOut]
    cashier: CashierBrief
    items: list[SaleItemOut]


class RefundItemIn(ApiModel):
    src_id: int = Field(alias="srcId", ge=0)
    quantity: QuantityIn
    emarks: list[str] | None = None


class RefundAmountsIn(ApiModel):
    cash: MoneyIn | None = None
    non_cash: MoneyIn | None = Field(default=None, alias="nonCash")


class SaleRefundCreate(ApiModel):
    cashier: CashierRef
    sale_id: int = Field(alias="saleId", gt=0)
    receipt: ReceiptRequest | None = None
    reason: RefundReason | None = None
    reason_note: str | None = Field(default=None, alias="reasonNote", max_length=500)
    refund_amounts: RefundAmountsIn | None = Field(default=None, alias="refundAmounts")
    items: list[RefundItemIn] | None = Field(default=None, max_length=500)


class SaleRefundCreated(OutModel):
    url_id: str
    sale_refund_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
