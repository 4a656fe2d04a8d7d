"""The image repository's lifecycle keeps what live, standby and a rollback need, and prunes the rest.

A simulated half year of pushes and releases, aged by the planned policy through the ECR evaluation rules
(``offline.models.aws_delivery.lifecycle_expires``); moto's own validator judges the policy's shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from moto.ecr.policy_validation import EcrLifecyclePolicyValidator

from components.config import load
from components.registry import RELEASED_PRODUCTION, VERIFIED_STAGING
from offline import Plan
from offline.models.aws_delivery import StoredImage, lifecycle_expires
from offline.stacks import ROOT, ProjectFiles

DAYS = 180
PUSHES_PER_DAY = 3
PRODUCTION_RELEASE_DAYS = 20  # then production freezes, while staging releases every day


@pytest.fixture(scope="module")
def policy(plan_of: Callable[..., Plan]) -> str:
    [lifecycle] = plan_of("production").of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    return str(lifecycle.inputs["policy"])


def _window() -> int:
    """How many releases of each stack a rollback may reach back: production's ``delivery:keepReleases``."""
    return load(ProjectFiles(ROOT).stack_config("production")[0], "production").delivery.keep_releases


def _history() -> tuple[dict[str, list[str]], list[StoredImage]]:
    """Each stack's releases, oldest first, and the repository they leave."""
    tags: dict[str, list[str]] = {}
    pushed: dict[str, float] = {}
    releases: dict[str, list[str]] = {"staging": [], "production": []}
    for day in range(DAYS):
        for n in range(PUSHES_PER_DAY):
            digest = f"sha256:{day:03d}{n}"
            tags[digest], pushed[digest] = [f"{day:03d}{n}".ljust(40, "a")], day + n / 10
        # A build whose push failed halfway: its layers stay, untagged.
        dangling = f"sha256:{day:03d}x"
        tags[dangling], pushed[dangling] = [], day + 0.5
        staged = f"sha256:{day:03d}0"
        tags[staged].append(f"{VERIFIED_STAGING}{day:03d}")
        releases["staging"].append(staged)
        if day < PRODUCTION_RELEASE_DAYS:
            tags[staged].append(f"{RELEASED_PRODUCTION}{tags[staged][0]}")
            releases["production"].append(staged)
    images = [StoredImage(d, tuple(t), pushed[d]) for d, t in tags.items()]
    return releases, images


def test_the_policy_is_one_ecr_accepts(policy: str) -> None:
    EcrLifecyclePolicyValidator(policy).validate()
    rules = json.loads(policy)["rules"]
    assert rules[-1]["selection"]["tagStatus"] == "any"
    assert all(p.count("*") <= 4 for r in rules for p in r["selection"].get("tagPatternList", []))


def test_live_standby_and_every_rollback_in_the_window_keep_their_image(policy: str) -> None:
    releases, images = _history()
    expired = lifecycle_expires(policy, images, today=DAYS)
    window = _window()
    for stack in ("production", "staging"):
        released = releases[stack]
        live, standby = released[-1], released[-2]
        assert live not in expired, f"{stack}'s live image expired"
        assert standby not in expired, f"{stack}'s standby image expired"
        lost = [d for d in released[-window:] if d in expired]
        assert not lost, f"{stack} cannot roll back to {lost}"


def test_builds_never_released_and_untagged_layers_still_expire(policy: str) -> None:
    releases, images = _history()
    expired = lifecycle_expires(policy, images, today=DAYS)
    released = {d for r in releases.values() for d in r}
    unreleased = [i for i in images if i.tags and i.digest not in released]
    gone = [i.pushed_day for i in unreleased if i.digest in expired]
    kept = [i.pushed_day for i in unreleased if i.digest not in expired]
    assert gone, "builds never released pile up"
    assert max(gone) < min(kept), "the oldest builds go first"
    assert len(kept) <= json.loads(policy)["rules"][-1]["selection"]["countNumber"]
    assert {i.digest for i in images if not i.tags and DAYS - i.pushed_day > 7} <= expired
    assert not {i.digest for i in images if not i.tags and DAYS - i.pushed_day < 7} & expired
