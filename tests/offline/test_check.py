"""The offline check: each rule class fires on a planted bad input, and stays quiet on a good one."""

from __future__ import annotations

import pytest

from offline.check import RuleClass, Severity
from offline.check.shapes import PREFIX_SERVICES, _head_metadata, _metadata, _scan_prefixes, service_model
from tests.check_support import check, policy, res, rules_of, urn

TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
SERVICE = "aws:ecs/service:Service"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LB = "aws:lb/loadBalancer:LoadBalancer"
SG = "aws:ec2/securityGroup:SecurityGroup"


def _alarm(**changes: object) -> dict[str, object]:
    inputs: dict[str, object] = {
        "name": "app-5xx", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 3, "threshold": 2,
        "metricQueries": [
            {"id": "errors", "returnData": False, "metric": {"namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count",
                                                            "stat": "Sum", "period": 60, "dimensions": {"TargetGroup": "tg"}}},
            {"id": "rate", "expression": "100 * errors", "returnData": True},
        ],
    }
    inputs.update(changes)
    return inputs


def _group(**health: object) -> dict[str, object]:
    return {"port": 8080, "protocol": "HTTP", "targetType": "ip", "vpcId": "vpc-0123456789abcdef0",
            "healthCheck": {"path": "/healthz", "interval": 15, "timeout": 5, **health}}


def _traffic(*, service_waits: bool, ingress_cidrs: list[str], port: int = 443) -> list:
    """A load balancer, its group, a target group, an HTTPS listener forwarding to it, and a service using it."""
    group = res(SG, "alb-sg", {"description": "users in", "vpcId": "vpc-1",
                               "ingress": [{"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": ingress_cidrs}]})
    balancer = res(LB, "alb", {"internal": False, "loadBalancerType": "application", "subnets": ["subnet-1", "subnet-2"]},
                   deps={"securityGroups": [group.urn]})
    target = res(TG, "blue", _group())
    listener = res(LISTENER, "https", {
        "port": port, "protocol": "HTTPS", "loadBalancerArn": "arn:lb", "certificateArn": "arn:cert",
        "defaultActions": [{"type": "forward", "forward": {"targetGroups": [{"arn": "arn:tg", "weight": 100}]}}],
    }, deps={"loadBalancerArn": [balancer.urn], "defaultActions": [target.urn]})
    service = res(SERVICE, "fleet-blue", {"name": "app-blue", "desiredCount": 2, "launchType": "FARGATE",
                                          "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "app", "containerPort": 8080}]},
                  deps={"loadBalancers": [target.urn]}, also=(listener.urn,) if service_waits else ())
    return [group, balancer, target, listener, service]


def test_a_good_plan_has_no_findings() -> None:
    report = check(*_traffic(service_waits=True, ingress_cidrs=["0.0.0.0/0"]), res(ALARM, "alarm", _alarm()),
                   outputs={"endpoint_url": "https://app.example.com"}, traffic__domainName="app.example.com")
    assert report.findings == ()
    assert not report.failed
    assert report.checked == 6


# One planted bad input per rule class (issue 13, 'What it checks' 1-6).
CLASSES = {
    RuleClass.SERVICE_MODEL: lambda: check(res(ALARM, "alarm", _alarm(comparisonOperator="Bigger"))),
    RuleClass.INPUT_RULE: lambda: check(res(TG, "blue", _group(timeout=20))),
    RuleClass.IAM: lambda: check(res("aws:iam/rolePolicy:RolePolicy", "p", {
        "role": "r", "policy": policy({"Effect": "Allow", "Action": "ecr:PushEverything", "Resource": "*"})})),
    RuleClass.GRAPH: lambda: check(*_traffic(service_waits=False, ingress_cidrs=["0.0.0.0/0"])),
    RuleClass.UPDATE_HAZARD: lambda: check(
        res(SERVICE, "fleet", {"name": "app-blue", "desiredCount": 2}),
        res("aws:appautoscaling/target:Target", "fleet-scaling", {
            "serviceNamespace": "ecs", "scalableDimension": "ecs:service:DesiredCount", "resourceId": "service/c/app-blue",
            "minCapacity": 2, "maxCapacity": 6})),
    RuleClass.REACHABILITY: lambda: check(*_traffic(service_waits=True, ingress_cidrs=["10.0.0.0/8"]),
                                          outputs={"endpoint_url": "https://app.example.com"},
                                          traffic__domainName="app.example.com"),
}


@pytest.mark.parametrize("rule_class", list(CLASSES), ids=str)
def test_every_rule_class_fires(rule_class: RuleClass) -> None:
    report = CLASSES[rule_class]()
    assert {f.rule_class for f in report.findings} == {rule_class}
    assert report.failed
    assert all(f.source and f.resource and f.path for f in report.findings)


def test_service_model_findings_name_the_input_and_the_botocore_shape() -> None:
    (finding,) = check(res(ALARM, "alarm", _alarm(comparisonOperator="Bigger"))).findings
    assert finding.path.startswith("comparisonOperator")
    assert finding.value == "Bigger"
    assert finding.rule == "aws-enum"
    assert "botocore cloudwatch service-2.json, PutMetricAlarmInput" in finding.source


def test_container_definitions_are_parsed_and_checked_against_their_shape() -> None:
    containers = '[{"name": "app", "image": "x", "essential": "yes"}]'
    report = check(res("aws:ecs/taskDefinition:TaskDefinition", "td", {
        "family": "app", "containerDefinitions": containers, "requiresCompatibilities": ["FARGATE"],
        "cpu": "256", "memory": "512", "networkMode": "awsvpc"}))
    assert [(f.rule, f.path) for f in report.findings] == [
        ("aws-invalid-type", "containerDefinitions (as RegisterTaskDefinition.containerDefinitions[0].essential)")]


@pytest.mark.parametrize(("cpu", "memory", "ok"), [("256", "512", True), ("256", "4096", False), ("1024", "2048", True)])
def test_fargate_sizes(cpu: str, memory: str, ok: bool) -> None:
    report = check(res("aws:ecs/taskDefinition:TaskDefinition", "td", {
        "family": "app", "containerDefinitions": "[]", "requiresCompatibilities": ["FARGATE"], "cpu": cpu, "memory": memory}))
    assert ("fargate-task-size" not in rules_of(report)) is ok


@pytest.mark.parametrize(("weights", "ok"), [([0, 100], True), ([0, 1000], False), ([1] * 6, False)])
def test_forward_weights_and_group_count(weights: list[int], ok: bool) -> None:
    groups = [{"arn": f"arn:tg{i}", "weight": w} for i, w in enumerate(weights)]
    report = check(res(LISTENER, "https", {"port": 443, "protocol": "HTTPS", "loadBalancerArn": "arn:lb",
                                           "defaultActions": [{"type": "forward", "forward": {"targetGroups": groups}}]}))
    assert ("forward-weights" not in rules_of(report)) is ok


def test_metric_math_needs_valid_ids_and_one_returned_series() -> None:
    queries = _alarm()["metricQueries"]
    bad = [{**queries[0], "id": "Errors", "returnData": True}, queries[1]]  # type: ignore[index]
    report = check(res(ALARM, "alarm", _alarm(metricQueries=bad)))
    assert {(f.rule, f.path) for f in report.findings} == {
        ("alarm-metric-math", "metricQueries[0].id"), ("alarm-metric-math", "metricQueries[].returnData")}


def test_composite_alarm_rules_name_alarms_that_exist() -> None:
    composite = res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "release", {
        "alarmName": "release", "alarmRule": 'ALARM("app-5xx") OR ALARM("app-latency")'})
    report = check(res(ALARM, "alarm", _alarm()), composite)
    assert [(f.rule, f.value) for f in report.findings] == [("composite-alarm-references", "app-latency")]


def test_dashboard_and_event_pattern_bodies_are_parsed() -> None:
    report = check(
        res("aws:cloudwatch/dashboard:Dashboard", "d", {"dashboardName": "d", "dashboardBody": '{"widgets": [{"type": "graph"}]}'}),
        res("aws:cloudwatch/eventRule:EventRule", "e", {"eventPattern": '{"source": "aws.ecs"}'}),
    )
    assert rules_of(report) == {"dashboard-body", "event-pattern"}


def test_iam_policy_documents_must_parse_and_follow_the_grammar() -> None:
    report = check(res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": "{not json"}),
                   res("aws:iam/rolePolicy:RolePolicy", "q", {
                       "role": "r", "policy": policy({"Effect": "Allow", "Action": "s3:GetObject"})}))
    assert rules_of(report) == {"iam-document-json", "iam-statement"}


def test_permission_only_actions_are_known() -> None:
    document = policy({"Effect": "Allow", "Action": ["iam:PassRole", "s3:ListBucket"], "Resource": "arn:aws:iam::1:role/app"})
    assert check(res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": document})).findings == ()


def test_the_action_prefixes_listed_ahead_name_what_botocores_models_say() -> None:
    # The listing spares a check reading every service model (seconds): it must say what that reading would.
    found = _scan_prefixes()
    for prefix, services in PREFIX_SERVICES.items():
        assert services <= found.get(prefix, frozenset()), prefix
        assert services or prefix not in found, f"{prefix} is served by {sorted(found[prefix])}"
    document = policy({"Effect": "Allow", "Action": "rds-db:connect", "Resource": "arn:aws:rds-db:eu-west-1:1:dbuser:db-X/app"})
    assert check(res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": document})).findings == ()


@pytest.mark.parametrize("service", ["elb", "elbv2", "cloudwatch", "s3", "ec2", "sts"])
def test_the_metadata_read_from_a_models_head_is_the_whole_models(service: str) -> None:
    # The prefix scan reads only each model's head; s3 has an sdk-extras file, ec2 the largest model.
    assert _metadata(service) == dict(service_model(service).metadata)


def test_the_head_is_read_key_by_key_and_a_cut_metadata_is_read_whole() -> None:
    assert _head_metadata('{"version": "2.0", "metadata": {"signingName": "a"}, "operations": {') == {"signingName": "a"}
    assert _head_metadata('{"docs": {"metadata": {"signingName": "b"}}, "metadata": {"signingName": "a"}}') == {"signingName": "a"}
    assert _head_metadata('{"version": "2.0", "metadata": {"signingName": "a", "endpointPr') is None
    assert _head_metadata('{"version": "2.0", "operations": {"A": {}}}') is None


def test_a_permissions_boundary_bounds_iam_writes() -> None:
    document = policy({"Effect": "Allow", "Action": "iam:*Role*", "Resource": "*"})
    unbounded = check(res("aws:iam/role:Role", "r", {"name": "r", "assumeRolePolicy": policy(
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})}),
        res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": document}))
    assert rules_of(unbounded) == {"iam-privilege-escalation"}
    trust = policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
    bounded = check(res("aws:iam/role:Role", "r", {"name": "r", "permissionsBoundary": "arn:aws:iam::1:policy/b",
                                                   "assumeRolePolicy": trust}),
                    res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": document}))
    assert bounded.findings == ()


def test_a_policy_used_only_as_a_permissions_boundary_grants_nothing_but_the_same_policy_attached_does() -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
    ceiling = res("aws:iam/policy:Policy", "b", {"name": "b", "policy": policy(
        {"Effect": "Allow", "Action": ["iam:*", "s3:*"], "Resource": "*"})})
    role = res("aws:iam/role:Role", "r", {"name": "r", "permissionsBoundary": "arn:aws:iam::1:policy/b",
                                          "assumeRolePolicy": trust})
    assert check(ceiling, role).findings == ()
    attached = res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a",
                   {"role": "other", "policyArn": "arn:aws:iam::1:policy/b"})
    assert "iam-privilege-escalation" in rules_of(check(ceiling, role, attached))


def test_a_waived_warning_passes_and_is_printed_but_an_error_cannot_be_waived() -> None:
    resources = _traffic(service_waits=True, ingress_cidrs=["10.0.0.0/8"])
    waivers = ('[{"finding": "output endpoint_url:probe-public", "reason": "reached over the VPN for now"},'
               ' {"finding": "alarm:aws-enum", "reason": "an error stays an error"}]')
    report = check(*resources, res(ALARM, "alarm", _alarm(comparisonOperator="Bigger")),
                   outputs={"endpoint_url": "https://app.example.com"}, traffic__domainName="app.example.com",
                   check__waivers=waivers)
    waived = [f for f in report.findings if f.waived_by]
    assert [f.rule for f in waived] == ["probe-public"]
    assert "reached over the VPN for now" in report.render()
    assert report.failed  # the enum error is not waivable
    assert [f.severity for f in report.findings if not f.waived_by] == [Severity.ERROR]


def test_certificate_coverage() -> None:
    from offline.check.reach import covered

    assert covered("app.example.com", "app.example.com")
    assert covered("app.example.com", "*.example.com")
    assert not covered("a.b.example.com", "*.example.com")
    assert not covered("webapp-1.eu-west-1.elb.amazonaws.com", "app.example.com")


def test_dependencies_survive_plan_json_and_old_documents_load() -> None:
    from offline.plan import Plan

    resources = _traffic(service_waits=True, ingress_cidrs=["0.0.0.0/0"])
    original = check(*resources).findings
    document = {"project": "p", "stack": "test", "resources": [r.to_json() for r in resources], "outputs": {}}
    assert Plan.from_json(document).resources[-1].dependencies == resources[-1].dependencies
    keys = ("urn", "type", "name", "parent", "custom", "protect", "inputs")
    old = {**document, "resources": [{k: v for k, v in r.to_json().items() if k in keys} for r in resources]}
    assert Plan.from_json(old).resources[-1].dependencies == ()
    assert original == ()
    assert urn(SERVICE, "fleet-blue") == resources[-1].urn


def _deploy_policy(*, deny_self: bool) -> str:
    statements = [
        {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"],
         "Resource": "arn:aws:iam::*:role/app-*", "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:b"}}},
        {"Effect": "Allow", "Action": ["iam:UpdateAssumeRolePolicy", "iam:DeleteRole"], "Resource": "arn:aws:iam::*:role/app-*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app-*"},
    ]
    if deny_self:
        statements.append({"Effect": "Deny", "Action": ["iam:Update*", "iam:Put*", "iam:Attach*"],
                           "Resource": "arn:aws:iam::*:role/app-deploy"})
    return policy(*statements)


@pytest.mark.parametrize("deny_self", [True, False])
def test_iam_writes_scoped_away_from_the_holder_are_not_escalation(deny_self: bool) -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Federated": "arn:oidc"}, "Action": "sts:AssumeRoleWithWebIdentity"})
    report = check(res("aws:iam/role:Role", "deploy", {"name": "app-deploy", "assumeRolePolicy": trust}),
                   res("aws:iam/rolePolicy:RolePolicy", "deploy-iam", {
                       "role": "app-deploy", "policy": _deploy_policy(deny_self=deny_self)}))
    assert [(f.rule, f.path) for f in report.findings] == (
        [] if deny_self else [("iam-privilege-escalation", "policy.Statement[1].Action")])


# --- the edges of the reachability and service-model checks -------------------------------------------------------

REACH = {"outputs": {"endpoint_url": "https://app.example.com"}, "traffic__domainName": "app.example.com"}


def _reach_findings(*resources: object) -> list[str]:
    report = check(*resources, **REACH)  # type: ignore[arg-type]
    return [f.message for f in report.findings if f.rule_class is RuleClass.REACHABILITY]


@pytest.mark.parametrize(("internal", "reachable"), [(False, True), (True, False)])
def test_an_internal_load_balancer_is_not_reachable_from_a_runner(internal: bool, reachable: bool) -> None:
    # Elastic Load Balancing API Reference, CreateLoadBalancer Scheme: an internal load balancer's nodes have private
    # addresses only; the provider's `internal` input sets that scheme (terraform-provider-aws lb.go "internal").
    group, balancer, *rest = _traffic(service_waits=True, ingress_cidrs=["0.0.0.0/0"])
    balancer = res(LB, "alb", {**balancer.inputs, "internal": internal}, deps={"securityGroups": [group.urn]})
    found = _reach_findings(group, balancer, *rest)
    assert (found == []) is reachable, found
    if not reachable:
        assert found == ["alb is internal"]


# The rule's range is fromPort..toPort, both included (Amazon VPC User Guide, "Security group rules": "Port range").
@pytest.mark.parametrize(("from_port", "to_port", "reachable"), [
    (443, 443, True), (400, 443, True), (443, 500, True), (0, 65535, True),
    (400, 442, False), (444, 500, False), (80, 80, False),
])
@pytest.mark.parametrize("inline", [True, False], ids=["inline-ingress", "ingress-rule"])
def test_a_security_group_admits_the_probe_only_when_its_port_is_inside_from_and_to_port(
    from_port: int, to_port: int, reachable: bool, inline: bool,
) -> None:
    _, _, *rest = _traffic(service_waits=True, ingress_cidrs=["0.0.0.0/0"])
    if inline:
        group = res(SG, "alb-sg", {"description": "users in", "vpcId": "vpc-1", "ingress": [
            {"protocol": "tcp", "fromPort": from_port, "toPort": to_port, "cidrBlocks": ["0.0.0.0/0"]}]})
        extra = []
    else:
        group = res(SG, "alb-sg", {"description": "users in", "vpcId": "vpc-1"})
        extra = [res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-in", {
            "securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": from_port, "toPort": to_port, "cidrIpv4": "0.0.0.0/0"},
            deps={"securityGroupId": [group.urn]})]
    balancer = res(LB, "alb", {"internal": False, "loadBalancerType": "application", "subnets": ["subnet-1", "subnet-2"]},
                   deps={"securityGroups": [group.urn]})
    found = _reach_findings(group, balancer, *rest, *extra)
    assert (found == []) is reachable, found
    if not reachable:
        assert "admit no public client on 443" in found[0]


@pytest.mark.parametrize(("length", "ok"), [(255, True), (256, False)])
def test_a_string_one_character_over_its_service_models_maximum_fails(length: int, ok: bool) -> None:
    # botocore cloudwatch service-2.json, PutMetricAlarmInput.AlarmName: AlarmName shape, "max": 255.
    report = check(res(ALARM, "alarm", _alarm(name="a" * length)))
    over = [f for f in report.findings if f.rule_class is RuleClass.SERVICE_MODEL]
    assert (over == []) is ok, [f.message for f in over]
    if not ok:
        assert over[0].path.startswith("name")
        assert "256 characters; at most 255 allowed" in over[0].message
