"""The workflow the production stack commits: the seed's stages, brought up to date, as GitHub will read them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import Plan
from offline.render import render_plan

FILE = "github:index/repositoryFile:RepositoryFile"
BIN = Path(sys.executable).parent
PUSH = "github.event_name == 'push'"


def _workflow(plan: Plan, branch: str = "main") -> dict[str, Any]:
    files = [r for r in plan.of_type(FILE) if r.inputs["branch"] == branch]
    assert [f.inputs["file"] for f in files] == [".github/workflows/delivery.yml"]
    return yaml.safe_load(files[0].inputs["content"])


@pytest.fixture(scope="module")
def jobs(plan_of: Callable[..., Plan]) -> dict[str, Any]:
    return _workflow(plan_of("production"))["jobs"]


def _steps(job: dict[str, Any]) -> list[str]:
    return [s.get("uses") or s["run"] for s in job["steps"]]


def test_every_seed_stage_is_a_job(jobs: dict[str, Any]) -> None:
    assert list(jobs) == ["lint", "test", "build", "security-scan", "deploy-staging", "deploy-production"]
    assert "npm run lint" in _steps(jobs["lint"])
    assert "npm test" in _steps(jobs["test"])
    assert {"npm run build", "npm run build:frontend"} <= set(_steps(jobs["build"]))
    scan = _steps(jobs["security-scan"])
    assert "npm audit --audit-level=high --omit=dev" in scan
    assert any("describe-image-scan-findings" in s for s in scan)


def test_triggers_are_pushes_to_the_deploy_branches_and_pull_requests(plan_of: Callable[..., Plan]) -> None:
    assert _workflow(plan_of("production"))["on"] == {
        "push": {"branches": ["main", "develop"], "paths-ignore": [".github/workflows/delivery.yml"]},
        "pull_request": {"branches": ["main", "develop"]},
    }


def test_the_programs_own_commit_of_the_workflow_starts_no_release(plan_of: Callable[..., Plan]) -> None:
    # GitHub skips a push whose every changed path matches ``paths-ignore`` ("Workflow syntax for GitHub Actions",
    # on.push.paths-ignore). The program's commit changes exactly the file it writes, on each deploy branch: such a
    # push would otherwise start a production release of a tree staging never built.
    plan = plan_of("production")
    committed = {r.inputs["branch"]: r.inputs["file"] for r in plan.of_type(FILE)}
    assert set(committed) == {"main", "develop"}
    for branch, path in committed.items():
        on = _workflow(plan, branch)["on"]
        assert path in on["push"]["paths-ignore"]
        assert "paths-ignore" not in on["pull_request"], "a pull request changing the workflow is still checked"


def test_the_job_graph(jobs: dict[str, Any]) -> None:
    assert {job_id: job.get("needs", []) for job_id, job in jobs.items()} == {
        "lint": [],
        "test": [],
        "build": ["lint", "test"],
        "security-scan": ["build"],
        "deploy-staging": ["build", "security-scan"],
        "deploy-production": ["build", "security-scan"],
    }


def test_only_pushes_to_the_right_branch_deploy(jobs: dict[str, Any]) -> None:
    assert {job_id: job.get("if") for job_id, job in jobs.items()} == {
        "lint": None, "test": None, "build": None, "security-scan": None,
        "deploy-staging": f"{PUSH} && github.ref == 'refs/heads/develop'",
        "deploy-production": f"{PUSH} && github.ref == 'refs/heads/main'",
    }
    assert {job_id: job.get("environment") for job_id, job in jobs.items() if job.get("environment")} == {
        "deploy-staging": "staging", "deploy-production": "production",
    }


def test_every_job_has_a_timeout_and_only_role_assuming_jobs_get_an_oidc_token(jobs: dict[str, Any], plan_of: Callable[..., Plan]) -> None:
    assert _workflow(plan_of("production"))["permissions"] == {}
    assert {job_id: job["timeout-minutes"] for job_id, job in jobs.items()} == {
        "lint": 10, "test": 20, "build": 30, "security-scan": 20, "deploy-staging": 240, "deploy-production": 240,
    }
    for job_id, job in jobs.items():
        assumes = any(str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@") for s in job["steps"])
        expected = {"contents": "read", "id-token": "write"} if assumes else {"contents": "read"}
        assert job["permissions"] == expected, job_id
    assert not any("id-token" in jobs[j]["permissions"] for j in ("lint", "test"))


def test_deploys_are_serialised_per_environment_and_no_push_cancels_another(jobs: dict[str, Any], plan_of: Callable[..., Plan]) -> None:
    for environment in ("staging", "production"):
        assert jobs[f"deploy-{environment}"]["concurrency"] == {"group": f"deploy-{environment}", "cancel-in-progress": False}
    # Workflow-wide, a push run is alone in its group (the run id): a later push to main cannot displace a
    # production run waiting for approval; only a pull request's newer push cancels its older checks.
    assert _workflow(plan_of("production"))["concurrency"] == {
        "group": "delivery-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it(plan_of: Callable[..., Plan]) -> None:
    content = next(r for r in plan_of("production").of_type(FILE)).inputs["content"]
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", content, flags=re.MULTILINE)
    assert len(uses) > 10
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+(\.\d+)*", comment), (ref, comment)


def test_images_are_built_and_pushed_from_the_staging_branch_only(jobs: dict[str, Any]) -> None:
    staging_push = f"{PUSH} && github.ref == 'refs/heads/develop'"
    steps = {s["name"]: s for s in jobs["build"]["steps"]}
    # Pull requests still build (the Dockerfile is checked); a push to main builds nothing.
    assert steps["Build the image"]["if"] == (
        f"!({PUSH} && github.ref == 'refs/heads/main') && steps.existing.outputs.exists != 'true'"
    )
    push = steps["Push the image, tagged with the commit SHA"]
    assert push["if"] == f"{staging_push} && steps.existing.outputs.exists != 'true'"
    assert 'docker push "$REGISTRY/$ECR_REPOSITORY:$GITHUB_SHA"' in push["run"]
    assert steps["Assume the build role through OIDC"]["if"] == staging_push
    assert steps["Assume the build role through OIDC"]["with"]["role-to-assume"] == "${{ vars.AWS_BUILD_ROLE_ARN }}"
    assert jobs["build"]["outputs"] == {"tree": "${{ steps.tree.outputs.tree }}"}
    assert steps["Name the source tree"]["run"] == """echo "tree=$(git rev-parse 'HEAD^{tree}')" >> "$GITHUB_OUTPUT\""""


def test_production_releases_the_image_staging_verified_never_a_new_build(jobs: dict[str, Any]) -> None:
    staging, production = jobs["deploy-staging"], jobs["deploy-production"]
    record = staging["steps"][-1]
    assert record["name"] == "Record the released image as verified for this tree"
    assert record["env"]["DIGEST"] == "${{ steps.image.outputs.digest }}"
    assert 'tag="verified-staging-$TREE"' in record["run"]
    assert 'aws ecr put-image --repository-name "$ECR_REPOSITORY" --image-tag "$tag"' in record["run"]
    find = next(s for s in production["steps"] if s.get("id") == "image")
    assert find["env"]["TREE"] == "${{ needs.build.outputs.tree }}"
    assert 'verified="verified-staging-$TREE"' in find["run"]
    assert 'echo "version=$version" >> "$GITHUB_OUTPUT"' in find["run"]
    tagging = [s for s in production["steps"] if "put-image" in s.get("run", "")]
    assert [s["name"] for s in tagging] == ["Record the image as released to production"], "production verifies nothing itself"
    assert 'tag="released-production-$VERSION"' in tagging[0]["run"]
    names = [s["name"] for s in production["steps"]]
    # Tagged before the release starts: the lifecycle policy keeps the candidate's image from its first task on.
    assert names.index("Record the image as released to production") < names.index("Release the image to production")
    for job in (staging, production):
        assert job["steps"][-1 if job is production else -2]["env"]["VERSION"] == "${{ steps.image.outputs.version }}"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_deploy_releases_the_built_image_through_the_release_driver(jobs: dict[str, Any], environment: str) -> None:
    job = jobs[f"deploy-{environment}"]
    steps = _steps(job)
    assert not any("docker" in s or "npm" in s for s in steps), "a deploy never builds"
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {
        "repository": "acme-web/release-platform",
        "ref": "${{ vars.INFRASTRUCTURE_REF }}",
        "token": "${{ secrets.INFRASTRUCTURE_READ_TOKEN }}",
    }
    release = next(s for s in job["steps"] if s.get("run", "").startswith("python -m release deploy"))
    assert release["run"] == 'python -m release deploy --stack "$PULUMI_STACK" --version "$VERSION" --yes'
    assert release["env"] == {
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        "PULUMI_STACK": "${{ vars.PULUMI_STACK }}",
        "VERSION": "${{ steps.image.outputs.version }}",
    }
    role = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert role["with"] == {
        "role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
        "role-duration-seconds": "${{ vars.AWS_SESSION_SECONDS }}",
    }


def test_node_version_comes_from_config(plan_of: Callable[..., Plan]) -> None:
    jobs = _workflow(plan_of("production", "delivery:nodeVersion=20"))["jobs"]
    setups = [s for job in jobs.values() for s in job["steps"] if s.get("uses", "").startswith("actions/setup-node@")]
    versions = {s["with"]["node-version"] for s in setups}
    assert versions == {"20"}
    for job_id in ("lint", "test", "build", "security-scan"):
        setup = next(s for s in jobs[job_id]["steps"] if s.get("uses", "").startswith("actions/setup-node@"))
        assert setup["with"]["cache"] == "npm"


def test_both_deploy_branches_carry_the_same_workflow(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    assert _workflow(plan, "main") == _workflow(plan, "develop")


def test_the_committed_workflow_passes_the_schema_and_actionlint(plan_of: Callable[..., Plan], tmp_path: Path) -> None:
    path = tmp_path / "delivery.yml"
    path.write_text(next(r for r in plan_of("production").of_type(FILE)).inputs["content"])
    for command in (
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        [str(BIN / "actionlint"), "-no-color", str(path)],
    ):
        result = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_plan_shows_the_workflow_path_and_a_line_per_job(plan_of: Callable[..., Plan]) -> None:
    text = render_plan(plan_of("production"))
    assert "file .github/workflows/delivery.yml on main" in text
    assert ("job deploy-production; needs build, security-scan; environment production; "
            "if github.event_name == 'push' && github.ref == 'refs/heads/main'; "
            "permissions contents: read, id-token: write; timeout 240 min") in text
    assert "job lint; permissions contents: read; timeout 10 min" in text
