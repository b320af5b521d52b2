"""``openvcr vsdc …``: the V-SDC's CA, taxpayers and devices. Thin: every command calls ``vsdc.service``.

Every command takes ``--database`` (default: the settings'), brings the schema up to date, and exits with 1
and a one-line message on a refused input (nothing written).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from openvcr.config import Settings, get_settings
from openvcr.core.errors import OpenVCRError
from openvcr.store import migrate
from openvcr.store.db import Database

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL, else sqlite:///./openvcr.db)."),
]

vsdc_app = typer.Typer(help="The V-SDC: certificate authority, taxpayers and devices.", no_args_is_help=True)
ca_app = typer.Typer(help="The V-SDC certificate authority.", no_args_is_help=True)
taxpayer_app = typer.Typer(help="V-SDC taxpayers and their tax rates.", no_args_is_help=True)
device_app = typer.Typer(help="V-SDC devices (MCR) and their client certificates.", no_args_is_help=True)
vsdc_app.add_typer(ca_app, name="ca")
vsdc_app.add_typer(taxpayer_app, name="taxpayer")
vsdc_app.add_typer(device_app, name="device")


def _settings(database: str | None) -> Settings:
    base = get_settings()
    return base.model_copy(update={"database_url": database}) if database else base


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.database_url)
    try:
        migrate.upgrade(db)
        yield db
    finally:
        db.dispose()


def _run(database: str | None, action: Callable[[Database, Settings], T]) -> T:
    settings = _settings(database)
    try:
        with _database(settings) as db:
            return action(db, settings)
    except OpenVCRError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc


@ca_app.command("init")
def ca_init(database: DatabaseOption = None) -> None:
    """Create the V-SDC CA (once; an existing CA is kept) and print its certificate."""
    from openvcr.vsdc import service

    cert_pem, created = _run(database, service.init_ca)
    err_console.print("V-SDC CA created" if created else "V-SDC CA already exists (kept)")
    typer.echo(cert_pem, nl=False)


@taxpayer_app.command("add")
def taxpayer_add(
    tin: Annotated[str, typer.Option("--tin", help="The taxpayer's TIN.")],
    name: Annotated[str, typer.Option("--name", help="The taxpayer's name.")],
    rates: Annotated[str, typer.Option("--rates", help="Rates of slots A–D, e.g. A=0,B=18,C=16,D=32.")],
    database: DatabaseOption = None,
) -> None:
    """Add a V-SDC taxpayer (or change its rates)."""
    from openvcr.vsdc import service

    def action(db: Database, _settings: Settings) -> int:
        return service.add_taxpayer(db, tin=tin, name=name, rates=service.parse_rates(rates))

    entity_id = _run(database, action)
    typer.echo(json.dumps({"tin": tin.strip(), "entityId": entity_id}))


@device_app.command("add")
def device_add(
    tin: Annotated[str, typer.Option("--tin", help="The taxpayer's TIN.")],
    mcr: Annotated[str, typer.Option("--mcr", help="The device id (MCR).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the certificate, key, PKCS#12 and CA.")],
    passphrase: Annotated[
        str | None, typer.Option("--passphrase", help="Encrypt the key and the PKCS#12 with this pass phrase.")
    ] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="A sandbox device (default: production).")] = False,
    database: DatabaseOption = None,
) -> None:
    """Create a device and its client certificate; print {"serial", "cert", "key", "p12", "ca"}."""
    from openvcr.vsdc import service

    def action(db: Database, settings: Settings) -> service.DeviceFiles:
        return service.add_device(
            db,
            settings,
            tin=tin,
            mcr=mcr,
            out_dir=out.resolve(),
            passphrase=passphrase,
            mode="sandbox" if sandbox else "production",
        )

    typer.echo(json.dumps(_run(database, action).as_json()))


@device_app.command("revoke")
def device_revoke(
    mcr: Annotated[str, typer.Option("--mcr", help="The device id (MCR).")],
    database: DatabaseOption = None,
) -> None:
    """Revoke a device: its certificate is refused from the next request on."""
    from openvcr.vsdc import service

    _run(database, lambda db, _settings: service.revoke_device(db, mcr))
    typer.echo(json.dumps({"mcr": mcr.strip(), "revoked": True}))


def sandbox_atax_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8480,
    state: Annotated[Path, typer.Option("--state", help="State directory (received devices and invoices).")] = Path(
        "./openvcr-data/atax"
    ),
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Run the aTAX sandbox: receives V-SDC devices and signed invoices, checks and stores them."""
    from openvcr.vsdc.atax.sandbox import run_atax_sandbox

    console.print(f"aTAX sandbox: http://{host}:{port}/api/v1 (state: {state})")
    run_atax_sandbox(port, state, host)
