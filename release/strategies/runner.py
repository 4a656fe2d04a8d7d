"""The step runner every strategy shares, and the steps every plan takes.

It holds the record's compare-and-set writes, updates, what the listener and the colours' services answer, a
release's ending (old state or new, never half), and the preflight, backup, migration, smoke test and
notification. Each step type is one method, ``_<step name>``.

A canary's and a blue-green release's own steps are ``canary.py``'s; a rolling release's are ``rolling.py``'s.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from components.config import Colour, ConfigError, ReleaseConfig, load
from components.config.release_record import MigrationRun, Outcome, Phase, ReleaseRecord
from release.aws.base import TransientAwsError, wait_until
from release.aws.ecs import TaskSpec
from release.context import Context
from release.engine import EngineError
from release.judgement.analysis import alarm_names
from release.state import record as records
from release.strategies.candidate import MissingRouteError, candidate_headers, curl_command
from release.strategies.failure import StepFailure, UnfinishedEndingError, UnknownStateError
from release.strategies.reversibility import migration_reversible
from release.strategies.steps import Backup, Migrate, Notify, Preflight, Smoke, Step
from release.strategies.timing import Timing

ENDING_POLL = 5.0
"""Seconds between two reads of a record another shell is ending."""
_ADOPTIONS = 8


class StepRunner:
    """Runs one step at a time and keeps the record up to date; the steps every strategy takes."""

    def __init__(self, ctx: Context, timing: Timing) -> None:
        self.ctx = ctx
        self.timing = timing
        self.engine_seconds = 0.0
        self.holder = f"{ctx.by} (pid {os.getpid()})"
        self.last: ReleaseRecord | None = None
        """The record as this runner last wrote it: what it holds."""
        self.first_shift: datetime | None = None

    def run(self, step: Step, record: ReleaseRecord) -> ReleaseRecord:
        """Run a step; return the record as it stands after it."""
        handler = getattr(self, f"_{step.name}")
        result: ReleaseRecord = handler(step, record)
        return result

    def _status(self) -> str:
        return f"python -m release status --stack {self.ctx.stack}"

    def _check(self, merged: dict[str, str]) -> None:
        """The whole config must still validate, so the next update cannot refuse it."""
        try:
            load(merged, self.ctx.stack)
        except ConfigError as exc:
            msg = "stack config"
            raise StepFailure(msg, "; ".join(exc.problems), f"fix the config of {self.ctx.stack}") from exc

    def _write(self, changes: Mapping[str, str], record: ReleaseRecord, *, new: bool = False) -> ReleaseRecord:
        """Compare-and-set the record (lease renewed) with config changes; the record as written.

        The stored record must still be the one this runner holds (``new``: none
        may be in progress); otherwise ``ReleaseEndedError`` says who ended or
        changed it, and nothing is written.
        """
        waited, adopted = 0.0, 0
        while True:
            try:
                written = records.commit(self.ctx.engine, None if new else record, records.leased(record, self.holder, self.ctx.clock),
                                         changes, check=self._check)
            except records.ReleaseEndedError as exc:
                stored = exc.stored
                if new or stored is None or stored.id != record.id or stored.outcome is not None:
                    raise
                if stored.ending is not None and waited < records.ENDING_WAIT.total_seconds():
                    # Another shell is ending the release: its ending finishes (then this driver stops, saying so) or
                    # fails and is put back (then the release is still this driver's). Wait and see, bounded.
                    self.ctx.clock.sleep(ENDING_POLL)
                    waited += ENDING_POLL
                    continue
                if stored.ending is None and self.owns(stored) and adopted < _ADOPTIONS:
                    # Same release, no mark, this driver's lease: another shell's ending failed and put it back.
                    adopted += 1
                    self.ctx.reporter.note(f"release {record.id} was marked elsewhere and put back; it is still this driver's")
                    record = record.model_copy(update={"revision": stored.revision})
                    continue
                raise
            assert written is not None  # noqa: S101 - commit returns the record it was given
            self.last = written
            return written

    def owns(self, stored: ReleaseRecord) -> bool:
        """Whether a stored record carries this driver's lease."""
        return stored.lease is not None and stored.lease.holder == self.holder[:160]

    def _renew(self, record: ReleaseRecord) -> ReleaseRecord:
        """Renew the lease when it is due; check the record is still ours either way."""
        lease = record.lease
        if lease is None or self.ctx.clock.now() - lease.renewed_at >= records.RENEW_AFTER:
            return self._write({}, record)
        values, _ = self.ctx.engine.read_release()
        stored = records.decode(values.get(records.IN_PROGRESS))
        if stored is None or stored.id != record.id or stored.revision != record.revision or stored.ending is not None:
            return self._write({}, record)  # raises, saying who ended or changed it
        return record

    def _update(self, message: str, targets: list[str] | None = None) -> None:
        self.timing.events.append((self.ctx.clock.monotonic(), f"update: {message}"))
        began = time.perf_counter()
        try:
            self.ctx.engine.update(message, targets)
        finally:
            self.engine_seconds += time.perf_counter() - began

    def _outputs(self) -> dict[str, Any]:
        return self.ctx.engine.outputs()

    def _group_arn(self, colour: Colour) -> str:
        groups = self._outputs().get("target_group_arns") or {}
        return str(groups.get(colour.value, ""))

    def verify(self, candidate: Colour, weight: int) -> dict[str, int]:
        """Wait (bounded) until the listener serves ``weight`` percent to the candidate; return what it serves."""
        outputs = self._outputs()
        listener = str(outputs.get("listener_arn", ""))
        by_arn = {str(arn): colour for colour, arn in (outputs.get("target_group_arns") or {}).items()}
        expected = {candidate.value: weight, candidate.other.value: 100 - weight}
        seen: dict[str, int] = {}
        unread: list[str] = []

        def serves() -> tuple[bool, str]:
            try:
                raw = self.ctx.aws.elbv2.forward_weights(listener)
            except TransientAwsError as exc:
                unread.append(exc.code)
                raise
            unread.clear()
            total = sum(raw.values())
            seen.clear()
            seen.update({by_arn.get(arn, arn): round(100 * w / total) if total else 0 for arn, w in raw.items()})
            return seen == expected, json.dumps(seen, sort_keys=True)

        try:
            wait_until(serves, self.ctx.clock, what=f"listener {listener}", timeout=self.ctx.verify_timeout, interval=5)
        except Exception as exc:
            msg = "verifying the listener"
            if unread:
                # A read AWS refused says nothing of what is served: unknown, never reported as the old weights.
                raise UnknownStateError(
                    msg, f"the update was applied, but what the load balancer serves is unknown: AWS answered {unread[-1]} "
                    f"to the last {len(unread)} reads of the listener over {self.ctx.verify_timeout:g}s; it should serve "
                    f"{json.dumps(expected, sort_keys=True)}",
                    f"`aws elbv2 describe-listeners --listener-arns {listener}` shows what it serves; the release stays marked: "
                    f"run the same command again once AWS answers, and it verifies and finishes; {self._status()}",
                    infrastructure=True,
                ) from exc
            raise StepFailure(
                msg, f"the load balancer did not take the new weights: it should serve {json.dumps(expected, sort_keys=True)} "
                f"but after {self.ctx.verify_timeout:g}s still serves {json.dumps(seen, sort_keys=True)}",
                f"`aws elbv2 describe-listeners --listener-arns {listener}` shows what it serves; {self._status()}",
                infrastructure=True,
            ) from exc
        self.ctx.reporter.note(f"verified: the listener serves {json.dumps(seen, sort_keys=True)}")
        return dict(seen)

    def healthy(self, colour: Colour) -> tuple[bool, str]:
        """Whether a colour's targets are registered and healthy and its service runs what it should."""
        targets = self.ctx.aws.elbv2.target_health(self._group_arn(colour))
        if not targets:
            return False, f"no targets registered in {colour}'s target group"
        sick = [f"{t.id}:{t.state}" for t in targets if t.state != "healthy"]
        if sick:
            return False, f"{colour} targets not healthy: {', '.join(sick)}"
        outputs = self._outputs()
        services = outputs.get("service_names") or {}
        if outputs.get("cluster_name") and services.get(colour.value):
            running, desired = self.ctx.aws.ecs.running_count(str(outputs["cluster_name"]), str(services[colour.value]))
            if desired == 0 or running < desired:
                return False, f"{colour} service runs {running} of {desired} tasks"
        return True, f"{len(targets)} healthy target(s)"

    def _services(self) -> tuple[str, Mapping[str, Any]] | None:
        outputs = self._outputs()
        services = outputs.get("service_names")
        if not outputs.get("cluster_name") or not isinstance(services, Mapping) or not services:
            return None
        return str(outputs["cluster_name"]), services

    def running(self, colour: Colour) -> int | None:
        """How many tasks a colour's service runs now; None when the stack exports no services."""
        found = self._services()
        if found is None:
            return None
        cluster, services = found
        return self.ctx.aws.ecs.running_count(cluster, str(services[colour.value]))[0]

    def runs(self, colour: Colour, tasks: int) -> tuple[bool, str]:
        """Whether a colour runs at least ``tasks`` tasks and is healthy."""
        running = self.running(colour)
        if running is not None and running < tasks:
            return False, f"{colour} runs {running} of the {tasks} tasks it needs"
        return self.healthy(colour)

    def _preflight(self, step: Preflight, record: ReleaseRecord) -> ReleaseRecord:
        config = self.ctx.engine.get_config()
        try:
            release = load(config, self.ctx.stack).release
        except ConfigError as exc:
            msg = "preflight"
            why = "the stack config is invalid: " + "; ".join(exc.problems)
            raise StepFailure(msg, why, f"fix the config of {self.ctx.stack}") from exc
        if release.in_progress is not None:
            msg = "preflight"
            raise StepFailure(
                msg, f"release {release.in_progress.id} of {release.in_progress.version} is in progress, "
                f"held by {release.in_progress.started_by} since {release.in_progress.started_at:%Y-%m-%d %H:%M} UTC",
                f"`python -m release abort --stack {self.ctx.stack}` or `python -m release promote --stack {self.ctx.stack}`",
            )
        self._refuse_weighted_candidate(release, record)
        ok, state = self.healthy(step.live)
        if not ok:
            msg = "preflight"
            raise StepFailure(msg, f"the live colour is not healthy: {state}", self._status())
        alarms = alarm_names(self._outputs(), step.live)
        firing = [n for n, s in self.ctx.aws.cloudwatch.alarm_states(alarms).items() if s == "ALARM"] if alarms else []
        if firing:
            msg = "preflight"
            raise StepFailure(msg, f"live alarms in ALARM: {', '.join(firing)}", self._status())
        try:
            return self._write({}, record, new=True)
        except records.ReleaseInProgressError as exc:
            msg = "preflight"
            raise StepFailure(msg, exc.why, f"`python -m release abort --stack {self.ctx.stack}` or "
                              f"`python -m release promote --stack {self.ctx.stack}`") from exc

    def _refuse_weighted_candidate(self, release: ReleaseConfig, record: ReleaseRecord) -> None:
        """A candidate that serves traffic with no release in progress would get the new version before any check."""
        if release.canary_weight == 0:
            return
        colour, stack = release.candidate, self.ctx.stack
        msg = "preflight"
        raise StepFailure(
            msg, f"the candidate {colour} ({release.versions.of(colour)}) serves {release.canary_weight}% with no release in "
            f"progress; deploying {record.version} onto it would send that traffic to a version nothing has checked",
            f"send its traffic back first: `pulumi config set release:canaryWeight 0 -s {stack}` and `pulumi up -s {stack}`, "
            "then release again",
        )

    def _backup(self, step: Backup, record: ReleaseRecord) -> ReleaseRecord:
        taken = self.ctx.aws.rds.fresh_snapshot(step.instance, step.snapshot_id)
        self.ctx.reporter.note(f"snapshot {taken} available")
        return self._write({}, records.advance(record, Phase.BACKED_UP, snapshot=taken))

    def _migrate(self, step: Migrate, record: ReleaseRecord) -> ReleaseRecord:
        found = self._outputs().get("migration") or {}
        spec = TaskSpec(
            cluster=str(found.get("cluster", "")), task_definition_arn=str(found.get("task_definition_arn", "")),
            subnets=tuple(found.get("subnets") or ()), security_groups=tuple(found.get("security_groups") or ()),
            container_name=str(found.get("container_name", "")), command=step.command,
        )
        held: list[ReleaseRecord | None] = [record]

        def renew() -> None:
            # A migration may take its whole 30-minute timeout and writes nothing meanwhile: the lease is renewed
            # between the task's reads, so another shell's resume (whose clock may run ahead) never takes over.
            # Another shell ending the release shows at the write after the task, as before; only renewals stop here.
            if held[0] is None:
                return
            try:
                held[0] = self._renew(held[0])
            except (records.ReleaseEndedError, EngineError) as exc:
                self.ctx.reporter.note(f"the lease was not renewed during the migration: {exc}")
                held[0] = None

        run = self.ctx.runner.run(spec, f"release {record.id}", step.timeout_seconds, renew)
        record = held[0] or self.last or record
        reversible = migration_reversible(self.ctx.engine.get_config(), step.reversible, found.get("reversible"))
        record = self._write({}, records.advance(
            record, migration=MigrationRun(task=run.task_arn, exit_code=run.exit_code, reversible=reversible)))
        if run.exit_code != 0:
            keep = f"; snapshot {record.snapshot} is kept" if record.snapshot else ""
            msg = "migration"
            raise StepFailure(
                msg, f"task {run.task_arn} exited with {run.exit_code} {run.reason}".strip() + keep,
                f"read the task's logs; restore from snapshot {record.snapshot} if the data is damaged" if record.snapshot
                else "read the task's logs",
            )
        return self._write({}, records.advance(record, Phase.MIGRATED))

    def _smoke(self, step: Smoke, record: ReleaseRecord) -> ReleaseRecord:
        outputs = self._outputs()
        url = str(outputs.get(step.endpoint_output, "")).rstrip("/") + step.path
        headers: dict[str, str] = {}
        if step.colour is not None:
            try:
                headers = candidate_headers(outputs, step.colour, self.ctx.aws.secrets)
            except MissingRouteError as exc:
                msg = "smoke test"
                raise StepFailure(msg, str(exc), f"pulumi up --stack {self.ctx.stack}") from None
        status = 0
        for attempt in range(step.attempts):
            status = self.ctx.probe(url, headers)
            if 200 <= status < 300:
                self.ctx.reporter.note(f"smoke test {url}: {status}")
                if record.phase is not Phase.PROMOTED:
                    record = self._write({}, records.advance(record, Phase.SMOKE_TESTED))
                return record
            if attempt < step.attempts - 1:
                self.ctx.clock.sleep(5)
        msg = "smoke test"
        raise StepFailure(msg, f"GET {url} answered {status or 'nothing'} after {step.attempts} attempts",
                          f"{curl_command(url, headers, outputs)}; check the candidate's logs")

    def end(
        self, record: ReleaseRecord, outcome: Outcome, changes: records.Changes, message: str,
        targets: list[str] | None | Callable[[Mapping[str, str]], list[str] | None],
        verify: Callable[[], object], *, by: str, exact: bool, reason: str | None = None,
        phase: Phase | None = None, weight: int | None = None, new: bool = False, expect_last: str | None = None,
    ) -> ReleaseRecord:
        """End a release: old state or new state, never half.

        1. Mark the record as being ended (with the config changes), compare-and-set:
           a driver running elsewhere stops before its next write.
        2. Update the stack and verify what the listener serves.
        3. Move the record to ``lastRelease``. If step 2 fails (engine failure, a
           busy stack, Ctrl-C, a listener that does not follow), the changed keys
           and the record are put back as they were and the error is raised.
           Killed between 1 and 3, the marked record stays in progress: ``status``
           shows it and the same command run again finishes it.

        ``new``: the record is not in progress yet (a rollback's own record); none
        may be, and the last release must still be ``expect_last``.

        Not ``exact`` (a command from another shell): the mark goes on the record as
        stored at the write, and ``changes`` (with ``targets``, a function of the
        changes decided) may be decided from the release state read for that write.
        Once the update is applied and verified, a final write that fails leaves the
        marked record, and the error says the outcome happened and which command
        finishes the record (never an abort of what was done).
        """
        before = self.ctx.engine.get_config()
        decided: dict[str, str] = {}
        old: dict[str, str | None] = {}
        """Each changed key's value before the ending; None: it was not set, and putting it back removes it."""

        def decide(values: Mapping[str, str]) -> Mapping[str, str]:
            found = dict(changes(values) if callable(changes) else changes or {})
            now = {**before, **values}
            decided.clear()
            decided.update(found)
            old.clear()
            old.update({key: now.get(key) for key in found})
            return found

        def mark(stored: ReleaseRecord | None) -> ReleaseRecord:
            # A command from another shell marks the record as it is now, never its own older copy.
            base = stored if stored is not None and not exact and not new else record
            return records.ending(base, outcome, by, self.ctx.clock)

        marked = records.commit(self.ctx.engine, None if new else record, mark, decide, exact=exact, check=self._check,
                                expect_last=expect_last)
        assert marked is not None  # noqa: S101 - commit returns the record it was given
        self.last = marked
        try:
            self._update(message[:1000], targets(decided) if callable(targets) else targets)
            verify()
        except UnknownStateError:
            # Applied but unread: the marked record stays, as after a kill here; the same command finishes it.
            raise
        except (Exception, KeyboardInterrupt) as exc:
            self._restore(marked, old, exc, new)
            raise
        final = records.finished(records.advance(marked, phase, weight=weight), outcome, self.ctx.clock, reason, by)
        try:
            records.commit(self.ctx.engine, marked, None, {records.LAST_RELEASE: records.encode(final)}, finish=True)
        except (EngineError, records.ReleaseEndedError) as exc:
            raise self._unfinished(marked, outcome, phase, weight, exc) from exc
        # The ended record is what this driver last wrote: a step that fails after it (the live smoke test after a
        # promotion) is reported on the release as it ended, never taken for the marked one and aborted.
        self.last = final
        return final

    def _unfinished(self, marked: ReleaseRecord, outcome: Outcome, phase: Phase | None, weight: int | None,
                    cause: EngineError | records.ReleaseEndedError) -> UnfinishedEndingError:
        """The ending's update applied and verified, its final write did not: say so, and what finishes the record."""
        command = records.finishing_command(outcome)
        msg = command
        return UnfinishedEndingError(
            msg, f"{outcome}; the record is not finished: {cause.what}: {cause.why}",
            f"python -m release {command} --stack {self.ctx.stack}  (finishes the record)", infrastructure=True,
            record=records.advance(marked, phase, weight=weight),
        )

    def _restore(self, marked: ReleaseRecord, old: Mapping[str, str | None], cause: BaseException, new: bool = False) -> None:
        values = {key: value for key, value in old.items() if value is not None}
        added = [key for key, value in old.items() if value is None]
        try:
            if new:  # the record was ours alone: it goes, with the keys
                restored = records.commit(self.ctx.engine, marked, None, values, finish=True, remove=added)
            else:
                restored = records.commit(self.ctx.engine, marked, marked.model_copy(update={"ending": None}), values, remove=added)
        except Exception as exc:  # noqa: BLE001 - the first failure is the one raised; this one is reported
            self.ctx.reporter.note(f"could not put the release state back after {type(cause).__name__}: {exc}")
            return
        self.last = restored

    def _notify(self, step: Notify, record: ReleaseRecord) -> ReleaseRecord:
        topic = str(self._outputs().get(step.topic_output, ""))
        summary = {
            "stack": self.ctx.stack, "release": record.id, "version": record.version, "live": record.colour.value,
            "previous": record.previous, "outcome": record.outcome.value if record.outcome else None,
            "snapshot": record.snapshot, "by": record.started_by,
        }
        self.ctx.aws.sns.publish(topic, f"{self.ctx.stack}: {record.version} released to {record.colour}", json.dumps(summary, indent=2))
        return record
