"""API shapes of prepayments (VCR API v1 contract, "Prepayments (advance payments)")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

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
from openvcr.schemas import ApiModel, MoneyIn, MoneyOut, OutModel

PrepaymentState = Literal["open", "consumed", "refunded"]
StateFilter = Literal["open", "consumed", "refunded", "all"]


class PrepaymentAmountIn(ApiModel):
    cash: MoneyIn | None = None
    non_cash: MoneyIn | None = Field(default=None, alias="nonCash")

    @model_validator(mode="after")
    def _at_least_one(self) -> PrepaymentAmountIn:
        if self.cash is None and self.non_cash is None:
            raise ValueError("give at least one of cash, nonCash")
        return self


class PrepaymentCreate(ApiModel):
    cashier: CashierRef
    amount: PrepaymentAmountIn
    buyer: BuyerIn


class PrepaymentCreated(OutModel):
    url_id: str
    prepayment_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: ReceiptUrl


class PrepaymentRefundOut(OutModel):
    non_cash_amount: MoneyOut
    cash_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl


class PrepaymentDetail(OutModel):
    id: int
    fiscal_status: FiscalStatus = Field(
        description="completed once SRC registered it; receipt, crn and fiscal are null until then"
    )
    created_at: str
    buyer_tin: str | None
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl
    refund: PrepaymentRefundOut | None
    cashier: CashierBrief
    remaining: MoneyOut
    state: PrepaymentState


class PrepaymentRow(OutModel):
    id: int
    created_at: str
    buyer_tin: str | None
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    remaining: MoneyOut
    state: PrepaymentState


class OpenPrepayment(OutModel):
    prepayment_id: int
    created_at: str
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    buyer_tin: str | None
    remaining: MoneyOut


class PrepaymentBalance(OutModel):
    entity_id: int
    customer_ref: str
    balance: MoneyOut
    open_prepayments: list[OpenPrepayment]


class PrepaymentRefundCreate(ApiModel):
    cashier: CashierRef
    prepayment_id: int = Field(alias="prepaymentId", gt=0, le=MAX_ID)
    receipt: ReceiptRequest | None = None
    reason: RefundReason | None = None
    reason_note: str | None = Field(default=None, alias="reasonNote", max_length=500)

    _clean = field_validator("reason_note", mode="before")(clean_comment)


class PrepaymentRefundCreated(OutModel):
    url_id: str
    prepayment_refund_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: ReceiptUrl


class PrepaymentRefundStatus(OutModel):
    """A prepayment refund as its ``statusUrl`` shows it."""

    id: int
    prepayment_id: int
    fiscal_status: FiscalStatus
    cash_amount: MoneyOut
    non_cash_amount: MoneyOut
    receipt: ReceiptOut | None
    receipt_url: ReceiptUrl
