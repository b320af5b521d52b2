"""``openvcr registers add | csr | cert import | activate | disable``: onboarding a register with its own SRC
identity (the rules are in ``openvcr.registers.onboarding``; the walk-through in docs/deployment.md).

Exit codes: 0 done; 1 refused (a certificate that does not match, a CRN already taken, SRC refused the
activation); 2 bad input or an unknown register; 3 no database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from openvcr.commands import EXIT_REFUSED, EXIT_USAGE
from openvcr.core.errors import NotFound, OpenVCRError, ValidationFailed
from openvcr.registers.cli import registers_app

if TYPE_CHECKING:
    from openvcr.authority.service import SrcService
    from openvcr.config import Settings
    from openvcr.store.db import Database

console = Console()
err_console = Console(stderr=True)
cert_app = typer.Typer(help="A register's SRC client certificate.", no_args_is_help=True)
registers_app.add_typer(cert_app, name="cert")

DatabaseOption = Annotated[str | None, typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
RegisterArgument = Annotated[int, typer.Argument(help="The register's id (see `openvcr registers list`).")]


@contextmanager
def _service(database: str | None, *, create: bool = False) -> Iterator[tuple[Database, Settings, SrcService]]:
    """The database (``create``: created or upgraded when needed), the settings and an SRC service whose
    gateway speaks for each register; a domain error becomes a one-line message and its exit code."""
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.commands import existing_database
    from openvcr.config import get_settings

    settings = get_settings()
    if database:
        settings = settings.model_copy(update={"database_url": database})
    if create:
        from openvcr.store import migrate
        from openvcr.store.db import Database as NewDatabase

        db = NewDatabase(settings.database_url)
        migrate.upgrade(db)
    else:
        db = existing_database(settings.database_url)
    gateway = build_gateway(settings, db)
    try:
        yield db, settings, SrcService(db, gateway, settings)
    except OpenVCRError as exc:
        from openvcr.authority.identity import IdentityError

        err_console.print(f"[red]{exc.message}[/red]", highlight=False, soft_wrap=True)
        usage = isinstance(exc, NotFound | ValidationFailed) and not isinstance(exc, IdentityError)
        raise typer.Exit(EXIT_USAGE if usage else EXIT_REFUSED) from None
    finally:
        closer = getattr(gateway, "close", None)
        if callable(closer):
            closer()
        db.dispose()


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    if not path.is_file():
        err_console.print(f"[red]{what}: no such file: {path}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE)
    return path.read_bytes()


@registers_app.command("add")
def registers_add(
    production: Annotated[
        bool, typer.Option("--production", help="A real SRC register: needs --crn and --sn issued by SRC.")
    ] = False,
    tin: Annotated[str | None, typer.Option(help="The business's TIN (8 digits).")] = None,
    taxpayer: Annotated[str | None, typer.Option(help="The taxpayer's name (for a new business).")] = None,
    crn: Annotated[str | None, typer.Option(help="The register's CRN issued by SRC (production).")] = None,
    sn: Annotated[str | None, typer.Option(help="The register's serial issued by SRC (production).")] = None,
    address: Annotated[str | None, typer.Option(help="The address printed on its receipts.")] = None,
    business: Annotated[
        str | None, typer.Option("--business", help="Add it to the existing business with this TIN.")
    ] = None,
    trading_name: Annotated[str, typer.Option("--trading-name", help="Its trading platform name.")] = "OpenVCR",
    csr_out: Annotated[
        Path | None, typer.Option("--csr-out", help="Write the CSR here (default: ./register-<id>.csr).")
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a register: a production one gets its own key pair and a CSR to hand to SRC; a sandbox one is
    provisioned and activated at once. Prints its API key and cashier PIN once."""
    from openvcr.registers.onboarding import NewRegister, add_register

    if business is not None and tin is not None and business != tin:
        err_console.print("[red]--business and --tin name different businesses[/red]")
        raise typer.Exit(EXIT_USAGE)
    chosen_tin = business or tin
    new = NewRegister(production, chosen_tin, taxpayer, crn, sn, address, trading_name)
    with _service(database, create=True) as (db, settings, src):
        if business is not None:
            from openvcr.registers.repository import entity_by_tin

            with db.read() as conn:
                if entity_by_tin(conn, business) is None:
                    raise NotFound(f"no business with TIN {business}")
        added = add_register(db, settings, src, new)
    csr_path = None
    if added.csr_pem is not None:
        csr_path = csr_out or Path(f"register-{added.register_id}.csr")
        csr_path.write_text(added.csr_pem)
    if as_json:
        payload = {
            "vcrId": added.register_id,
            "entityId": added.entity_id,
            "mode": added.mode,
            "tin": added.tin,
            "crn": added.crn,
            "sn": added.sn,
            "authorityStatus": added.authority_status,
            "apiKey": added.api_key,
            "apiKeyPrefix": added.api_key_prefix,
            "cashier": {"id": added.cashier_id, "deskId": added.cashier_desk_id, "pin": added.cashier_pin},
            "csr": added.csr_pem,
            "csrFile": None if csr_path is None else str(csr_path),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    console.print(f"[bold green]Register {added.register_id} added[/bold green] — {added.mode}, CRN {added.crn}")
    console.print(f"API key (shown once, store it now): [bold]{added.api_key}[/bold]")
    console.print(f"Cashier #1: id {added.cashier_id}, PIN {added.cashier_pin}")
    if csr_path is not None:
        console.print(
            f"Certificate request: {csr_path} — submit it to SRC, then: "
            f"openvcr registers cert import {added.register_id} --cert FILE.crt",
            highlight=False,
            soft_wrap=True,
        )


@registers_app.command("csr")
def registers_csr(
    register: RegisterArgument,
    out: Annotated[Path | None, typer.Option("--out", help="Write it here instead of printing it.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Print (or write) the register's certificate signing request again."""
    from openvcr.registers.onboarding import csr_of

    with _service(database) as (db, _settings, _src):
        pem = csr_of(db, register)
    if out is None:
        typer.echo(pem, nl=False)
    else:
        out.write_text(pem)
        console.print(f"Certificate request of register {register}: {out}")


@cert_app.command("import")
def cert_import(
    register: RegisterArgument,
    cert: Annotated[Path | None, typer.Option("--cert", help="The certificate SRC signed (PEM or DER).")] = None,
    ca: Annotated[Path | None, typer.Option("--ca", help="The CA that signed it: checked, not stored.")] = None,
    p12: Annotated[Path | None, typer.Option("--p12", help="A PKCS#12 bundle (key + certificate) instead.")] = None,
    passphrase: Annotated[
        str | None, typer.Option("--passphrase", envvar="OPENVCR_P12_PASSPHRASE", help="The bundle's passphrase.")
    ] = None,
    activate: Annotated[
        bool, typer.Option("--activate/--no-activate", help="Activate the register with SRC afterwards.")
    ] = True,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store the register's signed certificate (encrypted under the master key) and activate it with SRC."""
    from openvcr.authority.identity import iso_date
    from openvcr.registers.onboarding import import_certificate

    if (cert is None) == (p12 is None):
        err_console.print("[red]give exactly one of --cert FILE or --p12 FILE[/red]")
        raise typer.Exit(EXIT_USAGE)
    cert_bytes, p12_bytes, ca_bytes = _read(cert, "--cert"), _read(p12, "--p12"), _read(ca, "--ca")
    with _service(database) as (db, settings, src):
        done = import_certificate(
            db,
            settings,
            src,
            register,
            cert=cert_bytes,
            p12=p12_bytes,
            p12_passphrase=passphrase,
            ca=ca_bytes,
            activate=activate,
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "vcrId": done.register_id,
                    "crn": done.crn,
                    "serial": done.serial,
                    "subject": done.subject,
                    "notAfter": done.not_after,
                    "authorityStatus": done.authority_status,
                    "activationError": done.activation_error,
                },
                ensure_ascii=False,
            )
        )
    else:
        console.print(
            f"Register {done.register_id}: certificate {done.serial} ({done.subject}) valid until "
            f"{iso_date(done.not_after)}; SRC status {done.authority_status}",
            highlight=False,
            soft_wrap=True,
        )
    if done.activation_error is not None:
        err_console.print(
            f"[red]activation with SRC failed: {done.activation_error}[/red]\n"
            f"The certificate is stored; retry with: openvcr registers activate {done.register_id}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_REFUSED)


@registers_app.command("activate")
def registers_activate(register: RegisterArgument, database: DatabaseOption = None) -> None:
    """Activate the register with SRC and configure its departments (resumes an interrupted import)."""
    from openvcr.registers.onboarding import activate

    with _service(database) as (db, settings, src):
        found = activate(db, settings, src, register)
    console.print(f"Register {register}: SRC status {found.authority_status}")


@registers_app.command("disable")
def registers_disable(register: RegisterArgument, database: DatabaseOption = None) -> None:
    """Disable a register: its API keys are revoked and nothing more is sent to SRC for it."""
    from openvcr.registers.onboarding import disable

    with _service(database) as (db, _settings, _src):
        revoked = disable(db, register)
    console.print(f"Register {register} disabled; {revoked} API key(s) revoked")
