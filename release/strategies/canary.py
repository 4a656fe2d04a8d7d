"""A canary's and a blue-green release's own steps; blue-green is a canary of one 100% step.

They deploy the candidate, scale it for each share, shift, bake under the analysis, promote, and retire the old
colour after the backup window.
"""

from __future__ import annotations

import json
from datetime import datetime

from components.config import Colour, ConfigError, load
from components.config.release_analysis import AnalysisConfig
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.aws.base import TransientAwsError, TransientGrace, wait_until
from release.context import Context, Poll
from release.judgement.analysis import Analysis, Verdict
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS, required_tasks
from release.strategies.control import end_control
from release.strategies.decommission import retire
from release.strategies.environment import HOLD_MINUTES, Environment, EnvironmentCheck, Window, live_against_itself
from release.strategies.failure import StepFailure
from release.strategies.runner import StepRunner
from release.strategies.steps import Bake, Deploy, EndControl, Promote, Retire, Shift
from release.strategies.timing import Timing


class CanaryRunner(StepRunner):
    """The step runner of a canary or blue-green release."""

    def __init__(self, ctx: Context, timing: Timing, environment: EnvironmentCheck | None = None) -> None:
        super().__init__(ctx, timing)
        self.environment = environment
        """Whether the environment, not the candidate, explains a bake's figures; None: ``live_against_itself``."""
        self.step_shift: datetime | None = None
        """When this run last shifted: the start of the step's own minutes."""
        self.holds: list[str] = []
        """Why each bake of this run held for the environment, in order."""

    def scale_for(self, step: Shift, record: ReleaseRecord) -> ReleaseRecord:
        """Capacity before traffic: scale the candidate for its share of live's running tasks and wait until they run.

        Returns the record as written (a scaling writes it, moving its revision on).
        """
        live_running = self.running(step.candidate.other) if step.headroom is not None else None
        if step.headroom is None or live_running is None:
            return record
        config = load(self.ctx.engine.get_config(), self.ctx.stack)
        standby = config.fleet.standby_count
        tasks = required_tasks(live_running, step.served, step.headroom, standby)
        if tasks > max(standby, config.release.candidate_tasks):
            record = self._write({CANDIDATE_TASKS: str(tasks)}, record)
            self._update(f"release {record.id}: scale {step.candidate} to {tasks} tasks for {step.served}%")
        try:
            wait_until(lambda: self.runs(step.candidate, tasks), self.ctx.clock, what=f"{step.candidate} running {tasks} tasks",
                       timeout=step.timeout_seconds, interval=15)
        except Exception as exc:
            msg = f"scaling {step.candidate} for {step.served}%"
            raise StepFailure(
                msg, str(getattr(exc, "why", exc)),
                f"check the {step.candidate} service's events (capacity, quotas); no more traffic was sent to it",
            ) from exc
        self.ctx.reporter.note(f"{step.candidate} runs {tasks} task(s) for {step.served}% of {live_running} live task(s)")
        return record

    def _deploy(self, step: Deploy, record: ReleaseRecord) -> ReleaseRecord:
        config = load(self.ctx.engine.get_config(), self.ctx.stack)
        release = config.release
        versions = {"blue": release.versions.blue, "green": release.versions.green, step.colour.value: step.version}
        changes = {"release:versions": json.dumps(versions, separators=(",", ":"))}
        if config.fleet.standby_count == 0 and release.candidate_tasks == 0 and self._services() is not None:
            # A candidate kept at 0 tasks (fleet:candidateCount 0) needs one to be deployed and checked at all.
            changes[CANDIDATE_TASKS] = "1"
        record = self._write(changes, record)
        self._update(f"release {record.id}: {step.version} on {step.colour}")
        try:
            wait_until(lambda: self.healthy(step.colour), self.ctx.clock, what=f"{step.colour} becoming healthy",
                       timeout=step.timeout_seconds, interval=15)
        except Exception as exc:
            msg = f"deploying {step.version} to {step.colour}"
            raise StepFailure(
                msg, str(getattr(exc, "why", exc)),
                f"check the {step.colour} service's events and logs; no traffic was moved",
            ) from exc
        return self._write({}, records.advance(record, Phase.DEPLOYED))

    def _shift(self, step: Shift, record: ReleaseRecord) -> ReleaseRecord:
        record = self.scale_for(step, record)
        if self.first_shift is None:
            self.first_shift = self.ctx.clock.now()
        record = self._write({"release:canaryWeight": str(step.served)}, records.advance(record, Phase.SHIFTING))
        control = f", {step.candidate.other} keeps {100 - step.served}% as the control" if step.served < step.weight else ""
        self._update(f"release {record.id}: {step.served}% to {step.candidate}{control} (step {step.number}/{step.total})")
        self.verify(step.candidate, step.served)
        self.step_shift = self.ctx.clock.now()
        # The record keeps the step's own weight: a resumed release walks the same steps (release/rollback/resume.py).
        return self._write({}, records.advance(record, Phase.SHIFTING, weight=step.weight))

    def _bake(self, step: Bake, record: ReleaseRecord) -> ReleaseRecord:
        outputs = self._outputs()
        candidate = Colour(record.colour)
        limits = self.ctx.thresholds or self._analysis_settings()
        analysis = Analysis(self.ctx.aws.cloudwatch, outputs, limits)
        environment = self.environment or live_against_itself(analysis, self.ctx.aws.cloudwatch, outputs, limits)
        start = self.ctx.clock.monotonic()
        # The candidate is judged on everything since the first shift of this run (a resumed run: this bake).
        since = self.first_shift or self.ctx.clock.now()
        released, shifted = since, self.step_shift or since
        fresh: datetime | None = None  # a hold's last poll: the drifts that tell the environment count from it on
        rebaked: datetime | None = None  # the end of a hold: the step's own test counts from it on
        weights = {candidate.value: step.served, candidate.other.value: 100 - step.served}
        extended = False
        held: float | None = None
        undecided: float | None = None  # when the bake began holding on an undecided verdict after its extension
        reads = TransientGrace(self.ctx.clock)
        while True:
            # Ended elsewhere (abort, promote, rollback from another shell): stop before writing anything.
            record = self._renew(record)
            now = self.ctx.clock.now()
            try:
                verdict = analysis.judge(candidate, since, now, shifted, fresh, controlled=step.served < step.weight,
                                         rebaked=rebaked)
                elapsed = self.ctx.clock.monotonic() - start
                remaining, overtime = step.seconds - elapsed, max(0.0, elapsed - step.seconds)
                window = Window(released, shifted, now, control=step.served < step.weight, held=held is not None)
                # A hold asks at every poll until it ends; so does the analysis's own hold verdict.
                asks = not verdict.ok or verdict.hold or remaining <= 0 or held is not None
                found = environment(candidate, window, verdict) if asks else Environment(False)
            except TransientAwsError as exc:
                self._unanswered(reads, exc, step)
                continue
            reads.clear()
            self.ctx.reporter.bake(Poll(now, max(0.0, remaining), weights, verdict, overtime, candidate.value))
            # Worse than live's traffic of the same minutes: the environment, however unhealthy, does not explain it.
            blamed = verdict.against_control
            if (found.unhealthy or held is not None) and not blamed:
                if found.unhealthy:
                    held = self._hold(step, record, verdict, found, held)
                else:
                    self.ctx.reporter.note(
                        f"the environment is healthy again after {(self.ctx.clock.monotonic() - (held or 0.0)) / 60:.1f} min; "
                        f"the bake at {step.served}% starts again, judging {candidate} on its minutes since "
                        f"{since:%H:%M:%S}")
                    held, rebaked = None, now
                # The candidate's evidence is kept: each poll of the hold judges it against the control of the same
                # minutes (checks.py: valid whatever rate the environment gives both colours). Whether the environment
                # is unhealthy is asked of the minutes from here on, and the bake starts again once it is well.
                fresh, start, extended, undecided = now, self.ctx.clock.monotonic(), False, None
                self.ctx.clock.sleep(step.poll_seconds)
                continue
            if not verdict.ok:
                self.timing.events.append((self.ctx.clock.monotonic(), "analysis-failed"))
                msg = f"bake at {step.served}%"
                why = "; ".join(verdict.reasons)
                if found.unhealthy:
                    why += f"; worse than live's control in the same minutes, which the environment does not explain ({found.why})"
                raise StepFailure(msg, why, self._status())
            if remaining <= 0:
                # The low-traffic rule: wait for the minimum sample up to extendMinutes, then hold: never a pass.
                if not verdict.undecided:
                    return record
                if overtime >= limits.low_traffic.extend_minutes * 60:
                    undecided = self._undecided(step, record, verdict, undecided)
                elif not extended:
                    extended = True
                    self.ctx.reporter.note(f"bake extended up to {limits.low_traffic.extend_minutes} min for the minimum sample: "
                                           + "; ".join(c.summary for c in verdict.undecided))
            self.ctx.clock.sleep(min(step.poll_seconds, remaining) if remaining > 0 else step.poll_seconds)

    def _undecided(self, step: Bake, record: ReleaseRecord, verdict: Verdict, since: float | None) -> float:
        """Still undecided after the extension: hold (weights kept, an alert), judging on; end after HOLD_MINUTES.

        Too little evidence is never a pass (docs/releasing.md, "Too little traffic"): the candidate is not promoted
        on no evidence, nor blamed; the release ends with the candidate back to 0 as the safe state, exit 3.
        """
        now = self.ctx.clock.monotonic()
        why = "; ".join(c.summary for c in verdict.undecided)
        if since is None:
            self.timing.events.append((now, "undecided-hold"))
            self.ctx.reporter.note(f"held at {step.served}%, not promoted: too little evidence to judge the candidate "
                                   f"after the {step.seconds / 60:g}-min bake and its extension: {why}")
            self._alert(record, f"held at {step.served}%: too little evidence to judge the candidate",
                        f"{why}. The release holds its weights and keeps judging; after {HOLD_MINUTES} min undecided "
                        f"it sends the candidate back to 0.")
            return now
        if now - since >= HOLD_MINUTES * 60:
            msg = f"bake at {step.served}%"
            raise StepFailure(
                msg, f"too little evidence to judge the candidate, still undecided {HOLD_MINUTES} min after the bake's "
                f"extension: {why}; never promoted on no evidence, the candidate goes back to 0 as the safe state",
                f"send more traffic (or lower release:analysis minimum samples), then release {record.version} again; "
                f"{self._status()}", infrastructure=True,
            )
        return since

    def _hold(self, step: Bake, record: ReleaseRecord, verdict: Verdict, found: Environment, held: float | None) -> float:
        """Hold at this step for an unhealthy environment: weights kept, an alert naming it; give up after HOLD_MINUTES.

        The candidate is judged through the hold (``_bake``): worse than the control of the same minutes aborts it.
        """
        now = self.ctx.clock.monotonic()
        failed = f" (the verdict: {'; '.join(verdict.reasons)})" if verdict.reasons else ""
        if held is None:
            self.timing.events.append((now, "environment-hold"))
            self.ctx.reporter.note(f"held at {step.served}%, not aborted: {found.why}{failed}")
            self.holds.append(found.why)
            self._alert(record, f"held at {step.served}%: the environment is unhealthy",
                        f"{found.why}{failed}. The release holds its weights and keeps judging the candidate against "
                        f"live's traffic of the same minutes (worse: aborted); the bake starts again once the environment "
                        f"is well; after {HOLD_MINUTES} min it sends the candidate back to 0.")
            return now
        if now - held >= HOLD_MINUTES * 60:
            msg = f"bake at {step.served}%"
            raise StepFailure(
                msg, f"{found.why}, for {HOLD_MINUTES} min; the candidate was not judged worse than live's traffic of the "
                f"same minutes, and goes back to 0 as the safe state",
                f"fix the environment, then release {record.version} again; {self._status()}", infrastructure=True,
            )
        return held

    def _alert(self, record: ReleaseRecord, subject: str, message: str) -> None:
        topic = self._outputs().get("alert_topic_arn")
        if topic:
            self.ctx.aws.sns.publish(str(topic), f"{self.ctx.stack}: release {record.id} {subject}", message)

    def _analysis_settings(self) -> AnalysisConfig:
        try:
            return load(self.ctx.engine.get_config(), self.ctx.stack).release.analysis
        except ConfigError as exc:
            msg = "stack config"
            raise StepFailure(msg, "; ".join(exc.problems), f"fix the config of {self.ctx.stack}") from exc

    def _unanswered(self, reads: TransientGrace, exc: TransientAwsError, step: Bake) -> None:
        """A poll whose reads AWS kept refusing: poll again, until the grace period runs out."""
        if not reads.tolerate():
            msg = f"bake at {step.served}%"
            why = f"{exc.what}: AWS answered {exc.code} for {reads.seconds:g}s; the candidate cannot be judged"
            raise StepFailure(msg, why, self._status(), infrastructure=True) from exc
        self.ctx.reporter.note(f"{exc.what}: AWS answered {exc.code}; polling again in {step.poll_seconds:g}s")
        self.ctx.clock.sleep(step.poll_seconds)

    def _promote(self, step: Promote, record: ReleaseRecord) -> ReleaseRecord:
        return self.promote(step.colour, record, control=step.control)

    def promote(
        self, colour: Colour, record: ReleaseRecord, *, by: str | None = None, exact: bool = True, control: int = 0,
    ) -> ReleaseRecord:
        """Make ``colour`` live, verified; the record becomes the last release.

        ``control``: the old colour keeps this percent as the control through the backup window (a promotion from
        another shell passes none: no driver is left to end it).
        """
        changes = {"release:live": colour.value, "release:canaryWeight": str(control)}
        old_running = self.running(colour.other)
        if old_running is not None:
            # The old live colour keeps what it runs until the new live has scaled (the Retire step).
            changes[CANDIDATE_TASKS] = str(old_running)
        return self.end(
            record, Outcome.PROMOTED, changes,
            f"release {record.id}: promote {colour} ({record.version}) to live", None,
            # The new live colour is now the one that is not the candidate: it serves all but the control share.
            lambda: self.verify(colour.other, control), by=by or self.ctx.by, exact=exact, phase=Phase.PROMOTED, weight=100,
        )

    def _retire(self, step: Retire, record: ReleaseRecord) -> ReleaseRecord:
        ending = (lambda kept: end_control(self.ctx, kept, step.colour, self._update, self.verify)) if step.control else None
        return retire(self.ctx, step, record, self.healthy, self._update, ending)

    def _endcontrol(self, step: EndControl, record: ReleaseRecord) -> ReleaseRecord:
        return end_control(self.ctx, record, step.colour, self._update, self.verify)
