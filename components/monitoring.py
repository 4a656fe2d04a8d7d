"""Monitoring of one environment: resource alarms, the release signal per colour, failure events, the dashboard.

The release driver watches one alarm per colour, the composite over that
colour's release alarms (target 5xx, latency, unhealthy hosts, made by the
environment). Everything else here pages a person through the alert topic:
every alarm has OK actions too, so the page that opens an incident also
closes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import deployment_events as events
from components.config import StackConfig
from components.config.monitoring import MonitoringConfig
from components.config.release import Colour
from components.dashboard import DashboardValues, environment_dashboard
from components.health_check import HealthCheck, HealthCheckArgs
from components.log_signals import ReleaseLogs, ReleaseLogsArgs, metric_name
from components.naming import names_for

if TYPE_CHECKING:
    from components.environment import Environment

GIB = 1024**3


@dataclass
class MonitoringArgs:
    """What the monitoring of one environment watches and where it reports."""

    name_prefix: pulumi.Input[str]
    """Prefix of every physical name (alarms, rules, dashboard), e.g. ``webapp-staging``."""
    config: MonitoringConfig
    """Thresholds, periods, percentiles and the optional health-check domain."""
    region: str
    """The stack's AWS region; plain, because it decides at registration whether the health check needs a relay."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """ARN suffix of the application load balancer (``app/<name>/<id>``), its CloudWatch dimension."""
    target_group_arn_suffixes: Mapping[Colour, pulumi.Input[str]]
    """ARN suffix of each colour's target group."""
    cluster_name: pulumi.Input[str]
    """ECS cluster of both colours' services."""
    service_names: Mapping[Colour, pulumi.Input[str]]
    """ECS service name of each colour."""
    alert_topic_arn: pulumi.Input[str]
    """SNS topic every alarm and event notifies."""
    release_alarm_names: Mapping[Colour, pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Each colour's release alarms (5xx, latency, unhealthy hosts); the composite fires when any does."""
    log_group_names: Mapping[Colour, pulumi.Input[str]] = field(default_factory=dict)
    """Each colour's log group; with them, error log lines join the colour's release signal."""
    min_requests: int = 50
    """Requests a period needs before a colour's error-line rate counts (``alerts:minRequests``)."""
    database_identifier: pulumi.Input[str] | None = None
    """RDS instance identifier; no database alarms or events without it."""
    cache_replication_group_id: pulumi.Input[str] | None = None
    """ElastiCache replication group id; no Redis alarms without it."""
    cache_node_count: int = 1
    """Nodes in the replication group; ElastiCache names them ``<group>-001``, ``-002``, ..."""
    health_check_domain: str | None = None
    """The name Route 53 probes over HTTPS (``probed_domain``); None: no Route 53 health check."""
    health_check_path: pulumi.Input[str] = "/health"
    """The load balancer's health-check path; Route 53 probes it too unless ``monitoring:healthPath`` says otherwise."""
    manage_topic_policy: bool = True
    """Whether this component owns the topic's policy (letting EventBridge and CloudWatch publish)."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Permissions boundary of every role created here (the stack's boundary policy); None: unbounded."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource that takes them."""


def probed_domain(config: StackConfig) -> str | None:
    """The one name Route 53 probes: the stack's served, aliased and certified ``traffic:domainName``, when asked."""
    return config.traffic.domain_name if config.monitoring.health_check else None


def monitoring_args(config: StackConfig, environment: Environment) -> MonitoringArgs:
    """What the monitoring of a stack watches: its environment's load balancer, services and data tier."""
    return MonitoringArgs(
        name_prefix=names_for(config.platform.app_name, config.stack).prefix,
        config=config.monitoring,
        region=config.region,
        load_balancer_arn_suffix=environment.load_balancer_arn_suffix,
        target_group_arn_suffixes=environment.target_group_arn_suffixes,
        cluster_name=environment.cluster_name,
        service_names=environment.service_names,
        alert_topic_arn=environment.alert_topic_arn,
        release_alarm_names=environment.alarm_names,
        log_group_names=environment.colour_log_group_names,
        min_requests=config.alerts.min_requests,
        database_identifier=environment.database_identifier,
        cache_replication_group_id=environment.cache_replication_group_id,
        # A primary and its replicas: one node each.
        cache_node_count=1 + config.data.cache_replicas,
        health_check_domain=probed_domain(config),
        health_check_path=environment.health_check_path,
        permissions_boundary=environment.permissions_boundary_arn,
        tags=environment.tags,
    )


class Monitoring(pulumi.ComponentResource):
    """Alarms, composite release alarms, EventBridge rules and the dashboard of one environment."""

    composite_alarm_names: dict[Colour, pulumi.Output[str]]
    composite_alarm_arns: dict[Colour, pulumi.Output[str]]
    alarm_names: list[pulumi.Output[str]]
    dashboard_name: pulumi.Output[str]
    event_rule_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:monitoring:Monitoring", name, {}, opts)
        self._base = name
        self._args = args
        self._cfg = args.config
        self._topic = [args.alert_topic_arn]
        self._child = pulumi.ResourceOptions(parent=self)
        self.alarm_names = []
        self.event_rule_arns = []

        self._load_balancer_alarm()
        for colour in Colour:
            self._service_alarms(colour)
        cache_nodes = self._cache_nodes()
        if args.database_identifier is not None:
            self._database_alarms(args.database_identifier)
            self._rule("rds-events", "Database failover, low storage and failure events",
                       pulumi.Output.from_input(args.database_identifier).apply(events.rds_event_pattern),
                       events.rds_message())
        if cache_nodes:
            self._cache_alarms(cache_nodes)
        deployment_pattern = pulumi.Output.all(
            args.cluster_name, *(args.service_names[c] for c in Colour),
        ).apply(lambda v: events.ecs_deployment_pattern(args.region, v[0], v[1:]))
        self._rule("ecs-deployments", "Failed deployments and circuit-breaker rollbacks of both colours",
                   deployment_pattern, events.ecs_message())

        self._logs = self._release_logs() if args.log_group_names else None
        self.composite_alarm_names, self.composite_alarm_arns = {}, {}
        for colour in Colour:
            composite = self._composite(colour)
            self.composite_alarm_names[colour] = composite.alarm_name
            self.composite_alarm_arns[colour] = composite.arn

        if args.health_check_domain:
            health = HealthCheck(f"{name}-health", HealthCheckArgs(
                name_prefix=args.name_prefix, domain=args.health_check_domain, path=self._cfg.health_path or args.health_check_path,
                failure_threshold=self._cfg.health_check_failures, region=args.region,
                alert_topic_arn=args.alert_topic_arn, permissions_boundary=args.permissions_boundary, tags=args.tags,
            ), pulumi.ResourceOptions(parent=self))
            self.alarm_names.append(health.alarm_name)
            self.event_rule_arns.extend(health.event_rule_arns)

        if args.manage_topic_policy:
            self._topic_policy()
        self.dashboard_name = self._dashboard(cache_nodes)
        self.register_outputs({
            "composite_alarm_names": {c.value: n for c, n in self.composite_alarm_names.items()},
            "alarm_names": self.alarm_names,
            "dashboard_name": self.dashboard_name,
            "event_rule_arns": self.event_rule_arns,
        })

    # --- naming and the shared alarm shape -------------------------------------

    def _physical(self, suffix: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self._args.name_prefix, "-", suffix)

    def _metric_alarm(self, suffix: str, description: str, threshold: float, comparison: str, missing: str,
                      **metric: Any) -> aws.cloudwatch.MetricAlarm:
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._base}-{suffix}",
            name=self._physical(suffix),
            alarm_description=description,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=self._cfg.evaluation_periods,
            datapoints_to_alarm=self._cfg.breaching_datapoints,
            treat_missing_data=missing,
            alarm_actions=self._topic,
            ok_actions=self._topic,
            tags=dict(self._args.tags),
            opts=self._child,
            **metric,
        )
        self.alarm_names.append(alarm.name)
        return alarm

    def _simple(self, namespace: str, metric: str, stat: str, dimensions: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
        return {"namespace": namespace, "metric_name": metric, "statistic": stat,
                "period": self._cfg.period_seconds, "dimensions": dict(dimensions)}

    def _query(self, id_: str, namespace: str, metric: str, stat: str,
               dimensions: Mapping[str, pulumi.Input[str]]) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=id_, return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=namespace, metric_name=metric, stat=stat, period=self._cfg.period_seconds,
                dimensions=dict(dimensions),
            ),
        )

    @staticmethod
    def _expression(expression: str, label: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(id="result", expression=expression, label=label, return_data=True)

    # --- alarms -----------------------------------------------------------------

    def _load_balancer_alarm(self) -> None:
        lb = {"LoadBalancer": self._args.load_balancer_arn_suffix}
        limit = self._cfg.thresholds.load_balancer_5xx_percent
        self._metric_alarm(
            "alb-5xx", f"More than {limit:g}% of requests answered 5xx by the load balancer itself (no healthy target, "
            "timeouts, resets): both colours are affected", limit, "GreaterThanThreshold", "notBreaching",
            metric_queries=[
                self._query("errors", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", lb),
                self._query("requests", "AWS/ApplicationELB", "RequestCount", "Sum", lb),
                # No traffic is no error rate: FILL keeps a quiet period from reading as missing data.
                self._expression("100 * FILL(errors, 0) / FILL(requests, 1)", "load balancer 5xx %"),
            ],
        )

    def _service_alarms(self, colour: Colour) -> None:
        dims = {"ClusterName": self._args.cluster_name, "ServiceName": self._args.service_names[colour]}
        t = self._cfg.thresholds
        # A colour scaled to zero reports nothing; that is not a breach.
        self._metric_alarm(f"{colour}-ecs-cpu", f"{colour} service CPU above {t.ecs_cpu_percent:g}% of its reservation",
                           t.ecs_cpu_percent, "GreaterThanThreshold", "notBreaching",
                           **self._simple("AWS/ECS", "CPUUtilization", "Average", dims))
        self._metric_alarm(f"{colour}-ecs-memory",
                           f"{colour} service memory above {t.ecs_memory_percent:g}% of its reservation",
                           t.ecs_memory_percent, "GreaterThanThreshold", "notBreaching",
                           **self._simple("AWS/ECS", "MemoryUtilization", "Average", dims))

    def _database_alarms(self, database: pulumi.Input[str]) -> None:
        dims = {"DBInstanceIdentifier": database}
        t = self._cfg.thresholds
        self._metric_alarm("rds-cpu", f"Database CPU above {t.rds_cpu_percent:g}%", t.rds_cpu_percent,
                           "GreaterThanThreshold", "missing", **self._simple("AWS/RDS", "CPUUtilization", "Average", dims))
        self._metric_alarm("rds-free-storage", f"Database free storage below {t.rds_free_storage_gib:g} GiB",
                           t.rds_free_storage_gib * GIB, "LessThanThreshold", "missing",
                           **self._simple("AWS/RDS", "FreeStorageSpace", "Minimum", dims))
        self._metric_alarm("rds-connections", f"More than {t.rds_connections:g} open database connections",
                           t.rds_connections, "GreaterThanThreshold", "missing",
                           **self._simple("AWS/RDS", "DatabaseConnections", "Maximum", dims))

    def _cache_nodes(self) -> list[pulumi.Output[str]]:
        group = self._args.cache_replication_group_id
        if group is None:
            return []
        return [pulumi.Output.from_input(group).apply(partial(cache_node_id, index=i))
                for i in range(1, self._args.cache_node_count + 1)]

    def _cache_alarms(self, nodes: Sequence[pulumi.Output[str]]) -> None:
        t = self._cfg.thresholds
        # One alarm over every node: after a failover the primary is another node, and the alarm still sees it.
        for suffix, metric, stat, limit, description in (
            ("redis-memory", "DatabaseMemoryUsagePercentage", "Maximum", t.redis_memory_percent,
             f"Redis memory above {t.redis_memory_percent:g}% of maxmemory on a node"),
            ("redis-evictions", "Evictions", "Sum", t.redis_evictions,
             f"Redis evicting more than {t.redis_evictions:g} keys a period on a node: the cache is too small"),
        ):
            ids = [f"node{i}" for i in range(1, len(nodes) + 1)]
            queries = [self._query(id_, "AWS/ElastiCache", metric, stat, {"CacheClusterId": node})
                       for id_, node in zip(ids, nodes, strict=True)]
            self._metric_alarm(suffix, description, limit, "GreaterThanThreshold", "missing",
                               metric_queries=[*queries, self._expression(f"MAX([{', '.join(ids)}])", f"{metric} (fullest node)")])

    def log_signals(self) -> dict[str, object]:
        """Per colour: the error-line alarm and the metric the analysis reads (``namespace``, ``metric``)."""
        if self._logs is None:
            return {}
        logs = self._logs
        return {c.value: {"alarm_name": logs.alarm_names[c], "namespace": logs.namespace, "metric": metric_name(c)}
                for c in Colour}

    def _release_logs(self) -> ReleaseLogs:
        a, cfg = self._args, self._cfg
        logs = ReleaseLogs(f"{self._base}-logs", ReleaseLogsArgs(
            name_prefix=a.name_prefix, signals=cfg.logs, log_group_names=a.log_group_names,
            load_balancer_arn_suffix=a.load_balancer_arn_suffix, target_group_arn_suffixes=a.target_group_arn_suffixes,
            threshold_percent=cfg.thresholds.error_lines_percent, min_requests=a.min_requests, period_seconds=cfg.period_seconds,
            evaluation_periods=cfg.evaluation_periods, datapoints_to_alarm=cfg.breaching_datapoints,
            alert_topic_arn=a.alert_topic_arn, tags=a.tags,
        ), pulumi.ResourceOptions(parent=self))
        self.alarm_names.extend(logs.alarm_names.values())
        return logs

    def _composite(self, colour: Colour) -> aws.cloudwatch.CompositeAlarm:
        names = pulumi.Output.from_input(self._args.release_alarm_names[colour])
        if self._logs is not None:
            names = pulumi.Output.all(names, self._logs.alarm_names[colour]).apply(lambda v: [*v[0], v[1]])
        return aws.cloudwatch.CompositeAlarm(
            f"{self._base}-{colour}-release",
            alarm_name=self._physical(f"{colour}-release"),
            alarm_description=f"{colour} is unhealthy (5xx, latency, unhealthy hosts or error log lines): a release onto "
                              f"{colour} aborts",
            alarm_rule=names.apply(partial(composite_rule, colour)),
            alarm_actions=self._topic,
            ok_actions=self._topic,
            tags=dict(self._args.tags),
            opts=self._child,
        )

    # --- events, topic policy, dashboard ----------------------------------------------

    def _rule(self, suffix: str, description: str, pattern: pulumi.Input[str], message: Mapping[str, Any]) -> None:
        rule = aws.cloudwatch.EventRule(
            f"{self._base}-{suffix}", name=self._physical(suffix), description=description,
            event_pattern=pattern, tags=dict(self._args.tags), opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{self._base}-{suffix}-alert", rule=rule.name, arn=self._args.alert_topic_arn, target_id="alert-topic",
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(**message), opts=self._child,
        )
        self.event_rule_arns.append(rule.arn)

    def _topic_policy(self) -> None:
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        aws.sns.TopicPolicy(
            f"{self._base}-topic-policy",
            arn=self._args.alert_topic_arn,
            policy=pulumi.Output.all(self._args.alert_topic_arn, account, *self.event_rule_arns).apply(
                lambda v: events.topic_policy(v[0], v[2:], v[1])),
            opts=self._child,
        )

    def _dashboard(self, cache_nodes: Sequence[pulumi.Output[str]]) -> pulumi.Output[str]:
        a = self._args
        values = pulumi.Output.all(
            lb=a.load_balancer_arn_suffix,
            groups={c: a.target_group_arn_suffixes[c] for c in Colour},
            cluster=a.cluster_name,
            services={c: a.service_names[c] for c in Colour},
            database=a.database_identifier,
            nodes=list(cache_nodes),
            alarms=[self.composite_alarm_arns[c] for c in Colour],
            prefix=a.name_prefix,
            logs={c: a.log_group_names[c] for c in a.log_group_names},
        )
        body = values.apply(lambda v: environment_dashboard(
            DashboardValues(
                load_balancer=v["lb"],
                target_groups={Colour(c): g for c, g in v["groups"].items()},
                cluster=v["cluster"],
                services={Colour(c): s for c, s in v["services"].items()},
                database=v["database"],
                cache_nodes=tuple(v["nodes"]),
                alarm_arns=tuple(v["alarms"]),
                log_groups={Colour(c): g for c, g in v["logs"].items()},
                log_fields=self._cfg.logs,
            ),
            title=v["prefix"], percentiles=self._cfg.percentiles, region=a.region, period=self._cfg.period_seconds,
        ))
        dashboard = aws.cloudwatch.Dashboard(f"{self._base}-dashboard", dashboard_name=pulumi.Output.from_input(a.name_prefix),
                                             dashboard_body=body, opts=self._child)
        return dashboard.dashboard_name


def composite_rule(colour: Colour, alarm_names: Sequence[str]) -> str:
    """The composite's rule: in alarm as soon as any of the colour's release alarms is."""
    if not alarm_names:
        message = f"the {colour} composite alarm needs at least one release alarm name; got none"
        raise ValueError(message)
    return " OR ".join(f'ALARM("{name}")' for name in alarm_names)


def cache_node_id(group: str, index: int) -> str:
    """The cluster id ElastiCache gives node ``index`` (from 1) of a replication group: its CloudWatch dimension."""
    return f"{group}-{index:03d}"
