"""The console's webhooks page (permission ``webhooks``: developers and owners), registered on
``console.api.router``.

- ``GET /console/webhooks``: the business's endpoints with their status; ``POST /console/webhooks`` (``url``,
  ``event`` checkboxes) adds one — checked by the API's own request model (``WebhookCreate``) and created by
  ``webhooks.service.create_endpoint``, as ``POST /api/v1/webhooks`` does — and shows its secret once.
- ``POST /console/webhooks/{id}/delete``: delete it (nothing more is delivered to it).
- ``GET /console/webhooks/{id}``: its recent deliveries (50, newest first);
  ``POST /console/webhooks/{id}/deliveries/{delivery_id}/replay``: deliver one again.
Every change is in the audit log (``webhook.create``, ``webhook.delete``, ``webhook.replay``; never the
secret). An endpoint of another business is "not found" (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError as PydanticError
from starlette.responses import Response

from openvcr.console import views
from openvcr.console.api import BASE, PageRefused, View, action, page, redirect, render, router
from openvcr.console.api_pages import Id
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.webhooks import service
from openvcr.webhooks.models import DELETED, EVENTS
from openvcr.webhooks.schemas import WebhookCreate

RECENT = 50


def _webhooks_page(view: View, status: int = 200, **values: Any) -> Response:
    return render(
        view,
        "webhooks.html",
        status,
        endpoints=service.list_endpoints(view.db, view.entity_id),
        events=EVENTS,
        deleted=DELETED,
        local_time=views.local_time,
        **values,
    )


@router.get("/webhooks")
def webhooks(view: Annotated[View, Depends(page("webhooks"))]) -> Response:
    return _webhooks_page(view)


@router.post("/webhooks")
def create_webhook(view: Annotated[View, Depends(action("webhooks"))]) -> Response:
    url, events = view.form.get("url"), view.form.all("event")
    try:
        body = WebhookCreate.model_validate({"url": url, "events": events})
        created = service.create_endpoint(
            view.db,
            view.entity_id,
            body.url,
            tuple(body.events),
            view.ctx.settings.master_key.get_secret_value(),
            None,
            allow_private=service.private_urls_allowed(view.ctx.settings),
        )
    except PydanticError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _webhooks_page(view, 400, error=f"{where}: {first['msg']}", url=url, chosen=events)
    except ValidationFailed as invalid:
        return _webhooks_page(view, 400, error=invalid.message, url=url, chosen=events)
    endpoint = created.endpoint
    view.audit("webhook.create", f"webhook {endpoint.id}", {"url": endpoint.url, "events": list(endpoint.events)})
    return _webhooks_page(view, created=created)


@router.post("/webhooks/{webhook_id}/delete")
def delete_webhook(webhook_id: Id, view: Annotated[View, Depends(action("webhooks"))]) -> Response:
    try:
        deleted = service.delete_endpoint(view.db, view.entity_id, webhook_id)
    except NotFound as missing:
        raise PageRefused(404, missing.message, view.lang) from None
    view.audit("webhook.delete", f"webhook {webhook_id}", {"url": deleted.url})
    return redirect(f"{BASE}/webhooks")


def _endpoint_page(view: View, webhook_id: int, status: int = 200, **values: Any) -> Response:
    try:
        deliveries = service.list_deliveries(view.db, view.entity_id, webhook_id, None, RECENT)
    except NotFound as missing:
        raise PageRefused(404, missing.message, view.lang) from None
    endpoint = next(e for e in service.list_endpoints(view.db, view.entity_id) if e.id == webhook_id)
    return render(view, "webhook.html", status, endpoint=endpoint, deliveries=deliveries,
                  local_time=views.local_time, **values)  # fmt: skip


@router.get("/webhooks/{webhook_id}")
def webhook(webhook_id: Id, view: Annotated[View, Depends(page("webhooks"))]) -> Response:
    return _endpoint_page(view, webhook_id)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
def replay_delivery(webhook_id: Id, delivery_id: Id, view: Annotated[View, Depends(action("webhooks"))]) -> Response:
    try:
        replayed = service.replay(view.db, view.entity_id, webhook_id, delivery_id)
    except NotFound as missing:
        raise PageRefused(404, missing.message, view.lang) from None
    except Conflict as refused:
        return _endpoint_page(view, webhook_id, 409, error=refused.message)
    view.audit("webhook.replay", f"webhook {webhook_id}", {"delivery": delivery_id, "event": replayed.event_id})
    return _endpoint_page(view, webhook_id, replayed=replayed.id)
