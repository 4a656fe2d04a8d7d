"""Every secret an update needs has a source in every runner: CI deploy jobs, Pulumi Deployments, laptops."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.config import SECRET_KEYS, ConfigError
from components.config.secrets import SECRETS, TOKEN_KEY, check_github_credentials, environment_name
from offline import Plan
from offline.stacks import ProjectFiles
from tools.source import parse

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "pulumiservice:index:DeploymentSettings"
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
FILE = "github:index/repositoryFile:RepositoryFile"


def _required_by_the_program() -> set[str]:
    """Keys read with ``require_secret``/``get_secret`` anywhere in the program, found in its source."""
    found: set[str] = set()
    for path in [ROOT / "__main__.py", *(ROOT / "components").rglob("*.py")]:
        tree = parse(path)
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _config_namespace(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound[target.id] = _config_namespace(node.value) or ""
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in {"require_secret", "get_secret"} or not node.args:
                continue
            key = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            owner = node.func.value
            namespace = _config_namespace(owner) if isinstance(owner, ast.Call) else bound.get(getattr(owner, "id", ""))
            if namespace and isinstance(key, str):
                found.add(f"{namespace}:{key}")
    return found


def _config_namespace(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name == "Config" and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return None


def test_every_secret_the_program_reads_is_listed_with_its_source() -> None:
    program = {s.key for s in SECRETS if s.reader == "program"}
    read = _required_by_the_program() - {TOKEN_KEY}
    assert read == program == set(SECRET_KEYS)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_each_stack_imports_its_secrets_environment_and_holds_no_secret_in_clear(stack: str) -> None:
    files = ProjectFiles.here()
    data = yaml.safe_load(files.stack_file(stack).read_text())
    assert environment_name(files.project, stack) in data["environment"]
    for source in SECRETS:
        value = data["config"].get(source.key)
        assert value is None or (isinstance(value, dict) and set(value) == {"secure"}), source.key
    assert TOKEN_KEY not in data["config"]


# Each runner resolves the stack's config through Pulumi Cloud, which opens the imported environment;
# what differs is how the runner proves who it is to Pulumi Cloud and where the program comes from.
@pytest.mark.parametrize("stack", ["staging", "production"])
def test_a_ci_deploy_job_reaches_pulumi_cloud_with_its_environments_token(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    secrets = {s.inputs["secretName"]: s.inputs for s in plan.of_type(ENV_SECRET)}
    assert secrets["PULUMI_ACCESS_TOKEN"]["environment"] == stack
    workflow = yaml.safe_load(next(r for r in plan_of("production").of_type(FILE)).inputs["content"])
    release = next(s for s in workflow["jobs"][f"deploy-{stack}"]["steps"] if s.get("run", "").startswith("python -m release"))
    assert release["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    # Nothing else secret is handed to the job: the rest comes from the stack's environment.
    assert {k for k, v in release["env"].items() if "secrets." in v} == {"PULUMI_ACCESS_TOKEN"}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_a_deployment_runs_as_the_service_and_carries_no_secret_of_its_own(plan_of: Callable[..., Plan], stack: str) -> None:
    settings = next(iter(plan_of(stack).of_type(SETTINGS))).inputs
    variables = settings["operationContext"]["environmentVariables"]
    assert not any(key.endswith("_TOKEN") or "SECRET" in key for key in variables)
    assert "secretEnvironmentVariables" not in settings["operationContext"]


def test_the_bootstrap_sets_every_secret_in_the_environment_for_laptops_too() -> None:
    readme = (ROOT / "docs" / "deployments.md").read_text()
    for source in SECRETS:
        assert f"pulumiConfig.{source.key}" in readme, source.key


def test_a_personal_token_is_refused_where_the_workflow_is_committed() -> None:
    with pytest.raises(ConfigError) as caught:
        check_github_credentials(token_set=True, owns_repository_objects=True)
    (problem,) = caught.value.problems
    assert problem.startswith("github:token: got")
    assert "let only the GitHub App (delivery:automationAppId) commit" in problem
    check_github_credentials(token_set=True, owns_repository_objects=False)
    check_github_credentials(token_set=False, owns_repository_objects=True)


def test_the_program_refuses_a_personal_token_before_any_resource() -> None:
    from typer.testing import CliRunner

    from release.cli import app

    result = CliRunner().invoke(app, ["plan", "--stack", "production", "-c", "github:token=ghp_x"])
    assert result.exit_code == 2, result.output
    assert 'github:token: got "(secret)"; the rulesets let only the GitHub App' in result.output
