"""The fleet: an ECS cluster and, per colour, a Fargate service running that colour's version.

Each colour has its own task definition family and service, registered to its
own target group, so changing the candidate's version touches only the
candidate. The live colour runs ``desiredCount`` tasks (and scales, when
autoscaling is on); the candidate runs its standby count, which by default
keeps the previous colour running as the backup after a promotion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config.release import Colour, ReleaseConfig, Strategy
from components.fleet_iam import FleetRoles, FleetRolesArgs

CONTAINER = "app"
_Metric = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs


@dataclass
class ScalingArgs:
    """Target tracking for the services; bounds per colour."""

    bounds: Mapping[Colour, tuple[int, int]]
    """(min, max) tasks per colour."""
    cpu_target_percent: int
    """Average CPU to keep each colour at."""
    requests_per_target: int
    """Requests per task per minute to keep each colour at."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """The load balancer's ARN suffix (for the request-count metric)."""
    target_group_arn_suffixes: Mapping[Colour, pulumi.Input[str]]
    """Each colour's target group ARN suffix (for the request-count metric)."""


@dataclass
class FleetArgs:
    """Inputs of a ``Fleet``."""

    cluster_name: str
    """Physical name of the ECS cluster."""
    service_names: Mapping[Colour, str]
    """Physical name of each colour's service."""
    families: Mapping[Colour, str]
    """Task definition family of each colour."""
    image_repository: str
    """The image repository URL (ECR); a colour runs ``<image_repository>:<version>``."""
    versions: Mapping[Colour, str]
    """Image tag per colour."""
    desired_counts: Mapping[Colour, int]
    """Tasks per colour."""
    target_group_arns: Mapping[Colour, pulumi.Input[str]]
    """The target group each colour registers to."""
    routes: Mapping[Colour, Sequence[pulumi.Resource]]
    """What forwards to each colour's target group (listener, rule): its service is created after them."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets the tasks run in."""
    security_group_id: pulumi.Input[str]
    """The tasks' security group."""
    region: str
    """The stack's region (for the log driver)."""
    container_port: int = 8080
    """Port the application listens on."""
    cpu: int = 256
    """Fargate CPU units per task."""
    memory: int = 512
    """MiB per task."""
    health_check_path: str = "/healthz"
    """Path the container health check requests."""
    health_check_grace_seconds: int = 60
    """Seconds a new task's failed load-balancer checks are ignored."""
    log_retention_days: int = 14
    """Days container logs are kept."""
    scaling: ScalingArgs | None = None
    """Autoscaling; None runs fixed counts."""
    container_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra plain environment variables for every colour's container."""
    container_secrets: Sequence[tuple[str, pulumi.Input[str]]] = ()
    """(name, Secrets Manager ARN or ``arn:...:secret:...:key::``) pairs, injected by reference."""
    readable_secret_arns: Sequence[pulumi.Input[str]] = ()
    """Secrets the execution role may read: exactly these."""
    database_user_arns: Sequence[pulumi.Input[str]] = ()
    """Database users the task role may connect as (IAM database authentication)."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Permissions boundary of every role created here (the stack's boundary policy); None: unbounded."""
    deployment_percents: Mapping[Colour, tuple[int, int]] = field(default_factory=dict)
    """(minimum healthy, maximum) percent of each colour's ECS deployments; absent: (100, 200)."""
    deployment_alarm_names: Mapping[Colour, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    """Each colour's release alarms: ECS rolls a deployment of that colour back when one fires during it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource."""


class Fleet(pulumi.ComponentResource):
    """An ECS cluster with one Fargate service per colour."""

    cluster_arn: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    colour_log_group_names: dict[Colour, pulumi.Output[str]]
    service_names: dict[Colour, pulumi.Output[str]]
    task_definition_arns: dict[Colour, pulumi.Output[str]]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:fleet:Fleet", name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        cluster = aws.ecs.Cluster(f"{name}-cluster", name=args.cluster_name, tags=tags, opts=child,
                                  settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")])
        # One-off tasks (the migration) log to the cluster's group; each colour has its own, so that a metric
        # filter, which reads a whole group, counts one colour's lines (the release's log signal).
        logs = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/ecs/{args.cluster_name}",
                                       retention_in_days=args.log_retention_days, tags=tags, opts=child)
        colour_logs = {
            colour: aws.cloudwatch.LogGroup(f"{name}-{colour.value}-logs", name=f"/ecs/{args.cluster_name}/{colour.value}",
                                            retention_in_days=args.log_retention_days,
                                            tags={**tags, "Colour": colour.value}, opts=child)
            for colour in Colour
        }
        roles = FleetRoles(f"{name}-roles", FleetRolesArgs(
            image_repository=args.image_repository, log_group_arns=[logs.arn, *(g.arn for g in colour_logs.values())],
            readable_secret_arns=args.readable_secret_arns, database_user_arns=args.database_user_arns,
            permissions_boundary=args.permissions_boundary, tags=tags,
        ), child)
        self.service_names = {}
        self.task_definition_arns = {}
        for colour in Colour:
            task = aws.ecs.TaskDefinition(
                f"{name}-{colour.value}", family=args.families[colour], cpu=str(args.cpu), memory=str(args.memory),
                network_mode="awsvpc", requires_compatibilities=["FARGATE"],
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX", cpu_architecture="X86_64"),
                execution_role_arn=roles.execution_role_arn, task_role_arn=roles.task_role_arn,
                container_definitions=_containers(args, colour, colour_logs[colour].name), opts=child,
                tags={**tags, "Colour": colour.value},
                # A new version replaces the revision, and deleting the old one deregisters it (terraform-provider-aws
                # internal/service/ecs/task_definition.go, resourceTaskDefinitionDelete, unless skip_destroy) at the end
                # of the update, while ECS may still be rolling out. ECS's rollback goes back to that revision, and "you
                # can't update an existing service to reference an INACTIVE task definition" (botocore ecs
                # DeregisterTaskDefinition): so every revision stays registered.
                skip_destroy=True,
            )
            # CreateService refuses a target group no load balancer uses yet ("target group does not have an
            # associated load balancer"), so the service waits for the listener and rule that forward to it.
            # With autoscaling, Application Auto Scaling owns the count (pulumi-aws ecs.Service docs: ignore
            # desired_count); the program still moves it, through the target's min and max, which
            # RegisterScalableTarget applies to the running count ("changes the resource's current capacity to
            # a value that is inside of this range").
            service_opts = pulumi.ResourceOptions(
                parent=self, depends_on=list(args.routes[colour]),
                ignore_changes=["desiredCount"] if args.scaling is not None else None,
            )
            service = aws.ecs.Service(
                f"{name}-{colour.value}", name=args.service_names[colour], cluster=cluster.arn, task_definition=task.arn,
                desired_count=args.desired_counts[colour], launch_type="FARGATE", platform_version="LATEST",
                network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                    subnets=args.subnet_ids, security_groups=[args.security_group_id], assign_public_ip=False),
                load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=args.target_group_arns[colour], container_name=CONTAINER, container_port=args.container_port)],
                deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
                # botocore ecs DeploymentAlarms: ECS fails a deployment, and with rollback restores the last completed
                # one, when a named alarm fires during it (the safety net of a rolling release).
                alarms=aws.ecs.ServiceAlarmsArgs(alarm_names=args.deployment_alarm_names[colour], enable=True, rollback=True)
                if colour in args.deployment_alarm_names else None,
                # By default new tasks start before old ones stop: a colour never runs below its count in a deployment.
                deployment_minimum_healthy_percent=args.deployment_percents.get(colour, (100, 200))[0],
                deployment_maximum_percent=args.deployment_percents.get(colour, (100, 200))[1],
                health_check_grace_period_seconds=args.health_check_grace_seconds,
                propagate_tags="SERVICE", enable_ecs_managed_tags=True, tags={**tags, "Colour": colour.value},
                opts=service_opts,
            )
            if args.scaling is not None:
                _autoscale(f"{name}-{colour.value}", args.scaling, colour, cluster, service, self)
            self.service_names[colour] = service.name
            self.task_definition_arns[colour] = task.arn
        self.cluster_arn = cluster.arn
        self.cluster_name = cluster.name
        self.execution_role_arn = roles.execution_role_arn
        self.task_role_arn = roles.task_role_arn
        self.log_group_name = logs.name
        self.colour_log_group_names = {c: g.name for c, g in colour_logs.items()}
        self.register_outputs({
            "cluster_arn": self.cluster_arn,
            "service_names": {c.value: n for c, n in self.service_names.items()},
        })


def _containers(args: FleetArgs, colour: Colour, log_group: pulumi.Output[str]) -> pulumi.Output[str]:
    """The container definitions of one colour (JSON), with secrets by reference only."""
    version = args.versions[colour]
    environment = {"APP_VERSION": version, "APP_COLOUR": colour.value, **args.container_environment}
    container = {
        "name": CONTAINER,
        "image": f"{args.image_repository}:{version}",
        "essential": True,
        "portMappings": [{"containerPort": args.container_port, "protocol": "tcp"}],
        "environment": [{"name": k, "value": environment[k]} for k in sorted(environment)],
        "secrets": [{"name": n, "valueFrom": ref} for n, ref in args.container_secrets],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": args.region, "awslogs-stream-prefix": colour.value,
        }},
        "healthCheck": {
            "command": ["CMD-SHELL", f"curl -fsS http://localhost:{args.container_port}{args.health_check_path} || exit 1"],
            "interval": 15, "timeout": 5, "retries": 3, "startPeriod": min(args.health_check_grace_seconds, 300),
        },
    }
    return pulumi.Output.json_dumps([container])


def _autoscale(prefix: str, scaling: ScalingArgs, colour: Colour, cluster: aws.ecs.Cluster, service: aws.ecs.Service,
               parent: pulumi.Resource) -> None:
    low, high = scaling.bounds[colour]
    child = pulumi.ResourceOptions(parent=parent)
    target = aws.appautoscaling.Target(
        f"{prefix}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
        min_capacity=low, max_capacity=high, opts=child,
    )
    label = pulumi.Output.concat(scaling.load_balancer_arn_suffix, "/", scaling.target_group_arn_suffixes[colour])
    metrics = {
        "cpu": (scaling.cpu_target_percent, _Metric(predefined_metric_type="ECSServiceAverageCPUUtilization")),
        "requests": (scaling.requests_per_target, _Metric(predefined_metric_type="ALBRequestCountPerTarget", resource_label=label)),
    }
    for metric, (value, spec) in metrics.items():
        aws.appautoscaling.Policy(
            f"{prefix}-{metric}", policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(value), predefined_metric_specification=spec,
                # Scale out fast when a canary step adds load; scale in slowly.
                scale_out_cooldown=60, scale_in_cooldown=300,
            ),
            opts=child,
        )


def deployment_percents(release: ReleaseConfig) -> dict[Colour, tuple[int, int]]:
    """A rolling release's rollout limits on the live colour; every other deployment starts new tasks first."""
    if release.strategy is Strategy.ROLLING:
        return {release.live: (release.rolling.minimum_healthy_percent, release.rolling.maximum_percent)}
    return {}
