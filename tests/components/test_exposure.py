"""What each runner of unreviewed code can read: no pull request reaches a credential that writes.

Two places run a pull request's code: Pulumi Deployments (a pull request's preview runs the pull request's
program with the stack's config resolved, every ESC environment the stack imports included) and the
application repository's workflow (its jobs run the pull request's npm scripts). For each operation and each
job this resolves what it can read, from the plans and the stack files, and holds it to no write credential.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.config.secrets import SECRETS
from offline import Plan
from offline.stacks import ROOT

PlanOf = Callable[..., Plan]
STACKS = ("staging", "production")
SETTINGS = "pulumiservice:index:DeploymentSettings"
SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")


def _imported_secrets(stack: str) -> set[str]:
    """The secret config keys a run of this stack's program resolves: those of its imported secrets environment."""
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    imported = data.get("environment") or []
    return {s.key for s in SECRETS} if any(str(e).endswith(f"{stack}-secrets") for e in imported) else set()


def deployments_operations(plan: Plan, stack: str) -> dict[str, set[str]]:
    """Each Deployments operation that runs code nobody reviewed, and the secrets it resolves."""
    [settings] = plan.of_type(SETTINGS)
    operations: dict[str, set[str]] = {}
    if settings.inputs["vcs"].get("previewPullRequests"):
        # The pull request's head runs `pulumi preview` against this stack: its config, its environments.
        operations["pull request preview"] = _imported_secrets(stack)
    return operations


@pytest.mark.parametrize("stack", STACKS)
def test_no_deployments_operation_runs_a_pull_request_with_the_stacks_secrets(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    assert _imported_secrets(stack), "the stack imports its secrets environment: every run of its code resolves them"
    assert deployments_operations(plan, stack) == {}
    # What Deployments still runs is a branch's code: pushes (update) and the drift schedule, both on the branch.
    [settings] = plan.of_type(SETTINGS)
    assert settings.inputs["vcs"]["deployCommits"] is True
    assert settings.inputs["sourceContext"]["git"]["branch"] in {"develop", "main"}


def _workflow(plan: Plan) -> dict[str, Any]:
    [file] = [r for r in plan.of_type("github:index/repositoryFile:RepositoryFile") if r.inputs["branch"] == "main"]
    return yaml.safe_load(file.inputs["content"])


def _runs_on_pull_requests(job: dict[str, Any]) -> bool:
    condition = str(job.get("if", ""))
    return "github.event_name == 'push'" not in condition


def _reads(job: dict[str, Any]) -> set[str]:
    """The repository or environment secrets a job's steps can read."""
    text = yaml.safe_dump(job)
    return set(SECRET_REF.findall(text))


def _trusted_subjects(plan: Plan) -> set[str]:
    subjects: set[str] = set()
    for role in plan.of_type("aws:iam/role:Role"):
        policy = role.inputs.get("assumeRolePolicy")
        for statement in (yaml.safe_load(policy) if isinstance(policy, str) else policy or {}).get("Statement", []):
            for test in (statement.get("Condition") or {}).values():
                for key, value in test.items():
                    if key.endswith(":sub"):
                        subjects.update([value] if isinstance(value, str) else value)
    return subjects


def test_no_application_job_a_pull_request_runs_reads_a_secret_or_an_environment(plan_of: PlanOf) -> None:
    plan = plan_of("production")
    workflow = _workflow(plan)
    assert "pull_request" in workflow["on"]
    on_pull_requests = {name: job for name, job in workflow["jobs"].items() if _runs_on_pull_requests(job)}
    assert set(on_pull_requests) == {"lint", "test", "build", "security-scan"}
    for name, job in on_pull_requests.items():
        assert _reads(job) == set(), name
        assert "environment" not in job, name
    # The jobs that read secrets run on a push to a branch, in a GitHub environment whose branch policy admits
    # only that branch.
    for name in ("deploy-staging", "deploy-production"):
        job = workflow["jobs"][name]
        assert not _runs_on_pull_requests(job)
        assert _reads(job) == {"INFRASTRUCTURE_READ_TOKEN", "PULUMI_ACCESS_TOKEN"}, name


@pytest.mark.parametrize("stack", STACKS)
def test_a_pull_requests_oidc_token_is_trusted_by_no_role(plan_of: PlanOf, stack: str) -> None:
    """A job a pull request runs may ask GitHub for a token (``id-token: write``); its subject is
    ``repo:<owner>/<repo>:pull_request`` (GitHub, "OpenID Connect reference": filtering for pull_request events)."""
    subjects = _trusted_subjects(plan_of(stack))
    assert subjects, "the plan's roles trust GitHub subjects"
    assert not [s for s in subjects if s.endswith(":pull_request") or "*" in s], subjects
