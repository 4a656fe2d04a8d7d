"""Load balancing: TLS on the way in, health checks behind, and weighted forwards AWS would accept."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope, as_int, get, is_secret, items, problem, show

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")

# ELB security policies that refuse anything older than TLS 1.2 carry one of these in their name
# (ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-FS-1-2-Res-2020-10, ...).
TLS12_FAMILIES = ("-TLS13-1-2-", "-TLS13-1-3-", "-TLS-1-2-", "-FS-1-2-")
RECOMMENDED_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

# Users and the release driver's smoke tests reach the stack on these ports only; the candidate is reached on
# 443 through a header-matched rule, not a port of its own whose ingress would shut out a runner or open it to all.
PUBLIC_PORTS = (80, 443)

# AWS's limits for a forward action with target group weights.
MIN_GROUPS, MAX_GROUPS, MAX_WEIGHT = 2, 5, 999


def _tls(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "protocol") not in ("HTTPS", "TLS"):
        return
    ssl_policy = get(props, "sslPolicy")
    if not isinstance(ssl_policy, str) or not any(family in ssl_policy for family in TLS12_FAMILIES):
        yield problem("sslPolicy", ssl_policy, f"pin a TLS 1.2+ security policy, e.g. {RECOMMENDED_SSL_POLICY}")


def _redirects(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "protocol") != "HTTP":
        return
    actions = items(get(props, "defaultActions"))
    if not actions:
        yield problem("defaultActions", None, "an HTTP listener's only action is a redirect to HTTPS")
    for i, action in enumerate(actions):
        if get(action, "type") != "redirect" or get(action, "redirect.protocol") != "HTTPS":
            yield problem(
                f"defaultActions[{i}]", get(action, "type"),
                "an HTTP listener only redirects to HTTPS (type redirect, redirect.protocol HTTPS); serve over HTTPS",
            )


def _deletion_protection(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "enableDeletionProtection") is not True:
        yield problem("enableDeletionProtection", get(props, "enableDeletionProtection"),
                      "set it to true: deleting the load balancer changes its DNS name and drops all traffic")


def _access_logs(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "accessLogs.enabled") is not True or not get(props, "accessLogs.bucket"):
        yield problem("accessLogs", get(props, "accessLogs"),
                      "enable access logs to an S3 bucket (accessLogs.enabled true, accessLogs.bucket set)")


def _health_check(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "targetType") == "lambda":
        return
    check = get(props, "healthCheck")
    if not isinstance(check, Mapping):
        yield problem("healthCheck", None, "declare the health check the fleet is judged by (enabled, path, matcher)")
        return
    if get(check, "enabled") is False:
        yield problem("healthCheck.enabled", False, "a target group without a health check sends traffic to dead tasks")
    protocol = get(check, "protocol") or get(props, "protocol")
    if protocol in ("HTTP", "HTTPS") and not get(check, "path"):
        yield problem("healthCheck.path", None, "set the path an HTTP health check requests, e.g. /healthz")


def _ports(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    port = as_int(get(props, "port"))
    if port not in PUBLIC_PORTS:
        yield problem("port", get(props, "port"),
                      "listeners serve 443 (and 80, redirecting): reach one colour through a header-matched rule on 443")


def _rule_closed(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    forwards_to_one = any(get(a, "type") == "forward" and get(a, "targetGroupArn") for a in items(get(props, "actions")))
    if not forwards_to_one:
        return
    conditions = get(props, "conditions")
    # A secret conditions list holds the release token, which is what keeps the colour closed.
    if is_secret(conditions) or any(is_secret(get(c, "httpHeader.values")) for c in items(conditions)):
        return
    yield problem("conditions", conditions,
                  "a rule that forwards to one colour matches the release token in an http-header condition "
                  "(secret), or anyone can reach a colour that takes no user traffic")


def forward_blocks(props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every ``forward`` block of a listener's default actions or a rule's actions, with its key path."""
    for key in ("defaultActions", "actions"):
        for i, action in enumerate(items(get(props, key))):
            forward = get(action, "forward")
            if isinstance(forward, Mapping):
                yield f"{key}[{i}].forward", forward


def _weights(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    for path, forward in forward_blocks(props):
        groups = items(get(forward, "targetGroups"))
        if not MIN_GROUPS <= len(groups) <= MAX_GROUPS:
            yield problem(f"{path}.targetGroups", f"{len(groups)} target group(s)",
                          f"a weighted forward has {MIN_GROUPS} to {MAX_GROUPS} target groups")
        total = 0
        for j, group in enumerate(groups):
            # AWS's default weight for a group listed without one is 1.
            given = get(group, "weight", 1)
            weight = as_int(given)
            if weight is None or not 0 <= weight <= MAX_WEIGHT:
                yield problem(f"{path}.targetGroups[{j}].weight", given, f"weights are integers from 0 to {MAX_WEIGHT}")
                continue
            total += weight
        if groups and total <= 0:
            yield problem(f"{path}.targetGroups", f"total weight {show(total)}",
                          "at least one target group needs a positive weight, or the listener serves nothing")


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "listeners-on-80-and-443", "Listeners serve 443 and 80 only; no separate test port.",
        types=LISTENERS, check=_ports, scope=Scope.BOTH,
        remediation="Remove the listener; smoke-test a colour through its header-matched rule on the HTTPS listener.",
    ),
    ResourcePolicy(
        "colour-rule-needs-release-token", "A listener rule that forwards to one target group requires the secret release token.",
        types=LISTENER_RULES, check=_rule_closed, scope=Scope.BOTH,
        remediation="Add an http-header condition on X-Release-Token whose value is the secret traffic:releaseToken.",
    ),
    ResourcePolicy(
        "https-listener-tls12", "HTTPS and TLS listeners pin a security policy that refuses anything older than TLS 1.2.",
        types=LISTENERS, check=_tls, scope=Scope.BOTH,
        remediation=f"Set sslPolicy to {RECOMMENDED_SSL_POLICY} (or another TLS13-1-2 / FS-1-2 policy).",
    ),
    ResourcePolicy(
        "http-listener-redirects", "Plain HTTP listeners only redirect to HTTPS.",
        types=LISTENERS, check=_redirects, scope=Scope.BOTH,
        remediation="Give the HTTP listener one default action: type redirect, protocol HTTPS, port 443, status HTTP_301.",
    ),
    ResourcePolicy(
        "load-balancer-deletion-protection", "Load balancers are protected from deletion.",
        types=LOAD_BALANCERS, check=_deletion_protection, scope=Scope.PRODUCTION,
        remediation="Set enableDeletionProtection to true.",
    ),
    ResourcePolicy(
        "load-balancer-access-logs", "Load balancers write access logs to S3.",
        types=LOAD_BALANCERS, check=_access_logs, scope=Scope.PRODUCTION,
        remediation="Set accessLogs to {enabled: true, bucket: <log bucket>}.",
    ),
    ResourcePolicy(
        "target-group-health-check", "Every target group declares an enabled health check.",
        types=TARGET_GROUPS, check=_health_check, scope=Scope.BOTH,
        remediation="Declare healthCheck with enabled true and the application's health path.",
    ),
    ResourcePolicy(
        "weighted-forward-bounds",
        "Every weighted forward has 2 to 5 target groups, weights from 0 to 999 and a positive total.",
        types=LISTENERS + LISTENER_RULES, check=_weights, scope=Scope.BOTH,
        remediation="Forward to 2-5 target groups with integer weights 0-999, at least one of them positive.",
    ),
]
