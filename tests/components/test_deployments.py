"""Pulumi Deployments in each stack's plan: branch, triggers, path filters, OIDC trust, drift, notifications, tags."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from offline import Plan, PlannedResource
from offline.diff import diff
from offline.path_filters import file_matches, push_deploys
from offline.render import render_plan
from release.cli import app

SETTINGS = "pulumiservice:index:DeploymentSettings"
DRIFT = "pulumiservice:index:DriftSchedule"
WEBHOOK = "pulumiservice:index:Webhook"
TAG = "pulumiservice:index:StackTag"
ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ORG = "acme-platform"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"


def one(plan: Plan, type_: str) -> PlannedResource:
    (found,) = plan.of_type(type_)
    return found


def trust_of(plan: Plan, role_name: str = "deployments-aws-oidc-role") -> dict[str, Any]:
    (role,) = [r for r in plan.of_type(ROLE) if r.name == role_name]
    return json.loads(role.inputs["assumeRolePolicy"])


def subject(stack: str, operation: str) -> str:
    return f"pulumi:deploy:org:{ORG}:project:release-platform:stack:{stack}:operation:{operation}:scope:write"


@pytest.mark.parametrize(("stack", "branch"), [("staging", "develop"), ("production", "main")])
def test_each_stack_follows_its_branch(plan_of, stack: str, branch: str) -> None:
    settings = one(plan_of(stack), SETTINGS)
    assert settings.inputs["sourceContext"] == {"git": {"branch": branch}}
    assert settings.inputs["organization"] == ORG
    assert settings.inputs["project"] == "release-platform"
    assert settings.inputs["stack"] == stack


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_push_updates_and_bursts_collapse(plan_of, stack: str) -> None:
    settings = one(plan_of(stack), SETTINGS).inputs
    assert settings["vcs"]["provider"] == "github"
    assert settings["vcs"]["repository"] == "acme-web/release-platform"
    assert settings["vcs"]["deployCommits"] is True
    assert settings["vcs"]["pullRequestTemplate"] is False
    assert settings["operationContext"]["options"] == {"skipIntermediateDeployments": True, "skipInstallDependencies": True}
    assert settings["operationContext"]["preRunCommands"][1].endswith("--requirement requirements.txt")
    assert settings["operationContext"]["preRunCommands"][-1] == ".venv/bin/python -m tools.deployments_credentials"
    assert "github" not in settings, "the deprecated github block is replaced by vcs"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_documentation_only_pushes_do_not_deploy(plan_of, stack: str) -> None:
    filters = one(plan_of(stack), SETTINGS).inputs["vcs"]["paths"]
    assert filters == ["!docs/**", "!**/*.md"]
    assert not push_deploys(filters, ["docs/runbook.md", "README.md", "components/README.md"])
    assert push_deploys(filters, ["docs/runbook.md", "components/deployments.py"])
    assert push_deploys(filters, [f"Pulumi.{stack}.yaml"])


@pytest.mark.parametrize(
    ("filters", "path", "counts"),
    [
        (["!docs/**"], "docs/a/b.md", False),
        (["!docs/**"], "docsite/index.html", True),
        (["!**/*.md"], "README.md", False),
        (["!**/*.md"], "components/notes.md", False),
        (["!**/*.md"], "components/notes.mdx", True),
        (["infra/*"], "infra/a/b.py", False),
        (["infra/**", "!infra/docs/**"], "infra/a/b.py", True),
        (["infra/**", "!infra/docs/**"], "infra/docs/x.md", False),
        (["infra/**"], "app/main.py", False),
        (["Pulumi.?.yaml"], "Pulumi.a.yaml", True),
        ([], "anything", True),
    ],
)
def test_path_filter_rules(filters: list[str], path: str, counts: bool) -> None:
    assert file_matches(filters, path) is counts


def test_the_program_folder_moves_source_and_filters(plan_of) -> None:
    settings = one(plan_of("staging", "deployments:directory=infra"), SETTINGS).inputs
    assert settings["sourceContext"] == {"git": {"branch": "develop", "repoDir": "infra"}}
    assert settings["vcs"]["paths"] == ["!infra/docs/**", "!infra/**/*.md"]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_oidc_trust_pins_organisation_project_and_stack(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    (statement,) = trust_of(plan)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    # Exact subjects, no wildcard: only updates and destroys of this stack get the deploy role.
    assert statement["Condition"] == {"StringEquals": {
        "api.pulumi.com/oidc:aud": ORG,
        "api.pulumi.com/oidc:sub": [subject(stack, "destroy"), subject(stack, "update")],
    }}
    # Previews (pull requests' included) and refreshes get the read-only role, and only they do.
    (preview,) = trust_of(plan, "deployments-aws-oidc-preview-role")["Statement"]
    assert preview["Condition"] == {"StringEquals": {
        "api.pulumi.com/oidc:aud": ORG,
        "api.pulumi.com/oidc:sub": [subject(stack, "preview"), subject(stack, "refresh")],
    }}
    created = [r for r in plan.of_type(OIDC) if r.name.startswith("deployments-")]
    if stack == "staging":
        # Both stacks share one account; production creates the provider and staging looks it up.
        assert created == []
        return
    (provider,) = created
    assert provider.inputs["url"] == "https://api.pulumi.com/oidc"
    assert provider.inputs["clientIdLists"] == [ORG]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_settings_name_both_roles_and_hold_no_aws_key(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    roles = {r.name: r for r in plan.of_type(ROLE) if r.name.startswith("deployments-aws-oidc-")}
    deploy, preview = roles["deployments-aws-oidc-role"], roles["deployments-aws-oidc-preview-role"]
    settings = one(plan, SETTINGS).inputs
    # One `oidc` block would give every operation one role; the run picks the role its operation is trusted for.
    assert "oidc" not in settings["operationContext"]
    assert settings["operationContext"]["environmentVariables"] == {
        "PULUMI_DEPLOY_ROLE_ARN": deploy.outputs["arn"],
        "PULUMI_PREVIEW_ROLE_ARN": preview.outputs["arn"],
        "PULUMI_ROLE_SESSION_NAME": f"pulumi-deployments-{stack}",
        "PULUMI_ROLE_SESSION_SECONDS": "3600",
    }
    assert deploy.outputs["arn"] == f"arn:aws:iam::123456789012:role/webapp-{stack}-pulumi-deployments"
    assert preview.outputs["arn"] == f"arn:aws:iam::123456789012:role/webapp-{stack}-pulumi-preview"
    assert deploy.inputs["maxSessionDuration"] == preview.inputs["maxSessionDuration"] == 3600
    text = json.dumps(settings)
    assert "AWS_ACCESS_KEY_ID" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text


def test_the_roles_get_the_configured_policies_and_previews_only_read(plan_of) -> None:
    attached = {r.name: r.inputs["policyArn"] for r in plan_of("staging").of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if r.name.startswith("deployments-")}
    assert attached.pop("deployments-aws-oidc-preview-readonlyaccess") == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    # No managed policy with IAM writes: the role's IAM rights are its bounded delegation (components/iam_boundary.py).
    assert set(attached.values()) == {"arn:aws:iam::aws:policy/PowerUserAccess"}


def test_an_existing_oidc_provider_is_looked_up_not_created(plan_of) -> None:
    plan = plan_of("production", "deployments:oidcProvider=existing")
    assert [r for r in plan.of_type(OIDC) if r.name.startswith("deployments-")] == []
    (statement,) = trust_of(plan)["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}


@pytest.mark.parametrize(
    ("stack", "cron", "remediate"),
    [("staging", "0 6 * * *", True), ("production", "30 6 * * 1-5", False)],
)
def test_drift_schedule_and_remediation_per_stack(plan_of, stack: str, cron: str, remediate: bool) -> None:
    drift = one(plan_of(stack), DRIFT)
    assert drift.inputs == {
        "organization": ORG, "project": "release-platform", "stack": stack,
        "scheduleCron": cron, "autoRemediate": remediate,
    }
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", drift.outputs["scheduleId"])


@pytest.mark.parametrize(
    ("stack", "events"),
    [
        ("staging", ["update_failed", "deployment_failed", "drift_detected", "drift_detection_failed", "drift_remediation_failed"]),
        ("production", ["update_failed", "deployment_failed", "drift_detected", "drift_detection_failed"]),
    ],
)
def test_webhook_reports_failures_and_drift(plan_of, stack: str, events: list[str]) -> None:
    webhook = one(plan_of(stack), WEBHOOK).inputs
    assert webhook["filters"] == events
    assert webhook["format"] == "slack"
    assert webhook["active"] is True
    assert (webhook["organizationName"], webhook["projectName"], webhook["stackName"]) == (ORG, "release-platform", stack)
    assert webhook["payloadUrl"] == "[secret]"


def test_teams_notifications_use_the_providers_format_name(plan_of) -> None:
    webhook = one(plan_of("staging", "deployments:webhookFormat=microsoft_teams"), WEBHOOK).inputs
    assert webhook["format"] == "ms_teams"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_tags(plan_of, stack: str) -> None:
    tags = {r.inputs["name"]: r.inputs["value"] for r in plan_of(stack).of_type(TAG)}
    assert tags == {"environment": stack, "owner": "platform-team", "repository": "acme-web/release-platform"}


def test_turned_off_the_stack_registers_no_deployments_resources(plan_of) -> None:
    plan = plan_of("staging", "deployments:enabled=false")
    # The policy group and pack (guardrails-*) are Pulumi Cloud resources too, but not Deployments'.
    deployments = [r for r in plan.resources if r.type.startswith("pulumiservice:") and not r.name.startswith("guardrails")]
    assert [r for r in plan.resources if r.name.startswith("deployments")] == deployments == []


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("deployments:organization=acme platform", "deployments:organization"),
        ("deployments:repository=acme", "deployments:repository"),
        ("deployments:driftSchedule=0 6 * *", "deployments:driftSchedule"),
        ("deployments:webhookUrl=http://hooks.example.com/services/x", "deployments:webhookUrl"),
        ("deployments:remediateDrift=true", "deployments:remediateDrift"),
    ],
)
def test_bad_deployments_config_stops_the_program_before_any_resource(config_problems, override: str, key: str) -> None:
    found = config_problems("production", override)
    assert [p for p in found if p.startswith(f"{key}: got ")], found


def test_the_plan_shows_branch_triggers_and_schedule(plan_of) -> None:
    text = render_plan(plan_of("staging"))
    assert "sourceContext.git.branch: develop" in text
    assert "triggers: update on push to develop\n" in text
    assert "path filters: !docs/** !**/*.md" in text
    assert "drift detection: every day at 06:00 UTC; drift is remediated (reverted by an update)" in text
    production = render_plan(plan_of("production"))
    assert "drift detection: Monday to Friday at 06:30 UTC; drift is reported only" in production


def test_moving_the_stack_to_another_organisation_replaces_its_settings(plan_of) -> None:
    result = diff(plan_of("staging"), plan_of("staging", "deployments:organization=acme-infra"))
    kinds = {d.name: d.kind for d in result.resources}
    assert kinds["deployments-settings"] == "replace"
    assert kinds["deployments-drift"] == "replace"
    assert kinds["deployments-aws-oidc-role"] == "update"


def test_release_plan_command_shows_production_branch_and_schedule() -> None:
    result = CliRunner().invoke(app, ["plan", "--stack", "production"])
    assert result.exit_code == 0, result.output
    assert "pulumiservice:index:DeploymentSettings deployments-settings" in result.output
    assert "triggers: update on push to main\n" in result.output
    assert "drift detection: Monday to Friday at 06:30 UTC; drift is reported only" in result.output
