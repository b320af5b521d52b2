"""``openvcr export`` and ``openvcr verify``: the journal out of the database, and its proof.

Exit codes of ``verify``: 0 every entry verified; 1 the journal is broken (the first broken entry and the
rule it breaks are printed); 2 the input could not be read (no such file, no such register, bad database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from openvcr.core.errors import JournalError, NotFound, OpenVCRError, ValidationFailed
from openvcr.core.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from openvcr.registers.export import VerifyReport
    from openvcr.store.db import Database

PROGRESS_ENTRIES = 20_000
PROGRESS_BYTES = 10 << 20
"""Journals above these sizes (entries in a database, bytes in a file) get a progress bar."""

console = Console()
err_console = Console(stderr=True)


def _database_url(database: str | None) -> str:
    if database:
        return database
    from openvcr.config import get_settings

    return get_settings().database_url


@contextmanager
def _progress(total: int, label: str, threshold: int) -> Iterator[Callable[[int], None] | None]:
    if total < threshold:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


def _open(database: str | None) -> Database:
    from openvcr.commands import existing_database

    return existing_database(_database_url(database))


def export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON Lines file to write.")],
    register: Annotated[
        int | None, typer.Option("--register", help="Only this register (default: every register).")
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL).")
    ] = None,
) -> None:
    """Export the fiscal journal as JSON Lines, self-contained for offline verification."""
    from openvcr.registers.export import count_entries, export_journal

    db = _open(database)
    try:
        total = count_entries(db, register)
        tmp = output.with_name(output.name + ".partial")
        with _progress(total, "export", PROGRESS_ENTRIES) as progress, open(tmp, "wb") as handle:
            summary = export_journal(db, handle, register_id=register, progress=progress)
        tmp.replace(output)
    except NotFound as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    registers = ", ".join(str(r) for r in summary.registers) or "none"
    console.print(f"Exported {summary.entries} entries of register(s) {registers} to {output}")


def _print_report(report: VerifyReport, source: str) -> None:
    table = Table(title=f"Journal verified: {source}")
    for column in ("register", "entries", "last hash", "sales", "refunds", "prepayments", "VAT"):
        table.add_column(column, justify="right" if column != "last hash" else "left")
    for j in report.journals:
        c = j.counters
        table.add_row(
            str(j.register_id),
            str(j.entries),
            j.last_hash[:16] + "…",
            f"{c.sales_total}",
            f"{c.sale_refunds_total}",
            f"{c.prepayments_total}",
            f"{c.vat_total}",
        )
    console.print(table)
    console.print(f"[green]VALID[/green]: {report.entries} entries, every signature and link verified.")


def _print_failure(error: JournalError) -> None:
    at = f"register {error.register_id}: " if error.register_id is not None else ""
    err_console.print(f"[red]NOT VALID[/red]: {at}{error.code}: {error.message}", highlight=False, soft_wrap=True)


def verify_command(
    file: Annotated[Path | None, typer.Argument(help="An export file (default: verify the database).")] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL).")
    ] = None,
    register: Annotated[int | None, typer.Option("--register", help="Only this register (database only).")] = None,
) -> None:
    """Verify an exported journal offline, or the journal in the database: exit 0 when valid, 1 when not."""
    from openvcr.registers.export import count_entries, verify_database, verify_file

    if file is not None and (database is not None or register is not None):
        err_console.print("[red]error:[/red] give either FILE or --database/--register, not both")
        raise typer.Exit(2)
    try:
        if file is not None:
            if not file.is_file():
                err_console.print(f"[red]error:[/red] no such file: {file}")
                raise typer.Exit(2)
            with _progress(file.stat().st_size, "verify", PROGRESS_BYTES) as progress:
                report = verify_file(file, progress=progress)
            source = str(file)
        else:
            db = _open(database)
            try:
                with _progress(count_entries(db, register), "verify", PROGRESS_ENTRIES) as progress:
                    report = verify_database(db, register_id=register, progress=progress)
            finally:
                db.dispose()
            source = "database"
    except JournalError as exc:
        _print_failure(exc)
        raise typer.Exit(1) from None
    except OpenVCRError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    _print_report(report, source)


registers_app = typer.Typer(
    help="Registers: add them, give them their SRC certificates, list them, change their settings.",
    no_args_is_help=True,
)
OnOff = Literal["on", "off"]
_LIMIT_DEFAULTS = tuple(f"{getattr(DEFAULT_LIMITS, item.name).normalize():f}" for item in fields(Limits))


@registers_app.command("list")
def registers_list(
    database: Annotated[str | None, typer.Option("--database", help="Database URL (default: settings).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every register: mode, SRC status, CRN, its own certificate's expiry, late fiscalization, business."""
    from openvcr.authority.identity import days_left, iso_date
    from openvcr.authority.repository import load_identity
    from openvcr.registers.repository import list_registers
    from openvcr.store.db import now_ms

    db = _open(database)
    try:
        with db.read() as conn:
            found = list_registers(conn)
            identities = {r.id: load_identity(conn, r.id) for r in found}
    finally:
        db.dispose()
    now = now_ms()

    def certificate(register_id: int) -> dict[str, object] | None:
        identity = identities[register_id]
        if identity is None:
            return None
        if identity.not_after is None:
            return {"status": "awaiting", "notAfter": None, "daysLeft": None, "serial": None}
        left = days_left(identity.not_after, now)
        status = "expired" if identity.not_after <= now else "expiring" if left < 30 else "valid"
        return {"status": status, "notAfter": identity.not_after, "daysLeft": left, "serial": identity.cert_serial}

    if as_json:
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "crn": r.crn,
                "mode": r.mode,
                "authorityStatus": r.authority_status,
                "disabled": r.disabled_at is not None,
                "certificate": certificate(r.id),
                "lateFiscalization": r.late_fiscalization,
                "smsReceipts": r.sms_receipts,
                "business": r.tin,
                "address": r.address,
                "tradingName": r.trading_platform_name,
                "limits": {
                    "maxQuantity": str(r.limits.max_quantity),
                    "maxUnitPrice": str(r.limits.max_unit_price),
                    "maxSaleTotal": str(r.limits.max_sale_total),
                    "maxChange": str(r.limits.max_change),
                    "maxPrepayment": str(r.limits.max_prepayment),
                },
            }
            for r in found
        ]
        typer.echo(json.dumps(rows))
        return
    table = Table("id", "kind", "crn", "mode", "SRC status", "certificate", "late fiscalization", "business")
    for r in found:
        cert = certificate(r.id)
        if cert is None:
            shown = "global" if r.kind == "ehdm" else ""
        elif cert["notAfter"] is None:
            shown = "awaiting import"
        else:
            shown = f"{cert['status']} {iso_date(int(str(cert['notAfter'])))[:10]} ({cert['daysLeft']} d)"
        status = "disabled" if r.disabled_at is not None else r.authority_status
        table.add_row(
            str(r.id), r.kind, r.crn or "", r.mode, status, shown,
            "on" if r.late_fiscalization else "off", f"{r.tin} {r.entity_name}",
        )  # fmt: skip
    console.print(table)


@registers_app.command("update")
def registers_update(
    register: Annotated[int, typer.Argument(help="The register's id (see `openvcr registers list`).")],
    late_fiscalization: Annotated[
        OnOff | None,
        typer.Option(
            "--late-fiscalization",
            help="on: documents SRC cannot take now are kept and fiscalized later, in order (the client is "
            "told not to resend); off (default): they are dropped and the client resubmits.",
        ),
    ] = None,
    sms_receipts: Annotated[
        OnOff | None,
        typer.Option(
            "--sms-receipts",
            help="on: a sale, refund or prepayment whose buyer gave an E.164 phone gets its receipt by SMS "
            "(needs OPENVCR_SMPP_URL, see docs/sms.md); off (default): no SMS.",
        ),
    ] = None,
    max_quantity: Annotated[
        str | None,
        typer.Option("--max-quantity", help=f"A line's largest quantity, or 'default' ({_LIMIT_DEFAULTS[0]})."),
    ] = None,
    max_unit_price: Annotated[
        str | None,
        typer.Option("--max-unit-price", help=f"The largest unit price in AMD, or 'default' ({_LIMIT_DEFAULTS[1]})."),
    ] = None,
    max_sale_total: Annotated[
        str | None,
        typer.Option("--max-sale-total", help=f"A sale's largest total in AMD, or 'default' ({_LIMIT_DEFAULTS[2]})."),
    ] = None,
    max_change: Annotated[
        str | None,
        typer.Option(
            "--max-change",
            help=f"Change above the sale's total is refused beyond this many AMD, or 'default' ({_LIMIT_DEFAULTS[3]}).",
        ),
    ] = None,
    max_prepayment: Annotated[
        str | None,
        typer.Option("--max-prepayment", help=f"The largest prepayment in AMD, or 'default' ({_LIMIT_DEFAULTS[4]})."),
    ] = None,
    address: Annotated[str | None, typer.Option("--address", help="The address printed on its receipts.")] = None,
    trading_name: Annotated[
        str | None, typer.Option("--trading-name", help="Its trading platform name (shown on receipts).")
    ] = None,
    database: Annotated[str | None, typer.Option("--database", help="Database URL (default: settings).")] = None,
) -> None:
    """Change a register's settings: address, trading name, late fiscalization, receipt SMS and its sane limits
    (see docs/api.md, "Limits")."""
    from decimal import Decimal, InvalidOperation

    from openvcr.registers.repository import set_late_fiscalization, set_limits, set_sms_receipts

    given = {
        "max_quantity": max_quantity,
        "max_unit_price": max_unit_price,
        "max_sale_total": max_sale_total,
        "max_change": max_change,
        "max_prepayment": max_prepayment,
    }
    limits: dict[str, Decimal | None] = {}
    for name, text in given.items():
        if text is None:
            continue
        if text.strip().lower() == "default":
            limits[name] = None
            continue
        try:
            limits[name] = Decimal(text.strip())
        except InvalidOperation:
            err_console.print(f"[red]--{name.replace('_', '-')}: not a number[/red]")
            raise typer.Exit(2) from None
    details = address is not None or trading_name is not None
    if late_fiscalization is None and sms_receipts is None and not limits and not details:
        err_console.print(
            "[red]Nothing to change: give --address, --trading-name, --late-fiscalization on|off, "
            "--sms-receipts on|off or a --max-… limit[/red]"
        )
        raise typer.Exit(2)
    from openvcr.registers.onboarding import update_details

    db = _open(database)
    try:
        if details:
            update_details(db, register, address=address, trading_name=trading_name)
        with db.write() as conn:
            if late_fiscalization is not None:
                set_late_fiscalization(conn, register, late_fiscalization == "on")
            if sms_receipts is not None:
                set_sms_receipts(conn, register, sms_receipts == "on")
            chosen = set_limits(conn, register, limits) if limits else None
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except OpenVCRError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2 if isinstance(exc, NotFound | ValidationFailed) else 1) from None
    finally:
        db.dispose()
    if details:
        console.print(f"Register {register}: address and trading name saved")
    if late_fiscalization is not None:
        console.print(f"Register {register}: late fiscalization {late_fiscalization}")
    if sms_receipts is not None:
        console.print(f"Register {register}: receipt SMS {sms_receipts}")
    if chosen is not None:
        console.print(
            f"Register {register}: quantity ≤ {chosen.max_quantity}, unit price ≤ {chosen.max_unit_price} AMD, "
            f"sale total ≤ {chosen.max_sale_total} AMD, change ≤ {chosen.max_change} AMD (or the total), "
            f"prepayment ≤ {chosen.max_prepayment} AMD"
        )


from openvcr.registers import onboarding_cli as _onboarding_cli  # noqa: E402, F401  (add, cert import, disable …)
