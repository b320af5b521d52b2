"""``openvcr outbox …``: what waits to be delivered after commit, what was delivered, what failed and why.

A kind whose delivery is not configured here (receipt e-mails without ``OPENVCR_SMTP_URL``, receipt SMS without
``OPENVCR_SMPP_URL``) shows its pending messages as *held*: no worker takes them until it is configured.
``sent``: accepted by a receiver that confirms later (an SMSC), waiting for its delivery receipt.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from openvcr.commands import existing_database
from openvcr.config import Settings, get_settings
from openvcr.outbox import repository
from openvcr.outbox.models import DELIVERED, FAILED, PENDING, SENT
from openvcr.receipts import delivery, sms_delivery

outbox_app = typer.Typer(help="The outbox: documents waiting to be delivered after commit.")

HELD = "held"
STATUSES = (PENDING, HELD, SENT, DELIVERED, FAILED)


def held_kinds(settings: Settings) -> dict[str, str]:
    return {**delivery.held_kinds(settings), **sms_delivery.held_kinds(settings)}


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


@outbox_app.command("status")
def status_command(
    database: str = typer.Option(None, "--database", help="Database URL (default: from the settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show how many messages are pending, held, delivered and failed, per kind."""
    settings = get_settings()
    held = held_kinds(settings)
    db = existing_database(database or settings.database_url)
    try:
        with db.read() as conn:
            rows = repository.status(conn)
    finally:
        db.dispose()
    if as_json:
        out = []
        for row in rows:
            item = dict(row.__dict__)
            is_held = row.kind in held
            item["held"] = row.pending if is_held else 0
            item["pending"] = 0 if is_held else row.pending
            item["heldReason"] = held.get(row.kind)
            out.append(item)
        typer.echo(json.dumps(out))
        return
    table = Table("kind", "pending", "held", "sent", "delivered", "failed", "oldest pending (UTC)")
    for row in rows:
        is_held = row.kind in held
        table.add_row(
            row.kind,
            "0" if is_held else str(row.pending),
            str(row.pending) if is_held else "0",
            str(row.sent),
            str(row.delivered),
            str(row.failed),
            _time(row.oldest_pending_at),
        )
    console = Console()
    console.print(table)
    for kind, reason in held.items():
        console.print(f"{kind}: held — {reason}", highlight=False)


@outbox_app.command("list")
def list_command(
    kind: list[str] = typer.Option(None, "--kind", help="Only this kind (repeatable), e.g. receipt_email."),
    status: str = typer.Option(None, "--status", help=f"Only this status: {', '.join(STATUSES)}."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many, newest first."),
    database: str = typer.Option(None, "--database", help="Database URL (default: from the settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List messages, newest first, with their state, attempts and last error."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")
    settings = get_settings()
    held = held_kinds(settings)
    kinds = set(kind) if kind else None
    stored_status = PENDING if status == HELD else status
    if status == HELD:
        kinds = {k for k in held if kinds is None or k in kinds}
    elif status == PENDING:
        kinds = {k for k in (kinds or _all_kinds(database or settings.database_url)) if k not in held}
    db = existing_database(database or settings.database_url)
    try:
        with db.read() as conn:
            rows = repository.list_messages(conn, kinds, stored_status, limit)
    finally:
        db.dispose()
    shown = [(row, HELD if row.status == PENDING and row.kind in held else row.status) for row in rows]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": row.id,
                        "kind": row.kind,
                        "key": row.key,
                        "status": state,
                        "attempts": row.attempts,
                        "nextAttemptAt": row.next_attempt_at if state == PENDING else None,
                        "lastError": row.last_error,
                        "createdAt": row.created_at,
                        "deliveredAt": row.delivered_at,
                        "heldReason": held.get(row.kind) if state == HELD else None,
                        "remoteIds": list(row.remote_ids),
                    }
                    for row, state in shown
                ]
            )
        )
        return
    table = Table("id", "kind", "key", "status", "attempts", "next attempt (UTC)", "receiver ids", "last error")
    for row, state in shown:
        error = row.last_error or (held.get(row.kind, "") if state == HELD else "")
        table.add_row(
            str(row.id),
            row.kind,
            row.key,
            state,
            str(row.attempts),
            _time(row.next_attempt_at) if state == PENDING else "",
            " ".join(row.remote_ids),
            error,
        )
    Console().print(table)


def _all_kinds(url: str) -> set[str]:
    db = existing_database(url)
    try:
        with db.read() as conn:
            return {row.kind for row in repository.status(conn)}
    finally:
        db.dispose()
