"""``rehearse``: a whole release of a stack against moto on 127.0.0.1, in seconds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from components.config import ConfigError, Strategy
from offline.stacks import BadOverrideError, ProjectFiles, UnknownStackError, parse_override
from release.display import ConsoleReporter
from release.errors import BadInputError, ExitCode
from release.rehearsal.races import SCENARIOS as RACE_SCENARIOS
from release.rehearsal.races import rehearse_race
from release.rehearsal.rollbacks import SCENARIOS as ROLLBACK_SCENARIOS
from release.rehearsal.rollbacks import rehearse_rollback
from release.rehearsal.run import SCENARIOS, rehearse, to_json


def register(app: typer.Typer) -> None:
    """Add ``rehearse`` to the CLI."""

    @app.command(name="rehearse")
    def rehearse_command(
        stack: Annotated[str, typer.Option("--stack", "-s", help="The stack to rehearse.")] = "staging",
        scenario: Annotated[str, typer.Option(help=f"One of: {', '.join(SCENARIOS + ROLLBACK_SCENARIOS + RACE_SCENARIOS)}.")] = "happy",
        strategy: Annotated[Strategy | None, typer.Option(help="canary, blue-green or rolling; default: the stack's.")] = None,
        version: Annotated[str, typer.Option(help="The image tag the rehearsal releases.")] = "rehearsal-1",
        config: Annotated[list[str] | None, typer.Option("--config", "-c", help="KEY=VALUE config override; repeatable.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="End with the JSON summary only.")] = False,
    ) -> None:
        """Run the real driver against moto with the offline engine: promoted, aborted or refused."""
        console = Console(stderr=as_json)
        try:
            if scenario not in SCENARIOS + ROLLBACK_SCENARIOS + RACE_SCENARIOS:
                message = f"--scenario {scenario!r}: allowed {', '.join(SCENARIOS + ROLLBACK_SCENARIOS + RACE_SCENARIOS)}"
                raise BadInputError(message)
            ProjectFiles.here().stack_file(stack)
            overrides = [parse_override(c) for c in config or []]
            reporter = None if as_json else ConsoleReporter(console)
            if scenario in RACE_SCENARIOS:
                result = rehearse_race(stack, scenario, overrides, strategy=strategy, reporter=reporter)
            elif scenario in ROLLBACK_SCENARIOS:
                result = rehearse_rollback(stack, scenario, overrides, strategy=strategy, reporter=reporter)
            else:
                result = rehearse(stack, scenario, overrides, version=version, strategy=strategy, reporter=reporter)
        except (BadInputError, ConfigError, UnknownStackError, BadOverrideError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.BAD_INPUT) from None
        if as_json:
            typer.echo(to_json(result))
        else:
            summary = result.summary
            console.print(f"[bold]{scenario}[/bold] on {stack} ({summary['environment']}): {summary['outcome']}; "
                          f"live {summary['live']}; the listener in moto serves {summary['weights']}")
            if summary["failed"]:
                failed = summary["failed"]
                console.print(f"  failed: {failed['step']}\n  why: {failed['why']}\n  next: {failed['next']}")
        raise typer.Exit(result.result.exit_code)
