"""``GET /api/v1/exchange-rate?currency=USD``: the CBA rate a sale made now would use (any valid key).

Rules (``sales.rates``): the rate of the previous business day in Yerevan time, i.e. the newest CBA
publication dated before today; ``AMD``, an unknown code, a missing ``currency``, no rate on file, or a rate
more business days old than ``OPENVCR_RATES_MAX_AGE_DAYS`` → 400
(the message names the currency; "no rate" is a 400 and not a 404 because it is exactly the error a sale in
that currency gets, and the integrator's remedy is the same: the operator imports rates).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.core.errors import ValidationFailed
from openvcr.registers.models import Principal
from openvcr.sales.rates import RULE_VERSION, SOURCE, quote
from openvcr.schemas import MoneyOut, OutModel

router = APIRouter(prefix="/api/v1", tags=["sales"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
AnyKey = Annotated[Principal, Depends(require("sales:read"))]


class ExchangeRateOut(OutModel):
    currency: str
    rate_per_unit: MoneyOut
    amount: int
    rate_date: str
    sale_date: str
    rule_version: Literal["HO-234-N"]
    source: Literal["CBA"]


@router.get(
    "/exchange-rate",
    response_model=ExchangeRateOut,
    summary="The CBA exchange rate a sale made now converts at (previous business day, Yerevan time)",
)
def exchange_rate(
    _principal: AnyKey,
    ctx: Ctx,
    currency: Annotated[str | None, Query(description="ISO 4217 code, e.g. USD")] = None,
) -> ExchangeRateOut:
    if currency is None or not currency.strip():
        raise ValidationFailed.at(["currency"], "currency is required, e.g. ?currency=USD", "required")
    with ctx.db.read() as conn:
        found = quote(conn, currency.strip(), max_age_days=ctx.settings.rates_max_age_days)
    return ExchangeRateOut(
        currency=found.currency,
        rate_per_unit=found.rate_per_unit,
        amount=found.amount,
        rate_date=found.rate_date,
        sale_date=found.sale_date,
        rule_version=RULE_VERSION,
        source=SOURCE,
    )
