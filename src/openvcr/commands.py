"""What every ``openvcr`` command shares: the exit codes and opening an existing database.

Exit codes:
- 0: done (``verify``: the journal is VALID);
- 1: ``verify``: NOT VALID; other commands: the request was refused (e.g. a key that does not exist);
- 2: usage or input error (a bad option, a configuration the settings refuse);
- 3: no database at the URL (nothing was created);
- 4: ``serve`` could not start (a port in use, a listener that did not start).
"""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from openvcr.store.db import Database
from openvcr.store.existing import NoDatabase, open_existing

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_NO_DATABASE = 3
EXIT_CANNOT_START = 4

_err = Console(stderr=True)


def existing_database(url: str) -> Database:
    """The database at ``url`` for a command that needs one; without one, say so and exit with 3."""
    try:
        return open_existing(url)
    except NoDatabase as exc:
        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            shown = "an invalid URL"
        _err.print(
            f"[red]{exc} ({shown}).[/red] Set OPENVCR_DATABASE_URL or pass --database URL; `openvcr init` creates one.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_NO_DATABASE) from exc
