"""Domain types of the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TAX_REGIMES: dict[str, int] = {"vat": 1, "vat_exempt": 2, "turnover_tax": 3, "micro_enterprise": 7}
"""API tax regime → SRC code. The order is the order of departments created at ``init`` (VAT first)."""

REGIME_BY_CODE: dict[int, str] = {code: name for name, code in TAX_REGIMES.items()}


@dataclass(frozen=True)
class Cashier:
    id: int
    register_id: int
    desk_id: str
    number: int
    name: dict[str, str]


@dataclass(frozen=True)
class Department:
    id: int
    register_id: int
    dep: int
    external_id: str | None
    tax_regime: str
    title: dict[str, str]
    confirmed: bool


@dataclass(frozen=True)
class OfferTitle:
    """``kind`` "localized" (``texts`` has hy/ru/en) or "universal" (``texts`` is ``{"multi": text}``)."""

    kind: str
    texts: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "content": self.texts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OfferTitle:
        return cls(kind=str(data["type"]), texts={str(k): str(v) for k, v in dict(data["content"]).items()})

    def text(self, language: str) -> str:
        return self.texts.get(language) or self.texts.get("multi") or self.texts.get("hy") or ""


@dataclass(frozen=True)
class Offer:
    id: int
    register_id: int
    external_id: str | None
    type: str
    classifier_code: str
    default_measure_unit: str
    default_department_id: int
    title: OfferTitle
    archived_at: int | None
    created_at: int
