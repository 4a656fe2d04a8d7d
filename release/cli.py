"""The ``python -m release`` command line."""

from __future__ import annotations

import typer

from release.commands import driver, offline, rehearse, rollback

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


def main() -> None:
    """Run the CLI."""
    app()
