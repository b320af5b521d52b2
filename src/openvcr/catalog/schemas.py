"""API shapes of the catalog routes (VCR API v1 contract: cashiers, departments, offers, classifier)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from openvcr.catalog.models import Cashier, Department, Offer
from openvcr.schemas import (
    ApiModel,
    KeyedText,
    KeyedTextWithId,
    LocalizedName,
    LocalizedValue,
    OutModel,
    PositiveId,
    TaxRegime,
    Text,
    TextEntry,
    Unit,
    entry_list,
    iso_ms,
    no_control,
)


class CashierCreate(ApiModel):
    name: LocalizedName
    password: str = Field(description="4–8 digit PIN; stored hashed, never returned")

    @field_validator("password", mode="before")
    @classmethod
    def _pin(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not (value.isascii() and value.isdigit() and 4 <= len(value) <= 8):
            raise ValueError("password must be a PIN of 4 to 8 digits")
        return value


class CashierCreated(OutModel):
    id: int
    desk_id: str


class CashierOut(OutModel):
    desk_id: str
    internal_id: int
    name: dict[str, KeyedText]

    @classmethod
    def of(cls, cashier: Cashier) -> CashierOut:
        return cls(
            desk_id=cashier.desk_id,
            internal_id=cashier.id,
            name={lang: KeyedText(language=lang, content=text) for lang, text in cashier.name.items()},
        )


class DepartmentCreate(ApiModel):
    external_id: Text | None = Field(default=None, alias="externalId", min_length=1, max_length=100)
    tax_regime: TaxRegime = Field(alias="taxRegime")
    title: LocalizedName


class DepartmentCreated(OutModel):
    message: str
    department: int


class DepartmentOut(OutModel):
    internal_id: int
    external_id: str | None
    tax_regime: TaxRegime
    title: dict[str, KeyedTextWithId]

    @classmethod
    def of(cls, department: Department) -> DepartmentOut:
        entries = {e.language: e for e in entry_list(department.id, department.title)}
        return cls(
            internal_id=department.id,
            external_id=department.external_id,
            tax_regime=department.tax_regime,
            title={
                lang: KeyedTextWithId(id=e.id, language=e.language, content=e.content) for lang, e in entries.items()
            },
        )


class OfferTitleIn(ApiModel):
    """Canonical ``{"type": "localized"|"universal", "content": ...}``.

    The legacy shape ``{"value", "localizationStrategy"}`` is accepted too.
    """

    type: Literal["localized", "universal"]
    content: Any
    localization_strategy: Literal["translation", "transliteration"] = Field(
        default="transliteration", alias="localizationStrategy"
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data and "value" in data:
            return {
                "type": "localized",
                "content": data["value"],
                "localizationStrategy": data.get("localizationStrategy", "transliteration"),
            }
        return data

    @model_validator(mode="after")
    def _check_content(self) -> OfferTitleIn:
        if self.type == "universal":
            if not isinstance(self.content, str) or not self.content.strip():
                raise ValueError("a universal title's content is a non-empty string")
            if len(self.content.strip()) > 50:
                raise ValueError("title is longer than 50 characters")
            self.content = no_control(self.content)
        else:
            try:
                LocalizedValue.model_validate(self.content)
            except ValidationError as exc:
                raise ValueError("a localized title's content is an object with at least a non-empty 'hy'") from exc
        return self

    def localized_content(self) -> dict[str, str]:
        value = LocalizedValue.model_validate(self.content)
        return {k: v for k, v in value.model_dump().items() if v}


class OfferCreate(ApiModel):
    type: Literal["product", "service"]
    classifier_code: Text = Field(alias="classifierCode", min_length=1, max_length=32)
    title: OfferTitleIn
    default_measure_unit: Unit = Field(alias="defaultMeasureUnit")
    default_department: PositiveId = Field(alias="defaultDepartment")
    external_id: Text | None = Field(default=None, alias="externalId", min_length=1, max_length=100)


class OfferPatch(ApiModel):
    title: OfferTitleIn


class OfferCreated(OutModel):
    offer_id: int


class DepartmentRef(OutModel):
    internal_id: int


class OfferOut(OutModel):
    id: int
    external_id: str | None
    type: Literal["product", "service"]
    classifier_code: str
    default_measure_unit: str
    default_department: DepartmentRef
    title: list[TextEntry]
    archived_at: str | None
    created_at: str

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls(
            id=offer.id,
            external_id=offer.external_id,
            type=offer.type,
            classifier_code=offer.classifier_code,
            default_measure_unit=offer.default_measure_unit,
            default_department=DepartmentRef(internal_id=offer.default_department_id),
            title=entry_list(offer.id, offer.title.texts),
            archived_at=iso_ms(offer.archived_at) if offer.archived_at is not None else None,
            created_at=iso_ms(offer.created_at),
        )


class ClassifierHitOut(OutModel):
    code: str
    title: str | None = None
