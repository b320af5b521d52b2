"""API shapes of the account routes."""

from __future__ import annotations

from typing import Literal

from openvcr.schemas import OutModel


class BusinessEntityOut(OutModel):
    tin: str
    name: str


class WhoAmI(OutModel):
    vcr_id: int
    crn: str | None
    mode: Literal["production", "sandbox"]
    trading_platform_name: str
    business_entity: BusinessEntityOut
