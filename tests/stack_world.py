"""A small, fast stack for rollback tests: config and history in memory, the load balancer in moto.

``FakeStack`` is a ``StackEngine`` whose update validates the config with the
real models, writes the listener's forward weights to moto (as the real
program's listener would) and registers a target for each colour whose version
changed, unless that colour is "scaled down". It counts what each update
touched, honouring targets, so tests can assert on every update issued.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import botocore.session
from moto import mock_aws

from components.config import Colour, ConfigError, load
from offline.stacks import ProjectFiles
from rehearsal.world.healthy_traffic import HealthyTraffic
from release.aws.ecs import TaskRun, TaskSpec
from release.clock import ManualClock
from release.context import Aws, Context, SilentReporter
from release.engine import HistoryEntry, StackBusyError, UpdateFailedError, UpdateResult
from release.state import RELEASE_KEYS, StateConflictError
from release.state.record import LAST_RELEASE, commit, in_progress, leased, new_record
from release.strategies.executor import Executor, Result
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Bake, Shift

LISTENER_URN = "urn:pulumi:staging::release-platform::aws:lb/listener:Listener::web-http"


@dataclass
class Runner:
    """The migration task: records each run and exits with ``exit_code``.

    With a ``clock`` and ``seconds``, the task takes that long on the clock, read every 10 s as ECS's wait reads it,
    calling the driver's heartbeat before each read; ``during`` runs once the time has passed, before the task stops.
    """

    exit_code: int = 0
    runs: list[TaskSpec] = field(default_factory=list)
    started: list[tuple[str, float]] = field(default_factory=list)
    """Each run's ``startedBy`` and timeout, as ECS's RunTask and its wait were given them."""
    clock: ManualClock | None = None
    seconds: float = 0.0
    during: Callable[[], None] | None = None

    def run(self, spec: TaskSpec, started_by: str, timeout: float, heartbeat: Callable[[], None] | None = None) -> TaskRun:
        self.runs.append(spec)
        self.started.append((started_by, timeout))
        if self.clock is not None:
            waited = 0.0
            while waited < self.seconds:
                if heartbeat is not None:
                    heartbeat()
                self.clock.sleep(10)
                waited += 10
        if self.during is not None:
            self.during()
        return TaskRun(task_arn=f"arn:aws:ecs:eu-west-1:123456789012:task/web/{len(self.runs)}", exit_code=self.exit_code)


_BUILDERS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _builder(session: Any, service: str) -> Any:
    """The client that builds worlds and plays the stack's updates, one per service and session.

    A boto3 client costs about 12 ms to create (its event hooks copied, its endpoint resolved), and a module builds
    dozens of worlds. Sharing these is safe: faults are hooked into the driver's own clients (``w.ctx.aws``), which
    stay one set per world.
    """
    clients = _BUILDERS.setdefault(session, {})
    if service not in clients:
        clients[service] = session.client(service)
    return clients[service]


class FakeStack:
    """The staging stack's release config over a load balancer in moto."""

    def __init__(self, session: Any, clock: ManualClock, stack: str = "staging", prefix: str = "web") -> None:
        self.stack = stack
        self.prefix = prefix
        self.clock = clock
        config, _ = ProjectFiles.here().stack_config(stack)
        self.config = config
        self.busy_with: str | None = None
        self.revision = 1
        self.scaled_down: set[Colour] = set()
        self.listener_ignores = False
        """The load balancer takes updates of the listener without serving the new weights (an update reported applied)."""
        self.entries: list[HistoryEntry] = []
        self.issued: list[dict[str, Any]] = []
        self._build(session)
        self._applied: dict[str, Any] = {}
        self._registered: dict[Colour, tuple[str, str]] = {}
        self._ip = 10
        self.update("initial deployment")
        self.issued.clear()

    def _build(self, session: Any) -> None:
        p = self.prefix
        ec2 = _builder(session, "ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))
        ]
        self.elb = _builder(session, "elbv2")
        lb = self.elb.create_load_balancer(Name=p, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.groups = {
            c: self.elb.create_target_group(Name=f"{p}-{c.value}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")
            ["TargetGroups"][0]["TargetGroupArn"]
            for c in Colour
        }
        self.listener = self.elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.groups[Colour.BLUE]}],
        )["Listeners"][0]["ListenerArn"]
        cw = _builder(session, "cloudwatch")
        for c in Colour:
            cw.put_metric_alarm(AlarmName=f"{p}-{c.value}-health", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold")
            cw.set_alarm_state(AlarmName=f"{p}-{c.value}-health", StateValue="OK", StateReason="start")
        self.release_token = f"{p}-release-token-0123456789abcdef0123456789"
        self.token_secret = _builder(session, "secretsmanager").create_secret(
            Name=f"{p}-release-token", SecretString=self.release_token)["ARN"]
        _builder(session, "rds").create_db_instance(
            DBInstanceIdentifier=f"{p}-db", DBInstanceClass="db.t4g.micro", Engine="postgres",
            MasterUsername="app", MasterUserPassword="moto-only", AllocatedStorage=20,
        )

    # --- StackEngine -----------------------------------------------------------

    def get_config(self) -> dict[str, str]:
        return dict(self.config)

    def set_config(self, values: Mapping[str, str]) -> None:
        self.config.update(values)

    def remove_config(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.config.pop(key, None)

    def read_release(self) -> tuple[dict[str, str], str]:
        return {k: v for k, v in self.config.items() if k in RELEASE_KEYS}, str(self.revision)

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        if expect_etag != str(self.revision):
            raise StateConflictError("writing the release state", "it changed since it was read", "read it again")
        self.set_config(changes)
        self.remove_config(removals)
        self.revision += 1
        return str(self.revision)

    def outputs(self) -> dict[str, Any]:
        release = load(self.config, self.stack).release
        return {
            "listener_arn": self.listener, "listener_urn": LISTENER_URN,
            "target_group_arns": {c.value: self.groups[c] for c in Colour},
            "load_balancer_arn_suffix": f"app/{self.prefix}/1",
            "target_group_arn_suffixes": {c.value: f"targetgroup/{self.prefix}-{c.value}/1" for c in Colour},
            "endpoint_url": "http://live.example", "health_check_path": "/health",
            "candidate_route": {"token_header": "X-Release-Token", "colour_header": "X-Release-Colour"},
            "release_token_secret_arn": self.token_secret,
            "composite_alarm_names": {c.value: f"{self.prefix}-{c.value}-health" for c in Colour},
            "database_identifier": f"{self.prefix}-db",
            "migration": {"cluster": "web", "task_definition_arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-migrate:1",
                          "subnets": ["subnet-a"], "security_groups": ["sg-a"], "container_name": "migrate",
                          "migrate_command": ["npm", "run", "migrate"], "rollback_command": ["npm", "run", "migrate:rollback"]},
            "live_colour": release.live.value,
            "versions": {"blue": release.versions.blue, "green": release.versions.green},
        }

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        if self.busy_with:
            raise StackBusyError(f"update of stack {self.stack}", f"another update holds stack {self.stack} ({self.busy_with})", "wait")
        try:
            release = load(self.config, self.stack).release
        except ConfigError as exc:
            raise UpdateFailedError(f"update of stack {self.stack}", "; ".join(exc.problems), "fix it") from exc
        weights = {c.value: release.weight_of(c) for c in Colour}
        versions = {c.value: release.versions.of(c) for c in Colour}
        changed: list[str] = []
        if weights != self._applied.get("weights"):
            changed.append(LISTENER_URN)
        changed.extend(f"service-{c}" for c in Colour if versions[c.value] != self._applied.get("versions", {}).get(c.value))
        if targets is not None:
            changed = [urn for urn in changed if urn in targets]
        if LISTENER_URN in changed and not self.listener_ignores:
            groups = [{"TargetGroupArn": self.groups[Colour(c)], "Weight": w} for c, w in weights.items()]
            action = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
            self.elb.modify_listener(ListenerArn=self.listener, DefaultActions=[action])
            self._applied["weights"] = weights
        for c in Colour:
            if f"service-{c}" in changed:
                self._fleet(c, versions[c.value])
                self._applied.setdefault("versions", {})[c.value] = versions[c.value]
        version = len(self.entries) + 1
        counts = {"update": len(changed)} if changed else {"same": 1}
        self.entries.insert(0, HistoryEntry(version, message, dict(self.config), "succeeded", self.clock.now(), self.clock.now(), counts))
        self.issued.append({"message": message, "targets": list(targets) if targets else None, "weights": weights, "changed": changed})
        return UpdateResult(version=version, changed=tuple(changed), counts=counts)

    def _fleet(self, colour: Colour, version: str) -> None:
        current = self._registered.pop(colour, None)
        if current is not None:
            self.elb.deregister_targets(TargetGroupArn=self.groups[colour], Targets=[{"Id": current[1], "Port": 8080}])
        if colour in self.scaled_down:
            return
        ip = f"10.0.1.{self._ip}"
        self._ip += 1
        self.elb.register_targets(TargetGroupArn=self.groups[colour], Targets=[{"Id": ip, "Port": 8080}])
        self._registered[colour] = (version, ip)

    def scale_down(self, colour: Colour) -> None:
        """Take a colour's targets away, as scaling its service to 0 would."""
        self.scaled_down.add(colour)
        current = self._registered.pop(colour, None)
        if current is not None:
            self.elb.deregister_targets(TargetGroupArn=self.groups[colour], Targets=[{"Id": current[1], "Port": 8080}])

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        return list(self.entries if limit is None else self.entries[:limit])

    def holder(self) -> str | None:
        return self.busy_with

    # --- for assertions --------------------------------------------------------------

    def served(self) -> dict[str, int]:
        """Colour -> weight moto's listener serves now."""
        action = self.elb.describe_listeners(ListenerArns=[self.listener])["Listeners"][0]["DefaultActions"][0]
        by_arn = {arn: c.value for c, arn in self.groups.items()}
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
        total = sum(int(g.get("Weight", 1)) for g in groups) or 1
        found = {c.value: 0 for c in Colour}
        found.update({by_arn[g["TargetGroupArn"]]: round(100 * int(g.get("Weight", 1)) / total) for g in groups})
        return found

    def release_config(self) -> Any:
        return load(self.config, self.stack).release

    def set_release(self, **values: Any) -> None:
        """Set release keys the way `pulumi config set` would (objects JSON-encoded)."""
        self.config.update({f"release:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()})


@dataclass
class World:
    """A FakeStack, its AWS wrappers and a Context to drive it."""

    stack: FakeStack
    ctx: Context
    runner: Runner
    clock: ManualClock
    probes: list[str]
    probe_headers: list[dict[str, str]]


_COUNT = [0]


_BOTOCORE: list[botocore.session.Session] = []


@contextmanager
def aws_session() -> Iterator[Any]:
    """One moto session for a test module: moto's first EC2 call of a session costs seconds, later ones nothing.

    Every module's session shares one botocore session, whose loader keeps the service models and endpoint data it
    has read (botocore/loaders.py, ``instance_cache``): a fresh one read them again, about 0.5 s of CPU a module.
    moto's backends are still each module's own (``mock_aws`` resets them).
    """
    if not _BOTOCORE:
        _BOTOCORE.append(botocore.session.get_session())
    with mock_aws():
        yield boto3.Session(region_name="eu-west-1", aws_access_key_id="moto", aws_secret_access_key="moto",  # noqa: S106
                            botocore_session=_BOTOCORE[0])


def world(session: Any, by: str = "alice@laptop", probe_status: int = 200, clock: ManualClock | None = None,
          *, extend_minutes: int | None = None) -> World:
    """A fresh stack (its own load balancer, groups, alarms and database) with a driver context over it.

    This world serves no traffic, so the analysis never has its minimum sample and every bake runs on for the
    low-traffic rule's ``extendMinutes`` (10 by default), polled as ``release`` asks. ``extend_minutes`` sets it, the
    stack's other analysis settings kept, for tests whose subject is not how a bake ends.
    """
    _COUNT[0] += 1
    clock = clock or ManualClock()
    fake = FakeStack(session, clock, prefix=f"web{_COUNT[0]}")
    thresholds = None
    if extend_minutes is not None:
        analysis = fake.release_config().analysis
        thresholds = analysis.model_copy(update={"low_traffic": analysis.low_traffic.model_copy(update={"extend_minutes": extend_minutes})})
    runner = Runner()
    probes: list[str] = []
    headers_sent: list[dict[str, str]] = []

    def probe(url: str, headers: Mapping[str, str] | None = None) -> int:
        probes.append(url)
        headers_sent.append(dict(headers or {}))
        return probe_status

    aws = Aws.from_session(session, clock)
    ctx = Context(stack="staging", engine=fake, aws=replace(aws, cloudwatch=HealthyTraffic(session, clock)), clock=clock,
                  runner=runner, probe=probe, by=by, verify_timeout=10, thresholds=thresholds)
    return World(fake, ctx, runner, clock, probes, headers_sent)


class InterruptingClock(ManualClock):
    """A manual clock that raises KeyboardInterrupt once it has slept past ``at`` seconds, as Ctrl-C would."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.at is not None and self.monotonic() >= self.at:
            self.at = None
            raise KeyboardInterrupt


POLL_SECONDS = 60.0
"""The bakes' poll in ``release``: once a minute, where the driver's ``--poll`` default is every 10 s.

This world's traffic comes in whole minutes (``HealthyTraffic``), so a bake decides at the same minute either way
(a whole release, 14 simulated minutes both ways), and each poll judges every minute since the first shift: a
release polled every 10 s cost 1.4 s of CPU, polled every minute 0.36 s. A test whose subject is what the driver
does between two polls of a bake (another shell's write 20 s into it, Ctrl-C 30 s into it) passes
``poll_seconds=10``, the driver's own.
"""


def release(w: World, version: str, *, until_weight: int | None = None, by: str | None = None, **options: Any) -> Result:
    """Run a release of ``version`` (one-minute bakes polled every ``POLL_SECONDS``).

    ``until_weight`` stops it, still in progress, after that step's bake.
    """
    config = w.stack.release_config()
    opts = ReleaseOptions(version=version, bake_minutes=options.pop("bake_minutes", 1),
                          poll_seconds=options.pop("poll_seconds", POLL_SECONDS), **options)
    steps = plan_release(config, w.stack.outputs(), opts, "staging")
    record = new_record(config, version, (opts.strategy or config.strategy).value, w.clock, by or w.ctx.by)
    # The whole release's weights are recorded even when the test stops it early, as a real interruption would leave them.
    record = record.model_copy(update={"steps": tuple(s.weight for s in steps if isinstance(s, Shift))})
    if until_weight is None:
        return Executor(w.ctx).run(steps, record)
    end = next(i for i, s in enumerate(steps) if isinstance(s, Bake) and s.weight == until_weight)
    result = Executor(w.ctx).run(steps[: end + 1], record)
    # Stopped there as an interrupted driver stops: its lease goes with it.
    held = in_progress(w.stack)
    if held is not None:
        commit(w.stack, held, held.model_copy(update={"lease": None}))
    return result


class Notes(SilentReporter):
    """A reporter that keeps the driver's notes, in order."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def lease_taken_by(w: World, holder: str) -> Callable[[], None]:
    """Another shell taking over the release in progress: its record leased to ``holder`` (compare-and-set)."""

    def take() -> None:
        held = in_progress(w.stack)
        assert held is not None
        commit(w.stack, held, leased(held, holder, w.clock))

    return take


def targets_unhealthy(w: World, monkeypatch: Any) -> None:
    """Every target the driver's load balancer client reads fails its health checks (botocore elbv2 TargetHealth.State)."""
    client = w.ctx.aws.elbv2.client
    real = client.describe_target_health

    def unhealthy(**kwargs: Any) -> Any:
        found = real(**kwargs)
        for target in found["TargetHealthDescriptions"]:
            target["TargetHealth"] = {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch"}
        return found

    monkeypatch.setattr(client, "describe_target_health", unhealthy)


def final_write_fails(w: World, error: Exception) -> None:
    """Every write that finishes a release (its record to ``lastRelease``) raises ``error``; the others are written."""
    original = w.stack.write_release

    def loses_the_final_write(changes: Any, removals: Any, expect_etag: str) -> str:
        if LAST_RELEASE in changes:
            raise error
        return original(changes, removals, expect_etag)

    w.stack.write_release = loses_the_final_write  # type: ignore[method-assign]
