"""Webhook routes of VCR API v1 (scope ``webhooks``): endpoints of the caller's business entity and their
deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.registers.models import Principal
from openvcr.webhooks import service
from openvcr.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut

router = APIRouter(prefix="/api/v1", tags=["webhooks"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
Manager = Annotated[Principal, Depends(require("webhooks"))]


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    summary="Add a webhook endpoint to the business entity; the signing secret is shown this once",
)
def create_webhook(body: WebhookCreate, principal: Manager, ctx: Ctx) -> WebhookCreated:
    created = service.create_endpoint(
        ctx.db,
        principal.entity_id,
        body.url,
        tuple(body.events),
        ctx.settings.master_key.get_secret_value(),
        principal.key_id,
        allow_private=service.private_urls_allowed(ctx.settings),
    )
    return WebhookCreated.of(created)


@router.get("/webhooks", response_model=list[WebhookOut], summary="The business entity's webhook endpoints")
def list_webhooks(principal: Manager, ctx: Ctx) -> list[WebhookOut]:
    return [WebhookOut.of(e) for e in service.list_endpoints(ctx.db, principal.entity_id)]


@router.delete(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Delete a webhook endpoint (nothing more is delivered to it); answers it, deleted",
)
def delete_webhook(webhook_id: ResourceId, principal: Manager, ctx: Ctx) -> WebhookOut:
    return WebhookOut.of(service.delete_endpoint(ctx.db, principal.entity_id, webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="The endpoint's deliveries, newest first",
)
def list_deliveries(
    webhook_id: ResourceId,
    principal: Manager,
    ctx: Ctx,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    found = service.list_deliveries(ctx.db, principal.entity_id, webhook_id, status, limit)
    return [DeliveryOut.of(d) for d in found]


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    summary="Deliver a finished delivery again (same event id and body)",
)
def replay_delivery(webhook_id: ResourceId, delivery_id: ResourceId, principal: Manager, ctx: Ctx) -> DeliveryOut:
    return DeliveryOut.of(service.replay(ctx.db, principal.entity_id, webhook_id, delivery_id))
