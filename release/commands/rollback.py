"""``rollback``, ``history``, ``migrate`` and ``resume``: getting back to a good state, and seeing how we got here.

Every command connects through the driver's ``CONNECT`` (so tests and the
rehearsal put the offline engine and moto there) and ends with what happened,
why, and the next command. Exit codes: 0 done (a release promoted, a migration
run), 1 aborted, refused or rolled back, 2 bad input, 3 infrastructure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from components.config.release_record import Outcome
from offline import evaluate
from offline.diff import PlanDiff, diff
from offline.stacks import ROOT, ProjectFiles
from release.commands import driver
from release.commands.failures import Output, OutputOption, StackOption, YesOption, errors, needs_yes
from release.commands.interrupts import interrupt_exits
from release.errors import BadInputError, ExitCode
from release.output import history as release_history
from release.output.report import report_path
from release.rollback import to_version as rollback_version
from release.rollback.fast import fast_rollback
from release.rollback.migrate import migrate as run_migration
from release.rollback.resume import resume
from release.strategies.executor import Result, abort


@contextmanager
def refusals(console: Console, as_json: bool, stack: str) -> Iterator[None]:
    """Every failure as the one mapping of ``release.commands.failures`` says (kept for the commands' readability)."""
    with errors(console, as_json, stack):
        yield


def offline_differ(stack: str) -> Any:
    """The offline diff between two configs of this repository's program (secrets stay placeholders)."""
    files = ProjectFiles.here()
    secrets = files.stack_config(stack)[1]

    def compare(now: Mapping[str, str], target: Mapping[str, str]) -> PlanDiff | None:
        before = evaluate(ROOT, files.project, stack, dict(now), secrets)
        after = evaluate(ROOT, files.project, stack, dict(target), secrets)
        return diff(before, after)

    return compare


def _result_json(stack: str, result: Result, **extra: Any) -> dict[str, Any]:
    record = result.record.model_dump(mode="json", by_alias=True, exclude_none=True) if result.record else None
    return {"stack": stack, "outcome": result.outcome.value, "failed_step": result.failed_step, "why": result.why,
            "next": result.next_command, "record": record, **extra}


def _end(console: Console, as_json: bool, stack: str, result: Result, **extra: Any) -> None:
    if as_json:
        typer.echo(json.dumps(_result_json(stack, result, **extra), indent=2, default=str))
    elif result.why:
        console.print(f"[red]{result.outcome.value}:[/red] {escape(str(result.failed_step))}\n  why: {escape(result.why)}\n"
                      f"  next: {escape(str(result.next_command))}")
    else:
        colour = "green" if result.outcome is Outcome.PROMOTED else "yellow"
        record = result.record
        what = f"{record.version} on {record.colour}" if record else ""
        console.print(f"[{colour}]{result.outcome.value}[/{colour}]: {what}")
    raise typer.Exit(result.exit_code)


def _show_preview(console: Console, preview: rollback_version.VersionRollback) -> None:
    console.print(f"[bold]rollback to stack version {preview.stack_version}[/bold]: release {preview.version} again")
    console.print("config changes applied (release inputs):")
    for line in preview.changes or ["(none)"]:
        console.print(f"  {line}", markup=False)
    if preview.kept:
        console.print("config that differs but keeps today's value:")
        for line in preview.kept:
            console.print(f"  {line}", markup=False)
    if preview.diff is not None:
        console.print(f"offline diff against now: {len(preview.diff.resources)} resource(s)")
        for item in preview.diff.resources:
            console.print(f"  {item.kind} {item.type} {item.name}", markup=False)
            for change in item.changes:
                console.print(f"      {change}", markup=False)
    console.print("steps:")
    for number, step in enumerate(preview.steps, start=1):
        console.print(f"  {number}. {step.describe()}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the rollback commands to the CLI."""

    @app.command()
    def rollback(
        stack: StackOption,
        to_version: Annotated[int | None, typer.Option("--to-version", help="Release again what this stack version served.")] = None,
        yes: YesOption = False,
        output: OutputOption = Output.TEXT,
    ) -> None:
        """Undo the release in progress or the last promotion in one update; or, with --to-version, release an older version."""
        console, as_json = Console(), output is Output.JSON
        with refusals(console, as_json, stack):
            if to_version is not None:
                # Checked before connecting: Pulumi numbers a stack's updates from 1.
                if to_version < 1:
                    message = (
                        f"--to-version {to_version}: stack versions start at 1; "
                        f"`python -m release history --stack {stack}` lists them"
                    )
                    raise BadInputError(message)
                needs_yes(as_json, yes, f"--to-version {to_version}")
            ctx = driver.context_for(stack, driver.open_stack(stack), console, as_json)
            if to_version is None:
                done = fast_rollback(ctx)
            else:
                preview = rollback_version.prepare(ctx, to_version, offline_differ(stack))
                if not as_json:
                    _show_preview(console, preview)
                if not yes and not typer.confirm(f"release {preview.version} to {stack}?"):
                    raise typer.Exit(ExitCode.REFUSED)
                with interrupt_exits(stack, console):
                    result = rollback_version.run(ctx, preview)
        if to_version is not None:
            _end(console, as_json, stack, result, preview=preview.to_json())
        data = {"stack": stack, "outcome": "rolled-back", "action": done.action, "live": done.live.value, "version": done.version,
                "weights": done.weights, "updates": done.updates, "touched": done.touched, "notes": list(done.notes)}
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            console.print(f"[yellow]rolled back[/yellow] ({done.action}): {done.live} serves {done.version}; listener {done.weights}")
            for note in done.notes:
                console.print(f"  {note}", markup=False)
        raise typer.Exit(ExitCode.REFUSED)

    @app.command()
    def history(stack: StackOption, output: OutputOption = Output.TEXT) -> None:
        """The releases of a stack: stack version, version shipped, strategy, highest weight, outcome, duration, started by."""
        console, as_json = Console(), output is Output.JSON
        with refusals(console, as_json, stack):
            conn = driver.open_stack(stack)
            rows = release_history.rows(conn.engine.history(), conn.engine.get_config())
        reports = {r.release: report_path(stack, r.release) for r in rows}
        found = {release: str(path) if path.is_file() else None for release, path in reports.items()}
        if as_json:
            typer.echo(json.dumps([{**r.to_json(), "report": found[r.release]} for r in rows], indent=2))
            return
        table = Table(title=f"releases of {stack}")
        for heading in ("stack version", "version", "previous", "strategy", "highest weight", "outcome", "duration", "started by",
                        "snapshot", "migration", "report"):
            table.add_column(heading)
        for r in rows:
            migration = "-" if r.reversible is None else ("reversible" if r.reversible else "IRREVERSIBLE")
            table.add_row(str(r.stack_version or "-"), r.version, r.previous, r.strategy, f"{r.highest_weight}%", r.outcome,
                          release_history.duration(r.duration_seconds), r.started_by, r.snapshot or "-", migration,
                          found[r.release] or "-")
        console.print(table)
        for r in rows:
            if r.staging_skipped:
                console.print(f"{r.release} ({r.version}) skipped the staging gate: {escape(r.staging_skipped)}")
            if r.backup and r.backup != "scaled-down":
                console.print(f"{r.release} ({r.version}): the old colour was {escape(r.backup)}")
        if not rows:
            console.print(f"no releases recorded on {stack}")

    @app.command()
    def migrate(
        stack: StackOption,
        rollback: Annotated[bool, typer.Option("--rollback", help="Run the rollback command instead of the migration.")] = False,
        yes: YesOption = False,
        output: OutputOption = Output.TEXT,
    ) -> None:
        """Snapshot the database, then run the migration task (or its rollback) with a release's checks around it."""
        console, as_json = Console(), output is Output.JSON
        with refusals(console, as_json, stack):
            needs_yes(as_json, yes, "migrate")
            ctx = driver.context_for(stack, driver.open_stack(stack), console, as_json)
            what = "the migration rollback" if rollback else "the migration"
            if not yes and not typer.confirm(f"snapshot the database of {stack}, then run {what}?"):
                raise typer.Exit(ExitCode.REFUSED)
            found = run_migration(ctx, rollback=rollback)
        data = {"stack": stack, **found.to_json()}
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        elif found.ok:
            console.print(f"[green]done[/green]: {found.direction} ran (task {found.task}); snapshot {found.snapshot} taken before it")
        else:
            console.print(f"[red]failed:[/red] {found.direction}\n  why: {escape(str(found.why))}\n"
                          f"  next: {escape(str(found.next_command))}")
        raise typer.Exit(ExitCode.OK if found.ok else ExitCode.REFUSED)

    @app.command(name="resume")
    def resume_command(
        stack: StackOption,
        abort_it: Annotated[bool, typer.Option("--abort", help="End the interrupted release instead: the candidate back to 0.")] = False,
        output: OutputOption = Output.TEXT,
    ) -> None:
        """Continue an interrupted release from its last verified step (or end it with --abort)."""
        console, as_json = Console(), output is Output.JSON
        with refusals(console, as_json, stack):
            conn = driver.open_stack(stack)
            ctx = driver.context_for(stack, conn, console, as_json)
            if abort_it:
                current = driver._in_progress(conn, stack)  # noqa: SLF001
                final = abort(ctx, current, f"aborted after an interrupt by {ctx.by}")
                result = Result(Outcome.ABORTED, final)
            else:
                with interrupt_exits(stack, console):
                    result = resume(ctx)
        _end(console, as_json, stack, result)

