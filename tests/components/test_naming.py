"""Generated AWS names: built from app and stack, within AWS's limits, or a config error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config import Colour, ConfigError
from components.naming import ELB_NAME_LIMIT, TARGET_GROUP_PREFIX_LIMIT, Names, name_problems, names_for, stack_slug


def test_names_are_app_stack_and_colour() -> None:
    names = names_for("webapp", "production")
    assert names.load_balancer == "webapp-production"
    assert {c: Names.target_group_prefix(c) for c in Colour} == {Colour.BLUE: "blue-", Colour.GREEN: "green-"}
    assert names.service(Colour.BLUE) == "webapp-production-blue"
    assert names.alarm(Colour.BLUE, "5xx-rate") == "webapp-production-blue-5xx-rate"


def test_stack_names_become_aws_name_parts() -> None:
    assert stack_slug("Org_Dev.eu") == "org-dev-eu"
    assert names_for("web", "_x_").load_balancer == "web-x"


def test_a_name_that_cannot_fit_is_a_config_error_naming_the_key_and_the_limit() -> None:
    with pytest.raises(ConfigError) as caught:
        names_for("storefront-api", "production-eu-west-1")
    (problem,) = caught.value.problems
    assert problem == (
        'platform:appName: got "storefront-api"; with stack \'production-eu-west-1\' the load balancer name '
        "'storefront-api-production-eu-west-1' has 35 characters and AWS allows 32: use an appName of at most "
        "11 characters or a shorter stack name"
    )


@given(
    app=st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True),
    stack=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=40),
)
def test_every_accepted_name_fits_and_every_refused_one_would_not(app: str, stack: str) -> None:
    if name_problems(app, stack):
        with pytest.raises(ConfigError):
            names_for(app, stack)
        assert len(f"{app}-{stack_slug(stack)}".rstrip("-")) > ELB_NAME_LIMIT
        return
    names = names_for(app, stack)
    for colour in Colour:
        assert len(Names.target_group_prefix(colour)) <= TARGET_GROUP_PREFIX_LIMIT
    for name in (names.load_balancer,):
        assert len(name) <= ELB_NAME_LIMIT
        assert not name.startswith("-")
        assert not name.endswith("-")
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")



def _elb_names(app: str, stack: str) -> list[str]:
    """Every load balancer and target group name the program would register for this app and stack."""
    names = Names(f"{app}-{stack_slug(stack)}")
    found = [names.load_balancer]
    if hasattr(names, "target_group"):  # groups named by the program rather than by a provider-generated prefix
        found.extend(names.target_group(c) for c in Colour)
    return found


# ELBv2 CreateTargetGroup and CreateLoadBalancer, Name: "can have a maximum of 32 characters"
# (botocore/data/elbv2/2015-12-01/service-2.json). The limit is written out here, not read from
# ELB_NAME_LIMIT, so that changing the constant fails this test.
@pytest.mark.parametrize(("longest", "accepted"), [(31, True), (32, True), (33, False)])
def test_the_32_character_limit_is_exact(longest: int, accepted: bool) -> None:
    app = next(a for a in ("a" * n for n in range(1, 40)) if max(map(len, _elb_names(a, "staging"))) == longest)
    if accepted:
        assert name_problems(app, "staging") == []
        assert max(map(len, _elb_names(app, "staging"))) == longest
        names_for(app, "staging")
        return
    (problem,) = name_problems(app, "staging")
    assert "has 33 characters and AWS allows 32" in problem.allowed
    assert f"use an appName of at most {len(app) - 1} characters" in problem.allowed
    with pytest.raises(ConfigError):
        names_for(app, "staging")
