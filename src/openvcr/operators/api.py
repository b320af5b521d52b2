"""The operator API, ``/api/operator/v1``: a host onboards businesses and registers over HTTP.

Authenticated by an operator token (``Authorization: Bearer ovop_…``, from ``openvcr operator token
create``), never by a register's API key. Every route is one hop off the event loop.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from openvcr.api.context import AppContext, get_context
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.core.errors import ValidationFailed
from openvcr.operators import service
from openvcr.operators.models import OperatorPrincipal
from openvcr.operators.schemas import (
    BusinessCreate,
    BusinessOut,
    CashierOnce,
    CertificateImported,
    CertificateIn,
    CsrOut,
    OwnerInvite,
    OwnerInvited,
    RegisterAdded,
    RegisterCreate,
    RegisterHealthOut,
)
from openvcr.registers import onboarding
from openvcr.schemas import iso_ms

TAG = "operator"
OPENAPI_TAG = {
    "name": TAG,
    "description": "The host's onboarding API (`/api/operator/v1`): business entities, their first owner's "
    "console invitation, registers, certificates, activation, health. Authenticated by an operator token "
    "(`Authorization: Bearer ovop_…`, from `openvcr operator token create`), never by a register's API key.",
}
router = APIRouter(prefix="/api/operator/v1", tags=[TAG], route_class=OneHopRoute)
bearer = HTTPBearer(auto_error=False, description="An operator token (`openvcr operator token create`)")
Ctx = Annotated[AppContext, Depends(get_context)]


async def operator(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> OperatorPrincipal:
    token = credentials.credentials if credentials is not None else None
    return await run_in_threadpool(service.authenticate, ctx.db, token)


Operator = Annotated[OperatorPrincipal, Depends(operator)]


@router.post("/businesses", status_code=201, response_model=BusinessOut, summary="Create a business entity")
def create_business(body: BusinessCreate, _op: Operator, ctx: Ctx) -> BusinessOut:
    return BusinessOut.of(service.create_business(ctx.db, body.tin, body.name, body.address))


@router.get("/businesses", response_model=list[BusinessOut], summary="List the business entities")
def list_businesses(_op: Operator, ctx: Ctx) -> list[BusinessOut]:
    return [BusinessOut.of(b) for b in service.list_businesses(ctx.db)]


@router.post(
    "/businesses/{business_id}/owners",
    status_code=201,
    response_model=OwnerInvited,
    summary="Invite the business's first owner: a console user and a one-time login link",
    responses={409: {"description": "The business has an owner already (owners add people in the console)"}},
)
def invite_owner(business_id: ResourceId, body: OwnerInvite, _op: Operator, ctx: Ctx) -> OwnerInvited:
    return OwnerInvited.of(service.invite_owner(ctx.db, ctx.settings, business_id, body.email))


@router.post(
    "/registers",
    status_code=201,
    response_model=RegisterAdded,
    summary="Add a register to a business (production: returns the CSR to submit to SRC)",
)
def add_register(body: RegisterCreate, _op: Operator, ctx: Ctx) -> RegisterAdded:
    found = service.business(ctx.db, body.business_tin)
    new = onboarding.NewRegister(
        production=body.mode == "production",
        tin=found.tin,
        taxpayer=found.name,
        crn=body.crn,
        sn=body.sn,
        address=body.address,
        trading_platform_name=body.trading_name,
    )
    added = onboarding.add_register(ctx.db, ctx.settings, ctx.src, new)
    return RegisterAdded(
        vcr_id=added.register_id,
        business_tin=added.tin,
        mode=added.mode,
        crn=added.crn,
        sn=added.sn,
        authority_status=added.authority_status,
        api_key=added.api_key,
        cashier=CashierOnce(id=added.cashier_id, desk_id=added.cashier_desk_id, pin=added.cashier_pin),
        csr=added.csr_pem,
    )


@router.get("/registers", response_model=list[RegisterHealthOut], summary="List the registers with their health")
def list_registers(_op: Operator, ctx: Ctx) -> list[RegisterHealthOut]:
    return [RegisterHealthOut.of(r) for r in service.register_health(ctx.db)]


@router.get("/registers/{register_id}", response_model=RegisterHealthOut, summary="One register with its health")
def get_register(register_id: ResourceId, _op: Operator, ctx: Ctx) -> RegisterHealthOut:
    return RegisterHealthOut.of(service.register_health(ctx.db, register_id)[0])


@router.get("/registers/{register_id}/csr", response_model=CsrOut, summary="The register's CSR, again")
def get_csr(register_id: ResourceId, _op: Operator, ctx: Ctx) -> CsrOut:
    return CsrOut(vcr_id=register_id, csr=onboarding.csr_of(ctx.db, register_id))


@router.put(
    "/registers/{register_id}/certificate",
    response_model=CertificateImported,
    summary="Import the certificate SRC signed for the register, then activate it with SRC",
)
def import_certificate(register_id: ResourceId, body: CertificateIn, _op: Operator, ctx: Ctx) -> CertificateImported:
    p12 = None
    if body.p12 is not None:
        try:
            p12 = base64.b64decode(body.p12, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed.at(["p12"], "p12 must be base64") from exc
    done = onboarding.import_certificate(
        ctx.db,
        ctx.settings,
        ctx.src,
        register_id,
        cert=None if body.certificate is None else body.certificate.encode(),
        p12=p12,
        p12_passphrase=body.passphrase,
        ca=None if body.ca is None else body.ca.encode(),
        activate=body.activate,
    )
    return CertificateImported(
        vcr_id=done.register_id,
        serial=done.serial,
        subject=done.subject,
        not_after=iso_ms(done.not_after),
        authority_status=done.authority_status,
        activation_error=done.activation_error,
    )


@router.post(
    "/registers/{register_id}/activate",
    response_model=RegisterHealthOut,
    summary="Activate the register with SRC and configure its departments",
)
def activate(register_id: ResourceId, _op: Operator, ctx: Ctx) -> RegisterHealthOut:
    onboarding.activate(ctx.db, ctx.settings, ctx.src, register_id)
    return RegisterHealthOut.of(service.register_health(ctx.db, register_id)[0])


@router.post(
    "/registers/{register_id}/disable",
    response_model=RegisterHealthOut,
    summary="Disable the register: its API keys are revoked, nothing more is sent to SRC",
)
def disable(register_id: ResourceId, _op: Operator, ctx: Ctx) -> RegisterHealthOut:
    onboarding.disable(ctx.db, register_id)
    forget = getattr(ctx.src.gateway, "forget", None)
    if callable(forget):
        forget()
    return RegisterHealthOut.of(service.register_health(ctx.db, register_id)[0])
