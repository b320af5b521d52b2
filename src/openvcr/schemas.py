"""Pydantic types shared by the API schemas of every domain (the contract's shared formats).

Here, not in ``openvcr.api``, because every domain's ``schemas.py`` builds on them and a domain module does not
import the HTTP edge.

- Money / quantities in requests: decimal strings; JSON numbers tolerated (converted via their text, never
  via binary floating point). Responses: JSON numbers. Amounts are 0 … ``MAX_AMOUNT``, quantities > 0 and at
  most ``MAX_QUANTITY``, ids 1 … ``MAX_ID`` (``openvcr.core.limits``); non-finite numbers are refused.
- Text in requests: control characters (NUL included) are refused, except in free-text comments, which strip
  them (``clean_comment``); leading and trailing white space is trimmed.
- Timestamps in responses: ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC).
- Localized text: request shape ``{"value": {...}, "localizationStrategy": ...}``; response shapes "entry list"
  and "language-keyed record".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel

from openvcr.core.limits import MAX_AMOUNT, MAX_ID, MAX_QUANTITY
from openvcr.core.money import to_json_number

Language = Literal["hy", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("hy", "ru", "en")
LANGUAGE_INDEX = {"multi": 0, "hy": 1, "ru": 2, "en": 3}

Unit = Literal[
    "pc", "unit", "set", "box", "pack", "case", "hr", "sess", "proj", "sub", "kg", "l", "m", "g", "ml", "cm",
    "bottle", "can", "jar", "bag", "m2", "dozen", "pair", "mm", "roll", "tube", "km", "ton", "m3", "pallet",
    "other",
]  # fmt: skip

TaxRegime = Literal["vat", "vat_exempt", "turnover_tax", "micro_enterprise"]

_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _decimal_from_json(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a decimal string")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _decimal_from_json(Decimal(repr(value)))
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.match(text):
            raise ValueError('must be a decimal string such as "1500" or "1.25"')
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
            raise ValueError("must be a decimal string") from exc
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        return value
    raise ValueError("must be a decimal string")


def _scale(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _money(value: Any) -> Decimal:
    result = _decimal_from_json(value)
    if result < 0:
        raise ValueError("an amount cannot be negative")
    if result > MAX_AMOUNT:
        raise ValueError(f"an amount is at most {MAX_AMOUNT} AMD")
    if _scale(result) > 2:
        raise ValueError("an amount has at most 2 decimals")
    return result.quantize(Decimal("0.01"))


UNIT_PRICE_DECIMALS = 8


def _unit_price(value: Any) -> Decimal:
    result = _decimal_from_json(value)
    if result < 0:
        raise ValueError("an amount cannot be negative")
    if result > MAX_AMOUNT:
        raise ValueError(f"an amount is at most {MAX_AMOUNT} AMD")
    if _scale(result) > UNIT_PRICE_DECIMALS:
        raise ValueError(f"a unit price has at most {UNIT_PRICE_DECIMALS} decimals")
    return result if _scale(result) > 2 else result.quantize(Decimal("0.01"))


def _quantity(value: Any) -> Decimal:
    result = _decimal_from_json(value)
    if result <= 0:
        raise ValueError("a quantity must be greater than 0")
    if result > MAX_QUANTITY:
        raise ValueError(f"a quantity is at most {MAX_QUANTITY}")
    if _scale(result) > 3:
        raise ValueError("a quantity has at most 3 decimals")
    return result.quantize(Decimal("0.001"))


def _plain_decimal(value: Any) -> Decimal:
    result = _decimal_from_json(value)
    if abs(result) > MAX_AMOUNT:
        raise ValueError(f"a number here is at most {MAX_AMOUNT} in size")
    return result


_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def no_control(value: Any) -> Any:
    """A one-line text trimmed; ``ValueError`` when it holds a control character (NUL included)."""
    if isinstance(value, str):
        value = value.strip()
        if _CONTROL_OR_BREAK.search(value):
            raise ValueError("control characters (NUL, line breaks, escapes …) are not allowed here")
    return value


MoneyIn = Annotated[Decimal, BeforeValidator(_money), Field(json_schema_extra={"type": "string"})]
QuantityIn = Annotated[Decimal, BeforeValidator(_quantity), Field(json_schema_extra={"type": "string"})]
UnitPriceIn = Annotated[Decimal, BeforeValidator(_unit_price), Field(json_schema_extra={"type": "string"})]
"""A line's unit price: up to 8 decimals (a shop's line total ÷ quantity); see ``sales.service``."""
DecimalIn = Annotated[Decimal, BeforeValidator(_plain_decimal), Field(json_schema_extra={"type": "string"})]
Text = Annotated[str, BeforeValidator(no_control)]
"""A one-line text of a request: no control characters (NUL included)."""
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(to_json_number, return_type=float, when_used="always"),
    Field(json_schema_extra={"type": "number"}),
]


def iso_ms(epoch_ms: int) -> str:
    """Epoch milliseconds → ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


class ApiModel(BaseModel):
    """Request models: unknown keys ignored, camelCase names as in the contract."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class LocalizedValue(ApiModel):
    hy: Text = Field(min_length=1, max_length=200)
    ru: Text | None = Field(default=None, max_length=200)
    en: Text | None = Field(default=None, max_length=200)


class LocalizedName(ApiModel):
    """``{"value": {"hy": ..., "ru"?: ..., "en"?: ...}, "localizationStrategy": ...}``"""

    value: LocalizedValue
    localization_strategy: Literal["translation", "transliteration"] = Field(alias="localizationStrategy")

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.value.model_dump().items() if v}


class TextEntry(BaseModel):
    id: int
    language: Literal["hy", "ru", "en", "multi"]
    content: str


class KeyedText(BaseModel):
    language: Literal["hy", "ru", "en", "multi"]
    content: str


class KeyedTextWithId(KeyedText):
    id: int


def entry_list(owner_id: int, texts: dict[str, str]) -> list[TextEntry]:
    """Localized text as the contract's entry list; ids are stable per owner and language."""
    return [
        TextEntry(id=owner_id * 10 + LANGUAGE_INDEX[lang], language=lang, content=content)
        for lang, content in texts.items()
    ]


class PositiveId(ApiModel):
    id: int = Field(gt=0, le=MAX_ID)

    @field_validator("id", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be an integer")
        return value


class OutModel(BaseModel):
    """Response models: snake_case in Python, camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_json_number(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_bytes(content: Any) -> bytes:
    """A response body as the API sends it: orjson, Decimals as JSON numbers (the contract's money format)."""
    return orjson.dumps(content, default=_json_default)
