"""The AWS side of a stack, built in moto from its offline plan and outputs, and kept in step with updates.

``build`` creates what the driver talks to: a VPC and subnets, the load
balancer, both target groups with a registered target each, the production
listener with the plan's forward weights, the release token's secret (a fresh
token the health server then requires for the candidate route), the alarms, the
alert topic, the database, the cluster and the migration task definition. The
planned identifiers differ from moto's, so an ``AddressBook`` translates the
stack outputs the driver reads. After every engine update, ``World.apply``
copies the listener's forward weights from the new plan into moto and
registers the targets of a colour whose version changed (unless the scenario
keeps that colour unhealthy, or its ``starter`` -- the rehearsal's application
process of that version -- fails to start), and sets each colour's ECS service to its planned
count. The scenario's ``Faults`` say where the world disagrees with the plan: a
listener that does not take the weights of some updates, tasks that never start,
alarms already firing.

moto's limits, and what is done about each: it has no composite alarms (they
are created as metric alarms of the same name); it reports every registered IP
target healthy (an unhealthy colour simply gets no targets); it reports 0 running
tasks for Fargate services (``ServiceFleet`` supplies the running counts).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import Colour
from offline import Plan, PlannedResource
from rehearsal.world.rollout import RolloutSeam
from rehearsal.world.seams import Faults
from rehearsal.world.servers import CandidateRoute, MotoSession
from rehearsal.world.services import ServiceFleet
from release.aws.elbv2 import LoadBalancing
from release.clock import Clock
from release.engine import UpdateResult
from release.judgement.analysis import alarm_names

LISTENER = "aws:lb/listener:Listener"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


@dataclass
class AddressBook:
    """Planned identifier -> the one moto gave."""

    names: dict[str, str] = field(default_factory=dict)

    def add(self, planned: Any, actual: str) -> None:
        """Record a translation (ignored when nothing was planned)."""
        if isinstance(planned, str) and planned:
            self.names[planned] = actual

    def translate(self, value: Any) -> Any:
        """A value with every planned identifier replaced, recursively."""
        if isinstance(value, str):
            return self.names.get(value, value)
        if isinstance(value, Mapping):
            return {k: self.translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        return value


def _name_from_arn(arn: str, marker: str) -> str:
    match = re.search(rf"{marker}/(?:app/)?([^/]+)", arn)
    return match.group(1) if match else arn.rsplit(":", 1)[-1]


def _listener(plan: Plan, arn: str) -> PlannedResource | None:
    return next((r for r in plan.of_type(LISTENER) if r.outputs.get("arn") == arn), None)


def planned_weights(plan: Plan) -> dict[str, int]:
    """Planned target group ARN -> weight, from the production listener's registered inputs."""
    listener = _listener(plan, str(plan.outputs.get("listener_arn", "")))
    if listener is None:
        return {}
    for action in listener.inputs.get("defaultActions", []):
        groups = (action.get("forward") or {}).get("targetGroups") or []
        if groups:
            return {str(g["arn"]): int(g.get("weight", 1)) for g in groups}
    return {}


class World:
    """The stack's AWS side in moto."""

    def __init__(
        self, session: MotoSession, clock: Clock, health_url: str, faults: Faults | None = None,
        starter: Callable[[Colour, str], bool] | None = None, rollout: RolloutSeam | None = None,
    ) -> None:
        self.session = session
        self.starter = starter
        self.rollout = rollout
        """A rolling rehearsal's ECS deployments of the live colour (``rehearsal.world.rollout``); None: versions swap at once."""
        self.book = AddressBook()
        self.elbv2 = LoadBalancing(session, clock)
        self.faults = faults or Faults()
        self.broken = frozenset(Colour(c) for c in self.faults.unhealthy)
        self.health_url = health_url
        self.registered: dict[Colour, tuple[str, str]] = {}
        self.services = ServiceFleet(session, clock, self.faults.caps())
        self.ignored: list[str] = []
        """The kinds of update whose weights the listener did not take, in order."""
        self._first_weights: dict[str, int] = {}
        self._split: tuple[str, int] | None = None
        self._next_ip = 10
        self.route: CandidateRoute | None = None
        """The candidate route the health server must honour, once built."""

    def outputs(self, planned: Mapping[str, Any]) -> dict[str, Any]:
        """The stack outputs as the driver should see them here."""
        return {k: self.book.translate(v) for k, v in planned.items()}

    # --- build -----------------------------------------------------------------

    def build(self, plan: Plan) -> None:
        """Create the stack's AWS side from the plan."""
        out = plan.outputs
        ec2 = self.session.shared("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        zones = [f"{self.session.region}{z}" for z in ("a", "b")]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
            for i, z in enumerate(zones, start=1)
        ]
        group = ec2.create_security_group(GroupName="rehearsal", Description="rehearsal", VpcId=vpc)["GroupId"]
        migration = out.get("migration") or {}
        for planned, actual in zip(migration.get("subnets") or [], subnets, strict=False):
            self.book.add(planned, actual)
        for planned in migration.get("security_groups") or []:
            self.book.add(planned, group)
        self._load_balancer(plan, subnets, vpc)
        self._alarms(out)
        self._log_groups(plan)
        self._topic(out)
        self._database(out)
        self._cluster(out)
        self.services.build(plan, str(out.get("cluster_name") or ""))
        self.services.attach()
        self.route = self._release_token(out)
        # One name for users and smoke tests alike, as in the stack: the headers decide which colour answers.
        self.book.add(out.get("endpoint_url"), self.health_url)
        self.apply(plan)

    def _release_token(self, out: Mapping[str, Any]) -> CandidateRoute | None:
        """Store a fresh token in moto's Secrets Manager where the driver will read it."""
        route, planned = out.get("candidate_route"), out.get("release_token_secret_arn")
        if not isinstance(route, Mapping) or not isinstance(planned, str) or not planned:
            return None
        token = secrets.token_hex(32)
        name = planned.split(":secret:", 1)[-1]
        arn = self.session.shared("secretsmanager").create_secret(Name=name, SecretString=token)["ARN"]
        self.book.add(planned, arn)
        return CandidateRoute(str(route["token_header"]), token, str(route["colour_header"]))

    def _load_balancer(self, plan: Plan, subnets: list[str], vpc: str) -> None:
        out = plan.outputs
        elb = self.elbv2.client
        lb = elb.create_load_balancer(Name=_name_from_arn(str(out["load_balancer_arn"]), "loadbalancer"), Subnets=subnets)
        lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        self.book.add(out.get("load_balancer_arn"), lb_arn)
        self.book.add(out.get("load_balancer_arn_suffix"), lb_arn.split(":loadbalancer/", 1)[1])
        planned_groups = {r.outputs.get("arn"): r for r in plan.of_type(TARGET_GROUP)}
        for colour in Colour:
            planned = str(out["target_group_arns"][colour.value])
            inputs = planned_groups[planned].inputs if planned in planned_groups else {}
            name = str((out.get("target_group_names") or {}).get(colour.value) or _name_from_arn(planned, "targetgroup"))
            created = elb.create_target_group(
                Name=name, Protocol=str(inputs.get("protocol", "HTTP")), Port=int(inputs.get("port", 8080)), VpcId=vpc,
                TargetType="ip", HealthCheckPath=str(out.get("health_check_path") or "/health"),
            )["TargetGroups"][0]["TargetGroupArn"]
            self.book.add(planned, created)
            self.book.add((out.get("target_group_arn_suffixes") or {}).get(colour.value), created.split(":", 5)[5])
        weights = {self.book.translate(arn): w for arn, w in planned_weights(plan).items()}
        port = int((_listener(plan, str(out["listener_arn"])) or _Empty()).inputs.get("port", 80))
        listener = elb.create_listener(
            LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": arn, "Weight": w} for arn, w in weights.items()]}}],
        )["Listeners"][0]["ListenerArn"]
        self.book.add(out.get("listener_arn"), listener)

    def _alarms(self, out: Mapping[str, Any]) -> None:
        cw = self.session.shared("cloudwatch")
        names: list[str] = []
        for colour in Colour:
            names.extend((out.get("alarm_names") or {}).get(colour.value) or [])
            composite = (out.get("composite_alarm_names") or {}).get(colour.value)
            if composite:
                names.append(str(composite))
        for name in names:
            cw.put_metric_alarm(
                AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold",
            )
            # moto leaves new alarms in INSUFFICIENT_DATA; a running stack's alarms are OK.
            cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="rehearsal start")
        for failing in self.faults.alarms:
            for name in alarm_names(out, Colour(failing)):
                cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=f"rehearsal: {failing} failing before the release")

    def _log_groups(self, plan: Plan) -> None:
        """Each colour's log group, and the plan's metric filters on them as the stack declares them."""
        logs = self.session.shared("logs")
        filters = plan.of_type(METRIC_FILTER)
        groups = {str(g) for g in (plan.outputs.get("log_group_names") or {}).values() if g}
        for group in sorted(groups | {str(r.inputs["logGroupName"]) for r in filters}):
            logs.create_log_group(logGroupName=group)
        for resource in filters:
            inputs, transform = resource.inputs, resource.inputs.get("metricTransformation") or {}
            logs.put_metric_filter(
                logGroupName=str(inputs["logGroupName"]), filterName=str(inputs["name"]), filterPattern=str(inputs["pattern"]),
                metricTransformations=[{
                    "metricName": str(transform["name"]), "metricNamespace": str(transform["namespace"]),
                    "metricValue": str(transform["value"]),
                    **({"defaultValue": float(transform["defaultValue"])} if transform.get("defaultValue") not in (None, "") else {}),
                }],
            )

    def _topic(self, out: Mapping[str, Any]) -> None:
        if out.get("alert_topic_arn"):
            arn = self.session.shared("sns").create_topic(Name=str(out["alert_topic_arn"]).rsplit(":", 1)[-1])["TopicArn"]
            self.book.add(out["alert_topic_arn"], arn)

    def _database(self, out: Mapping[str, Any]) -> None:
        if out.get("database_identifier"):
            self.session.shared("rds").create_db_instance(
                DBInstanceIdentifier=str(out["database_identifier"]), DBInstanceClass="db.t4g.micro", Engine="postgres",
                MasterUsername="app", MasterUserPassword="rehearsal-only", AllocatedStorage=20,  # noqa: S106 - moto's
            )

    def _cluster(self, out: Mapping[str, Any]) -> None:
        migration = out.get("migration") or {}
        cluster = str(migration.get("cluster") or out.get("cluster_name") or "")
        if not cluster:
            return
        ecs = self.session.shared("ecs")
        # The contract allows the cluster's name or its ARN.
        created = ecs.create_cluster(clusterName=cluster.rsplit("cluster/", 1)[-1])["cluster"]["clusterArn"]
        if cluster.startswith("arn:"):
            self.book.add(cluster, created)
        self._task_definition(out)

    def _task_definition(self, out: Mapping[str, Any]) -> None:
        """Register the migration task definition; each deploy of a new version plans a new revision."""
        migration = out.get("migration") or {}
        planned = migration.get("task_definition_arn")
        if not planned or planned in self.book.names:
            return
        family = _name_from_arn(str(planned), "task-definition").split(":")[0]
        container = {"name": str(migration.get("container_name") or "migrate"), "image": "app", "cpu": 256, "memory": 512}
        arn = self.session.shared("ecs").register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"]
        self.book.add(planned, arn)

    # --- after each update ------------------------------------------------------

    def apply(self, plan: Plan, result: UpdateResult | None = None) -> None:
        """Bring moto in line with a new plan: forward weights and the fleet of each colour."""
        out = plan.outputs
        self._task_definition(out)
        self._weights(plan)
        self.services.apply(plan)
        versions = out.get("versions") or {}
        if self.route is not None:
            # The listener rules follow the colours' versions (components/traffic.py, colour_token).
            self.route.versions.update({str(c): str(v) for c, v in versions.items()})
        for colour in Colour:
            version = str(versions.get(colour.value, ""))
            current = self.registered.get(colour)
            if current is not None and current[0] == version:
                continue
            group = self.book.translate(out["target_group_arns"][colour.value])
            if current is not None:
                self.elbv2.client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": current[1], "Port": 8080}])
                del self.registered[colour]
            if self.rollout is not None and current is not None and colour is self.rollout.colour:
                # Rolling: ECS replaces the colour's tasks in place, and may fail and roll the deployment back.
                started = self.rollout.begin(plan, self.services.cluster, self.services.names[colour], current[0], version)
            else:
                started = self.starter(colour, version) if self.starter is not None else True
            if not started or (colour in self.broken and current is not None):
                continue  # its new tasks never pass health checks, so nothing is registered
            ip = f"10.0.1.{self._next_ip}"
            self._next_ip += 1
            self.elbv2.client.register_targets(TargetGroupArn=group, Targets=[{"Id": ip, "Port": 8080}])
            self.registered[colour] = (version, ip)

    def _weights(self, plan: Plan) -> None:
        """Mirror the plan's forward weights into moto, unless the scenario's listener ignores this kind of update."""
        out = plan.outputs
        weights = {self.book.translate(arn): w for arn, w in planned_weights(plan).items()}
        live = str(out.get("live_colour", ""))
        groups = out.get("target_group_arns") or {}
        # The split as the listener itself is planned: a targeted update (an abort) re-evaluates no outputs.
        candidate_group = self.book.translate(groups.get(Colour(live).other.value)) if live else None
        split = (live, int(weights.get(candidate_group, 0)) if candidate_group else 0)
        kind = _kind(self._split, split)
        self._split = split
        if not self._first_weights:
            self._first_weights = dict(weights)
        elif kind in self.faults.listener_ignores:
            self.ignored.append(kind)
            if not self.faults.listener_reverts:
                return
            weights = self._first_weights
        self.elbv2.set_forward_weights(self.book.translate(out["listener_arn"]), weights)

    def served_weights(self, planned_outputs: Mapping[str, Any]) -> dict[str, int]:
        """Colour -> weight the moto listener serves now."""
        raw = self.elbv2.forward_weights(self.book.translate(planned_outputs["listener_arn"]))
        by_arn = {self.book.translate(arn): colour for colour, arn in planned_outputs["target_group_arns"].items()}
        return {by_arn.get(arn, arn): w for arn, w in raw.items()}


def _kind(before: tuple[str, int] | None, after: tuple[str, int]) -> str:
    """What an update did to the split (live colour, candidate weight): shift, promote, abort or other."""
    if before is None:
        return "other"
    if before[0] != after[0]:
        return "promote"
    if after[1] > before[1]:
        return "shift"
    if after[1] == 0 < before[1]:
        return "abort"
    return "other"


class _Empty:
    inputs: dict[str, Any] = {}  # noqa: RUF012 - a read-only default
