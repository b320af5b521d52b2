"""``openvcr webhooks …``: the endpoints of every business entity, their deliveries, and replaying one."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from openvcr.commands import existing_database
from openvcr.config import get_settings
from openvcr.outbox.models import DELIVERED, FAILED, PENDING
from openvcr.webhooks import service
from openvcr.webhooks.schemas import DeliveryOut, WebhookOut

webhooks_app = typer.Typer(help="Webhooks: endpoints, deliveries, replays.", no_args_is_help=True)

DatabaseOption = typer.Option(None, "--database", help="Database URL (default: from the settings).")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


@webhooks_app.command("list")
def list_command(
    entity: int = typer.Option(None, "--entity", help="Only this business entity's endpoints."),
    database: str = DatabaseOption,
    as_json: bool = JsonOption,
) -> None:
    """List webhook endpoints (deleted ones are not shown)."""
    db = existing_database(database or get_settings().database_url)
    try:
        found = service.list_endpoints(db, entity)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([{**WebhookOut.of(e).model_dump(by_alias=True), "entityId": e.entity_id} for e in found]))
        return
    table = Table("id", "entity", "url", "events", "status")
    for e in found:
        table.add_row(str(e.id), str(e.entity_id), e.url, " ".join(e.events), e.status_reason or e.status)
    Console().print(table)


@webhooks_app.command("deliveries")
def deliveries_command(
    webhook_id: int = typer.Argument(..., help="The endpoint's id."),
    status: str = typer.Option(None, "--status", help=f"Only this status: {PENDING}, {DELIVERED}, {FAILED}."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many, newest first."),
    database: str = DatabaseOption,
    as_json: bool = JsonOption,
) -> None:
    """List an endpoint's deliveries, newest first, with their attempts and last error."""
    if status is not None and status not in (PENDING, DELIVERED, FAILED):
        raise typer.BadParameter(f"must be one of {PENDING}, {DELIVERED}, {FAILED}", param_hint="--status")
    db = existing_database(database or get_settings().database_url)
    try:
        found = service.list_deliveries(db, None, webhook_id, status, limit)
    finally:
        db.dispose()
    rows = [DeliveryOut.of(d) for d in found]
    if as_json:
        typer.echo(json.dumps([row.model_dump(by_alias=True) for row in rows]))
        return
    table = Table("id", "event", "event id", "status", "attempts", "created (UTC)", "last error")
    for row in rows:
        table.add_row(
            str(row.id), row.event_type, row.event_id, row.status, str(row.attempts), row.created_at, row.last_error
        )
    Console().print(table)


@webhooks_app.command("replay")
def replay_command(
    webhook_id: int = typer.Argument(..., help="The endpoint's id."),
    delivery_id: int = typer.Argument(..., help="The delivery's id (see `openvcr webhooks deliveries`)."),
    database: str = DatabaseOption,
) -> None:
    """Deliver a delivered or failed event again (same event id and body; a running server sends it)."""
    db = existing_database(database or get_settings().database_url)
    try:
        delivery = service.replay(db, None, webhook_id, delivery_id)
    finally:
        db.dispose()
    typer.echo(f"Delivery {delivery.id} ({delivery.event_type} {delivery.event_id}) is due again")
