"""One mapping from every failure a command can meet to its exit code and a three-line message.

Every command of ``python -m release`` runs inside ``errors``: whatever goes
wrong (bad input, a refusal, AWS or the engine failing, a missing Pulumi CLI, a
file it cannot write, Ctrl-C) ends as ``failed: what / why / next`` (or the
same as JSON) and the exit code the condition is tabled with in
``release.errors.CONDITIONS`` and ``docs/releasing.md``, never as a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from components.config import ConfigError
from offline.stacks import BadOverrideError, UnknownStackError
from release.aws.base import AwsError, error_code
from release.engine import EngineError, StackBusyError
from release.errors import BadInputError, ExitCode, RefusedError
from release.rollback.fast import RollbackRefusedError
from release.state.record import ReleaseEndedError
from release.strategies.failure import StepFailure


class Output(StrEnum):
    """What ``--output`` accepts; anything else is refused by the parser before a command runs (exit 2)."""

    TEXT = "text"
    JSON = "json"


StackOption = Annotated[str, typer.Option("--stack", "-s", help="The stack (a Pulumi.<stack>.yaml).")]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="text or json.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts; required with -o json).")]


def fail(console: Console, as_json: bool, code: ExitCode, what: str, why: str, next_command: str, **extra: Any) -> typer.Exit:
    """Print what failed, why and the next command; return the exit to raise."""
    if as_json:
        typer.echo(json.dumps({"error": {"what": what, "why": why, "next": next_command}, **extra}, indent=2, default=str))
    else:
        console.print(f"[red]failed:[/red] {escape(what)}\n  why: {escape(why)}\n  next: {escape(next_command)}")
    return typer.Exit(code)


def needs_yes(as_json: bool, yes: bool, what: str) -> None:
    """JSON output has nobody to answer a question: without ``--yes`` nothing is changed (exit 2)."""
    if as_json and not yes:
        message = f"{what} with --output json needs --yes: there is nobody to confirm, so nothing was changed"
        raise BadInputError(message)


@contextmanager
def errors(console: Console, as_json: bool, stack: str) -> Iterator[None]:
    """Map every failure of a command to its exit code and message (the table in ``release.errors``)."""
    status = f"python -m release status --stack {stack}"
    try:
        yield
    except UnknownStackError as exc:
        raise fail(console, as_json, ExitCode.BAD_INPUT, "stack", str(exc), "pass one of the stacks listed") from None
    except (BadInputError, ConfigError, BadOverrideError) as exc:
        raise fail(console, as_json, ExitCode.BAD_INPUT, "input", str(exc), "fix the input and run the command again") from None
    except (RefusedError, RollbackRefusedError, StackBusyError) as exc:
        raise fail(console, as_json, ExitCode.REFUSED, exc.what, exc.why, exc.next_command or status) from None
    except StepFailure as exc:
        code = ExitCode.INFRASTRUCTURE if exc.infrastructure else ExitCode.REFUSED
        raise fail(console, as_json, code, exc.what, exc.why, exc.next_command or status) from None
    except ReleaseEndedError as exc:
        # Another shell ended or changed the release first: nothing was written here.
        raise fail(console, as_json, ExitCode.REFUSED, exc.what, exc.why, exc.next_command or status) from None
    except (EngineError, AwsError) as exc:
        raise fail(console, as_json, ExitCode.INFRASTRUCTURE, exc.what, exc.why, exc.next_command or status) from None
    except ClientError as exc:
        what = f"AWS {exc.operation_name}"
        raise fail(console, as_json, ExitCode.INFRASTRUCTURE, what, f"{error_code(exc)}: {exc}", f"check AWS, then `{status}`") from None
    except BotoCoreError as exc:
        # No credentials, no region, no network: botocore's own errors, before any answer from AWS.
        raise fail(console, as_json, ExitCode.INFRASTRUCTURE, "AWS", str(exc),
                   f"check the credentials, region and network, then `{status}`") from None
    except OSError as exc:
        # A read-only stack file or state store, a full disk: nothing the input can fix.
        where = f" {exc.filename}" if exc.filename else ""
        raise fail(
            console, as_json, ExitCode.INFRASTRUCTURE, f"file{where}", exc.strerror or str(exc),
            f"make it writable (or free the disk), then `{status}` to see where the release stands",
        ) from None
    except KeyboardInterrupt:
        raise fail(
            console, as_json, ExitCode.REFUSED, "interrupted", "stopped by Ctrl-C or SIGTERM before the command finished",
            f"`{status}` shows where it stopped; a release in progress continues with "
            f"`python -m release resume --stack {stack}` or ends with `python -m release abort --stack {stack}`",
        ) from None
