"""The ``deployments`` namespace: environment defaults, and every bad value named with what is allowed."""

from __future__ import annotations

import pytest

from components.config import load
from components.config.cron import check_cron
from components.config.deployments import check_webhook_url
from offline.stacks import secret_placeholder
from tests.support import MINIMAL_CONFIG, load_problems

BASE = MINIMAL_CONFIG
ENABLED = {
    **BASE,
    "deployments:enabled": "true",
    "deployments:organization": "acme-platform",
    "deployments:repository": "acme/release-platform",
    "deployments:webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
}


def problems(stack: str = "staging", **values: object) -> list[str]:
    return load_problems(ENABLED, stack, **values)


@pytest.mark.parametrize(
    ("stack", "branch", "remediate"),
    [("staging", "develop", True), ("production", "main", False)],
)
def test_branch_and_remediation_follow_the_environment(stack: str, branch: str, remediate: bool) -> None:
    cfg = load(ENABLED, stack).deployments
    assert cfg.branch == branch
    assert cfg.remediate_drift is remediate
    assert cfg.drift_schedule == "0 6 * * *"
    assert cfg.path_filters == ("!docs/**", "!**/*.md")


def test_environment_defaults_follow_platform_environment_not_the_stack_name() -> None:
    cfg = load({**ENABLED, "platform:environment": "production"}, "eu-prod").deployments
    assert (cfg.branch, cfg.remediate_drift) == ("main", False)


def test_off_by_default_and_then_nothing_else_is_required() -> None:
    cfg = load(BASE, "staging").deployments
    assert cfg.enabled is False
    assert cfg.organization is None


def test_path_filters_follow_the_program_folder() -> None:
    cfg = load({**ENABLED, "deployments:directory": "infra/aws/"}, "staging").deployments
    assert cfg.directory == "infra/aws"
    assert cfg.path_filters == ("!infra/aws/docs/**", "!infra/aws/**/*.md")


def test_session_duration_in_the_providers_format() -> None:
    cfg = load({**ENABLED, "deployments:sessionMinutes": "90"}, "staging").deployments
    assert cfg.session_duration == "1h30m0s"


def test_enabled_needs_organization_repository_and_webhook_url() -> None:
    found = problems(deployments__organization=None, deployments__repository=None, deployments__webhookUrl=None)
    assert sorted(found) == [
        "deployments:organization: got (missing); required when deployments:enabled is true, e.g. acme-platform",
        "deployments:repository: got (missing); required when deployments:enabled is true, e.g. acme/release-platform",
        "deployments:webhookUrl: got (missing); required when deployments:enabled is true: "
        "pulumi config set --secret deployments:webhookUrl https://hooks.slack.com/...",
    ]


def test_production_refuses_drift_remediation() -> None:
    (found,) = problems("production", deployments__remediateDrift=True)
    assert found == (
        "deployments:remediateDrift: got true; production drift is reported, never silently reverted: "
        "remediation is not allowed in production"
    )


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"deployments__organization": "acme platform"}, "deployments:organization", "pattern"),
        ({"deployments__organization": "acme:platform"}, "deployments:organization", "pattern"),
        ({"deployments__organization": "-acme"}, "deployments:organization", "pattern"),
        ({"deployments__repository": "release-platform"}, "deployments:repository", "owner/name"),
        ({"deployments__repository": "acme/"}, "deployments:repository", "owner/name"),
        ({"deployments__repository": "acme/infra/platform"}, "deployments:repository", "owner/name"),
        ({"deployments__repository": "-acme/platform"}, "deployments:repository", "owner/name"),
        ({"deployments__repository": "ac--me/platform"}, "deployments:repository", "owner/name"),
        ({"deployments__repository": "acme/.."}, "deployments:repository", "owner/name"),
        ({"deployments__driftSchedule": "0 6 * *"}, "deployments:driftSchedule", "has 5 fields"),
        ({"deployments__driftSchedule": "daily"}, "deployments:driftSchedule", "this one has 1"),
        ({"deployments__driftSchedule": "60 6 * * *"}, "deployments:driftSchedule", "minute 60 is outside 0-59"),
        ({"deployments__driftSchedule": "0 24 * * *"}, "deployments:driftSchedule", "hour 24 is outside 0-23"),
        ({"deployments__driftSchedule": "0 6 0 * *"}, "deployments:driftSchedule", "day of month 0 is outside 1-31"),
        ({"deployments__driftSchedule": "0 6 * 13 *"}, "deployments:driftSchedule", "month 13 is outside 1-12"),
        ({"deployments__driftSchedule": "0 6 * * 7"}, "deployments:driftSchedule", "day of week 7 is outside 0-6"),
        ({"deployments__driftSchedule": "0 6 * * FUNDAY"}, "deployments:driftSchedule", "SUN, MON"),
        ({"deployments__driftSchedule": "*/0 * * * *"}, "deployments:driftSchedule", "above 0"),
        ({"deployments__driftSchedule": "30-10 * * * *"}, "deployments:driftSchedule", "runs backwards"),
        ({"deployments__driftSchedule": "0 6,,8 * * *"}, "deployments:driftSchedule", "empty list item"),
        ({"deployments__driftSchedule": "5/10 * * * *"}, "deployments:driftSchedule", "needs a range or '*'"),
        ({"deployments__webhookFormat": "discord"}, "deployments:webhookFormat", "'slack' or 'microsoft_teams'"),
        ({"deployments__oidcProvider": "import"}, "deployments:oidcProvider", "'create' or 'existing'"),
        ({"deployments__branch": "feature..x"}, "deployments:branch", "a branch name"),
        ({"deployments__branch": "refs/heads/main"}, "deployments:branch", "a branch name"),
        ({"deployments__branch": "my branch"}, "deployments:branch", "a branch name"),
        ({"deployments__directory": "/infra"}, "deployments:directory", "relative to the repository root"),
        ({"deployments__directory": "infra/../x"}, "deployments:directory", "relative to the repository root"),
        ({"deployments__pathFilters": ["infra/**", "/docs/**"]}, "deployments:pathFilters[1]", "without spaces or a leading '/'"),
        ({"deployments__pathFilters": ["!"]}, "deployments:pathFilters[0]", "without spaces or a leading '/'"),
        ({"deployments__rolePolicyArns": ["PowerUserAccess"]}, "deployments:rolePolicyArns[0]", "pattern"),
        ({"deployments__rolePolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]},
         "deployments:rolePolicyArns", "create an unbounded role"),
        ({"deployments__rolePolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
         "deployments:rolePolicyArns", "create an unbounded role"),
        ({"deployments__sessionMinutes": 5}, "deployments:sessionMinutes", "greater than or equal to 15"),
        ({"deployments__webhookUrl": "http://hooks.example.com/x"}, "deployments:webhookUrl", "use an https:// URL"),
        ({"deployments__webhookUrl": "hooks.slack.com/services/x"}, "deployments:webhookUrl", "has no scheme"),
        ({"deployments__webhookUrl": "https:///services/x"}, "deployments:webhookUrl", "has no host"),
        ({"deployments__enable": True}, "deployments:enable", "unknown key"),
    ],
)
def test_bad_config_names_key_value_and_what_is_allowed(values: dict[str, object], key: str, fragment: str) -> None:
    found = problems(**values)
    matching = [p for p in found if p.startswith(f"{key}: got ")]
    assert matching, f"no problem names {key}: {found}"
    assert any(fragment in p for p in matching), matching


def test_a_bad_webhook_url_is_reported_without_revealing_it() -> None:
    (found,) = problems(deployments__webhookUrl="http://hooks.example.com/services/T0/B0/credential")
    assert found.startswith('deployments:webhookUrl: got "[secret]";')
    assert "credential" not in found
    assert "hooks.example.com" not in found


def test_every_problem_at_once() -> None:
    found = problems(
        deployments__organization="a b", deployments__repository="x", deployments__driftSchedule="* *",
        deployments__webhookUrl="ftp://x",
    )
    assert {p.split(": got")[0] for p in found} == {
        "deployments:organization", "deployments:repository", "deployments:driftSchedule", "deployments:webhookUrl",
    }


@pytest.mark.parametrize(
    "expression",
    ["0 6 * * *", "*/15 * * * *", "0 6 * * MON-FRI", "0 0 1 jan *", "0,30 8-18/2 * * 1-5", "59 23 31 12 6"],
)
def test_cron_expressions_that_parse(expression: str) -> None:
    assert check_cron(expression) == expression


def test_offline_placeholder_of_a_secret_url_passes_the_https_check() -> None:
    placeholder = secret_placeholder("deployments:webhookUrl")
    assert placeholder.startswith("https://")
    assert placeholder.split("/")[2].endswith(".invalid")
    assert check_webhook_url(placeholder) is None
    assert secret_placeholder("github:token") == "offline-placeholder-for-github-token"
