"""The application's CI/CD workflow: lint, test, security scan, build once, deploy staging, deploy production.

Values that differ per environment (role ARNs, region, stack name, image repository)
are read from GitHub variables scoped to the job's environment, so the file is the
same for both stacks and is written by one of them. The image of a commit is built
and pushed once, tagged with the commit SHA; production deploys that image, and a
deploy refuses to start when it does not exist rather than building one.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config.session import DEPLOY_JOB_MINUTES
from components.registry import RELEASED_PRODUCTION, VERIFIED_STAGING
from components.workflows import Action, Concurrency, Job, Step, Triggers, Workflow

# Each action pinned to the commit its release tag points to (read from the tag refs of each action's
# repository: actions/checkout, actions/setup-node, actions/setup-python, aws-actions/configure-aws-credentials,
# aws-actions/amazon-ecr-login, pulumi/actions). A moved tag cannot change what runs.
CHECKOUT = Action("actions/checkout", "d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0")
SETUP_NODE = Action("actions/setup-node", "249970729cb0ef3589644e2896645e5dc5ba9c38", "v6.5.0")
SETUP_PYTHON = Action("actions/setup-python", "ece7cb06caefa5fff74198d8649806c4678c61a1", "v6.3.0")
AWS_CREDENTIALS = Action("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3")
ECR_LOGIN = Action("aws-actions/amazon-ecr-login", "03f1aad4c6c7ffd436567f42f9384779290529bd", "v2.1.7")
PULUMI_CLI = Action("pulumi/actions", "8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0")

WORKFLOW_PATH = ".github/workflows/delivery.yml"
# The names the branch rules require; they must match the jobs' names exactly.
REQUIRED_CHECKS = ("lint", "test", "build")
# The tag staging's deploy job adds to the image it released: the tree it was built from, verified.
VERIFIED_PREFIX = VERIFIED_STAGING
# The tag production's deploy job adds to the image it is about to release.
RELEASED_PREFIX = RELEASED_PRODUCTION

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


def _role(name: str, role_variable: str, if_: str | None = None, session: bool = False) -> Step:
    inputs: dict[str, str | int | bool] = {"role-to-assume": f"${{{{ vars.{role_variable} }}}}", "aws-region": "${{ vars.AWS_REGION }}"}
    if session:
        # The whole release runs on one session: its stack computes the length (components/config/session.py).
        inputs["role-duration-seconds"] = "${{ vars.AWS_SESSION_SECONDS }}"
    return Step(name, uses=AWS_CREDENTIALS, if_=if_, with_=inputs)


_TREE = '''echo "tree=$(git rev-parse 'HEAD^{tree}')" >> "$GITHUB_OUTPUT"'''

_IMAGE_EXISTS = """\
if aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$GITHUB_SHA" >/dev/null 2>&1; then
  echo "exists=true" >> "$GITHUB_OUTPUT"
  echo "::notice::image $GITHUB_SHA already in ECR: not rebuilt"
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

_STAGING_IMAGE = """\
digest=$(aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$GITHUB_SHA" \\
  --query 'imageDetails[0].imageDigest' --output text) \\
  || { echo "::error::no image $GITHUB_SHA in $ECR_REPOSITORY: the build job pushes it; deploys never build"; exit 1; }
echo "version=$GITHUB_SHA" >> "$GITHUB_OUTPUT"
echo "digest=$digest" >> "$GITHUB_OUTPUT\""""

# Production runs the image staging released from the same tree: merges into main make new commits
# (so new SHAs) but, when main only takes develop's work, the same tree.
_VERIFIED_IMAGE = f"""\
verified="{VERIFIED_PREFIX}$TREE"
details=$(aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$verified" --output json) \\
  || {{ echo "::error::no image verified by staging for tree $TREE: release this code through staging first"; exit 1; }}
digest=$(echo "$details" | jq -r '.imageDetails[0].imageDigest')
version=$(echo "$details" | jq -r '[.imageDetails[0].imageTags[] | select(test("^[0-9a-f]{{40}}$"))][0]')
[ -n "$version" ] && [ "$version" != null ] || {{ echo "::error::image $digest has no commit tag"; exit 1; }}
echo "::notice::promoting $ECR_REPOSITORY@$digest ($version), verified in staging"
echo "version=$version" >> "$GITHUB_OUTPUT"
echo "digest=$digest" >> "$GITHUB_OUTPUT\""""



def _add_tag(tag: str) -> str:
    """Shell that adds ``tag`` to the image ``$DIGEST``, or checks it already names that image."""
    # Tags are immutable in the repository: a tag, once written, names one digest for good.
    return f"""\
tag="{tag}"
if existing=$(aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$tag" \\
     --query 'imageDetails[0].imageDigest' --output text 2>/dev/null); then
  [ "$existing" = "$DIGEST" ] || {{ echo "::error::$tag already names $existing, not $DIGEST"; exit 1; }}
  exit 0
fi
manifest=$(aws ecr batch-get-image --repository-name "$ECR_REPOSITORY" --image-ids "imageDigest=$DIGEST" \\
  --query 'images[0].imageManifest' --output text)
aws ecr put-image --repository-name "$ECR_REPOSITORY" --image-tag "$tag" --image-manifest "$manifest" >/dev/null"""


_RECORD_VERIFIED = _add_tag(f"{VERIFIED_PREFIX}$TREE")
# The lifecycle policy keeps production's newest released images by this tag (components/registry.py); it is
# written before the release starts, so the candidate's image is kept from its first task on.
_RECORD_RELEASED = _add_tag(f"{RELEASED_PREFIX}$VERSION")

_RELEASE = 'python -m release deploy --stack "$PULUMI_STACK" --version "$VERSION" --yes'


def _is_push_to(branch: str) -> str:
    return f"{IS_PUSH} && github.ref == 'refs/heads/{branch}'"


def _build(settings: PipelineSettings) -> Job:
    ecr_env = {"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}"}
    # Images are built from the staging branch only; production promotes what staging verified.
    staging_push = _is_push_to(settings.staging_branch)
    not_production = f"!({_is_push_to(settings.production_branch)})"
    return Job(
        name="build",
        needs=("lint", "test"),
        permissions=READ_AND_OIDC,
        timeout_minutes=30,
        outputs={"tree": "${{ steps.tree.outputs.tree }}"},
        steps=(
            *_node(settings),
            Step("Name the source tree", id="tree", run=_TREE),
            Step("Build the server", run="npm run build"),
            Step("Build the frontend", run="npm run build:frontend"),
            _role("Assume the build role through OIDC", "AWS_BUILD_ROLE_ARN", if_=staging_push),
            Step("Log in to ECR", uses=ECR_LOGIN, id="ecr", if_=staging_push),
            Step("Look for this commit's image", id="existing", if_=staging_push, env=ecr_env, run=_IMAGE_EXISTS),
            Step(
                "Build the image",
                if_=f"{not_production} && steps.existing.outputs.exists != 'true'",
                run='docker build --pull -t "app:$GITHUB_SHA" .',
            ),
            Step(
                "Push the image, tagged with the commit SHA",
                if_=f"{staging_push} && steps.existing.outputs.exists != 'true'",
                env={**ecr_env, "REGISTRY": "${{ steps.ecr.outputs.registry }}"},
                run=_PUSH_IMAGE,
            ),
        ),
    )


def _security_scan(settings: PipelineSettings) -> Job:
    staging_push = _is_push_to(settings.staging_branch)
    return Job(
        name="security-scan",
        needs=("build",),
        permissions=READ_AND_OIDC,
        timeout_minutes=20,
        steps=(
            *_node(settings),
            Step("Audit dependencies", run="npm audit --audit-level=high --omit=dev"),
            _role("Assume the build role through OIDC", "AWS_BUILD_ROLE_ARN", if_=staging_push),
            Step("Scan the image", if_=staging_push, env={"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}"}, run=_IMAGE_SCAN),
        ),
    )


def _deploy(settings: PipelineSettings, environment: str, branch: str) -> Job:
    staging = environment == "staging"
    ecr_env = {"ECR_REPOSITORY": "${{ vars.ECR_REPOSITORY }}", "TREE": "${{ needs.build.outputs.tree }}"}
    image = (
        Step("Require the image built for this commit", id="image", env=ecr_env, run=_STAGING_IMAGE)
        if staging else
        Step("Find the image staging verified for this tree", id="image", env=ecr_env, run=_VERIFIED_IMAGE)
    )
    steps = [
        Step("Check out the infrastructure repository at this stack's branch", uses=CHECKOUT, with_={
            "repository": settings.infrastructure_repository,
            # The branch Pulumi Deployments runs this stack from: both runners apply the same program.
            "ref": "${{ vars.INFRASTRUCTURE_REF }}",
            "token": "${{ secrets.INFRASTRUCTURE_READ_TOKEN }}",
        }),
        Step("Set up Python", uses=SETUP_PYTHON, with_={"python-version": "3.11", "cache": "pip"}),
        Step("Install the release driver", run="python -m pip install -r requirements.txt"),
        Step("Install the Pulumi CLI", uses=PULUMI_CLI),
        _role("Assume the deploy role through OIDC", "AWS_DEPLOY_ROLE_ARN", session=True),
        image,
        *(() if staging else (Step(
            "Record the image as released to production",
            env={**ecr_env, "DIGEST": "${{ steps.image.outputs.digest }}", "VERSION": "${{ steps.image.outputs.version }}"},
            run=_RECORD_RELEASED,
        ),)),
        Step(
            f"Release the image to {environment}",
            env={
                "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
                "PULUMI_STACK": "${{ vars.PULUMI_STACK }}",
                "VERSION": "${{ steps.image.outputs.version }}",
            },
            # --yes: no one is at a terminal to confirm; the environment's reviewers already approved.
            run=_RELEASE,
        ),
    ]
    if staging:
        steps.append(Step(
            "Record the released image as verified for this tree",
            env={**ecr_env, "DIGEST": "${{ steps.image.outputs.digest }}"},
            run=_RECORD_VERIFIED,
        ))
    return Job(
        name=f"deploy-{environment}",
        needs=("build", "security-scan"),
        if_=_is_push_to(branch),
        environment=environment,
        # One deploy per environment at a time, never cancelled: a newer run waits (GitHub's "Control the
        # concurrency of workflows and jobs": cancel-in-progress false leaves the running job alone).
        concurrency=Concurrency(group=f"deploy-{environment}", cancel_in_progress=False),
        permissions=READ_AND_OIDC,
        timeout_minutes=DEPLOY_JOB_MINUTES,
        steps=tuple(steps),
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
            # The program commits this file to both branches, each with a tree staging never built: a push of it
            # alone would start a production release that the staging gate then refuses. Pull requests still run.
            push_paths_ignore=(WORKFLOW_PATH,),
        ),
        # A newer push to a pull request makes its older checks moot. Pushes get a group of their own run,
        # so no push ever cancels or displaces another run; deploys are serialised per environment instead.
        concurrency=Concurrency(
            group="delivery-${{ github.event.pull_request.number || github.run_id }}",
            cancel_in_progress="${{ github.event_name == 'pull_request' }}",
        ),
        permissions={},
        jobs=jobs,
    )


HEADER = """\
Delivery pipeline of the application. Generated and committed by the release platform's
Pulumi program (components/pipeline.py): edit it there, not here; a change made here is
overwritten by the next `pulumi up`."""
