"""The ``delivery`` namespace: bad input is refused before anything is registered, naming key, value and rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.config.delivery import OWNER_KEY, OidcProviderMode, branch_problem, ownership_problems
from offline import Plan

ROOT = Path(__file__).resolve().parents[2]
Problems = Callable[..., list[str]]


def test_production_without_reviewers_is_refused(config_problems: Problems) -> None:
    found = config_problems("production", ("delivery:reviewers", []))
    assert found == ['delivery:reviewers: got []; production deploys need at least one approver: '
                     'e.g. ["team:release-approvers"] or ["user:<login>"]']


def test_staging_needs_no_reviewers(plan_of: Callable[..., Plan]) -> None:
    environment = plan_of("staging").named("delivery-staging-environment")
    assert environment.inputs.get("reviewers", []) == []


@pytest.mark.parametrize("reviewer", ["group:admins", "alice", "user:-alice", "team:Release Approvers", "user:"])
def test_an_unknown_reviewer_form_is_refused(config_problems: Problems, reviewer: str) -> None:
    found = config_problems("production", ("delivery:reviewers", ["team:release-approvers", reviewer]))
    assert len(found) == 1
    assert found[0].startswith(f"delivery:reviewers[1]: got {reviewer!r}".replace("'", '"'))
    assert "a reviewer is user:<login> (a GitHub username) or team:<slug>" in found[0]


def test_more_reviewers_than_github_allows_are_refused(config_problems: Problems) -> None:
    seven = [f"user:dev{i}" for i in range(7)]
    found = config_problems("production", ("delivery:reviewers", seven))
    assert found == [f"delivery:reviewers: got {str(seven).replace(chr(39), chr(34))}; GitHub allows at most 6 reviewers per environment"]


@pytest.mark.parametrize(
    ("branch", "rule"),
    [
        ("feature..x", "cannot contain '..'"),
        ("release branch", "cannot contain spaces"),
        ("release/*", "cannot contain spaces, control characters or any of"),
        ("main.lock", "or end with '/', '.' or '.lock'"),
        ("-main", "start with '-' or '/'"),
        ("refs/heads/develop", "give the short branch name"),
        ("team/.hidden", "no part of a branch name may start with '.'"),
    ],
)
def test_a_branch_github_rejects_is_refused(config_problems: Problems, branch: str, rule: str) -> None:
    found = config_problems("staging", ("delivery:branches", {"staging": branch, "production": "main"}))
    assert len(found) == 1
    assert found[0].startswith(f'delivery:branches.staging: got "{branch}"; ')
    assert rule in found[0]


@pytest.mark.parametrize("branch", ["main", "develop", "release/2026-11", "team_a/feature-1.2"])
def test_ordinary_branch_names_are_accepted(branch: str) -> None:
    assert branch_problem(branch) is None


def test_both_environments_on_one_branch_is_refused(config_problems: Problems) -> None:
    found = config_problems("staging", ("delivery:branches", {"staging": "main", "production": "main"}))
    assert found == ['delivery:branches.staging: got "main"; staging and production must deploy from different branches '
                     "(production's is branches.production)"]


@pytest.mark.parametrize("value", ["webapp", "acme/web app", "acme/", "/webapp", "acme/webapp/extra", "-acme/webapp", "acme/.."])
def test_a_repository_that_is_not_owner_slash_name_is_refused(config_problems: Problems, value: str) -> None:
    found = config_problems("staging", ("delivery:applicationRepository", value))
    assert found == [f'delivery:applicationRepository: got "{value}"; expected owner/name, e.g. acme/webapp '
                     "(owner: a GitHub login or organisation; name: letters, digits, . _ -)"]


def test_the_owner_stack_needs_the_automation_app(config_problems: Problems) -> None:
    found = config_problems("staging", ("delivery:repositoryOwnerStack", "staging"))
    assert len(found) == 1
    assert found[0].startswith("delivery:automationAppId: got (missing); this stack owns the repository-wide objects")


def test_a_provider_owner_that_is_not_the_repository_owner_is_refused(config_problems: Problems) -> None:
    found = config_problems("staging", ("github:owner", "someone-else"))
    assert found == ['github:owner: got "someone-else"; must be \'acme-web\', the owner of delivery:applicationRepository '
                     "(acme-web/webapp)"]


def test_an_unsupported_node_version_is_refused(config_problems: Problems) -> None:
    found = config_problems("staging", ("delivery:nodeVersion", "latest"))
    assert len(found) == 1
    assert found[0].startswith('delivery:nodeVersion: got "latest"; string should match pattern')


def _owners() -> dict[str, str | None]:
    owners: dict[str, str | None] = {}
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi."):-len(".yaml")]
        owners[stack] = (yaml.safe_load(path.read_text())["config"] or {}).get(OWNER_KEY)
    return owners


def test_the_stack_files_agree_on_the_one_owner_of_the_repository_objects() -> None:
    owners = _owners()
    assert set(owners) == {"staging", "production"}
    assert ownership_problems(owners) == []
    assert set(owners.values()) == {"production"}


def test_two_stacks_claiming_the_repository_objects_is_refused() -> None:
    found = [str(p) for p in ownership_problems({"staging": "staging", "production": "production"})]
    assert found == [
        'delivery:repositoryOwnerStack: got ["production", "staging"]; stacks disagree (Pulumi.production.yaml says production, '
        "Pulumi.staging.yaml says staging): two stacks would both manage the branch rules, the workflow file and the image "
        "repository; set the same stack in every file",
    ]


def test_an_owner_that_is_no_stack_or_missing_is_refused() -> None:
    found = [str(p) for p in ownership_problems({"staging": "prod", "production": None})]
    assert found == [
        "delivery:repositoryOwnerStack (Pulumi.production.yaml): got (missing); set it to one of production, staging",
        'delivery:repositoryOwnerStack (Pulumi.staging.yaml): got "prod"; name a stack that exists: one of production, staging',
    ]


def test_only_the_owner_stack_creates_the_oidc_provider_by_default(plan_of: Callable[..., Plan]) -> None:
    def github_providers(plan: Plan) -> list[object]:
        kind = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
        return [r for r in plan.of_type(kind) if r.inputs["url"] == "https://token.actions.githubusercontent.com"]

    assert len(github_providers(plan_of("production"))) == 1
    assert github_providers(plan_of("staging")) == []
    assert len(github_providers(plan_of("staging", f"delivery:oidcProvider={OidcProviderMode.CREATE.value}"))) == 1


def _accounts(overrides: dict[str, dict[str, str]] | None = None) -> list:  # noqa: ANN202
    from components.config import load
    from components.config.accounts import StackAccount, account_of
    from offline.stacks import ProjectFiles

    found = []
    files = ProjectFiles.here()
    for stack in files.stacks():
        raw, _ = files.stack_config(stack)
        raw.update((overrides or {}).get(stack, {}))
        config = load(raw, stack)
        account, problems = account_of(raw, stack)
        assert problems == []
        found.append(StackAccount(
            stack, account,
            creates_github_provider=config.delivery.oidc_mode(stack) is OidcProviderMode.CREATE,
            creates_pulumi_provider=config.deployments.oidc_provider.value == "create",
            owns_shared=config.delivery.owns_repository_objects(stack),
        ))
    return found


def test_the_stacks_share_one_account_with_one_creator_of_each_oidc_provider() -> None:
    from components.config.accounts import account_problems

    assert account_problems(_accounts()) == []


def test_a_stack_in_an_account_of_its_own_must_create_both_providers() -> None:
    from components.config.accounts import account_problems

    moved = {"staging": {"aws:allowedAccountIds": '["210987654321"]'}}
    found = [str(p) for p in account_problems(_accounts(moved))]
    assert found[0].startswith("delivery:oidcProvider: got []; account 210987654321 (staging) needs exactly one stack creating GitHub's")
    assert found[1].startswith("deployments:oidcProvider: got []; account 210987654321 (staging) needs exactly one stack creating Pulumi's")
    assert "cross-account image pulls are not supported" in found[2]
    both = {"staging": {**moved["staging"], "delivery:oidcProvider": "create", "deployments:oidcProvider": "create"}}
    assert [p.key for p in account_problems(_accounts(both))] == ["aws:allowedAccountIds"]


def test_an_account_named_badly_is_refused() -> None:
    from components.config.accounts import account_of

    assert [str(p) for p in account_of({"aws:allowedAccountIds": '["1234", "5678"]'}, "staging")[1]] == [
        'aws:allowedAccountIds (Pulumi.staging.yaml): got ["1234", "5678"]; name exactly one 12-digit AWS account id',
    ]
