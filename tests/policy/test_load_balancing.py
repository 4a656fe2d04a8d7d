"""Load-balancing policies: each passes a compliant resource and catches every violation it names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.policy_support import violations

LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
BLUE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/webapp-blue/1"
GREEN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/webapp-green/2"


def https(ssl_policy: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"port": 443, "protocol": "HTTPS", "defaultActions": [{"type": "fixed-response"}]}
    if ssl_policy:
        props["sslPolicy"] = ssl_policy
    return props


@pytest.mark.parametrize("ssl_policy", [
    "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
])
def test_https_listener_with_a_tls12_policy_passes(ssl_policy: str) -> None:
    assert violations("https-listener-tls12", LISTENER, https(ssl_policy)) == []


@pytest.mark.parametrize("ssl_policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", None])
def test_https_listener_allowing_old_tls_or_unpinned_is_caught(ssl_policy: str | None) -> None:
    found = violations("https-listener-tls12", LISTENER, https(ssl_policy))
    assert len(found) == 1
    assert found[0].startswith("sslPolicy: got ")
    assert "pin a TLS 1.2+ security policy" in found[0]


def test_tls_check_ignores_http_listeners_and_covers_the_alb_alias() -> None:
    assert violations("https-listener-tls12", LISTENER, {"protocol": "HTTP"}) == []
    assert violations("https-listener-tls12", "aws:alb/listener:Listener", https("ELBSecurityPolicy-2016-08"))


def redirect(protocol: str = "HTTPS") -> dict[str, Any]:
    return {"type": "redirect", "redirect": {"protocol": protocol, "port": "443", "statusCode": "HTTP_301"}}


def test_http_listener_redirecting_to_https_passes() -> None:
    assert violations("http-listener-redirects", LISTENER, {"protocol": "HTTP", "defaultActions": [redirect()]}) == []


def test_http_listener_that_forwards_is_caught() -> None:
    props = {"protocol": "HTTP", "defaultActions": [{"type": "forward", "targetGroupArn": BLUE}]}
    assert violations("http-listener-redirects", LISTENER, props) == [
        "defaultActions[0]: got 'forward'; an HTTP listener only redirects to HTTPS (type redirect, "
        "redirect.protocol HTTPS); serve over HTTPS",
    ]


def test_http_listener_redirecting_to_http_or_without_actions_is_caught() -> None:
    assert violations("http-listener-redirects", LISTENER, {"protocol": "HTTP", "defaultActions": [redirect("HTTP")]})
    assert violations("http-listener-redirects", LISTENER, {"protocol": "HTTP"}) == [
        "defaultActions: got unset; an HTTP listener's only action is a redirect to HTTPS",
    ]


def test_load_balancer_deletion_protection() -> None:
    assert violations("load-balancer-deletion-protection", LB, {"enableDeletionProtection": True}) == []
    found = violations("load-balancer-deletion-protection", LB, {"enableDeletionProtection": False})
    assert found == [
        "enableDeletionProtection: got false; set it to true: deleting the load balancer changes its DNS name "
        "and drops all traffic",
    ]


def test_load_balancer_access_logs() -> None:
    on = {"accessLogs": {"enabled": True, "bucket": "webapp-logs", "prefix": "alb"}}
    assert violations("load-balancer-access-logs", LB, on) == []
    assert violations("load-balancer-access-logs", LB, {})[0].startswith("accessLogs: got unset; enable access logs")
    assert violations("load-balancer-access-logs", LB, {"accessLogs": {"enabled": False, "bucket": "b"}})
    assert violations("load-balancer-access-logs", LB, {"accessLogs": {"enabled": True}})


def test_target_group_with_a_health_check_passes() -> None:
    props = {"protocol": "HTTP", "healthCheck": {"enabled": True, "path": "/healthz", "matcher": "200"}}
    assert violations("target-group-health-check", TG, props) == []
    assert violations("target-group-health-check", TG, {"targetType": "lambda"}) == []


def test_target_group_health_check_violations() -> None:
    assert violations("target-group-health-check", TG, {"protocol": "HTTP"}) == [
        "healthCheck: got unset; declare the health check the fleet is judged by (enabled, path, matcher)",
    ]
    assert violations("target-group-health-check", TG, {"protocol": "HTTP", "healthCheck": {"enabled": False, "path": "/"}}) == [
        "healthCheck.enabled: got false; a target group without a health check sends traffic to dead tasks",
    ]
    assert violations("target-group-health-check", TG, {"protocol": "HTTP", "healthCheck": {"enabled": True}}) == [
        "healthCheck.path: got unset; set the path an HTTP health check requests, e.g. /healthz",
    ]


def forward(*weights: Any) -> dict[str, Any]:
    arns = [BLUE, GREEN, *(f"{BLUE}{i}" for i in range(len(weights)))]
    groups = [{"arn": arn, "weight": w} for arn, w in zip(arns, weights, strict=False)]
    return {"protocol": "HTTPS", "defaultActions": [{"type": "forward", "forward": {"targetGroups": groups}}]}


@pytest.mark.parametrize("weights", [(90, 10), (0, 100), (999, 0), (1, 1, 1, 1, 1), (90.0, 10.0)])
def test_weighted_forward_within_aws_limits_passes(weights: tuple[Any, ...]) -> None:
    assert violations("weighted-forward-bounds", LISTENER, forward(*weights)) == []


def test_weighted_forward_group_count_is_caught() -> None:
    assert violations("weighted-forward-bounds", LISTENER, forward(100)) == [
        "defaultActions[0].forward.targetGroups: got '1 target group(s)'; a weighted forward has 2 to 5 target groups",
    ]
    assert len(violations("weighted-forward-bounds", LISTENER, forward(1, 1, 1, 1, 1, 1))) == 1


@pytest.mark.parametrize(("weights", "bad"), [((1000, 0), 1000), ((-1, 5), -1), ((50, 12.5), 12.5)])
def test_weighted_forward_weight_out_of_range_is_caught(weights: tuple[Any, ...], bad: Any) -> None:
    found = violations("weighted-forward-bounds", LISTENER, forward(*weights))
    assert any(f"weight: got {bad}; weights are integers from 0 to 999" in f for f in found), found


def test_weighted_forward_with_zero_total_is_caught_on_listener_rules_too() -> None:
    rule = {"actions": forward(0, 0)["defaultActions"]}
    assert violations("weighted-forward-bounds", RULE, rule) == [
        "actions[0].forward.targetGroups: got 'total weight 0'; at least one target group needs a positive weight, "
        "or the listener serves nothing",
    ]


@given(st.lists(st.integers(min_value=-3, max_value=1003), max_size=7))
def test_weighted_forward_passes_exactly_when_aws_would_accept_it(weights: list[int]) -> None:
    accepted = 2 <= len(weights) <= 5 and all(0 <= w <= 999 for w in weights) and sum(weights) > 0
    groups = [{"arn": f"{BLUE}{i}", "weight": w} for i, w in enumerate(weights)]
    props = {"defaultActions": [{"type": "forward", "forward": {"targetGroups": groups}}]}
    assert (violations("weighted-forward-bounds", LISTENER, props) == []) is accepted


LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"


@pytest.mark.parametrize("port", [80, 443])
def test_listeners_on_the_public_ports_pass(port: int) -> None:
    assert violations("listeners-on-80-and-443", LISTENER, {"port": port, "protocol": "HTTPS"}) == []


def test_a_test_port_listener_is_caught() -> None:
    (found,) = violations("listeners-on-80-and-443", LISTENER, {"port": 8443, "protocol": "HTTPS"})
    assert found.startswith("port: got 8443; listeners serve 443")


def test_a_colour_rule_with_the_secret_token_passes_and_one_without_is_caught() -> None:
    forward = [{"type": "forward", "targetGroupArn": "arn:tg"}]
    assert violations("colour-rule-needs-release-token", RULE, {"actions": forward, "conditions": "[secret]"}) == []
    secret_values = [{"httpHeader": {"httpHeaderName": "X-Release-Token", "values": "[secret]"}}]
    assert violations("colour-rule-needs-release-token", RULE, {"actions": forward, "conditions": secret_values}) == []
    open_rule = [{"pathPattern": {"values": ["/*"]}}]
    (found,) = violations("colour-rule-needs-release-token", RULE, {"actions": forward, "conditions": open_rule})
    assert found.startswith("conditions: got ")
    assert "release token" in found
    weighted = [{"type": "forward", "forward": {"targetGroups": [{"arn": "a", "weight": 1}, {"arn": "b", "weight": 1}]}}]
    assert violations("colour-rule-needs-release-token", RULE, {"actions": weighted, "conditions": open_rule}) == []
