"""Catalog routes of VCR API v1: cashiers, departments, offers, classifier search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.catalog import service
from openvcr.catalog.models import OfferTitle
from openvcr.catalog.schemas import (
    CashierCreate,
    CashierCreated,
    CashierOut,
    ClassifierHitOut,
    DepartmentCreate,
    DepartmentCreated,
    DepartmentOut,
    OfferCreate,
    OfferCreated,
    OfferOut,
    OfferPatch,
    OfferTitleIn,
)
from openvcr.registers.models import Principal

router = APIRouter(prefix="/api/v1", tags=["catalog"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
CatalogReader = Annotated[Principal, Depends(require("catalog:read"))]
CatalogWriter = Annotated[Principal, Depends(require("catalog:write"))]


@router.get("/cashiers", response_model=list[CashierOut], summary="List the register's cashiers")
def list_cashiers(principal: CatalogReader, ctx: Ctx) -> list[CashierOut]:
    return [CashierOut.of(c) for c in service.list_cashiers(ctx.db, principal.register_id)]


@router.post("/cashiers", response_model=CashierCreated, summary="Create a cashier with a 4–8 digit PIN")
def create_cashier(body: CashierCreate, principal: CatalogWriter, ctx: Ctx) -> CashierCreated:
    cashier = service.create_cashier(
        ctx.db, principal.register_id, body.name.given(), body.name.localization_strategy, body.password
    )
    return CashierCreated(id=cashier.id, desk_id=cashier.desk_id)


@router.get(
    "/departments",
    response_model=list[DepartmentOut],
    summary="List the departments confirmed by the tax authority",
)
def list_departments(principal: CatalogReader, ctx: Ctx) -> list[DepartmentOut]:
    return [DepartmentOut.of(d) for d in service.list_departments(ctx.db, principal.register_id)]


@router.post(
    "/departments",
    response_model=DepartmentCreated,
    summary="Create a department; it is configured at the tax authority before it is listed",
)
def create_department(body: DepartmentCreate, principal: CatalogWriter, ctx: Ctx) -> DepartmentCreated:
    department = service.create_department(
        ctx.db,
        ctx.src,
        principal.register_id,
        external_id=body.external_id,
        tax_regime=body.tax_regime,
        title=body.title.given(),
        strategy=body.title.localization_strategy,
    )
    return DepartmentCreated(message="Department created and confirmed by the tax authority", department=department.id)


def _title(title: OfferTitleIn) -> OfferTitle:
    if title.type == "universal":
        return service.offer_title("universal", str(title.content), None, ["title"])
    return service.offer_title("localized", title.localized_content(), title.localization_strategy, ["title"])


@router.post("/offers", response_model=OfferCreated, summary="Create an offer (a product or service)")
def create_offer(body: OfferCreate, principal: CatalogWriter, ctx: Ctx) -> OfferCreated:
    spec = service.OfferSpec(
        type=body.type,
        classifier_code=body.classifier_code,
        title=_title(body.title),
        unit=body.default_measure_unit,
        department_id=body.default_department.id,
        external_id=body.external_id,
    )
    return OfferCreated(offer_id=service.create_offer(ctx.db, principal.register_id, spec).id)


@router.get("/offers", response_model=list[OfferOut], summary="List offers (at most 500)")
def list_offers(
    principal: CatalogReader,
    ctx: Ctx,
    external_id: Annotated[
        str | None, Query(alias="externalId", max_length=100, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    ] = None,
    type_: Annotated[Literal["product", "service"] | None, Query(alias="type")] = None,
    include_archived: Annotated[bool, Query(alias="includeArchived")] = False,
) -> list[OfferOut]:
    offers = service.list_offers(
        ctx.db, principal.register_id, external_id=external_id, type_=type_, include_archived=include_archived
    )
    return [OfferOut.of(o) for o in offers]


@router.get("/offers/{offer_id}", response_model=OfferOut, summary="One offer")
def get_offer(offer_id: ResourceId, principal: CatalogReader, ctx: Ctx) -> OfferOut:
    return OfferOut.of(service.get_offer(ctx.db, principal.register_id, offer_id))


@router.patch("/offers/{offer_id}", response_model=OfferOut, summary="Rename an offer (future receipts only)")
def patch_offer(offer_id: ResourceId, body: OfferPatch, principal: CatalogWriter, ctx: Ctx) -> OfferOut:
    return OfferOut.of(service.rename_offer(ctx.db, principal.register_id, offer_id, _title(body.title)))


@router.delete(
    "/offers/{offer_id}",
    response_model=OfferOut,
    summary="Archive an offer (OpenVCR addition): hidden from lists unless includeArchived=true",
)
def archive_offer(offer_id: ResourceId, principal: CatalogWriter, ctx: Ctx) -> OfferOut:
    return OfferOut.of(service.archive_offer(ctx.db, principal.register_id, offer_id))


@router.get(
    "/searchByClassifier",
    response_model=list[ClassifierHitOut],
    response_model_exclude_none=True,
    summary="Search the commodity (goods) or economic-activity (services) classifier",
)
def search_by_classifier(
    _principal: CatalogReader,
    query: Annotated[str, Query(min_length=1, max_length=100)],
    type_: Annotated[Literal["product", "service"], Query(alias="type")],
    language: Literal["hy", "ru", "en"] = "hy",
) -> list[ClassifierHitOut]:
    from openvcr.catalog.classifier import search

    return [ClassifierHitOut(code=hit.code, title=hit.title) for hit in search(query, type_, language)]
