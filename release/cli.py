"""The ``python -m release`` command line.

The offline commands (``plan``, ``diff``, ``check``) need neither the driver nor
boto3 nor moto, so ``main`` builds a CLI with only them when one of them is run:
a plan costs what evaluating the program costs. Whatever a command does not map
to a message and exit code itself still ends as one line and exit 3.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from release.errors import ExitCode

OFFLINE_COMMANDS = frozenset({"plan", "diff", "check"})
DEBUG = "RELEASE_DEBUG"


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
        from release.commands import driver, rollback

        driver.register(cli)
        rollback.register(cli)
        _moved(cli)
    return cli


def _moved(cli: typer.Typer) -> None:
    """``rehearse`` moved to ``python -m rehearsal``: say so, naming the command to run, rather than "no such command"."""

    @cli.command(name="rehearse", hidden=True, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def rehearse(ctx: typer.Context) -> None:
        """Moved: ``python -m rehearsal``."""
        command = " ".join(["python -m rehearsal", *ctx.args])
        typer.echo(f"error: `rehearse` is its own command now: run `{command}`", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT)


def __getattr__(name: str) -> Any:
    # ``from release.cli import app`` (tests, tools) gets the whole CLI, built on first use.
    if name == "app":
        globals()["app"] = build()
        return globals()["app"]
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)


def main() -> None:
    """Run the CLI; a failure no command maps is still one line and exit 3, with the traceback on request."""
    offline_only = len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS

    def run() -> None:
        cli = build(offline_only=offline_only)
        if offline_only:
            # A one-shot evaluation: what is loaded by now (the SDK, the offline models, the config schemas) lives
            # until the process exits, so the collector's full passes during the run need not walk it again.
            gc.freeze()
        cli()

    guarded(run)


def guarded(run: Callable[[], None]) -> None:
    """Run a command line; an exception no command maps ends as one line and exit 3 (``RELEASE_DEBUG=1``: raised)."""
    try:
        run()
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
