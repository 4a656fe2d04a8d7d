"""``release:controlWeight``: the share the old colour keeps as a concurrent control, and its limits."""

from __future__ import annotations

import json

import pytest

from components.config import load
from components.config.release import MAX_CONTROL
from tests.support import MINIMAL_CONFIG, load_problems


def problems(**values: object) -> list[str]:
    return load_problems(MINIMAL_CONFIG, "staging", **values)


def accepted(**values: object) -> bool:
    raw = {**MINIMAL_CONFIG, **{k.replace("__", ":"): v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}}
    load(raw, "staging")
    return True


def named(found: list[str], key: str) -> list[str]:
    return [p for p in found if p.startswith(f"{key}: got ")]


def test_the_control_is_on_by_default_and_the_last_step_leaves_it_to_live() -> None:
    release = load(MINIMAL_CONFIG, "staging").release
    assert release.control_weight == 5
    assert [release.step_weight(s) for s in release.steps] == [25, 50, 95]


@pytest.mark.parametrize("weight", [0, 1, MAX_CONTROL - 1, MAX_CONTROL])
def test_every_weight_in_the_range_is_accepted(weight: int) -> None:
    # steps [25, 100]: the last step (100 - weight) stays above 25 for every weight up to the maximum.
    assert accepted(release__controlWeight=weight, release__steps=[25, 100])


@pytest.mark.parametrize(("weight", "fragment"), [
    (-1, "greater than or equal to 0"),
    (MAX_CONTROL + 1, f"less than or equal to {MAX_CONTROL}"),
    ("five", "valid integer"),
])
def test_a_weight_out_of_range_names_the_key_the_value_and_the_range(weight: object, fragment: str) -> None:
    found = named(problems(release__controlWeight=weight), "release:controlWeight")
    assert found, problems(release__controlWeight=weight)
    assert fragment in found[0]
    assert repr(weight).strip("'") in found[0]


def test_the_last_step_must_still_give_the_candidate_more_than_the_step_before() -> None:
    # [25, 50, 100] with 49: 51% at the last step, above 50: accepted; with 50 it would stay at 50%.
    assert accepted(release__controlWeight=49)
    found = named(problems(release__controlWeight=50), "release:controlWeight")
    assert found == ["release:controlWeight: got 50; at the last step the candidate gets 100 - controlWeight = 50%, which "
                     "must be more than the step before it (50%): allowed 0 to 49 with these steps"]


def test_blue_green_switches_to_all_but_the_control_and_back() -> None:
    for weight in (0, 5, 95, 100):
        assert accepted(release__strategy="blue-green", release__canaryWeight=weight,
                        release__versions={"blue": "1.0", "green": "1.1"})
    found = named(problems(release__strategy="blue-green", release__canaryWeight=90,
                           release__versions={"blue": "1.0", "green": "1.1"}), "release:canaryWeight")
    assert found
    assert "allowed weights are 0, 5, 95, 100" in found[0]


def test_zero_turns_the_control_off() -> None:
    release = load({**MINIMAL_CONFIG, "release:controlWeight": "0"}, "staging").release
    assert [release.step_weight(s) for s in release.steps] == [25, 50, 100]
