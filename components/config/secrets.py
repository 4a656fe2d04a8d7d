"""Where every secret a stack update needs comes from, for every runner of an update.

Secrets live in one Pulumi ESC environment per stack, ``<project>/<stack>-secrets``,
imported by the stack (``environment:`` in ``Pulumi.<stack>.yaml``) under
``values.pulumiConfig``. Whoever runs an update (a CI deploy job through the
Automation API, Pulumi Deployments, a laptop) resolves the stack's config through
Pulumi Cloud, which opens the imported environment: the same values everywhere,
nothing copied between runners, nothing in git even encrypted (docs/deployments.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config.base import ConfigError, Problem


@dataclass(frozen=True)
class SecretSource:
    """One secret the program or a provider needs."""

    key: str
    """The config key, ``namespace:name``."""
    reader: str
    """Who reads it: the program (``require_secret``) or a provider."""
    what: str
    """What it is, for the bootstrap instructions."""


SECRETS = (
    SecretSource("data:cacheAuthToken", "program", "the Redis AUTH token, 16-128 printable characters"),
    SecretSource("traffic:releaseToken", "program", "the header value that opens a colour's listener rule to smoke tests"),
    SecretSource("deployments:webhookUrl", "program", "the Slack or Teams incoming-webhook URL"),
    SecretSource("delivery:pulumiAccessToken", "program", "the token deploy jobs use to reach Pulumi Cloud"),
    SecretSource("delivery:infrastructureReadToken", "program", "read access to the infrastructure repository"),
    # The GitHub App the rulesets let through: an installation token, never a personal token (docs/github.md).
    SecretSource("github:appAuth", "provider", "the GitHub App's id, installation id and private key (pemFile)"),
)

# The personal-token alternative: refused where the stack commits to protected branches (the rulesets' only
# bypass actor is the GitHub App, delivery:automationAppId).
TOKEN_KEY = "github:token"  # noqa: S105 - a config key, not a secret


def environment_name(project: str, stack: str) -> str:
    """The ESC environment a stack imports its secrets from."""
    return f"{project}/{stack}-secrets"


def check_github_credentials(token_set: bool, owns_repository_objects: bool) -> None:
    """Refuse a personal token in the stack that commits the workflow file to the protected branches."""
    if token_set and owns_repository_objects:
        raise ConfigError([Problem(
            TOKEN_KEY, "(secret)",
            "the rulesets let only the GitHub App (delivery:automationAppId) commit to the protected branches, so a "
            "token's commits of the workflow file are refused: remove github:token and set github:appAuth in the "
            "stack's secrets environment",
        )])
