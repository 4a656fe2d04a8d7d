"""One stack's environment: network, traffic router, blue/green fleet and release alarms.

``environment_args`` turns the validated stack config into the component's
arguments and refuses, as a config error and before anything is registered,
what only shows when namespaces are read together (names too long for AWS, a
canary with no candidate tasks, no image repository).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.alerts import Alerts, AlertsArgs
from components.config import Colour, ConfigError, StackConfig
from components.config import Environment as EnvironmentName
from components.config.base import MISSING, Problem
from components.data_tier import DataTier, DataTierArgs, MigrationFleet, reserved_variable_problems
from components.fleet import CONTAINER, Fleet, FleetArgs, ScalingArgs, deployment_percents
from components.iam_boundary import boundary_document, boundary_name
from components.naming import Names, name_problems, names_for
from components.network import Network, NetworkArgs
from components.traffic import COLOUR_HEADER, TOKEN_HEADER, TrafficRouter, TrafficRouterArgs, forward_weights


@dataclass
class EnvironmentArgs:
    """Inputs of an ``Environment``."""

    config: StackConfig
    """The validated stack config."""
    names: Names
    """Physical names, already checked against AWS's limits."""
    image_repository: str
    """ECR repository URL of the application image."""
    cache_auth_token: pulumi.Input[str]
    """The Redis AUTH token (secret), from ``data:cacheAuthToken``."""
    release_token: pulumi.Input[str]
    """The token that opens a colour's listener rule to a smoke test (secret), from ``traffic:releaseToken``."""
    container_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra plain environment variables for every colour's container, beside the data tier's DATABASE_* and REDIS_*."""
    container_secrets: Sequence[tuple[str, pulumi.Input[str]]] = ()
    """(name, Secrets Manager reference) pairs injected into every colour's container."""
    readable_secret_arns: Sequence[pulumi.Input[str]] = ()
    """Secrets the execution role may read: exactly these."""


def environment_args(
    config: StackConfig,
    cache_auth_token: pulumi.Input[str],
    release_token: pulumi.Input[str],
    container_environment: Mapping[str, pulumi.Input[str]] | None = None,
    container_secrets: Sequence[tuple[str, pulumi.Input[str]]] = (),
    readable_secret_arns: Sequence[pulumi.Input[str]] = (),
) -> EnvironmentArgs:
    """The environment's arguments from the stack config; ``ConfigError`` for cross-namespace problems."""
    problems = name_problems(config.platform.app_name, config.stack)
    fleet, release = config.fleet, config.release
    problems.extend(reserved_variable_problems(fleet.environment))
    if fleet.image_repository is None:
        problems.append(Problem("fleet:imageRepository", MISSING,
                                "set the ECR repository URL, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp"))
    # The candidate runs max(standby, release:candidateTasks): the driver raises the latter before each shift.
    if release.canary_weight > 0 and max(fleet.standby_count, release.candidate_tasks) == 0:
        problems.append(Problem("fleet:candidateCount", 0,
                                f"release:canaryWeight is {release.canary_weight}, so the candidate ({release.candidate}) "
                                "needs tasks: set candidateCount above 0 or remove it"))
    if problems or fleet.image_repository is None:
        raise ConfigError(problems)
    return EnvironmentArgs(
        config=config, names=names_for(config.platform.app_name, config.stack), image_repository=fleet.image_repository,
        cache_auth_token=cache_auth_token, release_token=release_token, container_environment=dict(container_environment or {}),
        container_secrets=tuple(container_secrets),
        readable_secret_arns=tuple(readable_secret_arns),
    )


def _tags(config: StackConfig) -> dict[str, str]:
    platform = config.platform
    return {
        "Application": platform.app_name, "Environment": platform.environment.value, "Stack": config.stack,
        "Owner": platform.owner, "ManagedBy": "pulumi", **platform.tags,
    }


class Environment(pulumi.ComponentResource):
    """Everything one stack runs on AWS, and what the release driver needs to know about it."""

    def __init__(self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:environment:Environment", name, None, opts)
        cfg, names = args.config, args.names
        net, traffic, fleet, release = cfg.network, cfg.traffic, cfg.fleet, cfg.release
        tags = _tags(cfg)
        child = pulumi.ResourceOptions(parent=self)
        # Every role this stack creates carries it; the deploy role may create or change a role only with it.
        boundary = aws.iam.Policy(
            f"{name}-permissions-boundary", name=boundary_name(names.prefix), policy=boundary_document(
                cfg.platform.app_name, tuple(e.value for e in EnvironmentName if e is not cfg.environment)),
            description="The most any role of this stack may do: no IAM writes, Organizations, account settings or other environments",
            tags=tags, opts=child,
        )
        existing = net.existing_vpc
        network = Network(f"{name}-network", NetworkArgs(
            cidr=existing.cidr_block if existing else net.cidr, zone_count=net.az_count,
            public_cidrs=net.public_cidrs, private_cidrs=net.private_cidrs, nat_per_zone=net.nat.value == "perZone",
            flow_log_retention_days=net.flow_log_retention_days, app_port=fleet.container_port,
            ingress_cidrs=traffic.ingress_cidrs,
            permissions_boundary=boundary.arn, existing_vpc_id=existing.vpc_id if existing else None,
            existing_public_subnet_ids=existing.public_subnet_ids if existing else (),
            existing_private_subnet_ids=existing.private_subnet_ids if existing else (),
            tags=tags,
        ), child)
        health = traffic.health_check
        router = TrafficRouter(f"{name}-traffic", TrafficRouterArgs(
            load_balancer_name=names.load_balancer, target_group_prefixes={c: names.target_group_prefix(c) for c in Colour},
            vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids, security_group_id=network.alb_security_group_id,
            app_port=fleet.container_port,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=health.path, matcher=health.matcher, interval=health.interval_seconds,
                timeout=health.timeout_seconds, healthy_threshold=health.healthy_threshold,
                unhealthy_threshold=health.unhealthy_threshold, protocol="HTTP", port="traffic-port",
            ),
            weights=forward_weights(release), release_token=args.release_token,
            versions={c: release.versions.of(c) for c in Colour}, region=cfg.region,
            domain_name=traffic.domain_name, hosted_zone_id=traffic.hosted_zone_id,
            certificate_arn=traffic.certificate_arn, ssl_policy=traffic.ssl_policy,
            deregistration_delay=traffic.deregistration_delay_seconds,
            stickiness_seconds=traffic.stickiness.duration_seconds if traffic.stickiness.enabled else None,
            idle_timeout=traffic.idle_timeout_seconds, access_log_days=traffic.access_log_days,
            deletion_protection=traffic.deletion_protection, tags=tags,
        ), child)
        # After the network (private subnets, service group), before the fleet (endpoints, secrets).
        data = DataTier(name, DataTierArgs(
            config=cfg.data, names_prefix=names.prefix, is_production=cfg.is_production, vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids, service_security_group_id=network.service_security_group_id,
            cache_auth_token=args.cache_auth_token, tags=tags,
        ), child)
        # Before the fleet: each colour's ECS deployments roll back when its release alarms fire.
        alarms = cfg.alerts
        alerts = Alerts(f"{name}-alerts", AlertsArgs(
            alarm_name=names.alarm, key_alias=names.alert_key_alias, load_balancer_arn_suffix=router.load_balancer_arn_suffix,
            target_group_arn_suffixes=router.target_group_arn_suffixes, emails=alarms.emails,
            https_endpoints=alarms.https_endpoints, unhealthy_hosts=alarms.unhealthy_hosts,
            error_rate_percent=alarms.error_rate_percent, min_requests=alarms.min_requests,
            p99_latency_seconds=alarms.p99_latency_seconds, period_seconds=alarms.period_seconds,
            evaluation_periods=alarms.evaluation_periods, protect_key=cfg.is_production, tags=tags,
        ), child)
        container_environment = {**fleet.environment, **args.container_environment, **data.container_environment}
        scaling = fleet.autoscaling
        # The candidate runs its standby count, or more while a release sends it traffic (release:candidateTasks).
        candidate_count = max(fleet.standby_count, release.candidate_tasks)
        counts = {c: fleet.desired_count if c is release.live else candidate_count for c in Colour}
        fleet_component = Fleet(f"{name}-fleet", FleetArgs(
            cluster_name=names.cluster, service_names={c: names.service(c) for c in Colour},
            families={c: names.family(c) for c in Colour}, image_repository=args.image_repository,
            versions={c: release.versions.of(c) for c in Colour}, desired_counts=counts,
            target_group_arns=router.target_group_arns, routes=router.routes, subnet_ids=network.private_subnet_ids,
            security_group_id=network.service_security_group_id, region=cfg.region, container_port=fleet.container_port,
            cpu=fleet.cpu, memory=fleet.memory, health_check_path=health.path,
            health_check_grace_seconds=fleet.health_check_grace_seconds, log_retention_days=fleet.log_retention_days,
            # The live colour scales between its bounds; the candidate is held at its standby count.
            scaling=ScalingArgs(
                bounds={c: (scaling.min_capacity, scaling.max_capacity) if c is release.live else (counts[c], counts[c])
                        for c in Colour},
                cpu_target_percent=scaling.cpu_target_percent, requests_per_target=scaling.requests_per_target,
                load_balancer_arn_suffix=router.load_balancer_arn_suffix,
                target_group_arn_suffixes=router.target_group_arn_suffixes,
            ) if scaling.enabled else None,
            container_environment=container_environment,
            container_secrets=(*args.container_secrets, *data.container_secrets),
            readable_secret_arns=(*args.readable_secret_arns, *data.readable_secret_arns),
            database_user_arns=data.database_user_arns,
            permissions_boundary=boundary.arn, tags=tags,
            deployment_percents=deployment_percents(release), deployment_alarm_names=alerts.alarm_names,
        ), child)
        migration = data.migration(f"{name}-migration", MigrationFleet(
            region=cfg.region, cluster_arn=fleet_component.cluster_arn, execution_role_arn=fleet_component.execution_role_arn,
            task_role_arn=fleet_component.task_role_arn, log_group_name=fleet_component.log_group_name,
            image_repository=args.image_repository, candidate_version=release.migration_version,
            container_environment=container_environment, cpu=fleet.cpu, memory=fleet.memory,
        ), child)

        self.permissions_boundary_arn = boundary.arn
        self.vpc_id = network.vpc_id
        self.public_subnet_ids = network.public_subnet_ids
        self.private_subnet_ids = network.private_subnet_ids
        self.alb_security_group_id = network.alb_security_group_id
        self.service_security_group_id = network.service_security_group_id
        self.endpoint_url = router.endpoint_url
        self.release_token_secret_arn = router.release_token_secret_arn
        self.candidate_tokens = router.candidate_tokens
        self.candidate_rule_arns = router.candidate_rule_arns
        self.load_balancer_arn = router.load_balancer_arn
        self.load_balancer_arn_suffix = router.load_balancer_arn_suffix
        self.listener_arn = router.listener_arn
        self.listener_urn = router.listener_urn
        self.target_group_arns = router.target_group_arns
        self.target_group_arn_suffixes = router.target_group_arn_suffixes
        self.target_group_names = router.target_group_names
        self.cluster_arn = fleet_component.cluster_arn
        self.cluster_name = fleet_component.cluster_name
        self.execution_role_arn = fleet_component.execution_role_arn
        self.task_role_arn = fleet_component.task_role_arn
        self.log_group_name = fleet_component.log_group_name
        self.colour_log_group_names = fleet_component.colour_log_group_names
        self.service_names = fleet_component.service_names
        self.task_definition_arns = fleet_component.task_definition_arns
        self.container_name = CONTAINER
        self.container_port = fleet.container_port
        self.image_repository = args.image_repository
        self.database_identifier = data.database.identifier
        self.cache_replication_group_id = data.cache.replication_group.replication_group_id
        self.migration = migration.driver_contract
        self.health_check_path = health.path
        self.alert_topic_arn = alerts.topic_arn
        self.alarm_names = alerts.alarm_names
        self.alarm_arns = alerts.alarm_arns
        self.tags = tags
        self.register_outputs({
            "endpoint_url": self.endpoint_url,
            "listener_arn": self.listener_arn,
            "cluster_name": self.cluster_name,
            "alert_topic_arn": self.alert_topic_arn,
        })

    def exports(self) -> dict[str, object]:
        """The stack outputs of the contract the release driver reads, by snake_case key."""

        def by_colour(values: Mapping[Colour, object]) -> dict[str, object]:
            return {c.value: values[c] for c in Colour}

        return {
            "endpoint_url": self.endpoint_url,
            # How a smoke test reaches one colour through endpoint_url: both headers, the token read from the secret.
            "candidate_route": {
                "token_header": TOKEN_HEADER, "colour_header": COLOUR_HEADER,
                "listener_rule_arns": by_colour(self.candidate_rule_arns),
            },
            "release_token_secret_arn": self.release_token_secret_arn,
            "load_balancer_arn": self.load_balancer_arn,
            "load_balancer_arn_suffix": self.load_balancer_arn_suffix,
            "listener_arn": self.listener_arn,
            "listener_urn": self.listener_urn,
            "target_group_arns": by_colour(self.target_group_arns),
            "target_group_arn_suffixes": by_colour(self.target_group_arn_suffixes),
            "target_group_names": by_colour(self.target_group_names),
            "cluster_name": self.cluster_name,
            "service_names": by_colour(self.service_names),
            "health_check_path": self.health_check_path,
            "alarm_names": by_colour(self.alarm_names),
            "log_group_names": by_colour(self.colour_log_group_names),
            "alert_topic_arn": self.alert_topic_arn,
            "database_identifier": self.database_identifier,
            "migration": self.migration,
        }
