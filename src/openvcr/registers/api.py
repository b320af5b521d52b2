"""Account routes of VCR API v1: ``GET /whoami``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.registers.models import Principal
from openvcr.registers.schemas import BusinessEntityOut, WhoAmI

router = APIRouter(prefix="/api/v1", tags=["account"], route_class=OneHopRoute)


@router.get("/whoami", response_model=WhoAmI, summary="The register this API key belongs to")
async def whoami(
    principal: Annotated[Principal, Depends(require("account:read"))],
    ctx: Annotated[AppContext, Depends(get_context)],
) -> WhoAmI:
    # The register was cached with the key; read it (one hop) only when it has just gone stale.
    register = ctx.authenticator.cached_register(principal.register_id)
    if register is None:
        register = await run_in_threadpool(ctx.authenticator.load_register, principal.register_id)
    return WhoAmI(
        vcr_id=register.id,
        crn=register.crn if register.authority_status == "operating" else None,
        mode="production" if register.mode == "production" else "sandbox",
        trading_platform_name=register.trading_platform_name,
        business_entity=BusinessEntityOut(tin=register.tin, name=register.entity_name),
    )
