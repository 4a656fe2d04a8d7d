"""Stand-in AWS environment for rehearsals: the release exports plus a listener forwarding by weight.

Used by ``python -m rehearsal`` when the stack's own program exports no
load balancer yet. It reads the same typed config and exports the stack output
contract the driver reads: a load balancer, two target groups, a weighted
production listener, the candidate route (header names and the release token's
secret), and the names of the alarms, database, cluster and migration task the
rehearsal creates in moto.
"""

import pulumi
import pulumi_aws as aws

from components import config as stack_config

config = stack_config.from_pulumi()
release = config.release
base = f"{config.platform.app_name}-{config.stack}"
colours = list(stack_config.Colour)

groups = {
    c: aws.lb.TargetGroup(f"{base}-{c.value}", name=f"{base}-{c.value}", port=8080, protocol="HTTP", target_type="ip",
                          vpc_id="vpc-standin", health_check={"path": "/health"})
    for c in colours
}
lb = aws.lb.LoadBalancer(base, name=base, subnets=["subnet-standin-a", "subnet-standin-b"])
listener = aws.lb.Listener(
    f"{base}-http",
    load_balancer_arn=lb.arn,
    port=80,
    default_actions=[{
        "type": "forward",
        "forward": {"target_groups": [{"arn": groups[c].arn, "weight": release.weight_of(c)} for c in colours]},
    }],
)
topic = aws.sns.Topic(f"{base}-alerts", name=f"{base}-alerts")

pulumi.export("environment", config.environment.value)
pulumi.export("strategy", release.strategy.value)
pulumi.export("live_colour", release.live.value)
pulumi.export("candidate_colour", release.candidate.value)
pulumi.export("versions", {"blue": release.versions.blue, "green": release.versions.green})
pulumi.export("weights", {c.value: release.weight_of(c) for c in colours})
pulumi.export("steps", list(release.steps))
pulumi.export("bake_minutes", release.bake_minutes)
pulumi.export("endpoint_url", lb.dns_name.apply(lambda d: f"http://{d}"))
pulumi.export("candidate_route", {"token_header": "X-Release-Token", "colour_header": "X-Release-Colour"})
pulumi.export("release_token_secret_arn", f"arn:aws:secretsmanager:{config.region}:123456789012:secret:{base}-release-token-AbCdEf")
pulumi.export("load_balancer_arn", lb.arn)
pulumi.export("load_balancer_arn_suffix", lb.arn_suffix)
pulumi.export("listener_arn", listener.arn)
pulumi.export("listener_urn", listener.urn)
pulumi.export("target_group_arns", {c.value: groups[c].arn for c in colours})
pulumi.export("target_group_arn_suffixes", {c.value: groups[c].arn_suffix for c in colours})
pulumi.export("target_group_names", {c.value: groups[c].name for c in colours})
pulumi.export("health_check_path", "/health")
pulumi.export("alarm_names", {c.value: [f"{base}-{c.value}-5xx", f"{base}-{c.value}-latency"] for c in colours})
pulumi.export("composite_alarm_names", {c.value: f"{base}-{c.value}-health" for c in colours})
pulumi.export("alert_topic_arn", topic.arn)
pulumi.export("database_identifier", f"{base}-db")
pulumi.export("cluster_name", base)
pulumi.export("migration", {
    "cluster": base,
    "task_definition_arn": f"arn:aws:ecs:{config.region}:123456789012:task-definition/{base}-migrate:1",
    "subnets": ["subnet-standin-a", "subnet-standin-b"],
    "security_groups": ["sg-standin"],
    "container_name": "migrate",
    "migrate_command": ["python", "manage.py", "migrate"],
    "rollback_command": ["python", "manage.py", "migrate", "--rollback"],
})
