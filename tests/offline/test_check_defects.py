"""Issue 13's table of defects: the check names each one when planted, and neither stack has any of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offline import Plan
from offline.check import Report, check_plan
from offline.stacks import ProjectFiles
from release.cli import app
from tests.check_support import check, policy, res

# Each defect of issue 13's table, planted in a small plan, and the rule the check names it by.
PLANTED: dict[str, tuple[Callable[[], Report], str]] = {
    "alarm-period-with-metric-queries": (lambda: check(res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {
        "name": "a", "period": 60, "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1, "threshold": 1,
        "metricQueries": [{"id": "m", "returnData": True, "expression": "1"}]})), "alarm-metrics-exclusive"),
    "apostrophe-in-rule-description": (lambda: check(res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "r", {
        "securityGroupId": "sg-0123456789abcdef0", "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
        "referencedSecurityGroupId": "sg-0123456789abcdef1", "description": "PostgreSQL from the application's tasks"})),
        "ec2-description-characters"),
    "service-before-listener": (lambda: check(
        res("aws:lb/targetGroup:TargetGroup", "tg", {"port": 80, "protocol": "HTTP", "targetType": "ip"}),
        res("aws:ecs/service:Service", "svc", {"name": "svc", "loadBalancers": [{"targetGroupArn": "arn:tg"}]},
            deps={"loadBalancers": ["urn:pulumi:test::release-platform::aws:lb/targetGroup:TargetGroup::tg"]})),
        "service-after-listener"),
    "probe-port-closed-to-runners": (lambda: check(
        res("aws:ec2/securityGroup:SecurityGroup", "sg", {"description": "x", "ingress": [
            {"protocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrBlocks": ["10.0.0.0/8", "172.16.0.0/12"]}]}),
        res("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": False},
            deps={"securityGroups": ["urn:pulumi:test::release-platform::aws:ec2/securityGroup:SecurityGroup::sg"]}),
        res("aws:lb/listener:Listener", "test", {"port": 8443, "protocol": "HTTPS", "defaultActions": []},
            deps={"loadBalancerArn": ["urn:pulumi:test::release-platform::aws:lb/loadBalancer:LoadBalancer::alb"]}),
        outputs={"test_endpoint_url": "https://app.example.com:8443"}, traffic__domainName="app.example.com"),
        "probe-public"),
    "probe-on-load-balancer-name": (lambda: check(
        outputs={"endpoint_url": "https://webapp-1.eu-west-1.elb.amazonaws.com"}, traffic__domainName="app.example.com"),
        "probe-certificate"),
    "autoscaled-count-not-ignored": (lambda: check(
        res("aws:ecs/service:Service", "svc", {"name": "svc", "desiredCount": 2}),
        res("aws:appautoscaling/target:Target", "scaling", {"scalableDimension": "ecs:service:DesiredCount",
                                                             "resourceId": "service/c/svc", "serviceNamespace": "ecs"})),
        "autoscaled-input-not-ignored"),
    "deploy-role-can-grant-itself-anything": (lambda: check(res("aws:iam/rolePolicy:RolePolicy", "deploy-iam", {
        "role": "deploy", "policy": policy({"Effect": "Allow", "Action": ["iam:*Role*", "iam:*Policy*"], "Resource": "*"})})),
        "iam-privilege-escalation"),
    "target-group-fixed-name": (lambda: check(
        res("aws:lb/targetGroup:TargetGroup", "tg", {"name": "app-blue", "port": 80, "protocol": "HTTP"}),
        res("aws:lb/listener:Listener", "l", {"port": 443, "protocol": "HTTPS", "defaultActions": []},
            deps={"defaultActions": ["urn:pulumi:test::release-platform::aws:lb/targetGroup:TargetGroup::tg"]})),
        "fixed-name-in-use"),
}


@pytest.mark.parametrize("defect", list(PLANTED))
def test_the_check_names_each_known_defect(defect: str) -> None:
    build, rule = PLANTED[defect]
    report = build()
    assert rule in {f.rule for f in report.findings}
    assert report.failed


@pytest.fixture(scope="module", params=["staging", "production"])
def stack_report(request: pytest.FixtureRequest, plan_of: Callable[..., Plan]) -> tuple[str, Report]:
    files = ProjectFiles.here()
    return request.param, check_plan(plan_of(request.param), files.stack_config(request.param)[0])


@pytest.mark.parametrize("defect", list(PLANTED))
def test_no_stack_has_a_known_defect(stack_report: tuple[str, Report], defect: str) -> None:
    stack, report = stack_report
    rule = PLANTED[defect][1]
    found = [f.line() for f in report.findings if f.rule == rule and not f.waived_by]
    assert found == [], f"{stack}: {found}"


def test_check_of_a_saved_plan_names_resource_path_value_rule_and_source(
    tmp_path: Path, plan_of: Callable[..., Plan],
) -> None:
    # A copy: the session's cached plan shares its inputs with to_json().
    document = json.loads(json.dumps(plan_of("staging").to_json()))
    for resource in document["resources"]:
        if resource["type"] == "aws:lb/targetGroup:TargetGroup":
            resource["inputs"]["protocol"] = "HTTQ"
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["check", "--plan", str(saved), "--json"])
    assert result.exit_code == 1
    planted = [f for f in json.loads(result.stdout)["findings"] if f["value"] == "HTTQ"]
    assert planted, result.stdout
    assert planted[0]["resource"].startswith("webapp-traffic-")
    assert planted[0]["path"].startswith("protocol")
    assert planted[0]["rule"] == "aws-enum"
    assert "botocore elbv2 service-2.json" in planted[0]["source"]


@pytest.mark.parametrize("content", [None, "{not json", '{"stack": "staging"}'])
def test_a_missing_or_broken_plan_file_is_bad_input(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(app, ["check", "--plan", str(path)])
    assert result.exit_code == 2
    assert f"--plan {path}" in result.output
    assert "Traceback" not in result.output


def test_a_bad_waiver_is_bad_input() -> None:
    from offline.check import BadWaiverError, load_waivers

    with pytest.raises(BadWaiverError, match=r"check:waivers\[0\].*reason"):
        load_waivers({"check:waivers": '[{"finding": "a:b"}]'})


def test_a_clean_saved_plan_exits_0_and_prints_counts_and_unchecked_types(tmp_path: Path) -> None:
    from tests.check_support import plan

    clean = plan(res("aws:sns/topic:Topic", "alerts", {"name": "alerts"}),
                 res("github:index/repository:Repository", "repo", {"name": "webapp"}))
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(clean.to_json()))
    result = CliRunner().invoke(app, ["check", "--plan", str(saved)])
    assert result.exit_code == 0, result.output
    assert "2 resources, 1 checked" in result.output
    assert "github:index/repository:Repository (1)" in result.output
    assert "findings: 0 error(s), 0 warning(s) not waived, 0 waived" in result.output
