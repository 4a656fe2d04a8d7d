"""``python -m rehearsal``: a whole release of a stack against moto on 127.0.0.1, in seconds.

The world (moto, the application's processes, the weighted proxy, load, metrics and alarm evaluation) is
this package's; the driver it runs is ``release``'s, reached through the seams the driver already has.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

import typer
from rich.console import Console

from components.config import ConfigError, Strategy
from offline.stacks import BadOverrideError, ProjectFiles, UnknownStackError, parse_override
from rehearsal.run import SCENARIOS, rehearse, to_json
from rehearsal.scenarios import bootstrap
from rehearsal.scenarios.races import SCENARIOS as RACE_SCENARIOS
from rehearsal.scenarios.races import rehearse_race
from rehearsal.scenarios.rollbacks import SCENARIOS as ROLLBACK_SCENARIOS
from rehearsal.scenarios.rollbacks import rehearse_rollback
from release.cli import guarded
from release.commands.driver import check_skip_staging
from release.context import SilentReporter
from release.errors import BadInputError, ExitCode
from release.output.display import ConsoleReporter
from release.output.panel import LivePanel
from release.output.report import Ending, Recorder
from release.output.report import write as write_report
from release.strategies.planner import ReleaseOptions, check_flags

ALL = (*SCENARIOS, *ROLLBACK_SCENARIOS, *RACE_SCENARIOS, bootstrap.NAME)

app = typer.Typer(
    name="rehearsal",
    help="Rehearse a release of a stack: the real driver against moto on 127.0.0.1.",
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command(name="rehearse")
def rehearse_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack to rehearse.")] = "staging",
    scenario: Annotated[str, typer.Option(help=f"One of: {', '.join(ALL)}.")] = "happy",
    strategy: Annotated[Strategy | None, typer.Option(help="canary, blue-green or rolling; default: the stack's.")] = None,
    version: Annotated[str, typer.Option(help="The image tag the rehearsal releases.")] = "rehearsal-1",
    config: Annotated[list[str] | None, typer.Option("--config", "-c", help="KEY=VALUE config override; repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with the JSON summary only.")] = False,
    skip_staging: Annotated[bool, typer.Option("--skip-staging", help="Production: release a version staging has not held.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why --skip-staging; kept in the release record.")] = None,
    order: Annotated[str | None, typer.Option(
        "--order", help="bootstrap only: documented, reversed, or steps separated by commas (pack,production,staging).",
    )] = None,
) -> None:
    """Run the real driver against moto with the offline engine: promoted, aborted or refused."""
    console = Console(stderr=as_json)
    if scenario == bootstrap.NAME or order is not None:
        _bootstrap_command(scenario, order, config, skip_staging, as_json)
    try:
        if scenario not in SCENARIOS + ROLLBACK_SCENARIOS + RACE_SCENARIOS:
            message = f"--scenario {scenario!r}: allowed {', '.join(ALL)}"
            raise BadInputError(message)
        check_skip_staging(skip_staging, reason)
        # The flags the release itself would refuse, before the world is built.
        check_flags(ReleaseOptions(version=version, strategy=strategy))
        if skip_staging and scenario not in SCENARIOS:
            message = f"--skip-staging: goes with a release scenario ({', '.join(SCENARIOS)}), not {scenario}"
            raise BadInputError(message)
        ProjectFiles.here().stack_file(stack)
        overrides = [parse_override(c) for c in config or []]
        panel = LivePanel(console, f"rehearsal of {scenario} on {stack}") if console.is_terminal and not as_json else None
        recorder = Recorder(SilentReporter() if as_json else panel or ConsoleReporter(console))
        with panel or nullcontext():
            if scenario in RACE_SCENARIOS:
                result = rehearse_race(stack, scenario, overrides, strategy=strategy, reporter=recorder)
            elif scenario in ROLLBACK_SCENARIOS:
                result = rehearse_rollback(stack, scenario, overrides, strategy=strategy, reporter=recorder)
            else:
                result = rehearse(stack, scenario, overrides, version=version, strategy=strategy, reporter=recorder,
                                  skip_staging=reason if skip_staging else None)
    except (BadInputError, ConfigError, UnknownStackError, BadOverrideError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    report = None
    ran = result.result
    if recorder.polls and ran.record is not None:
        ending = Ending(stack, ran.record.id, ran.record.version, ran.outcome.value, ran.failed_step, ran.why)
        report = write_report(recorder, ending)
    if as_json:
        typer.echo(to_json(result))
    else:
        summary = result.summary
        console.print(f"[bold]{scenario}[/bold] on {stack} ({summary['environment']}): {summary['outcome']}; "
                      f"live {summary['live']}; the listener in moto serves {summary['weights']}")
        if summary["failed"]:
            failed = summary["failed"]
            console.print(f"  failed: {failed['step']}\n  why: {failed['why']}\n  next: {failed['next']}")
        if report is not None:
            console.print(f"  report: {report}")
    raise typer.Exit(result.result.exit_code)


def _bootstrap_command(scenario: str, order: str | None, config: list[str] | None, skip_staging: bool, as_json: bool) -> None:
    """The bootstrap scenario: every stack's first update, in an order, from empty control planes; exits."""
    try:
        if scenario != bootstrap.NAME:
            message = f"--order {order!r}: goes with --scenario {bootstrap.NAME}, not {scenario}"
            raise BadInputError(message)
        if config or skip_staging:
            flag = "--config" if config else "--skip-staging"
            message = f"{flag}: goes with a release scenario; {bootstrap.NAME} runs each stack as committed"
            raise BadInputError(message)
        steps = bootstrap.parse_order(order or "documented")
    except BadInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    result = bootstrap.rehearse_bootstrap(steps)
    typer.echo(result.to_json() if as_json else "\n".join(result.lines()))
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Run the rehearsal; a failure it does not map is one line and exit 3, as for ``python -m release``."""
    guarded(app)
