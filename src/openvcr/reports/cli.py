"""``openvcr reports x|z|list --register ID``: take an X or Z report, or list a register's reports.

``x`` and ``z`` print the report as the API answers it (JSON); a Z on an empty shift exits 1 with the API's
message. ``list`` prints one line per report (newest first), or JSON with ``--json``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from openvcr.commands import existing_database
from openvcr.config import get_settings
from openvcr.core.errors import OpenVCRError
from openvcr.documents.models import RequestKey
from openvcr.reports.models import MAX_LIMIT, Period, ReportType
from openvcr.reports.schemas import ReportCreate, ReportOut
from openvcr.reports.service import ReportsService

reports_app = typer.Typer(help="X and Z shift reports of a register.", no_args_is_help=True)
err_console = Console(stderr=True)

Register = Annotated[int, typer.Option("--register", help="The register's id (openvcr registers list).")]
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="Database URL (default: settings).")]
KeyOpt = Annotated[str | None, typer.Option("--idempotency-key", help="Take it at most once under this key.")]


def _take(kind: ReportType, register: int, database: str | None, key: str | None) -> None:
    settings = get_settings()
    db = existing_database(database or settings.database_url)
    try:
        body = ReportCreate().model_dump(mode="json", by_alias=True)  # as the API hashes a body without cashier
        request = RequestKey.of(f"POST /reports/{kind}", register, key, body)
        outcome = ReportsService(db, settings).take(register, kind, request, None)
    except OpenVCRError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo(outcome.body.decode("utf-8"))


@reports_app.command("x")
def report_x(register: Register, database: DatabaseOpt = None, idempotency_key: KeyOpt = None) -> None:
    """Take an X report: the open shift's totals, the shift stays open."""
    _take("x", register, database, idempotency_key)


@reports_app.command("z")
def report_z(register: Register, database: DatabaseOpt = None, idempotency_key: KeyOpt = None) -> None:
    """Take a Z report: the open shift's totals, and close the shift."""
    _take("z", register, database, idempotency_key)


@reports_app.command("list")
def report_list(
    register: Register,
    database: DatabaseOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="At most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The register's reports, newest first."""
    settings = get_settings()
    db = existing_database(database or settings.database_url)
    try:
        page = ReportsService(db, settings).list(register, None, Period(), None, limit)
    finally:
        db.dispose()
    reports = [ReportOut.of(r) for r in page.items]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json", by_alias=True) for r in reports], ensure_ascii=False))
        return
    for r in reports:
        sales = r.totals.documents.sale
        typer.echo(
            f"{r.id}\t{r.type.upper()}\tshift {r.shift}\t{r.created_at}\t"
            f"{sales.count} sales\t{sales.total}\tnet cash {r.totals.net_cash}"
        )
