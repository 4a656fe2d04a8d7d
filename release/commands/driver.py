"""``status``, ``deploy``, ``promote`` and ``abort``: releases of a real stack.

Each command connects to the stack through ``CONNECT`` (the Automation API and
a boto3 session by default; tests put the offline engine and moto there) and
maps every failure to an exit code with what failed, why, and the next command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console

from components.config import ConfigError, Strategy, load
from offline.stacks import ProjectFiles, UnknownStackError
from release import record as records
from release.aws.base import AwsError
from release.clock import Clock, SystemClock
from release.commands.interrupts import interrupt_exits
from release.context import Aws, Context, EcsTaskRunner, Probe, SilentReporter, TaskRunner, http_probe
from release.display import ConsoleReporter, DryRun, as_data
from release.engine import EngineError, StackEngine
from release.errors import BadInputError, ExitCode
from release.executor import Executor, abort, promote_now
from release.executor_steps import StepFailure
from release.panel import JsonLines, LivePanel
from release.planner import ReleaseOptions, plan_release
from release.report import Ending, Recorder
from release.report import write as write_report
from release.resume import terminate_as_interrupt
from release.status import gather


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
    import boto3

    from release.engine.automation import AutomationEngine

    region = ProjectFiles.here().stack_config(stack)[0].get("aws:region")
    session = boto3.Session(region_name=region)
    clock = SystemClock()
    aws = Aws.from_session(session, clock)
    return Connection(AutomationEngine(stack), aws, clock, EcsTaskRunner(aws.ecs))


CONNECT: Callable[[str], Connection] = connect

StackOption = Annotated[str, typer.Option("--stack", "-s", help="The stack (a Pulumi.<stack>.yaml).")]
OutputOption = Annotated[str, typer.Option("--output", "-o", help="text or json.")]


def _fail(console: Console, as_json: bool, code: ExitCode, what: str, why: str, next_command: str, **extra: Any) -> typer.Exit:
    if as_json:
        typer.echo(json.dumps({"error": {"what": what, "why": why, "next": next_command}, **extra}, indent=2, default=str))
    else:
        console.print(f"[red]failed:[/red] {what}\n  why: {why}\n  next: {next_command}")
    return typer.Exit(code)


@contextmanager
def _errors(console: Console, as_json: bool, stack: str) -> Iterator[None]:
    status = f"python -m release status --stack {stack}"
    try:
        yield
    except UnknownStackError as exc:
        raise _fail(console, as_json, ExitCode.BAD_INPUT, "stack", str(exc), "pass one of the stacks listed") from None
    except (BadInputError, ConfigError) as exc:
        raise _fail(console, as_json, ExitCode.BAD_INPUT, "input", str(exc), "fix the input and run the command again") from None
    except StepFailure as exc:
        code = ExitCode.INFRASTRUCTURE if exc.infrastructure else ExitCode.REFUSED
        raise _fail(console, as_json, code, exc.what, exc.why, exc.next_command or status) from None
    except records.ReleaseEndedError as exc:
        # Another shell ended or changed the release first: nothing was written here.
        raise _fail(console, as_json, ExitCode.REFUSED, exc.what, exc.why, exc.next_command or status) from None
    except (EngineError, AwsError) as exc:
        raise _fail(console, as_json, ExitCode.INFRASTRUCTURE, exc.what, exc.why, exc.next_command or status) from None


def _check_stack(stack: str) -> None:
    ProjectFiles.here().stack_file(stack)


def open_stack(stack: str) -> Connection:
    """The connection to a stack that has a config file; an unknown stack is refused before connecting."""
    _check_stack(stack)
    return CONNECT(stack)


def context_for(stack: str, conn: Connection, console: Console, as_json: bool) -> Context:
    """The driver's context for one command: quiet for JSON output, a console reporter for people."""
    reporter = SilentReporter() if as_json else ConsoleReporter(console)
    return Context(stack, conn.engine, conn.aws, conn.clock, conn.runner, conn.probe, reporter, by=records.who())


def register(app: typer.Typer) -> None:
    """Add the driver's commands to the CLI."""

    @app.command()
    def status(stack: StackOption, output: OutputOption = "text") -> None:
        """Live colour, versions and weights; what the listener serves; target health; alarms; drift."""
        console, as_json = Console(), output == "json"
        with _errors(console, as_json, stack):
            conn = open_stack(stack)
            state = gather(conn.engine, conn.aws, stack)
        if as_json:
            typer.echo(json.dumps(state, indent=2, default=str))
            return
        console.print(f"[bold]{stack}[/bold]: live {state['live']}, versions {state['versions']}, weights {state['weights']}")
        console.print(f"  listener serves: {state.get('served')}")
        for colour, targets in state["targets"].items():
            console.print(f"  {colour} targets: {', '.join(targets) or 'none registered'}")
        for colour, alarms in state["alarms"].items():
            console.print(f"  {colour} alarms: {', '.join(f'{n}={s}' for n, s in alarms.items()) or 'none'}")
        progress = state["in_progress"]
        shown = f"{progress['id']} {progress['version']} at {progress['weight']}%" if progress else "none"
        console.print(f"  in progress: {shown}")
        if progress and progress.get("ending"):
            ending = progress["ending"]
            console.print(f"  [yellow]being {ending['outcome']}[/yellow] by {ending['by']} since {ending['at']}: "
                          f"run the same command again to finish it", markup=True)
        elif progress and progress.get("lease"):
            console.print(f"  driven by {progress['lease']['holder']}, lease renewed {progress['lease']['renewedAt']}")
        for line in state["drift"]:
            console.print(f"  [yellow]drift:[/yellow] {line}")

    @app.command()
    def deploy(
        stack: StackOption,
        version: Annotated[str, typer.Option("--version", "-v", help="The image tag to release.")],
        strategy: Annotated[Strategy | None, typer.Option(help="canary, blue-green or rolling; default: the stack's.")] = None,
        steps: Annotated[str | None, typer.Option(help="Canary weights, e.g. 10,25,50,100; default: the stack's.")] = None,
        bake: Annotated[float | None, typer.Option(help="Minutes to bake at each step; default: the stack's.")] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the steps; change nothing.")] = False,
        output: OutputOption = "text",
    ) -> None:
        """Release VERSION to the candidate colour: back up, deploy, migrate, smoke test, shift and bake, promote."""
        console, as_json = Console(), output == "json"
        with _errors(console, as_json, stack):
            _check_stack(stack)
            options = ReleaseOptions(version=version, strategy=strategy, steps=_parse_steps(steps), bake_minutes=bake)
            conn = CONNECT(stack)
            config = load(conn.engine.get_config(), stack).release
            if config.in_progress is not None and not dry_run:
                message = (
                    f"release {config.in_progress.id} of {config.in_progress.version} is in progress on {stack}: "
                    f"finish it with `python -m release promote --stack {stack}` or `python -m release abort --stack {stack}`"
                )
                raise BadInputError(message)
            planned = plan_release(config, conn.engine.outputs(), options, stack)
            if dry_run:
                data = as_data(planned) if as_json else DryRun(console).run(planned, f"release {version} to {stack} (dry run)")
                if as_json:
                    typer.echo(json.dumps(data, indent=2))
                return
            if not yes and not as_json and not typer.confirm(f"release {version} to {stack} in {len(planned)} steps?"):
                raise typer.Exit(ExitCode.REFUSED)
            ctx = context_for(stack, conn, console, as_json)
            record = records.new_record(config, version, (strategy or config.strategy).value, conn.clock, ctx.by)
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
                weight = current.weight if current else 0
                why = f"interrupted; the candidate stays at its last verified weight ({weight}%)"
                raise _fail(
                    console, as_json, ExitCode.REFUSED, "deploy", why,
                    f"python -m release resume --stack {stack}  (or: python -m release abort --stack {stack})",
                ) from None
        report = write_report(recorder, Ending(stack, record.id, version, result.outcome.value, result.failed_step, result.why))
        summary = {
            "stack": stack, "version": version, "outcome": result.outcome.value, "failed_step": result.failed_step,
            "why": result.why, "next": result.next_command, "report": str(report),
            "record": result.record.model_dump(mode="json", by_alias=True, exclude_none=True) if result.record else None,
        }
        if as_json:
            typer.echo(json.dumps(summary, indent=2, default=str))
        elif result.why:
            console.print(f"[red]{result.outcome.value}:[/red] {result.failed_step}\n  why: {result.why}\n  next: {result.next_command}")
        else:
            console.print(f"[green]released[/green] {version}: {result.record.colour if result.record else ''} is live")
        if not as_json:
            console.print(f"report: {report}")
        raise typer.Exit(result.exit_code)

    @app.command()
    def promote(stack: StackOption, output: OutputOption = "text") -> None:
        """Promote the release in progress now: the candidate becomes live, verified."""
        console, as_json = Console(), output == "json"
        with _errors(console, as_json, stack):
            conn = open_stack(stack)
            current = _in_progress(conn, stack)
            with interrupt_exits(stack, console):
                final = promote_now(context_for(stack, conn, console, as_json), current)
        _done(console, as_json, {"stack": stack, "outcome": "promoted", "release": final.id, "live": final.colour.value})

    @app.command(name="abort")
    def abort_command(stack: StackOption, output: OutputOption = "text") -> None:
        """Abort the release in progress: the candidate back to 0 in one update, verified."""
        console, as_json = Console(), output == "json"
        with _errors(console, as_json, stack):
            conn = open_stack(stack)
            current = _in_progress(conn, stack)
            with interrupt_exits(stack, console):
                final = abort(context_for(stack, conn, console, as_json), current, f"aborted by {records.who()}")
        _done(console, as_json, {"stack": stack, "outcome": "aborted", "release": final.id, "live": final.colour.other.value})
        raise typer.Exit(ExitCode.REFUSED)


def _in_progress(conn: Connection, stack: str) -> Any:
    current = records.in_progress(conn.engine)
    if current is None:
        msg = f"no release is in progress on {stack}; `python -m release status --stack {stack}` shows the state"
        raise BadInputError(msg)
    return current


def _done(console: Console, as_json: bool, data: dict[str, Any]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console.print(f"{data['outcome']}: release {data['release']}; {data['live']} is live")


def _parse_steps(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        message = f"--steps {text!r}: a comma-separated list of percents, e.g. 10,25,50,100"
        raise BadInputError(message) from None
