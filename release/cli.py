"""The ``python -m release`` command line."""

from __future__ import annotations

import os
import sys

import typer

from release.commands import driver, offline, rehearse, rollback
from release.errors import ExitCode

app = typer.Typer(
    name="release",
    help="Plan, diff and run releases of the release-platform stacks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
offline.register(app)
driver.register(app)
rehearse.register(app)
rollback.register(app)

DEBUG = "RELEASE_DEBUG"


def main() -> None:
    """Run the CLI; a failure no command maps is still one line and exit 3, with the traceback on request."""
    try:
        app()
    except Exception as exc:
        if os.environ.get(DEBUG):
            raise
        typer.echo(
            f"failed: an unexpected {type(exc).__name__}: {exc}\n"
            f"  next: `python -m release status --stack <stack>` shows where things stand; "
            f"run again with {DEBUG}=1 for the traceback and report it",
            err=True,
        )
        sys.exit(ExitCode.INFRASTRUCTURE)
