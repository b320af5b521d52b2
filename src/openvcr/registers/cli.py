"""``openvcr export`` and ``openvcr verify``: the journal out of the database, and its proof.

Exit codes of ``verify``: 0 every entry verified; 1 the journal is broken (the first broken entry and the
rule it breaks are printed); 2 the input could not be read (no such file, no such register, bad database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from openvcr.core.errors import JournalError, NotFound, OpenVCRError

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


registers_app = typer.Typer(help="Registers: list them, change their settings.", no_args_is_help=True)
OnOff = Literal["on", "off"]


@registers_app.command("list")
def registers_list(
    database: Annotated[str | None, typer.Option("--database", help="Database URL (default: settings).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every register: its CRN, SRC status and late fiscalization setting."""
    from openvcr.registers.repository import list_registers

    db = _open(database)
    try:
        with db.read() as conn:
            found = list_registers(conn)
    finally:
        db.dispose()
    if as_json:
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "crn": r.crn,
                "mode": r.mode,
                "authorityStatus": r.authority_status,
                "lateFiscalization": r.late_fiscalization,
                "business": r.tin,
            }
            for r in found
        ]
        typer.echo(json.dumps(rows))
        return
    table = Table("id", "kind", "crn", "mode", "SRC status", "late fiscalization", "business")
    for r in found:
        table.add_row(
            str(r.id), r.kind, r.crn or "", r.mode, r.authority_status,
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
    database: Annotated[str | None, typer.Option("--database", help="Database URL (default: settings).")] = None,
) -> None:
    """Change a register's settings."""
    from openvcr.registers.repository import set_late_fiscalization

    if late_fiscalization is None:
        err_console.print("[red]Nothing to change: give --late-fiscalization on|off[/red]")
        raise typer.Exit(2)
    db = _open(database)
    try:
        with db.write() as conn:
            set_late_fiscalization(conn, register, late_fiscalization == "on")
    finally:
        db.dispose()
    console.print(f"Register {register}: late fiscalization {late_fiscalization}")
