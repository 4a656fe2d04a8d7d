"""From stack config, stack outputs and the user's options to the list of steps of a release.

Canary: shift through the configured weights, baking at each. Blue-green: the
same skeleton with a single 100 step after the smoke test, and a bake after the
switch that reverts on failure. Rolling: the live colour is updated in place by
ECS (migrate first, since no second colour keeps the old code), its rollout is
watched, then baked. Steps that need part of the stack the outputs do not have
(a database, a migration task, an alert topic) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.config import ReleaseConfig, Strategy
from components.config.session import session_problems
from release.aws.rds import snapshot_identifier
from release.errors import BadInputError
from release.strategies.capacity import DEFAULT_HEADROOM
from release.strategies.steps import (
    Backup,
    Bake,
    Complete,
    Deploy,
    EndControl,
    Migrate,
    Notify,
    Preflight,
    Promote,
    Retire,
    Roll,
    Settle,
    Shift,
    Smoke,
    Stage,
    Step,
    Watch,
)

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# How long ECS may take to replace the live colour's tasks and bake its deployment alarms before the driver
# calls the rollout stuck and rolls it back.
ROLLOUT_TIMEOUT = 1200.0
REQUIRED_OUTPUTS = ("listener_arn", "target_group_arns", "endpoint_url", "candidate_route", "release_token_secret_arn")


@dataclass(frozen=True)
class ReleaseOptions:
    """What the user asked for on the command line; None means the stack config's value."""

    version: str
    strategy: Strategy | None = None
    steps: tuple[int, ...] | None = None
    bake_minutes: float | None = None
    poll_seconds: float = 10.0
    health_timeout_seconds: float = 600.0
    migration_reversible: bool | None = None
    headroom: float = DEFAULT_HEADROOM


def parse_steps(text: str | None) -> tuple[int, ...] | None:
    """``--steps 10,25,50,100`` as weights; every part must be a whole number (no empty parts)."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        message = f"--steps {text!r}: a comma-separated list of whole percents with no empty parts, e.g. 10,25,50,100"
        raise BadInputError(message)
    return tuple(int(part) for part in parts)


def flag_problems(options: ReleaseOptions) -> list[str]:
    """What is wrong with the options on their own, without the stack: checked before anything connects."""
    problems: list[str] = []
    if not _TAG.match(options.version):
        problems.append(
            f"--version {options.version!r}: not an image tag; allowed: 1-128 letters, digits, '_', '.', '-', "
            "not starting with '.' or '-'",
        )
    if options.steps is not None:
        steps = list(options.steps)
        if not steps or any(not 1 <= s <= 100 for s in steps):
            problems.append(f"--steps {_show(steps)}: each step is a percent from 1 to 100")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            problems.append(f"--steps {_show(steps)}: steps must be strictly increasing, e.g. 10,25,50,100")
        if steps and steps[-1] != 100:
            problems.append(f"--steps {_show(steps)}: the last step must be 100")
    if options.bake_minutes is not None and not 0 <= options.bake_minutes <= 1440:
        problems.append(f"--bake {options.bake_minutes:g}: minutes from 0 to 1440")
    if options.poll_seconds <= 0:
        problems.append(f"--poll {options.poll_seconds:g}: seconds, more than 0")
    return problems


def check_flags(options: ReleaseOptions) -> None:
    """Refuse options that cannot make a release on any stack; every problem is named at once."""
    problems = flag_problems(options)
    if problems:
        raise BadInputError("\n".join(problems))


def check_options(options: ReleaseOptions, config: ReleaseConfig, stack: str) -> None:
    """Refuse options that cannot make a release on this stack; every problem is named at once."""
    problems = flag_problems(options)
    strategy = options.strategy or config.strategy
    if strategy is Strategy.ROLLING and options.steps is not None:
        problems.append(f"--steps {_show(list(options.steps))}: a rolling release shifts no traffic between colours; "
                        "drop --steps (ECS replaces the live colour's tasks within release:rolling's limits)")
    if strategy is Strategy.BLUE_GREEN and options.steps is not None:
        problems.append(f"--steps {_show(list(options.steps))}: a blue-green release switches all traffic at once, in one "
                        "step of 100; drop --steps, or release with --strategy canary to walk these steps")
    problems.extend(_session_problems(options, config))
    if options.strategy is not None and Strategy.ROLLING in (options.strategy, config.strategy) \
            and options.strategy is not config.strategy:
        # The stack's strategy sets the live service's rollout limits and which colour a release may target
        # (components/config/release.py ReleaseConfig.target), so a rolling release cannot be chosen per run.
        problems.append(
            f"--strategy {options.strategy}: {stack}'s release:strategy is {config.strategy}; switching to or from rolling "
            f"is a change of the stack's policy: set release:strategy in Pulumi.{stack}.yaml, `pulumi up`, then release",
        )
    if options.steps and len(options.steps) > 1 and config.control_weight \
            and options.steps[-2] >= 100 - config.control_weight and strategy is not Strategy.ROLLING:
        problems.append(
            f"--steps {_show(list(options.steps))}: the last step gives the candidate 100 - release:controlWeight = "
            f"{100 - config.control_weight}%, which must be more than the step before it ({options.steps[-2]}%); "
            f"end the steps before {100 - config.control_weight} or lower release:controlWeight",
        )
    if _TAG.match(options.version) and options.version == config.versions.of(config.live):
        problems.append(f"--version {options.version!r}: the live colour ({config.live}) of {stack} already runs it; nothing to release")
    if problems:
        raise BadInputError("\n".join(problems))


def _session_problems(options: ReleaseOptions, config: ReleaseConfig) -> list[str]:
    """``--bake``, ``--steps`` and ``--strategy`` face the deploy session's length check that the stack's own settings face.

    The stack's config was checked when it loaded (components/config/session.py); a flag that makes the release
    longer than a deploy job can hold credentials for is refused the same way, naming the flags.
    """
    changed: dict[str, Any] = {}
    if options.bake_minutes is not None:
        bake = options.bake_minutes
        changed["bake_minutes"] = int(bake) if float(bake).is_integer() else bake
    if options.steps is not None:
        changed["steps"] = tuple(options.steps)
    if options.strategy is not None and options.strategy is not config.strategy:
        changed["strategy"] = options.strategy
    if not changed:
        return []
    flags = " ".join(f for f, given in (
        (f"--bake {options.bake_minutes:g}" if options.bake_minutes is not None else "", True),
        (f"--steps {_show(list(options.steps or ()))}", options.steps is not None),
        (f"--strategy {options.strategy}", "strategy" in changed),
    ) if given and f)
    return [f"{flags}: {p.allowed}" for p in session_problems(config.model_copy(update=changed))]


def _show(steps: list[int]) -> str:
    return ",".join(str(s) for s in steps) or "(empty)"


def check_outputs(outputs: Mapping[str, Any], stack: str) -> None:
    """Refuse to plan when the stack has no load balancer to shift."""
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        message = (
            f"stack {stack} has no {', '.join(missing)} output(s): its AWS environment is not deployed; "
            f"run `pulumi up --stack {stack}` first"
        )
        raise BadInputError(message)


def snapshot_id(stack: str, version: str) -> str:
    """The start of a release's snapshot name (the backup adds the time it is taken), a valid RDS identifier."""
    return snapshot_identifier(f"{stack}-release-{version}")


def plan_release(config: ReleaseConfig, outputs: Mapping[str, Any], options: ReleaseOptions, stack: str) -> list[Step]:
    """The steps of a release of ``options.version`` on this stack."""
    check_options(options, config, stack)
    check_outputs(outputs, stack)
    candidate = config.candidate
    strategy = options.strategy or config.strategy
    if strategy is Strategy.ROLLING:
        return _rolling(config, outputs, options, stack)
    bake_seconds = 60.0 * (config.bake_minutes if options.bake_minutes is None else options.bake_minutes)
    health_path = str(outputs.get("health_check_path") or "/health")
    steps: list[Step] = [Preflight(config.live)]
    if outputs.get("database_identifier"):
        steps.append(Backup(str(outputs["database_identifier"]), snapshot_id(stack, options.version)))
    steps.append(Deploy(candidate, options.version, options.health_timeout_seconds))
    migration = outputs.get("migration")
    if isinstance(migration, Mapping) and migration.get("task_definition_arn"):
        steps.append(Migrate(_command(migration.get("migrate_command")), reversible=options.migration_reversible))
    # The candidate, before it takes user traffic: the public name with the release token and its colour.
    steps.append(Smoke("endpoint_url", health_path, colour=candidate))
    weights = (100,) if strategy is Strategy.BLUE_GREEN else (options.steps or config.steps)
    # Capacity before traffic needs both colours' ECS services to read and scale.
    services = outputs.get("service_names")
    scalable = bool(outputs.get("cluster_name")) and isinstance(services, Mapping) and bool(services)
    headroom = options.headroom if scalable else None
    # The old colour keeps a control share at the last step and through the backup window (release:controlWeight).
    control = config.control_weight
    for number, weight in enumerate(weights, start=1):
        steps.append(Shift(candidate, weight, number, len(weights), headroom, options.health_timeout_seconds, control))
        steps.append(Bake(weight, bake_seconds, options.poll_seconds, control))
    steps.append(Promote(candidate, control))
    steps.append(Smoke("endpoint_url", health_path))
    if scalable:
        steps.append(Retire(config.live, options.health_timeout_seconds, 60.0 * config.backup_minutes, options.poll_seconds,
                            control))
    elif control:
        # No backup window to watch (no ECS services to scale): the control ends once the promotion is verified.
        steps.append(EndControl(config.live, control))
    if outputs.get("alert_topic_arn"):
        steps.append(Notify())
    return steps


def _rolling(config: ReleaseConfig, outputs: Mapping[str, Any], options: ReleaseOptions, stack: str) -> list[Step]:
    """Design C: the live colour updated in place; the migration runs before the rollout (no second colour keeps the old code)."""
    missing = [key for key in ("cluster_name", "service_names") if not outputs.get(key)]
    if missing:
        message = (f"release:strategy rolling: stack {stack} exports no {', '.join(missing)}; the driver watches the live "
                   f"service's ECS deployment through them: run `pulumi up --stack {stack}` first")
        raise BadInputError(message)
    live = config.live
    minutes = config.rolling.bake_minutes if options.bake_minutes is None else options.bake_minutes
    steps: list[Step] = [Preflight(live)]
    if outputs.get("database_identifier"):
        steps.append(Backup(str(outputs["database_identifier"]), snapshot_id(stack, options.version)))
    migration = outputs.get("migration")
    if isinstance(migration, Mapping) and migration.get("task_definition_arn"):
        steps.append(Stage(options.version))
        steps.append(Migrate(_command(migration.get("migrate_command")), reversible=options.migration_reversible))
    steps.append(Roll(live, options.version))
    steps.append(Watch(live, options.version, max(options.health_timeout_seconds, ROLLOUT_TIMEOUT), options.poll_seconds))
    steps.append(Settle(live, 60.0 * minutes, options.poll_seconds))
    steps.append(Smoke("endpoint_url", str(outputs.get("health_check_path") or "/health")))
    steps.append(Complete(live))
    if outputs.get("alert_topic_arn"):
        steps.append(Notify())
    return steps


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return ()


def expected_seconds(steps: list[Step]) -> float:
    """The whole release's expected duration."""
    return sum(step.expected_seconds() for step in steps)
