"""``openvcr rates …``: the CBA exchange rates foreign-currency sales convert at.

- ``openvcr rates import FILE``: a CBA ``ExchangeRatesByDate`` / ``ExchangeRatesLatest`` XML answer, or CSV
  ``date,currency,amount,rate`` (see ``sales.rates``). Rates of a date already on file are replaced.
- ``openvcr rates set USD 387.50 [--date YYYY-MM-DD] [--amount 1]``: one rate by hand; the date defaults to
  the previous business day in Yerevan (the publication a sale made today uses).
- ``openvcr rates fetch [--date YYYY-MM-DD] [--url URL]``: ask the CBA web service now (``sales.cba``) and store
  its publication (the latest, or that of the date).
- ``openvcr rates show USD``: the rate a sale made now would use.

Every command takes ``--database`` and brings the schema up to date. A refused input exits with 1 and a
one-line message; nothing is written.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from openvcr.commands import existing_database
from openvcr.config import get_settings
from openvcr.core.errors import OpenVCRError
from openvcr.sales.cba import DEFAULT_CBA_URL, CbaClient, CbaError, cba_url, fetch_into
from openvcr.sales.rates import (
    RatesFileError,
    manual_rate,
    parse_rates_file,
    previous_business_day,
    quote,
    store_rates,
    yerevan_today,
)
from openvcr.store.db import Database

console = Console()
err_console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL, else sqlite:///./openvcr.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

rates_app = typer.Typer(help="CBA exchange rates for foreign-currency sales.", no_args_is_help=True)


def _open(database: str | None) -> Database:
    settings = get_settings()
    return existing_database(database or settings.database_url)


def _refuse(message: str) -> typer.Exit:
    err_console.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(1)


@rates_app.command("import")
def rates_import(
    file: Annotated[Path, typer.Argument(help="CBA ExchangeRates XML, or CSV date,currency,amount,rate.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a file of CBA rates (replacing rates of the same currency and date)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _refuse(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        parsed = parse_rates_file(data)
    except RatesFileError as exc:
        raise _refuse(f"{file}: {exc}") from exc
    db = _open(database)
    try:
        with db.write() as conn:
            written = store_rates(conn, parsed.rows)
    finally:
        db.dispose()
    dates = sorted({row.rate_date.isoformat() for row in parsed.rows})
    if as_json:
        typer.echo(json.dumps({"imported": written, "dates": dates, "skipped": sorted(set(parsed.skipped))}))
        return
    console.print(f"Imported {written} rate(s) for {', '.join(dates) or 'no date'}", highlight=False)
    if parsed.skipped:
        console.print(f"Skipped unknown currencies: {', '.join(sorted(set(parsed.skipped)))}", highlight=False)


@rates_app.command("set")
def rates_set(
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. USD.")],
    rate: Annotated[str, typer.Argument(help="AMD for --amount units, e.g. 387.50.")],
    rate_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The CBA publication date, YYYY-MM-DD.",
            show_default="the previous business day in Yerevan, the publication a sale made today uses",
        ),
    ] = None,
    amount: Annotated[str, typer.Option("--amount", help="Units of the currency the rate is for.")] = "1",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set one rate by hand (replacing the rate of that currency and date)."""
    if rate_date is None:
        rate_date = previous_business_day(yerevan_today()).isoformat()
    try:
        row = manual_rate(currency, rate, rate_date, amount)
    except RatesFileError as exc:
        raise _refuse(str(exc)) from exc
    db = _open(database)
    try:
        with db.write() as conn:
            store_rates(conn, [row], source="CBA")
    finally:
        db.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "currency": row.currency,
                    "rate": format(row.rate, "f"),
                    "amount": row.amount,
                    "rateDate": row.rate_date.isoformat(),
                }
            )
        )
        return
    console.print(f"{row.currency}: {row.amount} = {row.rate} AMD on {row.rate_date.isoformat()}", highlight=False)


@rates_app.command("show")
def rates_show(
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. USD.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The rate a sale made now would use (the newest rate published before today, Yerevan time)."""
    db = _open(database)
    try:
        with db.read() as conn:
            found = quote(conn, currency, max_age_days=get_settings().rates_max_age_days)
    except OpenVCRError as exc:
        raise _refuse(exc.message) from exc
    finally:
        db.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "currency": found.currency,
                    "ratePerUnit": format(found.rate_per_unit, "f"),
                    "amount": found.amount,
                    "rateDate": found.rate_date,
                    "saleDate": found.sale_date,
                }
            )
        )
        return
    console.print(
        f"{found.currency}: {found.rate_per_unit} AMD per unit (CBA {found.rate_date}, for sales on {found.sale_date})",
        highlight=False,
    )


@rates_app.command("fetch")
def rates_fetch(
    rate_date: Annotated[
        str | None,
        typer.Option("--date", help="The publication of this date, YYYY-MM-DD.", show_default="the latest"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The CBA web service.", show_default=f"OPENVCR_CBA_URL, else {DEFAULT_CBA_URL}"),
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the CBA's rates now and store them (replacing rates of the same currency and date)."""
    settings = get_settings()
    day = None
    if rate_date is not None:
        try:
            day = date.fromisoformat(rate_date)
        except ValueError as exc:
            raise _refuse(f"--date {rate_date!r} is not a date YYYY-MM-DD") from exc
    client = CbaClient(url or cba_url(settings) or DEFAULT_CBA_URL, timeout_seconds=settings.cba_timeout_seconds)
    db = _open(database)
    try:
        result = fetch_into(db, client, day)
    except CbaError as exc:
        raise _refuse(str(exc)) from exc
    finally:
        client.close()
        db.dispose()
    dates = sorted({row.rate_date.isoformat() for row in result.rows})
    if as_json:
        typer.echo(json.dumps({"imported": len(result.rows), "dates": dates, "skipped": sorted(set(result.skipped))}))
        return
    console.print(f"Fetched {len(result.rows)} rate(s) for {', '.join(dates) or 'no date'}", highlight=False)
