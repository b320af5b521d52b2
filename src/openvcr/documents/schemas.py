"""API shapes every fiscal document shares (VCR API v1): who sells, who buys, the receipt wish and the
receipt as answered."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from openvcr.core.limits import MAX_ID
from openvcr.core.phone import is_e164
from openvcr.schemas import ApiModel, MoneyOut, OutModel, Text, TextEntry

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


RefundReason = Literal[
    "customer_request", "defective_goods", "wrong_goods", "cashier_error", "duplicate_receipt", "other"
]


class CashierRef(ApiModel):
    id: int | None = Field(default=None, gt=0, le=MAX_ID)
    desk_id: Text | None = Field(default=None, alias="deskId", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _exactly_one(self) -> CashierRef:
        if (self.id is None) == (self.desk_id is None):
            raise ValueError("a cashier is referenced by exactly one of 'id' or 'deskId'")
        return self


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
        if value is not None and not is_e164(value):
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


class CashierBrief(OutModel):
    internal_id: int
    desk_id: str
    name: list[TextEntry]


ReceiptUrl = Annotated[
    str | None,
    Field(
        description="The document's public receipt page, absolute: {OPENVCR_PUBLIC_URL}/{locale}/r/{crn}/{urlId} "
        "(locale: the receipt language the buyer asked for, else hy); null while the document has no receipt"
    ),
]
