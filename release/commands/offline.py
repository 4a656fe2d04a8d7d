"""``plan``, ``diff`` and ``check``: the offline evaluation of a stack, for people and for CI.

A plan costs what evaluating the program costs: what only one output needs (the
tree renderer, the diff, the policy pack, the strict check and its botocore
models) is imported by the command that prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from components.config import ConfigError
from offline import evaluate_stack
from offline.plan import Plan
from offline.stacks import BadOverrideError, ProjectFiles, UnknownStackError, parse_override
from release.errors import ExitCode

StackOption = Annotated[str, typer.Option("--stack", "-s", help="The stack to evaluate (a Pulumi.<stack>.yaml).")]
ConfigOption = Annotated[
    list[str] | None,
    typer.Option("--config", "-c", help="KEY=VALUE config override, as with `pulumi up --config`; repeatable."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of the tree.")]
PlanFileOption = Annotated[
    Path | None,
    typer.Option("--plan", help="Check a saved `plan --json` document instead of evaluating the stack."),
]
PolicyOption = Annotated[
    bool,
    typer.Option("--policy", help="Also run the policy pack over the plan and print its findings (exit 1 on a mandatory one)."),
]


@contextmanager
def bad_input_exits() -> Iterator[None]:
    """Turn bad config, an unknown stack or a bad override into exit code 2 with a message."""
    try:
        yield
    except (ConfigError, UnknownStackError, BadOverrideError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None


def register(app: typer.Typer) -> None:
    """Add the offline commands to the CLI."""

    @app.command()
    def plan(
        stack: StackOption = "staging", config: ConfigOption = None, as_json: JsonOption = False, policy: PolicyOption = False,
    ) -> None:
        """Evaluate a stack offline and print its resources and outputs."""
        with bad_input_exits():
            overrides = [parse_override(c) for c in config or []]
            result = evaluate_stack(stack, overrides)
        if as_json and not policy:
            typer.echo(json.dumps(result.to_json(), indent=2))
            return
        from offline.render import render_plan

        if not policy:
            typer.echo(render_plan(result))
            return
        from policy.offline import evaluate_policies, render_findings

        findings = evaluate_policies(result)
        if as_json:
            typer.echo(json.dumps({**result.to_json(), "policy": [f.to_json() for f in findings]}, indent=2))
        else:
            typer.echo(render_plan(result))
            typer.echo(render_findings(findings, result))
        if any(f.mandatory for f in findings):
            # The engine would refuse this update; so does the offline review.
            raise typer.Exit(ExitCode.REFUSED)

    @app.command()
    def diff(stack: StackOption, config: ConfigOption = None, as_json: JsonOption = False) -> None:
        """Compare the stack's file config with the overrides: what `pulumi up -c ...` would change."""
        from offline.diff import diff as diff_plans
        from offline.render import render_diff

        with bad_input_exits():
            overrides = [parse_override(c) for c in config or []]
            before = evaluate_stack(stack)
            after = evaluate_stack(stack, overrides)
        result = diff_plans(before, after)
        typer.echo(json.dumps(result.to_json(), indent=2) if as_json else render_diff(result, after))

    @app.command()
    def check(stack: StackOption = "staging", plan_file: PlanFileOption = None, as_json: JsonOption = False) -> None:
        """Check every resource of a plan as AWS and the provider would; exit 1 on an error or an unwaived warning."""
        from offline.check import BadWaiverError, check_plan

        with bad_input_exits():
            planned = _saved_plan(plan_file) if plan_file else evaluate_stack(stack)
            files = ProjectFiles.here()
            config = files.stack_config(planned.stack)[0] if planned.stack in files.stacks() else {}
        try:
            report = check_plan(planned, config)
        except BadWaiverError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.BAD_INPUT) from None
        typer.echo(json.dumps(report.to_json(), indent=2) if as_json else report.render())
        if report.failed:
            raise typer.Exit(ExitCode.REFUSED)


def _saved_plan(path: Path) -> Plan:
    """A plan from a ``plan --json`` file; exit 2 naming the file when it is missing or not a plan."""
    try:
        return Plan.from_json(json.loads(path.read_text()))
    except OSError as exc:
        problem = f"cannot read it ({exc.strerror or exc})"
    except json.JSONDecodeError as exc:
        problem = f"not JSON ({exc})"
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"not a `plan --json` document ({exc!r}); it needs project, stack and resources"
    typer.echo(f"error: --plan {path}: {problem}", err=True)
    raise typer.Exit(ExitCode.BAD_INPUT)
