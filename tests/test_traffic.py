"""The traffic router: load balancer, target groups, listeners, access logs, weights, bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config import Colour, ConfigError, Strategy, load
from components.traffic import forward_weights
from tests.support import MINIMAL_CONFIG

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/7f3e2a1b-5c4d-4e6f-8a9b-0c1d2e3f4a5b"


def groups_by_colour(plan) -> dict[str, dict]:
    return {r.name.rsplit("-", 1)[-1]: r for r in plan.of_type(TARGET_GROUP)}


@given(
    live=st.sampled_from(list(Colour)),
    strategy=st.sampled_from(list(Strategy)),
    weight=st.integers(min_value=0, max_value=100),
)
def test_forward_weights_sum_to_100_and_the_candidate_gets_its_share(live: Colour, strategy: Strategy, weight: int) -> None:
    raw = {
        **MINIMAL_CONFIG,
        "release:live": live.value, "release:strategy": strategy.value, "release:canaryWeight": str(weight),
    }
    if strategy is Strategy.BLUE_GREEN and weight not in (0, 100):
        with pytest.raises(ConfigError) as caught:
            load(raw, "staging")
        assert any(p.startswith(f"release:canaryWeight: got {weight}; the blue-green strategy") for p in caught.value.problems)
        return
    if strategy is Strategy.ROLLING and weight != 0:
        with pytest.raises(ConfigError) as caught:
            load(raw, "staging")
        assert any(p.startswith(f"release:canaryWeight: got {weight}; the rolling strategy") for p in caught.value.problems)
        return
    weights = forward_weights(load(raw, "staging").release)
    assert list(weights) == [Colour.BLUE, Colour.GREEN]
    assert sum(weights.values()) == 100
    assert weights[live.other] == weight
    assert weights[live] == 100 - weight


def test_the_listener_carries_the_configured_split(plan_of) -> None:
    plan = plan_of("production", "release:canaryWeight=10")
    groups = groups_by_colour(plan)
    forward = plan.named("webapp-traffic-https").inputs["defaultActions"][0]["forward"]["targetGroups"]
    assert forward == [{"arn": groups["blue"].outputs["arn"], "weight": 10}, {"arn": groups["green"].outputs["arn"], "weight": 90}]


def test_the_load_balancer_is_hardened_and_protected_in_production(plan_of) -> None:
    alb = plan_of("production").named("webapp-traffic-alb")
    assert alb.inputs["name"] == "webapp-production"
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["enableDeletionProtection"] is True
    assert alb.protect
    staging = plan_of("staging").named("webapp-traffic-alb")
    assert staging.inputs["enableDeletionProtection"] is False
    assert not staging.protect


def test_access_logs_go_to_a_private_encrypted_expiring_bucket(plan_of) -> None:
    plan = plan_of("production")
    bucket = plan.named("webapp-traffic-access-logs-bucket")
    alb = plan.named("webapp-traffic-alb")
    assert alb.inputs["accessLogs"] == {"bucket": bucket.outputs["bucket"], "prefix": "alb", "enabled": True}
    assert bucket.protect
    encryption = plan.named("webapp-traffic-access-logs-encryption").inputs["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = plan.named("webapp-traffic-access-logs-public-access").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (rule,) = plan.named("webapp-traffic-access-logs-lifecycle").inputs["rules"]
    assert (rule["status"], rule["expiration"]["days"]) == ("Enabled", 365)
    statements = json.loads(plan.named("webapp-traffic-access-logs-policy").inputs["policy"])["Statement"]
    deliver = statements[0]
    # eu-west-1's Elastic Load Balancing account writes the logs, under this account's prefix only.
    assert deliver["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert deliver["Resource"] == f"{bucket.outputs['arn']}/alb/AWSLogs/123456789012/*"
    assert statements[1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert plan_of("staging").named("webapp-traffic-access-logs-lifecycle").inputs["rules"][0]["expiration"]["days"] == 30


def test_target_groups_take_ip_targets_and_the_configured_health_check(plan_of) -> None:
    groups = groups_by_colour(plan_of("staging"))
    assert set(groups) == {"blue", "green"}
    for colour, group in groups.items():
        assert group.inputs["name"] == f"webapp-staging-{colour}"
        assert (group.inputs["targetType"], group.inputs["port"], group.inputs["protocol"]) == ("ip", 8080, "HTTP")
        assert group.inputs["deregistrationDelay"] == 15
        check = group.inputs["healthCheck"]
        assert (check["path"], check["matcher"], check["interval"], check["timeout"]) == ("/healthz", "200", 10, 5)
        assert (check["healthyThreshold"], check["unhealthyThreshold"]) == (2, 3)


def test_https_uses_the_certificate_with_tls13_and_http_redirects(plan_of) -> None:
    plan = plan_of("production")
    https = plan.named("webapp-traffic-https")
    assert (https.inputs["port"], https.inputs["protocol"], https.inputs["certificateArn"]) == (443, "HTTPS", CERTIFICATE)
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (redirect,) = plan.named("webapp-traffic-http-redirect").inputs["defaultActions"]
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}
    assert not plan.warnings


def test_without_a_certificate_the_stack_serves_http_and_says_so(plan_of) -> None:
    plan = plan_of("staging", "traffic:certificateArn=null")
    listeners = {r.name: r.inputs for r in plan.of_type("aws:lb/listener:Listener")}
    assert set(listeners) == {"webapp-traffic-http", "webapp-traffic-test"}
    assert listeners["webapp-traffic-http"]["port"] == 80
    assert "certificateArn" not in listeners["webapp-traffic-http"]
    assert plan.warnings == ("webapp-traffic: no traffic:certificateArn, so the load balancer serves plain HTTP only",)
    assert plan.outputs["endpoint_url"].startswith("http://")


def test_the_test_listener_always_serves_the_candidate(plan_of) -> None:
    # Production is green-live; the flip is the plan the invariant tests also use.
    for live, plan in (("green", plan_of("production")), ("blue", plan_of("production", "release:live=blue"))):
        groups = groups_by_colour(plan)
        candidate = "blue" if live == "green" else "green"
        test = plan.named("webapp-traffic-test").inputs
        assert test["port"] == 8443
        assert test["defaultActions"] == [{"type": "forward", "targetGroupArn": groups[candidate].outputs["arn"]}]


def test_stickiness_pins_clients_to_a_colour_when_asked(plan_of) -> None:
    forward = plan_of("production").named("webapp-traffic-https").inputs["defaultActions"][0]["forward"]
    assert "stickiness" not in forward
    sticky = plan_of("production", ("traffic:stickiness", {"enabled": True, "durationSeconds": 600}))
    forward = sticky.named("webapp-traffic-https").inputs["defaultActions"][0]["forward"]
    assert forward["stickiness"] == {"enabled": True, "duration": 600}


@pytest.mark.parametrize(("override", "expected"), [
    ("traffic:certificateArn=arn:aws:iam::123456789012:server-certificate/web",
     'traffic:certificateArn: got "arn:aws:iam::123456789012:server-certificate/web"; an ACM certificate ARN'),
    ("traffic:certificateArn=arn:aws:acm:us-east-1:123456789012:certificate/7f3e2a1b-5c4d-4e6f-8a9b-0c1d2e3f4a5b",
     "traffic:certificateArn: got \"arn:aws:acm:us-east-1:123456789012:certificate/7f3e2a1b-5c4d-4e6f-8a9b-0c1d2e3f4a5b\"; "
     "a load balancer uses certificates of its own region: use one from eu-west-1"),
    ("traffic:sslPolicy=ELBSecurityPolicy-2016-08", 'traffic:sslPolicy: got "ELBSecurityPolicy-2016-08"; a TLS 1.3 policy'),
    ("traffic:ingressCidrs=[\"0.0.0.0/0\", \"10.1.2.3/8\"]",
     'traffic:ingressCidrs[1]: got "10.1.2.3/8"; an IPv4 CIDR block such as 10.0.0.0/16 (10.1.2.3/8 has host bits set)'),
    ("traffic:testCidrs=[\"office\"]", 'traffic:testCidrs[0]: got "office"; an IPv4 CIDR block'),
    ("traffic:testPort=443", "traffic:testPort: got 443; a port other than 80 and 443"),
    ("traffic:healthCheck.timeoutSeconds=30", "traffic:healthCheck.timeoutSeconds: got 30; must be less than intervalSeconds (15)"),
    ("traffic:healthCheck.matcher=ok", 'traffic:healthCheck.matcher: got "ok"; status codes such as 200, 200-299 or 200,302'),
    ("traffic:healthCheck.path=healthz", 'traffic:healthCheck.path: got "healthz"; a URL path starting with /'),
    ("traffic:deregistrationDelaySeconds=7200", "traffic:deregistrationDelaySeconds: got 7200; input should be less than or equal to 3600"),
    ("release:canaryWeight=150", "release:canaryWeight: got 150; input should be less than or equal to 100"),
    ("release:canaryWeight=-5", "release:canaryWeight: got -5; input should be greater than or equal to 0"),
    ("release:live=red", "release:live: got \"red\"; input should be 'blue' or 'green'"),
])
def test_bad_traffic_values_are_config_errors(config_problems, override: str, expected: str) -> None:
    problems = config_problems("production", override)
    assert any(p.startswith(expected) for p in problems), problems
