"""The whole pack over offline plans: both real stacks pass, and one broken value gives exactly one finding."""

from __future__ import annotations

import pytest

from components.config import Environment
from policy.enforcement import pack_config
from policy.offline import Finding, evaluate_policies


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_both_stacks_have_no_mandatory_violation(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    names = {r.urn: r.name for r in plan.resources}
    mandatory = {(f.policy, names[f.urn]) for f in evaluate_policies(plan) if f.mandatory}
    assert mandatory == set()


def test_production_has_no_finding_at_all(plan_of) -> None:
    assert evaluate_policies(plan_of("production")) == []


def test_staging_relaxes_only_production_rules(plan_of) -> None:
    findings = evaluate_policies(plan_of("staging"))
    advisory = {f.policy for f in findings if not f.mandatory}
    assert advisory == {"data-backups-7-days", "data-multi-az", "database-deletion-protection",
                        "load-balancer-deletion-protection", "stateful-resources-protected"}


def test_turning_off_production_deletion_protection_is_caught_on_the_load_balancer(plan_of) -> None:
    plan = plan_of("production", "traffic:deletionProtection=false")
    found = {(f.policy, f.enforcement, f.urn) for f in evaluate_policies(plan)}
    alb = plan.named("webapp-traffic-alb").urn
    assert ("load-balancer-deletion-protection", "mandatory", alb) in found
    assert {f[0] for f in found} == {"load-balancer-deletion-protection", "stateful-resources-protected"}


def test_the_candidate_route_passes_the_listener_policies_in_both_stacks(plan_of) -> None:
    for stack in ("staging", "production"):
        policies = {f.policy for f in evaluate_policies(plan_of(stack))}
        assert not {"listeners-on-80-and-443", "colour-rule-needs-release-token", "no-public-ingress-except-web"} & policies


def test_the_compliant_fixture_has_no_finding_at_all(fixture_plan) -> None:
    plan = fixture_plan("guarded")
    assert len(plan.resources) == 7
    assert evaluate_policies(plan) == []


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_a_weight_past_999_is_exactly_one_mandatory_finding_on_the_listener(fixture_plan) -> None:
    plan = fixture_plan("guarded", "greenWeight=1000")
    finding = only(evaluate_policies(plan))
    assert (finding.policy, finding.enforcement) == ("weighted-forward-bounds", "mandatory")
    assert finding.urn == plan.named("https").urn
    assert finding.message == "defaultActions[0].forward.targetGroups[1].weight: got 1000; weights are integers from 0 to 999"


def test_a_wildcard_repository_in_the_trust_is_exactly_one_finding_on_the_role(fixture_plan) -> None:
    plan = fixture_plan("guarded", "sub=repo:acme/*")
    finding = only(evaluate_policies(plan))
    assert (finding.policy, finding.urn) == ("oidc-trust-pins-subject", plan.named("deployer").urn)
    assert "got 'repo:acme/*'" in finding.message


def test_an_old_tls_policy_is_exactly_one_finding(fixture_plan) -> None:
    finding = only(evaluate_policies(fixture_plan("guarded", "sslPolicy=ELBSecurityPolicy-2016-08")))
    assert finding.policy == "https-listener-tls12"


def test_an_unprotected_key_is_mandatory_in_production_and_advisory_in_staging(fixture_plan) -> None:
    plan = fixture_plan("guarded", "protect=false")
    production = only(evaluate_policies(plan, pack_config(Environment.PRODUCTION)))
    staging = only(evaluate_policies(plan, pack_config(Environment.STAGING)))
    assert (production.policy, production.urn) == ("stateful-resources-protected", plan.named("data").urn)
    assert (production.enforcement, staging.enforcement) == ("mandatory", "advisory")
