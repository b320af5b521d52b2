"""``openvcr outbox …``: what waits to be delivered after commit."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from openvcr.config import get_settings
from openvcr.outbox import repository
from openvcr.store.db import Database

outbox_app = typer.Typer(help="The outbox: documents waiting to be delivered after commit.")


@outbox_app.command("status")
def status_command(
    database: str = typer.Option(None, "--database", help="Database URL (default: from the settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show how many messages are pending, delivered and failed, per kind."""
    db = Database(database or get_settings().database_url)
    try:
        with db.read() as conn:
            rows = repository.status(conn)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([row.__dict__ for row in rows]))
        return
    table = Table("kind", "pending", "delivered", "failed", "oldest pending (ms)")
    for row in rows:
        table.add_row(
            row.kind,
            str(row.pending),
            str(row.delivered),
            str(row.failed),
            "" if row.oldest_pending_at is None else str(row.oldest_pending_at),
        )
    Console().print(table)
