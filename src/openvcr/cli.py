"""The ``openvcr`` command line (Typer + Rich). Thin: every command calls a service."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from openvcr.commands import EXIT_CANNOT_START, EXIT_USAGE, existing_database
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
    """The environment's settings with command-line overrides applied; a configuration the settings refuse
    is a one-line error and exit status 2."""
    updates = {k: v for k, v in overrides.items() if v is not None}
    if database:
        updates["database_url"] = database
    try:
        base = get_settings()
    except ValidationError as exc:
        reasons = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        err_console.print(f"[red]configuration refused: {reasons}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc
    return base.model_copy(update=updates) if updates else base


def _open(settings: Settings) -> Any:
    from openvcr.store import migrate
    from openvcr.store.db import Database

    db = Database(settings.database_url)
    migrate.upgrade(db)
    return db


def _init(settings: Settings, production: Any = None, *, demo: bool = True) -> Any:
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.registers.service import initialize

    db = _open(settings)
    try:
        src = SrcService(db, build_gateway(settings, db), settings)
        return initialize(db, settings, src, production=production, demo=demo)
    finally:
        db.dispose()


def _has_register(settings: Settings) -> bool:
    from openvcr.registers.repository import first_register_id

    db = _open(settings)
    try:
        with db.read() as conn:
            return first_register_id(conn) is not None
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
        "demoOffers": list(result.demo_offers),
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
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Give a new sandbox register the demo catalogue (SKU-001 …).")
    ] = True,
) -> None:
    """Create a working register (idempotent): sandbox by default, with an API key shown once."""
    from openvcr.registers.service import ProductionRegistration

    registration = None
    if production:
        if not (tin and crn and sn and taxpayer):
            err_console.print("[red]--production needs --tin, --taxpayer, --crn and --sn[/red]")
            raise typer.Exit(EXIT_USAGE)
        registration = ProductionRegistration(tin, taxpayer, crn, sn, address)
    settings = settings_for(database, src_mode="remote" if production else None)
    if settings.environment == "production" and registration is None:
        err_console.print(
            "[red]OPENVCR_ENVIRONMENT is production: a sandbox register is never created there; "
            "use --production --tin --taxpayer --crn --sn[/red]",
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    result = _init(settings, registration, demo=demo)
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
    if result.demo_offers:
        offers = ", ".join(result.demo_offers)
        console.print(f"Demo catalogue: offers {offers} in department 1 (VAT), for the quick start in README.md")


@app.command()
def serve(
    database: DatabaseOption = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (OPENVCR_HOST).", show_default="127.0.0.1")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port of the HTTP API (OPENVCR_PORT).", show_default="8000")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (OPENVCR_WORKERS).", show_default="1")
    ] = None,
    public_url: Annotated[str | None, typer.Option(help="Public base URL used in receipt links and QR codes.")] = None,
    vsdc_port: Annotated[int | None, typer.Option(help="Also serve the V-SDC API (mutual TLS) on this port.")] = None,
    vsdc_context: Annotated[
        str | None, typer.Option(help="Path prefix of the V-SDC API (OPENVCR_VSDC_CONTEXT).", show_default="none")
    ] = None,
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
    vsdc_port = vsdc_port or settings.vsdc_port
    problems = settings.production_problems(vsdc=vsdc_port is not None)
    if problems:
        for problem in problems:
            err_console.print(f"[red]production: {problem}[/red]", highlight=False)
        err_console.print("Refusing to serve. See docs/deployment.md.", highlight=False)
        raise typer.Exit(EXIT_USAGE)
    os.environ["OPENVCR_DATABASE_URL"] = settings.database_url  # for worker processes
    os.environ["OPENVCR_PUBLIC_URL"] = settings.public_url
    if settings.environment == "production" and not _has_register(settings):
        # production never creates a sandbox register: the operator registers a real one
        console.print("No register yet: create one with `openvcr init --production --tin … --crn … --sn …`.")
    else:
        result = _init(settings)
        if result.created:
            _print_init(result)
    _first_owner(settings)
    busy = [p for p in (port, vsdc_port) if p is not None and not _port_free(host, p)]
    if busy:
        err_console.print(f"[red]port {busy[0]} on {host} is in use: cannot serve[/red]", highlight=False)
        raise typer.Exit(EXIT_CANNOT_START)
    console.print(
        f"API:  http://{host}:{port}/api/v1   docs: http://{host}:{port}/docs   console: http://{host}:{port}/console",
        soft_wrap=True,
    )
    from openvcr.receipts.delivery import banner

    console.print(banner(settings), highlight=False, soft_wrap=True)  # where receipt e-mails go, or how to enable them
    from openvcr.receipts.sms_delivery import banner as sms_banner

    console.print(sms_banner(settings), highlight=False, soft_wrap=True)
    vsdc_process = None
    _exit_on_signals()
    try:
        if vsdc_port is not None:
            context = settings.vsdc_context if vsdc_context is None else vsdc_context
            vsdc_process = _start_vsdc(settings, vsdc_port, context, host)
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
            _stop_process(vsdc_process, timeout=GRACEFUL_SECONDS)


def _first_owner(settings: Settings) -> None:
    """On a database without console users: create the first owner and print a one-time login link."""
    from openvcr.console.service import ensure_first_owner, login_link_url

    db = _open(settings)
    try:
        owner = ensure_first_owner(db, settings)
    finally:
        db.dispose()
    if owner is not None:
        console.print(
            f"Console: first owner {owner.email} (business {owner.tin}); one-time login link (valid "
            f"{settings.console_link_minutes} min): {login_link_url(settings, owner.link_token)}",
            highlight=False,
            soft_wrap=True,
        )


GRACEFUL_SECONDS = 10.0


def _port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (with SO_REUSEADDR, as the servers bind)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _exit_on_signals() -> None:
    """SIGTERM and SIGINT end ``serve`` with ``SystemExit`` (so that its ``finally`` stops what it started).
    uvicorn handles them while it serves, shuts down gracefully, then raises the signal again: it lands here."""
    import signal

    def leave(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum if signum != signal.SIGINT else 0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)


def _stop_process(process: Any, *, timeout: float) -> None:
    """Terminate a child process; kill it if it has not ended within ``timeout`` seconds."""
    if process.is_alive():
        process.terminate()
        process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(5)


def _start_vsdc(settings: Settings, port: int, context: str, host: str) -> Any:
    """Start the V-SDC listener process and wait until it accepts connections; a listener that exits first
    (a port taken meanwhile, a broken CA) ends ``serve`` with ``EXIT_CANNOT_START``."""
    import multiprocessing
    import time

    from openvcr.vsdc.listener import run_vsdc_listener

    process = multiprocessing.get_context("spawn").Process(
        target=run_vsdc_listener,
        args=(settings,),
        kwargs={"port": port, "context": context, "host": host},
        daemon=True,
    )
    process.start()
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + 60
    try:
        _wait_listening(process, target, port, deadline)
    except BaseException:  # a signal while waiting, or the listener did not start: leave nothing behind
        _stop_process(process, timeout=5)
        raise
    prefix = "/" + context.strip("/") if context.strip("/") else ""
    console.print(f"V-SDC: https://{host}:{port}{prefix}/merchant/invoice (mutual TLS)")
    return process


def _wait_listening(process: Any, target: str, port: int, deadline: float) -> None:
    import socket
    import time

    while True:
        if not process.is_alive():
            err_console.print(
                f"[red]the V-SDC listener on port {port} did not start (exit {process.exitcode})[/red]",
                highlight=False,
            )
            raise typer.Exit(EXIT_CANNOT_START)
        try:
            socket.create_connection((target, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                err_console.print(f"[red]the V-SDC listener on port {port} did not start in time[/red]")
                raise typer.Exit(EXIT_CANNOT_START) from None
            time.sleep(0.1)


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
    list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable; default: every scope but webhooks).")
]


def _key_json(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "prefix": info.prefix,
        "registerId": info.register_id,
        "scopes": list(info.scopes),
        **({"key": info.key} if hasattr(info, "key") else {}),
        **({"name": info.name} if hasattr(info, "name") else {}),
        **{
            field: _iso_time(getattr(info, attr))
            for field, attr in (
                ("createdAt", "created_at"),
                ("lastUsedAt", "last_used_at"),
                ("expiresAt", "expires_at"),
                ("revokedAt", "revoked_at"),
            )
            if hasattr(info, attr)
        },
    }


def _run_keys(database: str | None, action: Any) -> Any:
    db = existing_database(settings_for(database).database_url)
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
    table = Table("id", "name", "prefix", "register", "scopes", "created", "last used", "expires", "revoked")
    for i in infos:
        table.add_row(
            str(i.id), i.name or "", i.prefix, str(i.register_id), " ".join(i.scopes), _local_time(i.created_at),
            _local_time(i.last_used_at) or "never", _local_time(i.expires_at), _local_time(i.revoked_at),
        )  # fmt: skip
    console.print(table)


def _local_time(epoch_ms: int | None) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM`` in the machine's local time ("" for none)."""
    from datetime import datetime

    if epoch_ms is None:
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M")


def _iso_time(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds as an ISO 8601 UTC time, for ``--json``."""
    from datetime import UTC, datetime

    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
from openvcr.operators.cli import operator_app  # noqa: E402

app.add_typer(operator_app, name="operator")  # the operator API's tokens
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
from openvcr.console.cli import users_app  # noqa: E402

app.add_typer(users_app, name="users", no_args_is_help=True)

from openvcr.webhooks.cli import webhooks_app  # noqa: E402

app.add_typer(webhooks_app, name="webhooks")

from openvcr.reports.cli import reports_app  # noqa: E402

app.add_typer(reports_app, name="reports")


def main() -> None:
    """Run the command line; domain errors are printed as one line, exit code 1."""
    from openvcr.core.errors import OpenVCRError

    try:
        app()
    except OpenVCRError as error:
        err_console.print(f"[red]{error.message}[/red]")
        raise SystemExit(1) from None
