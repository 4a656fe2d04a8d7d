"""``status``, ``deploy``, ``promote`` and ``abort``: releases of a real stack.

Each command checks every flag first, then connects to the stack through
``CONNECT`` (the Automation API and a boto3 session by default, refused with
one message when the Pulumi CLI is absent; tests put the offline engine and
moto there) and maps every failure to an exit code with what failed, why, and
the next command (``release.commands.failures``). ``deploy --dry-run`` works
without the Pulumi CLI: it plans from the stack file and the offline plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from components.config import Strategy, load
from offline.stacks import ProjectFiles, apply_overrides, parse_override
from release.clock import Clock, SystemClock
from release.commands.failures import Output, OutputOption, StackOption, YesOption, errors, fail, needs_yes
from release.commands.interrupts import interrupt_exits
from release.commands.pulumi_cli import PulumiMissingError, require_pulumi
from release.context import Aws, Context, EcsTaskRunner, Probe, SilentReporter, TaskRunner, http_probe
from release.engine import StackEngine
from release.engine.offline import OfflineEngine
from release.engine.waiting import WaitingEngine
from release.errors import BadInputError, ExitCode, RefusedError
from release.judgement.staging_gate import require_staging
from release.output.display import ConsoleReporter, DryRun, as_data
from release.output.panel import JsonLines, LivePanel
from release.output.report import Ending, Recorder
from release.output.report import write as write_report
from release.output.status import gather, show_status, unreadable_record
from release.rollback.resume import terminate_as_interrupt
from release.state import record as records
from release.strategies.executor import Executor, abort, promote_now
from release.strategies.planner import ReleaseOptions, check_flags, parse_steps, plan_release


@dataclass
class Connection:
    """A stack's engine and the AWS side of the same account and region."""

    engine: StackEngine
    aws: Aws
    clock: Clock
    runner: TaskRunner
    probe: Probe = http_probe


def connect(stack: str) -> Connection:
    """The real stack: the Automation API over this repository, and boto3 in the stack's region."""
    require_pulumi(stack)
    import boto3

    from release.engine.automation import AutomationEngine

    region = ProjectFiles.here().stack_config(stack)[0].get("aws:region")
    session = boto3.Session(region_name=region)
    clock = SystemClock()
    aws = Aws.from_session(session, clock)
    return Connection(AutomationEngine(stack), aws, clock, EcsTaskRunner(aws.ecs))


CONNECT: Callable[[str], Connection] = connect


def _check_stack(stack: str) -> None:
    ProjectFiles.here().stack_file(stack)


def open_stack(stack: str) -> Connection:
    """The connection to a stack that has a config file; an unknown stack is refused before connecting."""
    _check_stack(stack)
    return CONNECT(stack)


def context_for(stack: str, conn: Connection, console: Console, as_json: bool) -> Context:
    """The driver's context for one command: quiet for JSON output, a console reporter for people.

    A corrupt ``release:inProgress`` is refused here: no command may act on a release it cannot read.
    """
    problem = unreadable_record(conn.engine.get_config())
    if problem:
        message = f"{problem}; `python -m release status --stack {stack}` shows what the listener serves"
        raise BadInputError(message)
    reporter = SilentReporter() if as_json else ConsoleReporter(console)
    engine = WaitingEngine(conn.engine, conn.clock, reporter.note)
    return Context(stack, engine, conn.aws, conn.clock, conn.runner, conn.probe, reporter, by=records.who())


def register(app: typer.Typer) -> None:
    """Add the driver's commands to the CLI."""

    @app.command()
    def status(stack: StackOption, output: OutputOption = Output.TEXT) -> None:
        """Live colour, versions and weights; what the listener serves; target health; alarms; drift."""
        console, as_json = Console(), output is Output.JSON
        with errors(console, as_json, stack):
            conn = open_stack(stack)
            state = gather(conn.engine, conn.aws, stack)
        if as_json:
            typer.echo(json.dumps(state, indent=2, default=str))
            return
        show_status(console, stack, state)

    @app.command()
    def deploy(
        stack: StackOption,
        version: Annotated[str, typer.Option("--version", "-v", help="The image tag to release.")],
        strategy: Annotated[Strategy | None, typer.Option(help="canary, blue-green or rolling; default: the stack's.")] = None,
        steps: Annotated[str | None, typer.Option(help="Canary weights, e.g. 10,25,50,100; default: the stack's.")] = None,
        bake: Annotated[float | None, typer.Option(help="Minutes to bake at each step; default: the stack's.")] = None,
        yes: YesOption = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the steps; change nothing. Works without the Pulumi CLI.")] = False,
        skip_staging: Annotated[bool, typer.Option("--skip-staging", help="Production: release a version staging has not held.")] = False,
        reason: Annotated[str | None, typer.Option("--reason", help="Why --skip-staging; kept in the release record.")] = None,
        output: OutputOption = Output.TEXT,
        overriding: Annotated[list[str] | None, typer.Option(
            "--config", "-c", help="KEY=VALUE config override for --dry-run (what the plan would be); repeatable.")] = None,
    ) -> None:
        """Release VERSION to the candidate colour: back up, deploy, migrate, smoke test, shift and bake, promote."""
        console, as_json = Console(), output is Output.JSON
        with errors(console, as_json, stack):
            # Every flag is checked before anything connects.
            options = ReleaseOptions(version=version, strategy=strategy, steps=parse_steps(steps), bake_minutes=bake)
            check_flags(options)
            check_skip_staging(skip_staging, reason)
            overrides = [parse_override(c) for c in overriding or []]
            if overrides and not dry_run:
                # A release changes only the release state; the stack's policy is its file and its environment.
                message = f"-c {' -c '.join(overriding or [])}: goes with --dry-run only; a release reads the stack's own config"
                raise BadInputError(message)
            if not dry_run:
                needs_yes(as_json, yes, "deploy")
            _check_stack(stack)
            if dry_run:
                _dry_run(console, as_json, stack, options, overrides, skip_staging=skip_staging)
                return
            conn = CONNECT(stack)
            full = load(conn.engine.get_config(), stack)
            check_skip_staging_stack(skip_staging, full.is_production, stack)
            config = full.release
            if full.is_production and not skip_staging:
                _staging_gate(stack, version, config, conn)
            refuse_other_ending(config.in_progress, stack, None)
            if config.in_progress is not None:
                running = config.in_progress
                msg = "deploy"
                raise RefusedError(
                    msg, f"release {running.id} of {running.version} is in progress on {stack}, held by {running.started_by}",
                    f"finish it with `python -m release promote --stack {stack}` or `python -m release abort --stack {stack}`",
                )
            planned = plan_release(config, conn.engine.outputs(), options, stack)
            if not yes and not typer.confirm(f"release {version} to {stack} in {len(planned)} steps?"):
                raise typer.Exit(ExitCode.REFUSED)
            ctx = context_for(stack, conn, console, as_json)
            record = records.new_record(config, version, (strategy or config.strategy).value, conn.clock, ctx.by)
            if skip_staging:
                record = record.model_copy(update={"staging_skipped": reason})
            panel = LivePanel(console, f"release {record.id}: {version} to {record.colour} on {stack}") \
                if console.is_terminal and not as_json else None
            recorder = Recorder(JsonLines() if as_json else panel or ctx.reporter, conn.clock)
            ctx.reporter = recorder
            try:
                with terminate_as_interrupt(), panel or nullcontext():
                    result = Executor(ctx).run(planned, record)
            except KeyboardInterrupt:
                # The last verified weights stay; the durable record lets another shell finish the release.
                current = records.in_progress(conn.engine)
                if current is not None and current.strategy is Strategy.ROLLING:
                    raise fail(
                        console, as_json, ExitCode.REFUSED, "deploy",
                        f"interrupted; {current.colour} keeps what the stack last set ({current.version} if the roll was "
                        "applied, with ECS's circuit breaker and deployment alarms still able to roll it back)",
                        f"python -m release abort --stack {stack}  (puts {current.colour} back to {current.previous}, verified)",
                    ) from None
                weight = current.weight if current else 0
                why = f"interrupted; the candidate stays at its last verified weight ({weight}%)"
                raise fail(
                    console, as_json, ExitCode.REFUSED, "deploy", why,
                    f"python -m release resume --stack {stack}  (or: python -m release abort --stack {stack})",
                ) from None
        with errors(console, as_json, stack):  # the report is a file: an unwritable one is a message too
            report = write_report(recorder, Ending(stack, record.id, version, result.outcome.value, result.failed_step, result.why))
        summary = {
            "stack": stack, "version": version, "outcome": result.outcome.value, "failed_step": result.failed_step,
            "why": result.why, "next": result.next_command, "report": str(report),
            "record": result.record.model_dump(mode="json", by_alias=True, exclude_none=True) if result.record else None,
        }
        if as_json:
            typer.echo(json.dumps(summary, indent=2, default=str))
        elif result.why:
            console.print(f"[red]{result.outcome.value}:[/red] {escape(str(result.failed_step))}\n  why: {escape(result.why)}\n"
                          f"  next: {escape(str(result.next_command))}")
        else:
            console.print(f"[green]released[/green] {version}: {result.record.colour if result.record else ''} is live")
        if not as_json:
            console.print(f"report: {report}")
        raise typer.Exit(result.exit_code)

    @app.command()
    def promote(stack: StackOption, output: OutputOption = Output.TEXT) -> None:
        """Promote the release in progress now: the candidate becomes live, verified."""
        console, as_json = Console(), output is Output.JSON
        with errors(console, as_json, stack):
            conn = open_stack(stack)
            current = _in_progress(conn, stack, "promote")
            with interrupt_exits(stack, console):
                final = promote_now(context_for(stack, conn, console, as_json), current)
        _done(console, as_json, {"stack": stack, "outcome": "promoted", "release": final.id, "live": final.colour.value})

    @app.command(name="abort")
    def abort_command(stack: StackOption, output: OutputOption = Output.TEXT) -> None:
        """Abort the release in progress: the candidate back to 0 in one update, verified."""
        console, as_json = Console(), output is Output.JSON
        with errors(console, as_json, stack):
            conn = open_stack(stack)
            current = _in_progress(conn, stack, "abort")
            with interrupt_exits(stack, console):
                final = abort(context_for(stack, conn, console, as_json), current, f"aborted by {records.who()}")
        # A rolling release's colour is the live one itself (rolled back in place); the others' is the candidate.
        live = final.colour if final.strategy is Strategy.ROLLING else final.colour.other
        _done(console, as_json, {"stack": stack, "outcome": "aborted", "release": final.id, "live": live.value})
        raise typer.Exit(ExitCode.REFUSED)


def _dry_run(
    console: Console, as_json: bool, stack: str, options: ReleaseOptions, overrides: list[tuple[str, Any]], *, skip_staging: bool,
) -> None:
    """Print the steps; without the Pulumi CLI, from the stack file's config and the offline plan's outputs.

    It refuses what the real deploy refuses: the same config checks, flags and options.
    """
    try:
        engine: StackEngine = CONNECT(stack).engine
        source = f"stack {stack} through the Pulumi CLI"
    except PulumiMissingError:
        engine = OfflineEngine(stack)
        source = f"Pulumi.{stack}.yaml and the offline plan's outputs (the Pulumi CLI is not installed)"
    full = load(apply_overrides(engine.get_config(), overrides, ProjectFiles.here()), stack)
    check_skip_staging_stack(skip_staging, full.is_production, stack)
    config = full.release
    planned = plan_release(config, engine.outputs(), options, stack)
    if as_json:
        typer.echo(json.dumps({**as_data(planned), "source": source}, indent=2))
        return
    console.print(f"planned from {source}", markup=False)
    DryRun(console).run(planned, f"release {options.version} to {stack} (dry run)")


def _in_progress(conn: Connection, stack: str, command: str | None = None) -> Any:
    """The release in progress; a record marked for another ending than ``command``'s is refused as ``resume`` refuses it."""
    problem = unreadable_record(conn.engine.get_config())
    if problem:
        message = f"{problem}; `python -m release status --stack {stack}` shows what the listener serves"
        raise BadInputError(message)
    current = records.in_progress(conn.engine)
    if current is None:
        msg = "release"
        raise RefusedError(msg, f"no release is in progress on {stack}", f"python -m release status --stack {stack}")
    refuse_other_ending(current, stack, command)
    return current


def refuse_other_ending(current: Any, stack: str, command: str | None) -> None:
    """A record marked for one ending refuses every other command, saying which one finishes it (as ``resume`` does)."""
    if current is not None and current.ending is not None and records.finishing_command(current.ending.outcome) != command:
        raise records.EndingUnfinishedError.of(current, stack)


def _done(console: Console, as_json: bool, data: dict[str, Any]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console.print(f"{data['outcome']}: release {data['release']}; {data['live']} is live")


def check_skip_staging(skip: bool, reason: str | None) -> None:
    """``--skip-staging`` needs a reason of 1-500 characters, and ``--reason`` goes only with it."""
    if skip and not (reason or "").strip():
        message = '--skip-staging: give --reason "..." (1-500 characters); it is kept in the release record'
        raise BadInputError(message)
    if reason is not None and not skip:
        message = f"--reason {reason!r}: goes with --skip-staging only"
        raise BadInputError(message)
    if reason is not None and len(reason) > 500:
        message = f"--reason: {len(reason)} characters; at most 500"
        raise BadInputError(message)


def check_skip_staging_stack(skip: bool, production: bool, stack: str) -> None:
    """``--skip-staging`` skips production's staging gate; a stack that is not production has none to skip."""
    if skip and not production:
        message = (f"--skip-staging: {stack} is not a production stack (platform:environment), so it has no staging gate to "
                   "skip; allowed with production stacks only: drop --skip-staging and --reason")
        raise BadInputError(message)


def _staging_gate(stack: str, version: str, config: Any, conn: Connection) -> None:
    """Refuse a production release of a version staging has not promoted, migrated and held (release/judgement/staging_gate.py)."""
    staging = CONNECT(config.staging_stack)
    require_staging(stack, version, config, conn.engine.outputs(), staging.engine, conn.clock.now())
