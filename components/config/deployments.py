"""The ``deployments`` namespace: Pulumi Deployments on push, drift detection, notifications.

The namespace is ours, not the Pulumi Cloud provider's (``pulumiservice`` is
that provider's own config namespace). The webhook URL is a credential (anyone
holding a Slack or Teams incoming-webhook URL can post to the channel), so it
is secret config, read with ``require_secret`` and checked here without ever
being echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError, ValidationInfo, field_validator, model_validator

from components.config.base import MISSING, ConfigModel, Problem, cross_field
from components.config.cron import check_cron

WEBHOOK_URL_KEY = "deployments:webhookUrl"


class WebhookFormat(StrEnum):
    """Where failure and drift notifications are posted."""

    SLACK = "slack"
    MICROSOFT_TEAMS = "microsoft_teams"

    @property
    def provider_value(self) -> str:
        """The provider's spelling (``WebhookFormat`` enum in pulumi-pulumiservice: ``slack``, ``ms_teams``)."""
        return "ms_teams" if self is WebhookFormat.MICROSOFT_TEAMS else "slack"


class OidcProvider(StrEnum):
    """Whether this stack creates the account's ``api.pulumi.com/oidc`` identity provider or uses one that exists."""

    CREATE = "create"
    EXISTING = "existing"


# Pulumi organisation names: letters, digits, '-', '_', '.'. A ':' would break the
# colon-separated OIDC subject the trust policy pins, so the pattern matters.
OrganizationName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?$")]
# GitHub's rules: owner 1-39 letters, digits or single inner dashes; repository name 1-100 of [A-Za-z0-9._-].
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$")
PolicyArn = Annotated[str, StringConstraints(pattern=r"^arn:aws(?:-[a-z]+)*:iam::(?:aws|\d{12}):policy/[\w+=,.@/-]+$")]

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")

DEFAULT_BRANCHES = {"staging": "develop", "production": "main"}
DEFAULT_REMEDIATION = {"staging": True, "production": False}
DAILY_AT_SIX_UTC = "0 6 * * *"
# Exclude filters only: every other change deploys. Pulumi Deployments' "Path filtering" page: a file counts when
# it matches an include filter or no include filter is configured, and matches no exclude filter; so a list of
# only '!' patterns means "everything except these" (offline/path_filters.py models the same rule).
DOCS_ONLY = ("docs/**", "**/*.md")
AWS_MANAGED = "arn:aws:iam::aws:policy/"
# AWS managed policies that allow IAM writes on any resource with no iam:PermissionsBoundary condition: a role
# holding one can create an unbounded administrator and become it (IAM User Guide, "Permissions boundaries for
# IAM entities"; the documents are AWS's, e.g. IAMFullAccess allows iam:* on *).
UNBOUNDED_IAM = frozenset({f"{AWS_MANAGED}AdministratorAccess", f"{AWS_MANAGED}IAMFullAccess"})


class DeploymentsConfig(ConfigModel):
    """The ``deployments`` namespace."""

    enabled: bool = False
    """Manage this stack's Pulumi Deployments settings, schedules, webhook and tags. Default off: the first
    ``pulumi up`` of a stack that defines its own settings is run by hand (docs/deployments.md)."""
    organization: OrganizationName | None = None
    """Pulumi Cloud organisation that owns the stack; also the OIDC audience. Required when enabled."""
    repository: str | None = None
    """GitHub repository of this program, ``owner/name``. Required when enabled."""
    directory: str = ""
    """Folder of ``Pulumi.yaml`` inside the repository, relative, no ``..``. Default the repository root."""
    branch: str = "main"
    """Branch whose pushes update the stack. Default ``develop`` for staging, ``main`` for production."""
    path_filters: tuple[str, ...] = ()
    """Deployment path filters (globs from the repository root; ``!`` excludes). Default: exclude
    ``docs/**`` and ``**/*.md`` under ``directory``, so documentation-only pushes do not deploy."""
    drift_schedule: str = DAILY_AT_SIX_UTC
    """Five-field cron (UTC) of drift detection. Default daily at 06:00."""
    remediate_drift: bool = False
    """Revert detected drift with an update. Default on for staging, off for production (where it is refused)."""
    webhook_format: WebhookFormat = WebhookFormat.SLACK
    """``slack`` or ``microsoft_teams``; the URL is the secret ``deployments:webhookUrl``. Default ``slack``."""
    oidc_provider: OidcProvider = OidcProvider.CREATE
    """``create`` the account's ``api.pulumi.com/oidc`` provider, or use the ``existing`` one (one per account). Default ``create``."""
    role_policy_arns: tuple[PolicyArn, ...] = (f"{AWS_MANAGED}PowerUserAccess",)
    """Managed policies of the role deployments assume. Default PowerUserAccess; the IAM writes the program needs
    come from the role's own bounded delegation policy (components/iam_boundary.py), never from a managed policy
    that writes IAM unbounded (``UNBOUNDED_IAM``)."""
    session_minutes: int = Field(default=60, ge=15, le=720)
    """Length of the assumed-role session, 15-720 minutes (the role's maximum is set to match). Default 60."""

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        environment = (info.context or {}).get("environment")
        filled = dict(data)
        if environment in DEFAULT_BRANCHES:
            filled.setdefault("branch", DEFAULT_BRANCHES[environment])
            filled.setdefault("remediateDrift", DEFAULT_REMEDIATION[environment])
        if "pathFilters" not in filled:
            prefix = str(filled.get("directory") or "").strip("/")
            filled["pathFilters"] = [f"!{prefix}/{glob}" if prefix else f"!{glob}" for glob in DOCS_ONLY]
        return filled

    @field_validator("directory")
    @classmethod
    def _check_directory(cls, directory: str) -> str:
        if directory in ("", "."):
            return ""
        parts = directory.strip("/").split("/")
        if directory.startswith("/") or any(p in (".", "..") or not _SEGMENT.match(p) for p in parts):
            message = "a folder relative to the repository root, e.g. infra or deploy/aws (no leading '/', no '..')"
            raise ValueError(message)
        return "/".join(parts)

    @field_validator("role_policy_arns")
    @classmethod
    def _check_policies(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        refused = sorted(set(arns) & UNBOUNDED_IAM)
        if refused:
            message = (f"{', '.join(refused)} lets the deployment create an unbounded role and become it; list only "
                       "policies without IAM writes, e.g. arn:aws:iam::aws:policy/PowerUserAccess (the role's bounded IAM "
                       "rights are built in)")
            raise ValueError(message)
        return arns

    @field_validator("repository")
    @classmethod
    def _check_repository(cls, repository: str | None) -> str | None:
        if repository is not None and not _REPOSITORY.match(repository):
            message = (
                "a GitHub repository as owner/name, e.g. acme/release-platform (owner: letters, digits, "
                "single inner dashes, 39 at most; name: letters, digits, '.', '_', '-')"
            )
            raise ValueError(message)
        return repository

    @field_validator("branch")
    @classmethod
    def _check_branch(cls, branch: str) -> str:
        # The parts of git's check-ref-format that a typo can hit.
        bad = (
            not branch
            or not re.fullmatch(r"[A-Za-z0-9._/-]+", branch)
            or branch.startswith(("-", "/", "refs/"))
            or branch.endswith(("/", ".", ".lock"))
            or ".." in branch
            or "//" in branch
        )
        if bad:
            message = "a branch name such as main, develop or release/2026-11 (letters, digits, '.', '_', '-', '/')"
            raise ValueError(message)
        return branch

    @field_validator("path_filters")
    @classmethod
    def _check_filters(cls, filters: tuple[str, ...]) -> tuple[str, ...]:
        problems = [
            Problem(str(i), f, "a glob from the repository root without spaces or a leading '/', e.g. infra/** or !docs/**")
            for i, f in enumerate(filters)
            if not f.lstrip("!") or f.lstrip("!").startswith("/") or any(c.isspace() for c in f)
        ]
        cross_field(problems)
        return filters

    @field_validator("drift_schedule")
    @classmethod
    def _check_schedule(cls, schedule: str) -> str:
        return check_cron(schedule)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> DeploymentsConfig:
        problems: list[Problem] = []
        if self.enabled:
            for key, value, example in (
                ("organization", self.organization, "acme-platform"),
                ("repository", self.repository, "acme/release-platform"),
            ):
                if value is None:
                    problems.append(Problem(key, MISSING, f"required when deployments:enabled is true, e.g. {example}"))
        if self.remediate_drift and (info.context or {}).get("environment") == "production":
            problems.append(Problem(
                "remediateDrift", True,
                "production drift is reported, never silently reverted: remediation is not allowed in production",
            ))
        cross_field(problems)
        return self

    @property
    def session_duration(self) -> str:
        """The session length in the provider's ``XhYmZs`` format."""
        hours, minutes = divmod(self.session_minutes, 60)
        return f"{hours}h{minutes}m0s"


def check_webhook_url(url: str) -> str | None:
    """What is wrong with a notification webhook URL, or None. Never includes the URL itself."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        scheme = f"the URL uses {parts.scheme}://" if parts.scheme else "the value has no scheme"
        return f"{scheme}, but notifications carry stack details: use an https:// URL"
    if not parts.hostname:
        return "the URL has no host; expected e.g. https://hooks.slack.com/services/..."
    return None


def webhook_secret_problems(raw: Mapping[str, str], models: Mapping[str, Any]) -> list[Problem]:
    """Check the secret webhook URL where its plaintext is available: the program's config map."""
    settings = models.get("deployments")
    if isinstance(settings, DeploymentsConfig):
        enabled = settings.enabled
    else:
        # The namespace had other problems; whether it is on is still worth knowing.
        try:
            enabled = TypeAdapter(bool).validate_python(raw.get("deployments:enabled", False))
        except ValidationError:
            enabled = False
    url = raw.get(WEBHOOK_URL_KEY)
    if url is None:
        if not enabled:
            return []
        return [Problem(
            WEBHOOK_URL_KEY, MISSING,
            f"required when deployments:enabled is true: pulumi config set --secret {WEBHOOK_URL_KEY} https://hooks.slack.com/...",
        )]
    wrong = check_webhook_url(url)
    return [Problem(WEBHOOK_URL_KEY, "[secret]", wrong)] if wrong else []
