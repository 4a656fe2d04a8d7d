"""The ``traffic`` namespace: the load balancer, its listeners and the two target groups."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.config.base import MISSING, ConfigModel, Problem, cross_field
from components.config.by_environment import fill_defaults
from components.config.network import parse_cidr
from components.config.text import HealthPath, Matcher

ACM_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
# The ELB policies that negotiate TLS 1.3 (and 1.2 for older clients) all carry this prefix.
TLS13_PREFIX = "ELBSecurityPolicy-TLS13-"
# A host name as DNS allows it (RFC 1035 section 2.3.4 and RFC 1123 section 2.1): labels of 1-63 letters,
# digits and inner hyphens, at most 253 characters in all. Lowercase only, so the name compares as written.
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DNS_NAME_LIMIT = 253
# Route 53 hosted zone ids: botocore route53 ResourceId (max 32), e.g. Z0123456789ABCDEFGHIJ.
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
RELEASE_TOKEN_KEY = "traffic:releaseToken"  # noqa: S105 - the key's name, not its value
# The token is compared by an ALB http-header condition: botocore elbv2 HttpHeaderConditionConfig.Values allows
# at most 128 characters and treats '*' and '?' as wildcards (a '*' would open the candidate to everyone), so the
# token is letters, digits and ``._~+/=-`` only. At least 32 characters is our own floor for a shared secret.
_RELEASE_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{32,128}$")


def colour_token(master: str, version: str) -> str:
    """The value of the release token header that opens the colour running ``version``.

    HMAC-SHA256 of the version under the stack's secret ``traffic:releaseToken``, in lowercase hex. The listener
    rules hold this value in plaintext (``elasticloadbalancing:DescribeRules``, which ReadOnlyAccess grants, shows
    it), so it opens one colour at one version: a new release's candidate gets a new one, and the secret it comes
    from stays in Secrets Manager. Lowercase hex keeps its 256 bits under the load balancer's case-insensitive
    comparison of header values (Elastic Load Balancing, "Listener rules for your Application Load Balancer",
    condition types: HTTP header conditions), and holds no ``*`` or ``?`` wildcard.
    """
    return hmac.new(master.encode(), version.encode(), hashlib.sha256).hexdigest()


def dns_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a host name the certificate covers, or None."""
    labels = name.split(".")
    if len(name) > DNS_NAME_LIMIT:
        return f"a DNS name of at most {DNS_NAME_LIMIT} characters (this one has {len(name)})"
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return ("a lowercase DNS name such as app.example.com: labels of 1-63 letters, digits and inner hyphens "
                "(no wildcard, no scheme, no port)")
    return None


def check_release_token(token: str) -> str | None:
    """What is wrong with a release token, or None; the token itself is never part of the answer."""
    if _RELEASE_TOKEN.match(token):
        return None
    return (
        f"32-128 letters, digits or ._~+/=- (this one has {len(token)} characters; '*' and '?' are wildcards to the "
        f"load balancer); set it with `pulumi config set --secret {RELEASE_TOKEN_KEY} \"$(openssl rand -hex 32)\"`"
    )


def release_token_problems(raw: Mapping[str, str], models: Mapping[str, Any]) -> list[Problem]:
    """Check the secret release token where its plaintext is available: the program's config map."""
    token = raw.get(RELEASE_TOKEN_KEY)
    wrong = check_release_token(token) if token is not None else None
    return [Problem(RELEASE_TOKEN_KEY, "[secret]", wrong)] if wrong else []



class HealthCheck(ConfigModel):
    """How the load balancer decides a task may receive traffic."""

    path: HealthPath = "/healthz"
    """Path requested on each task. Default ``/healthz``."""
    matcher: Matcher = "200"
    """HTTP codes that count as healthy, e.g. ``200`` or ``200-299``. Default ``200``."""
    interval_seconds: int = Field(default=15, ge=5, le=300)
    """Seconds between checks, 5-300. Default 15."""
    timeout_seconds: int = Field(default=5, ge=2, le=120)
    """Seconds to wait for an answer, 2-120 and less than the interval. Default 5."""
    healthy_threshold: int = Field(default=3, ge=2, le=10)
    """Passes in a row before a task gets traffic, 2-10. Default 3."""
    unhealthy_threshold: int = Field(default=3, ge=2, le=10)
    """Failures in a row before a task loses traffic, 2-10. Default 3."""

    @model_validator(mode="after")
    def _check(self) -> HealthCheck:
        if self.timeout_seconds >= self.interval_seconds:
            cross_field([Problem("timeoutSeconds", self.timeout_seconds,
                                 f"must be less than intervalSeconds ({self.interval_seconds})")])
        return self


class Stickiness(ConfigModel):
    """Whether a client keeps reaching the same colour during a canary."""

    enabled: bool = False
    """Pin a client to the colour it first reached. Default off."""
    duration_seconds: int = Field(default=3600, ge=1, le=604800)
    """How long a client stays pinned, 1 s to 7 days. Default 3600."""


class TrafficConfig(ConfigModel):
    """The ``traffic`` namespace."""

    certificate_arn: str | None = None
    """ACM certificate for HTTPS, in the stack's region. Default none: HTTP only, with a warning."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listeners; must be a TLS 1.3 policy. Default ``ELBSecurityPolicy-TLS13-1-2-2021-06``."""
    ingress_cidrs: tuple[str, ...] = Field(default=("0.0.0.0/0",), min_length=1)
    """Who may reach ports 80 and 443. Default everyone."""
    domain_name: str | None = None
    """The host name users and the release driver reach the stack by, e.g. ``app.example.com``; the certificate must
    cover it. Required with ``certificateArn``. Default none: the load balancer's own DNS name, over HTTP."""
    hosted_zone_id: str | None = None
    """Route 53 hosted zone in which the stack creates an alias record from ``domainName`` to the load balancer.
    Default none: the record is managed elsewhere."""
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    """Target group health check. Defaults as documented on each key."""
    deregistration_delay_seconds: int = Field(default=30, ge=0, le=3600)
    """Seconds a removed task keeps finishing its requests, 0-3600. Default 30 (short: releases move tasks often)."""
    stickiness: Stickiness = Field(default_factory=Stickiness)
    """Client stickiness to a colour during a canary. Default off."""
    deletion_protection: bool = False
    """Refuse to delete the load balancer (and ``protect`` it in Pulumi). Default off; production on."""
    idle_timeout_seconds: int = Field(default=60, ge=1, le=4000)
    """Seconds an idle connection stays open, 1-4000. Default 60."""
    access_log_days: int = Field(default=30, ge=1, le=3650)
    """Days access logs are kept in their bucket before they expire, 1-3650. Default 30; production 365."""

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any, info: ValidationInfo) -> Any:
        return fill_defaults(data, info, {"production": {"deletionProtection": True, "accessLogDays": 365}})

    @field_validator("ingress_cidrs")
    @classmethod
    def _cidrs(cls, blocks: tuple[str, ...]) -> tuple[str, ...]:
        problems = []
        for i, block in enumerate(blocks):
            try:
                parse_cidr(block)
            except ValueError as exc:
                problems.append(Problem(str(i), block, str(exc)))
        cross_field(problems)
        return blocks

    @field_validator("ssl_policy")
    @classmethod
    def _tls13(cls, policy: str) -> str:
        if not policy.startswith(TLS13_PREFIX):
            message = f"a TLS 1.3 policy, whose name starts with {TLS13_PREFIX} (e.g. ELBSecurityPolicy-TLS13-1-2-2021-06)"
            raise ValueError(message)
        return policy

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> TrafficConfig:
        problems: list[Problem] = []
        region = str((info.context or {}).get("region") or "")
        if self.certificate_arn is not None:
            match = ACM_ARN.match(self.certificate_arn)
            if not match:
                problems.append(Problem("certificateArn", self.certificate_arn,
                                        "an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>"))
            elif region and match["region"] != region:
                problems.append(Problem("certificateArn", self.certificate_arn,
                                        f"a load balancer uses certificates of its own region: use one from {region}"))
        if self.domain_name is not None:
            wrong = dns_name_problem(self.domain_name)
            if wrong:
                problems.append(Problem("domainName", self.domain_name, wrong))
        elif self.certificate_arn is not None:
            problems.append(Problem("domainName", MISSING, "required with certificateArn: the name the certificate covers, "
                                    "e.g. app.example.com (a load balancer's own DNS name is never on a certificate)"))
        if self.hosted_zone_id is not None:
            if self.domain_name is None:
                problems.append(Problem("hostedZoneId", self.hosted_zone_id, "needs domainName: the record's name"))
            if not _ZONE_ID.match(self.hosted_zone_id):
                problems.append(Problem("hostedZoneId", self.hosted_zone_id, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"))
        cross_field(problems)
        return self

    @property
    def https(self) -> bool:
        """Whether the listeners serve HTTPS."""
        return self.certificate_arn is not None
