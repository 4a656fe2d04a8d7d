"""The bootstrap from an empty account and organisation: the documented order succeeds, another is refused where
the services would refuse it, and every document states the one order."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from components import policy_pack
from offline.stacks import ProjectFiles
from rehearsal.cli import app
from rehearsal.scenarios.bootstrap import DOCUMENTED, Bootstrap, parse_order, rehearse_bootstrap
from rehearsal.world.control_planes import ControlPlanes, Refused
from release.engine.offline import OfflineEngine

ROOT = ProjectFiles.here().root
GITHUB_ISSUER, PULUMI_ISSUER = "token.actions.githubusercontent.com", "api.pulumi.com/oidc"


@pytest.fixture(scope="module")
def documented() -> tuple[Bootstrap, ControlPlanes]:
    planes = ControlPlanes()
    return rehearse_bootstrap(DOCUMENTED, planes), planes


def test_the_documented_order_succeeds_from_empty_control_planes(documented: tuple[Bootstrap, ControlPlanes]) -> None:
    result, planes = documented
    assert result.exit_code == 0, result.lines()
    assert [s.name for s in result.steps] == ["pack", "production", "staging"]
    # Production created the account-wide objects; the pack project published this commit's version.
    assert planes.aws.oidc_providers == {GITHUB_ISSUER, PULUMI_ISSUER}
    assert planes.cloud.published("acme-platform", "release-platform") == [policy_pack.version()]
    assert planes.aws.repositories
    # Staging found them by looking them up, and created neither again.
    staging = result.steps[-1]
    assert sorted(staging.looked_up) == sorted([
        f"OIDC provider https://{GITHUB_ISSUER}", f"OIDC provider https://{PULUMI_ISSUER}",
        *(f"image repository {name}" for name in planes.aws.repositories),
    ])
    assert not [c for c in staging.created if c.startswith(("OpenIdConnectProvider", "Repository ", "PolicyPack"))]


def test_the_reversed_order_is_refused_at_its_first_step_by_the_providers_lookup() -> None:
    result = rehearse_bootstrap(parse_order("reversed"))
    assert result.exit_code == 1
    assert result.refused is not None
    assert result.refused.name == "staging"
    assert result.refused.refused is not None
    assert (result.refused.refused.service, result.refused.refused.why.split(":")[0]) == ("AWS IAM", "NoSuchEntity")
    assert "refused at step staging" in result.lines()[-1]


def test_production_before_the_pack_is_published_is_refused_at_its_policy_group() -> None:
    result = rehearse_bootstrap(parse_order("production,staging"))
    assert result.refused is not None
    assert result.refused.name == "production"
    assert result.refused.refused is not None
    assert f"has no version {policy_pack.version()} (published: none)" in result.refused.refused.why


def test_a_second_stack_creating_the_accounts_oidc_provider_is_refused_with_entity_already_exists() -> None:
    planes = ControlPlanes()
    planes.cloud.publish("acme-platform", "release-platform", policy_pack.version(), "0" * 64)
    plan = OfflineEngine("production").preview()
    planes.apply("release-platform/production", plan)
    # Only the providers: the repository collides too, and which of the two a plan registers first depends on
    # the order Pulumi's runtime threads answer its registrations in, not on the program.
    providers = tuple(r for r in plan.resources if r.type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert len(providers) == 2
    with pytest.raises(Refused, match="EntityAlreadyExists") as caught:
        planes.apply("another-project/production", replace(plan, resources=providers))
    assert caught.value.source.startswith("botocore iam/2010-05-08/service-2.json CreateOpenIDConnectProvider")


def test_a_published_version_is_never_published_again() -> None:
    planes = ControlPlanes()
    planes.cloud.publish("acme-platform", "release-platform", "0.2.0", "a" * 64)
    with pytest.raises(Refused, match=r"Version Tag 0\.2\.0 already exists"):
        planes.cloud.publish("acme-platform", "release-platform", "0.2.0", "b" * 64)
    # The pack project run again with the same commit holds that version already: it publishes nothing.
    again = rehearse_bootstrap(parse_order("pack,pack"))
    assert again.exit_code == 0
    assert [len(s.created) for s in again.steps] == [1, 0]


@pytest.mark.parametrize(("args", "code", "said"), [
    ([], 0, "every step succeeded"),
    (["--order", "reversed"], 1, "refused at step staging"),
    (["--order", "staging,nowhere"], 2, "--order 'staging,nowhere': allowed documented or reversed"),
    (["-c", "release:bakeMinutes=1"], 2, "--config: goes with a release scenario"),
])
def test_the_command_exits_with_the_bootstraps_outcome(args: list[str], code: int, said: str) -> None:
    done = CliRunner().invoke(app, ["--scenario", "bootstrap", *args], catch_exceptions=False)
    assert done.exit_code == code, done.output
    assert said in done.output


def test_the_json_summary_names_the_refused_step() -> None:
    done = CliRunner().invoke(app, ["--scenario", "bootstrap", "--order", "reversed", "--json"], catch_exceptions=False)
    summary = json.loads(done.stdout)
    assert (summary["outcome"], summary["refused_step"]) == ("refused", "staging")
    assert summary["steps"][0]["refused"]["service"] == "AWS IAM"


def test_order_goes_with_the_bootstrap_scenario_only() -> None:
    done = CliRunner().invoke(app, ["--scenario", "happy", "--order", "reversed"], catch_exceptions=False)
    assert done.exit_code == 2
    assert "--order 'reversed': goes with --scenario bootstrap, not happy" in done.output


ORDER_SENTENCE = "the pack project, then production, then staging"


@pytest.mark.parametrize("doc", ["README.md", "docs/deployments.md", "docs/github.md", "docs/security.md"])
def test_every_document_states_the_one_order(doc: str) -> None:
    text = " ".join(Path(ROOT / doc).read_text().split())
    assert ORDER_SENTENCE in text
    for other in ("production first", "staging first:", "Staging is the first stack a change reaches, so"):
        assert other not in text, f"{doc} states another order: {other!r}"
