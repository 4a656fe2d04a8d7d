"""The steps of a release, as frozen data: what a release will do, before anything runs.

The planner turns config and options into a list of these; the executor runs
them; the dry run prints them. Each step says which stack config it changes and
how long it is expected to take, so the plan can be read before it is run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.config import Colour


@dataclass(frozen=True)
class Step:
    """Base of every step."""

    def describe(self) -> str:
        """One line for people."""
        raise NotImplementedError

    def config_change(self) -> Mapping[str, object]:
        """The stack config this step sets (empty when it changes none)."""
        return {}

    def expected_seconds(self) -> float:
        """How long the step is expected to take."""
        return 30.0

    @property
    def name(self) -> str:
        """The step's kind, e.g. ``shift``."""
        return type(self).__name__.lower()


@dataclass(frozen=True)
class Preflight(Step):
    """Config valid, no release in progress, the live colour healthy."""

    live: Colour

    def describe(self) -> str:
        """One line for people."""
        return f"preflight: config valid, no release in progress, {self.live} healthy"

    def expected_seconds(self) -> float:
        """Reads only."""
        return 5.0


@dataclass(frozen=True)
class Backup(Step):
    """Snapshot the database and wait until the snapshot is available."""

    instance: str
    snapshot_id: str
    """The name's start; the snapshot taken is ``<snapshot_id>-<UTC time>``, new for every release."""

    def describe(self) -> str:
        """One line for people."""
        return f"back up database {self.instance} as a new snapshot {self.snapshot_id}-<UTC time>"

    def expected_seconds(self) -> float:
        """Snapshots of a small instance take minutes."""
        return 300.0


@dataclass(frozen=True)
class Deploy(Step):
    """Put the version on the candidate colour (stack update), then wait until its targets are healthy."""

    colour: Colour
    version: str
    timeout_seconds: float = 600.0

    def describe(self) -> str:
        """One line for people."""
        return f"deploy {self.version} to {self.colour}, wait until its targets are healthy"

    def config_change(self) -> Mapping[str, object]:
        """The candidate's version."""
        return {f"release:versions.{self.colour}": self.version}

    def expected_seconds(self) -> float:
        """An ECS rolling deployment."""
        return 180.0


@dataclass(frozen=True)
class Migrate(Step):
    """Run the migration task and require exit code 0."""

    command: tuple[str, ...]
    timeout_seconds: float = 1800.0
    reversible: bool | None = None
    """Whether the rollback command undoes it; None: the stack's ``data:migrationReversible`` (default true)."""

    def describe(self) -> str:
        """One line for people."""
        return f"run the migration task: {' '.join(self.command)}"

    def expected_seconds(self) -> float:
        """Start-up of a Fargate task plus the migration."""
        return 120.0


@dataclass(frozen=True)
class Smoke(Step):
    """GET the health path through an endpoint output; require 2xx within a few attempts."""

    endpoint_output: str
    path: str
    attempts: int = 5
    colour: Colour | None = None
    """Reach this colour through its header-matched rule (the candidate route); None: whatever the weights serve."""

    def describe(self) -> str:
        """One line for people."""
        where = f"the candidate route to {self.colour}" if self.colour is not None else "the public endpoint"
        return f"smoke test {self.path} through {where}"

    def expected_seconds(self) -> float:
        """A handful of requests."""
        return 5.0


@dataclass(frozen=True)
class Shift(Step):
    """Scale the candidate for its share, wait until it runs; set its weight (stack update), then verify the listener."""

    candidate: Colour
    weight: int
    number: int
    total: int
    headroom: float | None = None
    """Scale the candidate to carry this multiple of its share of live's running tasks first; None: no ECS services to scale."""
    timeout_seconds: float = 600.0
    """How long the candidate's new tasks may take to run and pass health checks."""
    control: int = 0
    """Percent the live colour keeps as a concurrent control when the step would leave it less (``release:controlWeight``)."""

    @property
    def served(self) -> int:
        """The candidate's share of the listener at this step: the step's weight, but for the control share."""
        return min(self.weight, 100 - self.control)

    def describe(self) -> str:
        """One line for people."""
        scale = "" if self.headroom is None else (
            f"scale {self.candidate} to {self.served}% of {self.candidate.other}'s running tasks x{self.headroom:g}, "
            "wait until they run; ")
        control = f" ({self.candidate.other} keeps {100 - self.served}% as the control)" if self.served < self.weight else ""
        return f"step {self.number}/{self.total}: {scale}send {self.served}% to {self.candidate}{control}, verify the listener"

    def config_change(self) -> Mapping[str, object]:
        """The candidate's weight."""
        return {"release:canaryWeight": self.served}


@dataclass(frozen=True)
class Bake(Step):
    """Watch the candidate for a while; any failure aborts (the candidate back to 0)."""

    weight: int
    seconds: float
    poll_seconds: float = 10.0
    control: int = 0
    """The control share live keeps at this step (``Shift.control``)."""

    @property
    def served(self) -> int:
        """The candidate's share of the listener while it bakes."""
        return min(self.weight, 100 - self.control)

    def describe(self) -> str:
        """One line for people."""
        return (f"bake {self.seconds / 60:g} min at {self.served}%: alarms, then the 5xx and latency tests against live's "
                f"traffic of the same minutes, every {self.poll_seconds:g}s; held while live degrades too, aborted if worse "
                f"than live in the same minutes")

    def expected_seconds(self) -> float:
        """The bake time."""
        return self.seconds


@dataclass(frozen=True)
class Promote(Step):
    """Make the candidate live with weight 0 (stack update), verified; the old colour stays as the backup."""

    colour: Colour
    control: int = 0
    """Percent the old colour keeps serving as the control through the backup window (``release:controlWeight``)."""

    def describe(self) -> str:
        """One line for people."""
        keeps = f" and {self.control}% of the traffic as the control" if self.control else ""
        return f"promote {self.colour} to live; {self.colour.other} keeps running as the backup{keeps}"

    def config_change(self) -> Mapping[str, object]:
        """Live colour and weight: the old colour, now the other one, keeps the control share."""
        return {"release:live": self.colour.value, "release:canaryWeight": self.control}


@dataclass(frozen=True)
class Retire(Step):
    """Keep the old live colour as the backup for a window; scale it to standby only if the new live stayed well."""

    colour: Colour
    """The old live colour."""
    timeout_seconds: float = 600.0
    backup_seconds: float = 0.0
    """How long the old colour keeps running as the backup (``release:backupMinutes``)."""
    poll_seconds: float = 10.0
    """How often the new live colour's health and release alarms are read during the window."""
    control: int = 0
    """The control share the old colour serves through the window; sent to the new live colour before the scale-down."""

    def describe(self) -> str:
        """One line for people."""
        live = self.colour.other
        end = f"send {self.colour}'s {self.control}% control share to {live}, verified, and " if self.control else ""
        return (f"keep {self.colour} running as the backup for {self.backup_seconds / 60:g} min while {live} stays healthy "
                f"with no release alarm (read every {self.poll_seconds:g}s); then {end}scale {self.colour} down to its "
                "standby count")

    def config_change(self) -> Mapping[str, object]:
        """The old colour's count back to standby, once the window passed well."""
        return {"release:candidateTasks": 0}

    def expected_seconds(self) -> float:
        """The backup window and the scale-down's update."""
        return self.backup_seconds + 30.0


@dataclass(frozen=True)
class EndControl(Step):
    """After the promotion: the old colour's control share goes to the new live colour (stack update), verified."""

    colour: Colour
    """The old live colour, which served the control."""
    control: int

    def describe(self) -> str:
        """One line for people."""
        return f"send {self.colour}'s {self.control}% control share to {self.colour.other}: it serves 100%, verify the listener"

    def config_change(self) -> Mapping[str, object]:
        """No more control share."""
        return {"release:canaryWeight": 0}

    def expected_seconds(self) -> float:
        """One targeted update."""
        return 30.0


@dataclass(frozen=True)
class Notify(Step):
    """Send the release summary to the alert topic."""

    topic_output: str = "alert_topic_arn"

    def describe(self) -> str:
        """One line for people."""
        return "notify: the release summary to the alert topic"

    def expected_seconds(self) -> float:
        """One API call."""
        return 1.0


# --- a rolling release: the live colour updated in place by ECS (docs/releasing.md, "Which strategy") ---------


@dataclass(frozen=True)
class Stage(Step):
    """Revise the migration task to the version being released (stack update), before anything runs it."""

    version: str

    def describe(self) -> str:
        """One line for people."""
        return f"revise the migration task to {self.version} (stack update; the live service is untouched)"


@dataclass(frozen=True)
class Roll(Step):
    """Put the version on the live colour itself (one stack update); ECS replaces its tasks in place."""

    colour: Colour
    version: str

    def describe(self) -> str:
        """One line for people."""
        return f"roll {self.version} onto {self.colour} in place (stack update: its task definition and service)"

    def config_change(self) -> Mapping[str, object]:
        """The live colour's version."""
        return {f"release:versions.{self.colour}": self.version}

    def expected_seconds(self) -> float:
        """The stack update; the rollout itself is watched by the next step."""
        return 60.0


@dataclass(frozen=True)
class Watch(Step):
    """Poll ECS's deployment of the live service until it completes, and the live colour's release alarms meanwhile."""

    colour: Colour
    version: str
    timeout_seconds: float = 1200.0
    """How long the rollout may take to complete before the driver rolls it back."""
    poll_seconds: float = 15.0

    def describe(self) -> str:
        """One line for people."""
        return (f"watch ECS roll {self.version} out on {self.colour} (rolloutState IN_PROGRESS to COMPLETED, up to "
                f"{self.timeout_seconds / 60:g} min) and {self.colour}'s release alarms, every {self.poll_seconds:g}s")

    def expected_seconds(self) -> float:
        """Replacing the tasks and ECS's own bake of the deployment alarms."""
        return 600.0


@dataclass(frozen=True)
class Settle(Step):
    """After the rollout: watch the live colour's release alarms for ``release:rolling.bakeMinutes``."""

    colour: Colour
    seconds: float
    poll_seconds: float = 15.0

    def describe(self) -> str:
        """One line for people."""
        return f"bake {self.seconds / 60:g} min: {self.colour}'s release alarms and its deployment, every {self.poll_seconds:g}s"

    def expected_seconds(self) -> float:
        """The bake time."""
        return self.seconds


@dataclass(frozen=True)
class Complete(Step):
    """The rolling release is done: its record becomes the last release, promoted (no config change)."""

    colour: Colour

    def describe(self) -> str:
        """One line for people."""
        return f"record the release as done: {self.colour} runs it"

    def expected_seconds(self) -> float:
        """One write."""
        return 1.0
