"""The ``python -m release`` command line.

The offline commands (``plan``, ``diff``, ``check``) need neither the driver nor
boto3 nor moto, so ``main`` builds a CLI with only them when one of them is run:
a plan costs what evaluating the program costs.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

OFFLINE_COMMANDS = frozenset({"plan", "diff", "check"})


def build(*, offline_only: bool = False) -> typer.Typer:
    """The CLI with every command, or with the offline commands only."""
    from release.commands import offline

    cli = typer.Typer(
        name="release",
        help="Plan, diff and run releases of the release-platform stacks.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    offline.register(cli)
    if not offline_only:
        from release.commands import driver, rehearse, rollback

        driver.register(cli)
        rehearse.register(cli)
        rollback.register(cli)
    return cli


def __getattr__(name: str) -> Any:
    # ``from release.cli import app`` (tests, tools) gets the whole CLI, built on first use.
    if name == "app":
        globals()["app"] = build()
        return globals()["app"]
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)


def main() -> None:
    """Run the CLI."""
    build(offline_only=len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS)()
