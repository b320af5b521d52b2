"""``openvcr users …``: console users, their roles, passwords and one-time login links (operator commands)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openvcr.commands import EXIT_USAGE, existing_database

users_app = typer.Typer(help="Console users: add, list, disable, reset a password, issue a login link.")
console = Console()
err_console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL, else sqlite:///./openvcr.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
EmailOption = Annotated[str, typer.Option("--email", help="The user's e-mail address.")]


def _settings(database: str | None) -> Any:
    from openvcr.cli import settings_for

    return settings_for(database)


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        err_console.print("[red]--password-stdin: no password on standard input[/red]")
        raise typer.Exit(EXIT_USAGE)
    return password


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "disabled": user.disabled_at is not None,
        "password": user.has_password,
        "totp": user.has_totp,
        "memberships": [{"tin": m.tin, "business": m.entity_name, "role": m.role} for m in user.memberships],
    }


@users_app.command("add")
def users_add(
    email: EmailOption,
    role: Annotated[str, typer.Option("--role", help="owner, accountant or developer.")],
    business: Annotated[str, typer.Option("--business", help="The business entity's TIN.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
    totp: Annotated[
        bool, typer.Option("--totp", help="Require a TOTP code at sign-in (the secret is printed once).")
    ] = False,
    link: Annotated[bool, typer.Option("--link", help="Also print a one-time login link.")] = False,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user to a business with a role (an existing user gains the role in that business)."""
    from openvcr.console.service import add_user, issue_login_link, login_link_url

    password = _read_password(password_stdin)
    settings = _settings(database)
    db = existing_database(settings.database_url)
    try:
        user, secret = add_user(db, email=email, role=role, tin=business, password=password, totp=totp)
        url = login_link_url(settings, issue_login_link(db, settings, user.email)) if link else None
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({**_user_json(user), "totpSecret": secret, "loginUrl": url}))
        return
    console.print(f"User {user.email} is {role} of {business}", highlight=False)
    if secret:
        console.print(f"TOTP secret (shown once, add it to an authenticator app): [bold]{secret}[/bold]")
    if url:
        console.print(f"One-time login link: {url}", highlight=False, soft_wrap=True)


@users_app.command("list")
def users_list(
    business: Annotated[str | None, typer.Option("--business", help="Only the users of this TIN.")] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List console users and their roles."""
    from openvcr.console.service import list_users

    db = existing_database(_settings(database).database_url)
    try:
        users = list_users(db, business)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([_user_json(u) for u in users]))
        return
    table = Table("id", "e-mail", "roles", "password", "TOTP", "state")
    for u in users:
        roles = ", ".join(f"{m.role} of {m.tin}" for m in u.memberships)
        table.add_row(str(u.id), u.email, roles, "yes" if u.has_password else "no", "yes" if u.has_totp else "no",
                      "disabled" if u.disabled_at else "active")  # fmt: skip
    console.print(table)


@users_app.command("disable")
def users_disable(
    email: EmailOption,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Disable a user: their sessions end at once and they can no longer sign in."""
    from openvcr.console.service import disable_user

    db = existing_database(_settings(database).database_url)
    try:
        user = disable_user(db, email, enable=enable)
    finally:
        db.dispose()
    console.print(f"User {user.email} {'enabled' if enable else 'disabled'}", highlight=False)


@users_app.command("reset-password")
def users_reset_password(
    email: EmailOption,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from standard input.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Set a user's password (from standard input), or without one issue a one-time login link; the user's
    sessions end."""
    from openvcr.console.service import issue_login_link, login_link_url, reset_password

    password = _read_password(password_stdin)
    settings = _settings(database)
    db = existing_database(settings.database_url)
    try:
        if password is not None:
            user = reset_password(db, email, password)
            console.print(f"Password of {user.email} reset", highlight=False)
        else:
            url = login_link_url(settings, issue_login_link(db, settings, email))
            console.print(f"One-time login link: {url}", highlight=False, soft_wrap=True)
    finally:
        db.dispose()


@users_app.command("link")
def users_link(email: EmailOption, database: DatabaseOption = None) -> None:
    """Print a one-time login link for a user."""
    from openvcr.console.service import issue_login_link, login_link_url

    settings = _settings(database)
    db = existing_database(settings.database_url)
    try:
        url = login_link_url(settings, issue_login_link(db, settings, email))
    finally:
        db.dispose()
    console.print(f"One-time login link: {url}", highlight=False, soft_wrap=True)
