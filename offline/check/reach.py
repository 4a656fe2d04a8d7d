"""Check 6: reachability and TLS of every URL the release driver probes.

The driver runs on a GitHub-hosted runner, which reaches the stack from the
public internet. So each probed URL needs an internet-facing load balancer
with a listener on the URL's port, security groups that let the public
internet in on that port, and a host name the stack's certificate covers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from offline.check.findings import Finding, RuleClass, Severity
from offline.plan import Plan, PlannedResource

# The outputs the driver sends requests to (release/strategies/planner.py REQUIRED_OUTPUTS, release/rollback/migrate.py).
PROBED_SUFFIX = "endpoint_url"
DOMAIN_KEY = "traffic:domainName"

PUBLIC_CLIENTS = (
    "GitHub Docs, 'About GitHub-hosted runners' (runners connect from public IP addresses of their cloud provider); "
    "Amazon VPC User Guide, 'Security group rules' (traffic not allowed by a rule is dropped)"
)
CERTIFICATE = (
    "Elastic Load Balancing User Guide, 'SSL/TLS certificates for your Application Load Balancer' (clients verify the "
    "certificate against the host name they connect to); RFC 6125 section 6.4.3 (a wildcard covers one label)"
)
LISTENER = "aws:lb/listener:Listener"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# A representative public client address, outside every private and reserved range.
PUBLIC_CLIENT = ipaddress.ip_address("20.42.0.1")


def covered(host: str, domain: str) -> bool:
    """Whether a certificate for ``domain`` (maybe ``*.example.com``) is valid for ``host``."""
    host, domain = host.lower().rstrip("."), domain.lower().rstrip(".")
    if domain.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == domain[2:]
    return host == domain


def _port_open(rule: Mapping[str, Any], port: int, *, inline: bool) -> bool:
    protocol = str(rule.get("protocol" if inline else "ipProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False
    return int(rule.get("fromPort", -1)) <= port <= int(rule.get("toPort", -1))


def _public(cidrs: list[Any]) -> bool:
    for cidr in cidrs:
        try:
            if PUBLIC_CLIENT in ipaddress.ip_network(str(cidr), strict=False):
                return True
        except ValueError:
            continue
    return False


def _group_admits(plan: Plan, group: PlannedResource, port: int) -> bool:
    for rule in group.inputs.get("ingress") or []:
        if isinstance(rule, dict) and _port_open(rule, port, inline=True) and _public(list(rule.get("cidrBlocks") or [])):
            return True
    for rule in plan.of_type(RULE):
        if group.urn in rule.property_dependencies.get("securityGroupId", ()) and _port_open(rule.inputs, port, inline=False):
            if _public([rule.inputs.get("cidrIpv4")]):
                return True
    return False


def _finding(output: str, url: str, rule: str, source: str, message: str) -> Finding:
    return Finding(f"output {output}", "stack output", output, url, rule, RuleClass.REACHABILITY, source, message,
                   Severity.WARNING)


def _reachable(plan: Plan, output: str, url: str, scheme: str, port: int) -> Iterator[Finding]:
    by_urn = plan.by_urn()
    listeners = [r for r in plan.of_type(LISTENER) if r.inputs.get("port") == port]
    if not listeners:
        yield _finding(output, url, "probe-listener", PUBLIC_CLIENTS, f"no listener on port {port}")
        return
    for listener in listeners:
        if str(listener.inputs.get("protocol", "")).lower() != scheme:
            yield _finding(output, url, "probe-listener", PUBLIC_CLIENTS,
                           f"{listener.name} on {port} speaks {listener.inputs.get('protocol')}, the URL {scheme}")
        for lb_urn in listener.property_dependencies.get("loadBalancerArn", ()):
            balancer = by_urn.get(lb_urn)
            if balancer is None:
                continue
            if balancer.inputs.get("internal"):
                yield _finding(output, url, "probe-public", PUBLIC_CLIENTS, f"{balancer.name} is internal")
                continue
            groups = [by_urn[u] for u in balancer.property_dependencies.get("securityGroups", ()) if u in by_urn]
            if not any(_group_admits(plan, g, port) for g in groups):
                names = ", ".join(g.name for g in groups) or "(none)"
                yield _finding(output, url, "probe-public", PUBLIC_CLIENTS,
                               f"the security groups of {balancer.name} ({names}) admit no public client on {port}: "
                               "a GitHub-hosted runner times out")


def check(plan: Plan, config: Mapping[str, str]) -> Iterator[Finding]:
    """Findings for every probed URL that the runner cannot reach or whose certificate would not verify."""
    domain = config.get(DOMAIN_KEY, "")
    for output, value in plan.outputs.items():
        if not output.endswith(PROBED_SUFFIX) or not isinstance(value, str):
            continue
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            yield _finding(output, value, "probe-url", PUBLIC_CLIENTS, "not an http(s) URL")
            continue
        port = parts.port or (443 if scheme == "https" else 80)
        yield from _reachable(plan, output, value, scheme, port)
        if scheme == "https" and not (domain and covered(parts.hostname, domain)):
            yield _finding(output, value, "probe-certificate", CERTIFICATE,
                           f"host {parts.hostname} is not covered by the certificate domain "
                           f"{domain or '(none: set ' + DOMAIN_KEY + ')'}: the probe fails hostname verification")
