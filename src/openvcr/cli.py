"""The ``openvcr`` command line (Typer + Rich). Thin: every command calls a service."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openvcr.config import Settings, get_settings

DEFAULT_PUBLIC_URL = Settings.model_fields["public_url"].default

console = Console()
err_console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL, else sqlite:///./openvcr.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

app = typer.Typer(
    name="openvcr",
    help="OpenVCR — a self-hosted virtual cash register for Armenia (VCR API v1, V-SDC, SRC e-HDM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def settings_for(database: str | None = None, **overrides: Any) -> Settings:
    """The environment's settings with command-line overrides applied."""
    updates = {k: v for k, v in overrides.items() if v is not None}
    if database:
        updates["database_url"] = database
    base = get_settings()
    return base.model_copy(update=updates) if updates else base


def _open(settings: Settings) -> Any:
    from openvcr.store import migrate
    from openvcr.store.db import Database

    db = Database(settings.database_url)
    migrate.upgrade(db)
    return db


def _init(settings: Settings, production: Any = None) -> Any:
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.registers.service import initialize

    db = _open(settings)
    try:
        return initialize(db, settings, SrcService(db, build_gateway(settings), settings), production=production)
    finally:
        db.dispose()


def _init_payload(result: Any) -> dict[str, Any]:
    return {
        "created": result.created,
        "apiKey": result.api_key,
        "apiKeyPrefix": result.api_key_prefix,
        "vcrId": result.register_id,
        "crn": result.crn,
        "sn": result.sn,
        "tin": result.tin,
        "mode": result.mode,
        "authorityStatus": result.authority_status,
        "cashier": None
        if result.cashier_id is None
        else {"id": result.cashier_id, "deskId": result.cashier_desk_id, "pin": result.cashier_pin},
    }


@app.command()
def init(
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    production: Annotated[bool, typer.Option(help="Register a real SRC register (needs --tin --crn --sn).")] = False,
    tin: Annotated[str | None, typer.Option(help="Taxpayer TIN (production).")] = None,
    taxpayer: Annotated[str | None, typer.Option(help="Taxpayer name (production).")] = None,
    crn: Annotated[str | None, typer.Option(help="Register CRN issued by SRC (production).")] = None,
    sn: Annotated[str | None, typer.Option(help="Register serial issued by SRC (production).")] = None,
    address: Annotated[str | None, typer.Option(help="Address printed on receipts (production).")] = None,
) -> None:
    """Create a working register (idempotent): sandbox by default, with an API key shown once."""
    from openvcr.registers.service import ProductionRegistration

    registration = None
    if production:
        if not (tin and crn and sn and taxpayer):
            err_console.print("[red]--production needs --tin, --taxpayer, --crn and --sn[/red]")
            raise typer.Exit(2)
        registration = ProductionRegistration(tin, taxpayer, crn, sn, address)
    settings = settings_for(database, src_mode="remote" if production else None)
    result = _init(settings, registration)
    if as_json:
        typer.echo(json.dumps(_init_payload(result), ensure_ascii=False))
        return
    _print_init(result)


def _print_init(result: Any) -> None:
    if not result.created:
        console.print(f"Register {result.register_id} (CRN {result.crn}) is already set up; no new key was created.")
        console.print("Create one with: openvcr keys create")
        return
    console.print(f"[bold green]Register {result.register_id} ready[/bold green] — {result.mode}, CRN {result.crn}")
    console.print(f"API key (shown once, store it now): [bold]{result.api_key}[/bold]")
    console.print(f"Cashier #1: id {result.cashier_id}, PIN {result.cashier_pin}")


@app.command()
def serve(
    database: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the HTTP API [default: 8000].")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes [default: 1].")] = None,
    public_url: Annotated[str | None, typer.Option(help="Public base URL used in receipt links and QR codes.")] = None,
    vsdc_port: Annotated[int | None, typer.Option(help="Also serve the V-SDC API (mutual TLS) on this port.")] = None,
    vsdc_context: Annotated[str, typer.Option(help="Path prefix of the V-SDC API.")] = "",
) -> None:
    """Run the service: migrate, initialize an empty database (printing its key once), then serve HTTP."""
    import uvicorn

    base = settings_for(database)
    host = host or base.host
    port = port or base.port
    workers = workers or base.workers
    settings = settings_for(
        database,
        public_url=public_url
        or (base.public_url if base.public_url != DEFAULT_PUBLIC_URL else f"http://{host}:{port}"),
    )
    os.environ["OPENVCR_DATABASE_URL"] = settings.database_url  # for worker processes
    os.environ["OPENVCR_PUBLIC_URL"] = settings.public_url
    result = _init(settings)
    if result.created:
        _print_init(result)
    console.print(f"API:  http://{host}:{port}/api/v1   docs: http://{host}:{port}/docs")
    from openvcr.receipts.delivery import banner

    console.print(banner(settings), highlight=False, soft_wrap=True)  # where receipt e-mails go, or how to enable them
    vsdc_process = None
    vsdc_port = vsdc_port or settings.vsdc_port
    if vsdc_port is not None:
        vsdc_process = _start_vsdc(settings, vsdc_port, vsdc_context, host)
    try:
        uvicorn.run(
            "openvcr.api.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            loop="uvloop",
            http="httptools",
            timeout_graceful_shutdown=10,
        )
    finally:
        if vsdc_process is not None:
            vsdc_process.terminate()


def _start_vsdc(settings: Settings, port: int, context: str, host: str) -> Any:
    import multiprocessing

    from openvcr.vsdc.listener import run_vsdc_listener

    process = multiprocessing.get_context("spawn").Process(
        target=run_vsdc_listener,
        args=(settings,),
        kwargs={"port": port, "context": context, "host": host},
        daemon=True,
    )
    process.start()
    console.print(f"V-SDC: https://{host}:{port}{context}/merchant/invoice (mutual TLS)")
    return process


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Apply every pending migration."""
    from openvcr.store import migrate
    from openvcr.store.db import Database

    db = Database(settings_for(database).database_url)
    migrate.upgrade(db)
    console.print(f"Database at revision {migrate.current(db)}")
    db.dispose()


keys_app = typer.Typer(help="API keys: create, list, rotate, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
ScopeOption = Annotated[
    list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable; default: every scope).")
]


def _key_json(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "prefix": info.prefix,
        "registerId": info.register_id,
        "scopes": list(info.scopes),
        **({"key": info.key} if hasattr(info, "key") else {}),
        **{
            field: getattr(info, attr)
            for field, attr in (
                ("name", "name"),
                ("createdAt", "created_at"),
                ("lastUsedAt", "last_used_at"),
                ("expiresAt", "expires_at"),
                ("revokedAt", "revoked_at"),
            )
            if hasattr(info, attr)
        },
    }


def _run_keys(database: str | None, action: Any) -> Any:
    db = _open(settings_for(database))
    try:
        with db.write() as conn:
            return action(conn)
    finally:
        db.dispose()


def _default_register(conn: Any, register: int | None) -> int:
    from openvcr.registers.repository import first_register_id, get_register

    if register is not None:
        return get_register(conn, register).id
    found = first_register_id(conn)
    if found is None:
        err_console.print("[red]No register yet: run `openvcr init` first[/red]")
        raise typer.Exit(1)
    return found


@keys_app.command("create")
def keys_create(
    database: DatabaseOption = None,
    register: Annotated[int | None, typer.Option(help="Register id (default: the first register).")] = None,
    scope: ScopeOption = None,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key; its secret is printed once."""
    from openvcr.registers.keys import create_key

    issued = _run_keys(
        database, lambda conn: create_key(conn, _default_register(conn, register), tuple(scope or ()), name)
    )
    if as_json:
        typer.echo(json.dumps(_key_json(issued)))
    else:
        console.print(f"Key {issued.id} ({', '.join(issued.scopes)}): [bold]{issued.key}[/bold]")


@keys_app.command("list")
def keys_list(
    database: DatabaseOption = None,
    register: Annotated[int | None, typer.Option(help="Only this register's keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys (prefixes only; secrets are never stored)."""
    from openvcr.registers.keys import list_keys

    infos = _run_keys(database, lambda conn: list_keys(conn, register))
    if as_json:
        typer.echo(json.dumps([_key_json(i) for i in infos]))
        return
    table = Table("id", "prefix", "register", "scopes", "last used", "expires", "revoked")
    for i in infos:
        table.add_row(
            str(i.id), i.prefix, str(i.register_id), " ".join(i.scopes), str(i.last_used_at or ""),
            str(i.expires_at or ""), str(i.revoked_at or ""),
        )  # fmt: skip
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[int, typer.Argument(help="Id of the key to replace.")],
    database: DatabaseOption = None,
    overlap: Annotated[
        int | None,
        typer.Option(help="Seconds the old key stays valid (default OPENVCR_KEY_ROTATION_OVERLAP_SECONDS)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a replacement key; the old one keeps working for the overlap, then expires."""
    from openvcr.registers.keys import rotate_key

    settings = settings_for(database)
    seconds = overlap if overlap is not None else settings.key_rotation_overlap_seconds
    issued = _run_keys(database, lambda conn: rotate_key(conn, key_id, seconds))
    if as_json:
        typer.echo(json.dumps({**_key_json(issued), "replaces": key_id, "overlapSeconds": seconds}))
    else:
        console.print(f"Key {issued.id} replaces key {key_id} (valid {seconds} s more): [bold]{issued.key}[/bold]")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="Id of the key to revoke.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key at once."""
    from openvcr.registers.keys import revoke_key

    info = _run_keys(database, lambda conn: revoke_key(conn, key_id))
    if as_json:
        typer.echo(json.dumps({"id": info.id, "revoked": True}))
    else:
        console.print(f"Key {info.id} ({info.prefix}…) revoked")


sandbox_app = typer.Typer(help="Run tax-authority sandboxes (SRC e-HDM, aTAX) for development and tests.")
app.add_typer(sandbox_app, name="sandbox", no_args_is_help=True)

# --- sub-command groups of the domain packages (one line each) ---
from openvcr.registers.cli import export_command, registers_app, verify_command  # noqa: E402

app.command("export")(export_command)
app.command("verify")(verify_command)
app.add_typer(registers_app, name="registers")
from openvcr.outbox.cli import outbox_app  # noqa: E402
from openvcr.vsdc.cli import sandbox_atax_command, vsdc_app  # noqa: E402

app.add_typer(vsdc_app, name="vsdc")
app.add_typer(outbox_app, name="outbox")
sandbox_app.command("atax")(sandbox_atax_command)
from openvcr.authority.cli import sandbox_src_app, src_app  # noqa: E402

sandbox_app.add_typer(sandbox_src_app, name="src")
app.add_typer(src_app, name="src", no_args_is_help=True)
from openvcr.sales.rates_cli import rates_app  # noqa: E402

app.add_typer(rates_app, name="rates")


def main() -> None:
    """Run the command line; domain errors are printed as one line, exit code 1."""
    from openvcr.core.errors import OpenVCRError

    try:
        app()
    except OpenVCRError as error:
        err_console.print(f"[red]{error.message}[/red]")
        raise SystemExit(1) from None
