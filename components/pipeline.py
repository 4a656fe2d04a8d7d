"""The application's CI/CD workflow: lint, test, security scan, build once, deploy staging, deploy production.

Values that differ per environment (role ARNs, region, stack name, image repository)
are read from GitHub variables scoped to the job's environment, so the file is the
same for both stacks and is written by one of them. The image of a commit is built
and pushed once, tagged with the commit SHA; production deploys that image, and a
deploy refuses to start when it does not exist rather than building one.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.workflows import Concurrency, Job, Step, Triggers, Workflow

CHECKOUT = "actions/checkout@v6"
SETUP_NODE = "actions/setup-node@v6"
SETUP_PYTHON = "actions/setup-python@v6"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v6"
ECR_LOGIN = "aws-actions/amazon-ecr-login@v2"
PULUMI_CLI = "pulumi/actions@v7"

WORKFLOW_PATH = ".github/workflows/delivery.yml"
# The names the branch rules require; they must match the jobs' names exactly.
REQUIRED_CHECKS = ("lint", "test", "build")

READ = {"contents": "read"}
# Only jobs that assume an AWS role may ask GitHub for an OIDC token.
READ_AND_OIDC = {"contents": "read", "id-token": "write"}
IS_PUSH = "github.event_name == 'push'"


@dataclass(frozen=True)
class PipelineSettings:
    """What the workflow needs to know that is not a GitHub variable."""

    node_version: str
    """Node.js version of the lint, test and build jobs."""
    staging_branch: str
    """Pushes here deploy to staging."""
    production_branch: str
    """Pushes here deploy to production; pull requests into it need reviews and checks."""
    infrastructure_repository: str
    """``owner/name`` of the repository holding this Pulumi program and the release driver."""


def _node(settings: PipelineSettings) -> tuple[Step, ...]:
    return (
        Step("Check out", uses=CHECKOUT),
        Step("Set up Node.js", uses=SETUP_NODE, with_={"node-version": settings.node_version, "cache": "npm"}),
        Step("Install dependencies", run="npm ci"),
    )


def _aws(role_variable: str) -> Step:
    return Step(
        "Assume the AWS role through OIDC",
        uses=AWS_CREDENTIALS,
        with_={"role-to-assume": f"${{{{ vars.{role_variable} }}}}", "aws-region": "${{ vars.AWS_REGION }}"},
    )


_IMAGE_EXISTS = """\
if aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$GITHUB_SHA" >/dev/null 2>&1; then
  echo "exists=true" >> "$GITHUB_OUTPUT"
  echo "::notice::image $GITHUB_SHA already in ECR: promoted as is, not rebuilt"
else
  echo "exists=false" >> "$GITHUB_OUTPUT"
fi"""

_PUSH_IMAGE = """\
docker tag "app:$GITHUB_SHA" "$REGISTRY/$ECR_REPOSITORY:$GITHUB_SHA"
docker push "$REGISTRY/$ECR_REPOSITORY:$GITHUB_SHA\""""

_IMAGE_SCAN = """\
aws ecr wait image-scan-complete --repository-name "$ECR_REPOSITORY" --image-id "imageTag=$GITHUB_SHA"
counts=$(aws ecr describe-image-scan-findings --repository-name "$ECR_REPOSITORY" --image-id "imageTag=$GITHUB_SHA" \\
  --query 'imageScanFindings.findingSeverityCounts' --output json)
echo "findings by severity: $counts"
blocking=$(echo "$counts" | jq '(.CRITICAL // 0) + (.HIGH // 0)')
if [ "$blocking" -gt 0 ]; then
  echo "::error::image $GITHUB_SHA has $blocking critical or high findings"
  exit 1
fi"""

_REQUIRE_IMAGE = """\
aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$GITHUB_SHA" >/dev/null \\
  || { echo "::error::no image $GITHUB_SHA in $ECR_REPOSITORY: the build job pushes it; deploys never build"; exit 1; }"""


def _build(settings: PipelineSettings) -> Job:
    ecr_env = {"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}"}
    return Job(
        name="build",
        needs=("lint", "test"),
        permissions=READ_AND_OIDC,
        timeout_minutes=30,
        steps=(
            *_node(settings),
            Step("Build the server", run="npm run build"),
            Step("Build the frontend", run="npm run build:frontend"),
            Step("Assume the build role through OIDC", uses=AWS_CREDENTIALS, if_=IS_PUSH, with_={
                "role-to-assume": "${{ vars.AWS_BUILD_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}",
            }),
            Step("Log in to ECR", uses=ECR_LOGIN, id="ecr", if_=IS_PUSH),
            Step("Look for this commit's image", id="existing", if_=IS_PUSH, env=ecr_env, run=_IMAGE_EXISTS),
            Step("Build the image", if_="steps.existing.outputs.exists != 'true'", run='docker build --pull -t "app:$GITHUB_SHA" .'),
            Step(
                "Push the image, tagged with the commit SHA",
                if_=f"{IS_PUSH} && steps.existing.outputs.exists != 'true'",
                env={**ecr_env, "REGISTRY": "${{ steps.ecr.outputs.registry }}"},
                run=_PUSH_IMAGE,
            ),
        ),
    )


def _security_scan(settings: PipelineSettings) -> Job:
    return Job(
        name="security-scan",
        needs=("build",),
        permissions=READ_AND_OIDC,
        timeout_minutes=20,
        steps=(
            *_node(settings),
            Step("Audit dependencies", run="npm audit --audit-level=high --omit=dev"),
            Step("Assume the build role through OIDC", uses=AWS_CREDENTIALS, if_=IS_PUSH, with_={
                "role-to-assume": "${{ vars.AWS_BUILD_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}",
            }),
            Step("Scan the image", if_=IS_PUSH, env={"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}"}, run=_IMAGE_SCAN),
        ),
    )


def _deploy(settings: PipelineSettings, environment: str, branch: str) -> Job:
    return Job(
        name=f"deploy-{environment}",
        needs=("build", "security-scan"),
        if_=f"{IS_PUSH} && github.ref == 'refs/heads/{branch}'",
        environment=environment,
        # One deploy per environment at a time; a queued one waits rather than cancelling a release midway.
        concurrency=Concurrency(group=f"deploy-{environment}", cancel_in_progress=False),
        permissions=READ_AND_OIDC,
        timeout_minutes=90,
        steps=(
            Step("Check out the infrastructure repository", uses=CHECKOUT, with_={
                "repository": settings.infrastructure_repository,
                "token": "${{ secrets.INFRASTRUCTURE_READ_TOKEN }}",
            }),
            Step("Set up Python", uses=SETUP_PYTHON, with_={"python-version": "3.11", "cache": "pip"}),
            Step("Install the release driver", run="python -m pip install -r requirements.txt"),
            Step("Install the Pulumi CLI", uses=PULUMI_CLI),
            _aws("AWS_DEPLOY_ROLE_ARN"),
            Step("Require the image built for this commit", env={"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}"}, run=_REQUIRE_IMAGE),
            Step(
                f"Release this commit to {environment}",
                env={
                    "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
                    "PULUMI_STACK": "${{ vars.PULUMI_STACK }}",
                },
                # --yes: no one is at a terminal to confirm; the environment's reviewers already approved.
                run='python -m release deploy --stack "$PULUMI_STACK" --version "$GITHUB_SHA" --yes',
            ),
        ),
    )


def pipeline(settings: PipelineSettings) -> Workflow:
    """The delivery workflow for the given settings."""
    node = _node(settings)
    jobs = {
        "lint": Job(name="lint", permissions=READ, timeout_minutes=10, steps=(*node, Step("Lint", run="npm run lint"))),
        "test": Job(name="test", permissions=READ, timeout_minutes=20, steps=(*node, Step("Test", run="npm test"))),
        "build": _build(settings),
        "security-scan": _security_scan(settings),
        "deploy-staging": _deploy(settings, "staging", settings.staging_branch),
        "deploy-production": _deploy(settings, "production", settings.production_branch),
    }
    return Workflow(
        name="Delivery",
        on=Triggers(
            push_branches=(settings.production_branch, settings.staging_branch),
            # Pull requests into develop too: its branch rules require the same checks.
            pull_request_branches=(settings.production_branch, settings.staging_branch),
        ),
        # A newer push to a pull request makes its older checks moot; pushes to the deploy branches all run.
        concurrency=Concurrency(group="delivery-${{ github.ref }}", cancel_in_progress="${{ github.event_name == 'pull_request' }}"),
        permissions={},
        jobs=jobs,
    )


HEADER = """\
Delivery pipeline of the application. Generated and committed by the release platform's
Pulumi program (components/pipeline.py): edit it there, not here; a change made here is
overwritten by the next `pulumi up`."""
