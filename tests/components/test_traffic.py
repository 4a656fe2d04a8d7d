"""The traffic router: load balancer, target groups, listeners, access logs, weights, bad input."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config import Colour, ConfigError, Strategy, load
from components.config.traffic import colour_token
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
    if strategy is Strategy.BLUE_GREEN and weight not in (0, 5, 95, 100):  # the default control share is 5
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


def test_at_the_last_step_the_listener_keeps_the_control_share_on_the_old_colour(plan_of) -> None:
    release = load(MINIMAL_CONFIG, "staging").release
    plan = plan_of("production", f"release:canaryWeight={release.step_weight(100)}")
    groups = groups_by_colour(plan)
    forward = plan.named("webapp-traffic-https").inputs["defaultActions"][0]["forward"]["targetGroups"]
    # Green is production's live colour: it keeps the 5% control, blue (the candidate) takes the rest; both within 0-999.
    assert forward == [{"arn": groups["blue"].outputs["arn"], "weight": 95}, {"arn": groups["green"].outputs["arn"], "weight": 5}]


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
        assert group.inputs["namePrefix"] == f"{colour}-"
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
    assert set(listeners) == {"webapp-traffic-http"}
    assert listeners["webapp-traffic-http"]["port"] == 80
    assert "certificateArn" not in listeners["webapp-traffic-http"]
    assert plan.warnings == ("webapp-traffic: no traffic:certificateArn, so the load balancer serves plain HTTP only",)
    assert plan.outputs["endpoint_url"] == "http://staging.webapp.example.com"


def test_each_colour_is_reachable_on_443_only_with_the_token_and_its_name_whatever_the_release(plan_of) -> None:
    # Design: a promotion or a shift never changes the rules (only a new version does); production is green-live.
    for plan in (plan_of("production"), plan_of("production", "release:live=blue"), plan_of("production", "release:canaryWeight=25")):
        groups = groups_by_colour(plan)
        listeners = {r.name: r.inputs for r in plan.of_type("aws:lb/listener:Listener")}
        assert {(i["port"], i["protocol"]) for i in listeners.values()} == {(443, "HTTPS"), (80, "HTTP")}
        https = plan.named("webapp-traffic-https").outputs["arn"]
        for colour in ("blue", "green"):
            rule = plan.named(f"webapp-traffic-{colour}-candidate").inputs
            assert rule["listenerArn"] == https
            assert rule["actions"] == [{"type": "forward", "targetGroupArn": groups[colour].outputs["arn"]}]
            # The colour's token is kept secret: the plan shows the marker, never the value.
            assert rule["conditions"] in (
                [{"httpHeader": {"httpHeaderName": "X-Release-Token", "values": ["[secret]"]}},
                 {"httpHeader": {"httpHeaderName": "X-Release-Colour", "values": [colour]}}],
                "[secret]",
            )
        route = plan.outputs["candidate_route"]
        assert (route["token_header"], route["colour_header"]) == ("X-Release-Token", "X-Release-Colour")
        assert plan.outputs["release_token_secret_arn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")
        assert plan.outputs["endpoint_url"] == "https://webapp.example.com"
        assert not {"test_endpoint_url", "test_port", "test_listener_arn"} & set(plan.outputs)


def test_the_release_token_is_kept_in_secrets_manager_for_the_driver(plan_of) -> None:
    plan = plan_of("staging")
    secret = plan.named("webapp-traffic-release-token")
    version = plan.named("webapp-traffic-release-token-value").inputs
    assert version["secretId"] == secret.outputs["id"]
    assert version["secretString"] == "[secret]"
    assert plan.outputs["release_token_secret_arn"] == secret.outputs["arn"]


def test_a_hosted_zone_gets_an_alias_record_of_the_domain_name(plan_of) -> None:
    plan = plan_of("production")
    record = plan.named("webapp-traffic-domain").inputs
    alb = plan.named("webapp-traffic-alb").outputs
    assert (record["zoneId"], record["name"], record["type"]) == ("Z0123456789EXAMPLEPROD", "webapp.example.com", "A")
    assert record["aliases"] == [{"name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}]
    assert not plan_of("staging").of_type("aws:route53/record:Record")


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
    ("traffic:domainName=null", "traffic:domainName: got (missing); required with certificateArn"),
    ("traffic:domainName=https://webapp.example.com", 'traffic:domainName: got "https://webapp.example.com"; a lowercase DNS name'),
    ("traffic:domainName=*.example.com", 'traffic:domainName: got "*.example.com"; a lowercase DNS name'),
    ("traffic:domainName=localhost", 'traffic:domainName: got "localhost"; a lowercase DNS name'),
    ("traffic:hostedZoneId=example.com", 'traffic:hostedZoneId: got "example.com"; a Route 53 hosted zone id'),
    ("traffic:testPort=8443", "traffic:testPort: got 8443; unknown key"),
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


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_target_groups_have_no_fixed_name_so_a_replacement_creates_first(plan_of, stack: str) -> None:
    # A fixed name makes a replacement delete first (the new group cannot share the name), and the delete fails
    # with ResourceInUse while listeners and services use the group. name_prefix: at most 6 characters (the
    # provider's schema); the completed name stays within ELB's 32 (botocore elbv2 CreateTargetGroupInput.Name).
    for group in plan_of(stack).of_type(TARGET_GROUP):
        assert "name" not in group.inputs, group.name
        assert 1 <= len(group.inputs["namePrefix"]) <= 6
        assert not group.delete_before_replace
        assert group.outputs["name"].startswith(group.inputs["namePrefix"])
        assert len(group.outputs["name"]) <= 32


@pytest.mark.parametrize("token", ["short", "*" * 40, "a" * 31 + "?", "x" * 129, "with space " * 4])
def test_a_release_token_the_load_balancer_would_misread_is_refused_without_echoing_it(token: str) -> None:
    # botocore elbv2 HttpHeaderConditionConfig.Values: at most 128 characters, '*' and '?' are wildcards.
    with pytest.raises(ConfigError) as caught:
        load({**MINIMAL_CONFIG, "traffic:releaseToken": token}, "staging")
    (problem,) = caught.value.problems
    assert problem.startswith('traffic:releaseToken: got "[secret]"; 32-128 letters, digits or ._~+/=-')
    assert token not in problem


def test_a_hex_release_token_is_accepted() -> None:
    assert load({**MINIMAL_CONFIG, "traffic:releaseToken": "0123456789abcdef" * 4}, "staging").traffic.domain_name is None


FIXTURE_RELEASE_TOKEN = "fixture-release-token-0123456789abcdef"  # noqa: S105 - the fixture's stand-in


def test_a_listener_rule_holds_a_token_for_one_colour_at_one_version_never_the_release_token(fixture_plan) -> None:
    """DescribeRules (in ReadOnlyAccess) shows a rule's conditions: what it shows must not outlive one release."""
    plan = fixture_plan("environment")
    tokens = plan.outputs["candidate_tokens"]
    assert tokens == {"blue": colour_token(FIXTURE_RELEASE_TOKEN, "1.0.0"), "green": colour_token(FIXTURE_RELEASE_TOKEN, "1.1.0")}
    assert FIXTURE_RELEASE_TOKEN not in json.dumps(tokens)
    # A release's new candidate gets a new token; the other colour's stays.
    released = fixture_plan("environment", "environment-fixture:greenVersion=1.2.0").outputs["candidate_tokens"]
    assert released["green"] == colour_token(FIXTURE_RELEASE_TOKEN, "1.2.0") != tokens["green"]
    assert released["blue"] == tokens["blue"]


@pytest.mark.parametrize("master", ["0123456789abcdef" * 4, "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-._~+/="])
def test_a_colours_token_survives_the_load_balancers_case_insensitive_match(master: str) -> None:
    token = colour_token(master, "3f9c2e1a")
    # ALB compares header values without regard to case: a token of one case keeps all its 256 bits.
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert token.casefold() == token
    assert colour_token(master, "3f9c2e1b") != token
    assert colour_token(master.swapcase(), "3f9c2e1a") != token or master.swapcase() == master
