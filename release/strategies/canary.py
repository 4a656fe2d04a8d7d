"""A canary's and a blue-green release's own steps; blue-green is a canary of one 100% step.

They deploy the candidate, scale it for each share, shift, bake under the analysis, promote, and retire the old
colour after the backup window.
"""

from __future__ import annotations

import json

from components.config import Colour, ConfigError, load
from components.config.release_analysis import AnalysisConfig
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.aws.base import TransientAwsError, TransientGrace, wait_until
from release.context import Poll
from release.judgement.analysis import Analysis
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS, required_tasks
from release.strategies.decommission import retire
from release.strategies.failure import StepFailure
from release.strategies.runner import StepRunner
from release.strategies.steps import Bake, Deploy, Promote, Retire, Shift


class CanaryRunner(StepRunner):
    """The step runner of a canary or blue-green release."""

    def scale_for(self, step: Shift, record: ReleaseRecord) -> ReleaseRecord:
        """Capacity before traffic: scale the candidate for its share of live's running tasks and wait until they run.

        Returns the record as written (a scaling writes it, moving its revision on).
        """
        live_running = self.running(step.candidate.other) if step.headroom is not None else None
        if step.headroom is None or live_running is None:
            return record
        config = load(self.ctx.engine.get_config(), self.ctx.stack)
        standby = config.fleet.standby_count
        tasks = required_tasks(live_running, step.weight, step.headroom, standby)
        if tasks > max(standby, config.release.candidate_tasks):
            record = self._write({CANDIDATE_TASKS: str(tasks)}, record)
            self._update(f"release {record.id}: scale {step.candidate} to {tasks} tasks for {step.weight}%")
        try:
            wait_until(lambda: self.runs(step.candidate, tasks), self.ctx.clock, what=f"{step.candidate} running {tasks} tasks",
                       timeout=step.timeout_seconds, interval=15)
        except Exception as exc:
            msg = f"scaling {step.candidate} for {step.weight}%"
            raise StepFailure(
                msg, str(getattr(exc, "why", exc)),
                f"check the {step.candidate} service's events (capacity, quotas); no more traffic was sent to it",
            ) from exc
        self.ctx.reporter.note(f"{step.candidate} runs {tasks} task(s) for {step.weight}% of {live_running} live task(s)")
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
        record = self._write({"release:canaryWeight": str(step.weight)}, records.advance(record, Phase.SHIFTING))
        self._update(f"release {record.id}: {step.weight}% to {step.candidate} (step {step.number}/{step.total})")
        self.verify(step.candidate, step.weight)
        return self._write({}, records.advance(record, Phase.SHIFTING, weight=step.weight))

    def _bake(self, step: Bake, record: ReleaseRecord) -> ReleaseRecord:
        outputs = self._outputs()
        candidate = Colour(record.colour)
        limits = self.ctx.thresholds or self._analysis_settings()
        analysis = Analysis(self.ctx.aws.cloudwatch, outputs, limits)
        start = self.ctx.clock.monotonic()
        # The candidate is judged on everything since the first shift of this run (a resumed run: this bake).
        since = self.first_shift or self.ctx.clock.now()
        weights = {candidate.value: step.weight, candidate.other.value: 100 - step.weight}
        extended = False
        reads = TransientGrace(self.ctx.clock)
        while True:
            # Ended elsewhere (abort, promote, rollback from another shell): stop before writing anything.
            record = self._renew(record)
            try:
                verdict = analysis.judge(candidate, since, self.ctx.clock.now())
            except TransientAwsError as exc:
                self._unanswered(reads, exc, step)
                continue
            reads.clear()
            elapsed = self.ctx.clock.monotonic() - start
            remaining, overtime = step.seconds - elapsed, max(0.0, elapsed - step.seconds)
            self.ctx.reporter.bake(Poll(self.ctx.clock.now(), max(0.0, remaining), weights, verdict, overtime, candidate.value))
            if not verdict.ok:
                self.timing.events.append((self.ctx.clock.monotonic(), "analysis-failed"))
                msg = f"bake at {step.weight}%"
                raise StepFailure(msg, "; ".join(verdict.reasons), self._status())
            if remaining <= 0:
                # The low-traffic rule: wait for the minimum sample up to extendMinutes, then the alarms alone decide.
                if not verdict.undecided:
                    return record
                if overtime >= limits.low_traffic.extend_minutes * 60:
                    self.ctx.reporter.note("too little traffic to judge; the alarms alone decided: "
                                           + "; ".join(c.summary for c in verdict.undecided))
                    return record
                if not extended:
                    extended = True
                    self.ctx.reporter.note(f"bake extended up to {limits.low_traffic.extend_minutes} min for the minimum sample: "
                                           + "; ".join(c.summary for c in verdict.undecided))
            self.ctx.clock.sleep(min(step.poll_seconds, remaining) if remaining > 0 else step.poll_seconds)

    def _analysis_settings(self) -> AnalysisConfig:
        try:
            return load(self.ctx.engine.get_config(), self.ctx.stack).release.analysis
        except ConfigError as exc:
            msg = "stack config"
            raise StepFailure(msg, "; ".join(exc.problems), f"fix the config of {self.ctx.stack}") from exc

    def _unanswered(self, reads: TransientGrace, exc: TransientAwsError, step: Bake) -> None:
        """A poll whose reads AWS kept refusing: poll again, until the grace period runs out."""
        if not reads.tolerate():
            msg = f"bake at {step.weight}%"
            why = f"{exc.what}: AWS answered {exc.code} for {reads.seconds:g}s; the candidate cannot be judged"
            raise StepFailure(msg, why, self._status(), infrastructure=True) from exc
        self.ctx.reporter.note(f"{exc.what}: AWS answered {exc.code}; polling again in {step.poll_seconds:g}s")
        self.ctx.clock.sleep(step.poll_seconds)

    def _promote(self, step: Promote, record: ReleaseRecord) -> ReleaseRecord:
        return self.promote(step.colour, record)

    def promote(self, colour: Colour, record: ReleaseRecord, *, by: str | None = None, exact: bool = True) -> ReleaseRecord:
        """Make ``colour`` live with weight 0, verified; the record becomes the last release."""
        changes = {"release:live": colour.value, "release:canaryWeight": "0"}
        old_running = self.running(colour.other)
        if old_running is not None:
            # The old live colour keeps what it runs until the new live has scaled (the Retire step).
            changes[CANDIDATE_TASKS] = str(old_running)
        return self.end(
            record, Outcome.PROMOTED, changes,
            f"release {record.id}: promote {colour} ({record.version}) to live", None,
            # The new live colour is now the one that is not the candidate: it serves 100.
            lambda: self.verify(colour.other, 0), by=by or self.ctx.by, exact=exact, phase=Phase.PROMOTED, weight=100,
        )

    def _retire(self, step: Retire, record: ReleaseRecord) -> ReleaseRecord:
        return retire(self.ctx, step, record, self.healthy, self._update)
