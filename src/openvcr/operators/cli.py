"""``openvcr operator token create | list | revoke``: the credentials of the operator API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from openvcr.commands import EXIT_USAGE

if TYPE_CHECKING:
    from openvcr.store.db import Database

console = Console()
err_console = Console(stderr=True)
operator_app = typer.Typer(help="The operator API (/api/operator/v1) of a hosting operator.", no_args_is_help=True)
token_app = typer.Typer(help="Operator tokens: create, list, revoke.", no_args_is_help=True)
operator_app.add_typer(token_app, name="token")

DatabaseOption = Annotated[str | None, typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL).")]


def _open(database: str | None) -> Database:
    from openvcr.commands import existing_database
    from openvcr.config import get_settings

    return existing_database(database or get_settings().database_url)


@token_app.command("create")
def token_create(
    name: Annotated[str | None, typer.Option("--name", help="What the token is for.")] = None,
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an operator token; it is shown once."""
    from openvcr.operators.service import create_token

    db = _open(database)
    try:
        issued = create_token(db, name)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"id": issued.id, "token": issued.token, "prefix": issued.prefix, "name": name}))
        return
    console.print(f"Operator token {issued.id} (shown once, store it now): [bold]{issued.token}[/bold]")
    console.print("Use it as: Authorization: Bearer <token> on /api/operator/v1")


@token_app.command("list")
def token_list(database: DatabaseOption = None) -> None:
    """List operator tokens (never their secrets)."""
    from openvcr.operators.service import list_tokens

    db = _open(database)
    try:
        tokens = list_tokens(db)
    finally:
        db.dispose()
    table = Table("id", "prefix", "name", "revoked")
    for t in tokens:
        table.add_row(str(t.id), t.prefix + "…", t.name or "", "yes" if t.revoked_at else "")
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id.")], database: DatabaseOption = None
) -> None:
    """Revoke an operator token at once."""
    from openvcr.core.errors import NotFound
    from openvcr.operators.service import revoke_token

    db = _open(database)
    try:
        revoke_token(db, token_id)
    except NotFound as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        db.dispose()
    console.print(f"Operator token {token_id} revoked")
