"""A rolling release: the live colour's own service updated in place by ECS, watched, baked, or rolled back.

The rollout is one stack update (``release:versions.<live>``); ECS then replaces
the live colour's tasks within ``release:rolling``'s limits. The driver polls the
service's deployments (DescribeServices) until the PRIMARY one, running the new
image, reaches COMPLETED, and reads the live colour's release alarms at every
poll: an alarm in ALARM fails the rollout even when ECS has not acted yet.

A failed rollout is rolled back in two moves, each verified. First ECS's own
rollback (circuit breaker or deployment alarm): the PRIMARY deployment must run
the old image again and be COMPLETED. Only then is ``release:versions.<live>``
put back to the old version, in one compare-and-set write of the record and the
config and one update (``StepRunner.end``: old state or new, never half). A
rollback ECS does not finish in time leaves the config alone and exits 3 with
what to look at. A failure once the rollout completed (bake, smoke test), or a
rollout that never finishes, is rolled back by the driver's own update.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components.config import Colour
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.aws.base import TransientAwsError, TransientGrace
from release.aws.ecs import COMPLETED, FAILED, Deployment, Rollouts, primary
from release.context import Context
from release.judgement.analysis import alarm_names
from release.state import record as records
from release.strategies.canary import CanaryRunner
from release.strategies.failure import StepFailure
from release.strategies.runner import StepRunner
from release.strategies.steps import Complete, Roll, Settle, Stage, Watch

if TYPE_CHECKING:
    from release.strategies.timing import Timing

# How long ECS may take to roll the live colour back (replacing its tasks again) before the driver stops
# waiting and hands over to a person: the same bound as the rollout itself (release/strategies/planner.py ROLLOUT_TIMEOUT).
ROLLBACK_TIMEOUT = 1200.0
ROLLBACK_POLL = 15.0


class RolloutFailedError(StepFailure):
    """The rollout failed; ``ecs_rolls_back``: ECS is rolling the service back by itself (circuit breaker or alarm)."""

    def __init__(self, what: str, why: str, next_command: str = "", *, ecs_rolls_back: bool) -> None:
        super().__init__(what, why, next_command)
        self.ecs_rolls_back = ecs_rolls_back


def live_service(runner: StepRunner, colour: Colour) -> tuple[str, str]:
    """(cluster, service name) of a colour, from the stack outputs."""
    outputs = runner.ctx.engine.outputs()
    cluster, services = str(outputs.get("cluster_name") or ""), outputs.get("service_names") or {}
    service = str(services.get(colour.value) or "")
    if not cluster or not service:
        msg = "rolling release"
        raise StepFailure(msg, f"the stack exports no ECS service for {colour} (cluster_name, service_names)",
                          f"pulumi up --stack {runner.ctx.stack}", infrastructure=True)
    return cluster, service


def firing(runner: StepRunner, colour: Colour) -> list[str]:
    """The colour's release alarms in ALARM now (the same alarms ECS watches as the service's deployment alarms)."""
    names = alarm_names(runner.ctx.engine.outputs(), colour)
    return [n for n, s in runner.ctx.aws.cloudwatch.alarm_states(names).items() if s == "ALARM"] if names else []


def describe(deployments: list[Deployment]) -> str:
    """The deployments in one line, for messages."""
    return "; ".join(f"{d.status} {d.task_definition.rsplit('/', 1)[-1]} {d.rollout_state or '-'}" for d in deployments) or "none"


class RollingRunner(CanaryRunner):
    """The step runner with the steps of a rolling release; a canary's too, so one executor runs any plan."""

    def __init__(self, ctx: Context, timing: Timing) -> None:
        super().__init__(ctx, timing)
        self.rollouts = Rollouts(ctx.aws.ecs)

    def _stage(self, step: Stage, record: ReleaseRecord) -> ReleaseRecord:
        # The record in progress names the version: the program revises the migration task to it (ReleaseConfig.migration_version).
        record = self._write({}, record)
        self._update(f"release {record.id}: revise the migration task to {step.version}")
        return record

    def _roll(self, step: Roll, record: ReleaseRecord) -> ReleaseRecord:
        release = self.ctx.engine.get_config()
        versions = json.loads(release.get("release:versions") or "{}")
        versions[step.colour.value] = step.version
        record = self._write({"release:versions": json.dumps(versions, separators=(",", ":"))}, record)
        self._update(f"release {record.id}: roll {step.version} onto {step.colour}")
        return record

    def _watch(self, step: Watch, record: ReleaseRecord) -> ReleaseRecord:
        cluster, service = live_service(self, step.colour)
        deadline = self.ctx.clock.monotonic() + step.timeout_seconds
        seen = "not read yet"
        what = f"rolling {step.version} out on {step.colour}"
        reads = TransientGrace(self.ctx.clock)
        while True:
            record = self._renew(record)
            try:
                # The alarm gate comes first: a rollout that completes while an alarm fires has not succeeded.
                alarms = firing(self, step.colour)
                deployments = self.rollouts.deployments(cluster, service)
            except TransientAwsError as exc:
                self._unread(reads, exc, what, step.colour)
                alarms, deployments, seen = [], [], f"AWS answered {exc.code}"
            else:
                reads.clear()
            if alarms:
                self.timing.events.append((self.ctx.clock.monotonic(), "alarm-during-rollout"))
                raise RolloutFailedError(what, f"{step.colour}'s release alarms in ALARM during the rollout: {', '.join(alarms)}",
                                         ecs_rolls_back=True)
            head = primary(deployments)
            if head is not None:
                seen = describe(deployments)
                done = self._judge(step, record, head, deployments, what)
                if done:
                    ok, state = self.healthy(step.colour)
                    if ok:
                        self.ctx.reporter.note(f"rollout of {step.version} on {step.colour} completed: {state}")
                        return self._write({}, records.advance(record, Phase.DEPLOYED))
                    seen = f"{seen}; {state}"
            if self.ctx.clock.monotonic() + step.poll_seconds > deadline:
                raise RolloutFailedError(what, f"not completed after {step.timeout_seconds:g}s (last seen: {seen})",
                                         ecs_rolls_back=False)
            self.ctx.clock.sleep(step.poll_seconds)

    def _unread(self, reads: TransientGrace, exc: TransientAwsError, what: str, colour: Colour) -> None:
        """A poll AWS kept refusing: poll again, until the grace period runs out (then the colour cannot be watched)."""
        if not reads.tolerate():
            raise StepFailure(what, f"{exc.what}: AWS answered {exc.code} for {reads.seconds:g}s; {colour} cannot be watched",
                              f"python -m release status --stack {self.ctx.stack}", infrastructure=True) from exc

    def _judge(self, step: Watch, record: ReleaseRecord, head: Deployment, deployments: list[Deployment], what: str) -> bool:
        """Whether the PRIMARY deployment completed with the new image; raises when the rollout failed."""
        if self.rollouts.runs(head.task_definition, step.version):
            if head.rollout_state == FAILED:
                raise RolloutFailedError(what, f"ECS failed the deployment: {head.reason}", ecs_rolls_back=True)
            return head.rollout_state == COMPLETED
        failed = next((d for d in deployments if d.rollout_state == FAILED), None)
        if self.rollouts.runs(head.task_definition, record.previous):
            reason = failed.reason if failed is not None else head.reason
            raise RolloutFailedError(what, f"ECS is rolling {step.colour} back to {record.previous}: {reason}", ecs_rolls_back=True)
        raise RolloutFailedError(what, f"the service's PRIMARY deployment runs neither {step.version} nor {record.previous}: "
                                 f"{describe(deployments)}", ecs_rolls_back=False)

    def _settle(self, step: Settle, record: ReleaseRecord) -> ReleaseRecord:
        cluster, service = live_service(self, step.colour)
        end = self.ctx.clock.monotonic() + step.seconds
        what = f"bake of {record.version} on {step.colour}"
        reads = TransientGrace(self.ctx.clock)
        while True:
            record = self._renew(record)
            try:
                alarms = firing(self, step.colour)
                head = primary(self.rollouts.deployments(cluster, service))
            except TransientAwsError as exc:
                self._unread(reads, exc, what, step.colour)
                self.ctx.clock.sleep(step.poll_seconds)
                continue
            reads.clear()
            if alarms:
                self.timing.events.append((self.ctx.clock.monotonic(), "alarm-during-bake"))
                raise RolloutFailedError(what, f"{step.colour}'s release alarms in ALARM: {', '.join(alarms)}", ecs_rolls_back=False)
            if head is None or not self.rollouts.runs(head.task_definition, record.version):
                raise RolloutFailedError(what, f"the service no longer runs {record.version}", ecs_rolls_back=False)
            left = end - self.ctx.clock.monotonic()
            if left <= 0:
                return record
            self.ctx.clock.sleep(min(step.poll_seconds, left))

    def _complete(self, step: Complete, record: ReleaseRecord) -> ReleaseRecord:
        final = records.finished(records.advance(record, Phase.PROMOTED, weight=100), Outcome.PROMOTED, self.ctx.clock, None, self.ctx.by)
        records.commit(self.ctx.engine, record, None, {records.LAST_RELEASE: records.encode(final)}, finish=True)
        self.last = final
        self.ctx.reporter.note(f"released: {step.colour} runs {record.version}")
        return final

    # --- rolling back -------------------------------------------------------------

    def settled_on(self, colour: Colour, version: str, timeout: float) -> None:
        """Wait until the colour's PRIMARY deployment runs ``version`` and is COMPLETED; StepFailure (infrastructure) if not."""
        cluster, service = live_service(self, colour)
        deadline = self.ctx.clock.monotonic() + timeout
        seen = "not read yet"
        while True:
            try:
                deployments = self.rollouts.deployments(cluster, service)
                head = primary(deployments)
                seen = describe(deployments)
                if head is not None and head.rollout_state == COMPLETED and self.rollouts.runs(head.task_definition, version):
                    self.ctx.reporter.note(f"verified: {colour}'s PRIMARY deployment runs {version} and is COMPLETED")
                    return
            except TransientAwsError as exc:
                seen = f"AWS answered {exc.code}"
            if self.ctx.clock.monotonic() + ROLLBACK_POLL > deadline:
                msg = f"verifying that {colour} runs {version} again"
                raise StepFailure(
                    msg, f"ECS's PRIMARY deployment of {service} did not reach COMPLETED with {version} within {timeout:g}s "
                    f"(last seen: {seen})",
                    f"`aws ecs describe-services --cluster {cluster} --services {service}` shows its deployments and events; once "
                    f"the PRIMARY one runs {version} and is COMPLETED, `python -m release abort --stack {self.ctx.stack}` puts "
                    f"release:versions.{colour} back to {version}",
                    infrastructure=True,
                )
            self.ctx.clock.sleep(ROLLBACK_POLL)


def roll_back(
    ctx: Context, record: ReleaseRecord, reason: str, runner: RollingRunner, *, ecs_rolls_back: bool, outcome: Outcome,
    by: str, exact: bool,
) -> ReleaseRecord:
    """End a rolling release on the old version: ECS's rollback verified first, then the config back in one update."""
    colour, old = Colour(record.colour), record.previous
    config = ctx.engine.get_config()
    versions = json.loads(config.get("release:versions") or "{}")
    rolled = versions.get(colour.value) == record.version
    changes: dict[str, str] = {}
    if rolled:
        if ecs_rolls_back:
            # Nothing is written until ECS's own rollback holds: the old image PRIMARY and COMPLETED.
            runner.settled_on(colour, old, ROLLBACK_TIMEOUT)
        versions[colour.value] = old
        changes["release:versions"] = json.dumps(versions, separators=(",", ":"))
    # One write of the record and the config, one update (which also takes the migration task back), then verified:
    # the service runs the old image, COMPLETED.
    final = runner.end(
        # Ended before the roll, nothing was rolled back: the release was aborted.
        record, outcome if rolled else Outcome.ABORTED, changes, f"release {record.id}: {colour} back to {old}: {reason}", None,
        (lambda: runner.settled_on(colour, old, ROLLBACK_TIMEOUT)) if rolled else (lambda: None),
        by=by, exact=exact, reason=reason,
    )
    ctx.reporter.note(f"rolled back: {colour} runs {old}, release:versions.{colour} is {old}" if rolled
                      else f"ended before the rollout: {colour} still runs {old}")
    return final
