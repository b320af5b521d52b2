"""The ``openvcr`` command line (Typer + Rich). Thin: every command calls a service."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="openvcr",
    help="OpenVCR — a self-hosted virtual cash register for Armenia (VCR API v1, V-SDC, SRC e-HDM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

sandbox_app = typer.Typer(help="Run tax-authority sandboxes (SRC e-HDM, aTAX) for development and tests.")
app.add_typer(sandbox_app, name="sandbox", no_args_is_help=True)

# --- sub-command groups of the domain packages (one line each) ---


def main() -> None:
    app()
