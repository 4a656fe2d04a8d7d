"""The fast rollback and ``--to-version``: each update issued, what moto's listener serves after, every refusal's message."""

from __future__ import annotations

import pytest

from components.config import Colour
from components.config.release_record import Outcome
from release.engine import HistoryEntry
from release.errors import BadInputError
from release.rollback import to_version as rollback_version
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.strategies.failure import StepFailure
from tests.stack_world import LISTENER_URN, World, release


def test_during_a_canary_the_candidate_goes_to_zero_in_one_listener_update(w: World) -> None:
    release(w, "v2", until_weight=25)
    assert w.stack.served() == {"blue": 75, "green": 25}
    w.stack.issued.clear()

    done = fast_rollback(w.ctx)

    assert done.action == "aborted"
    assert [u["targets"] for u in w.stack.issued] == [[LISTENER_URN]]
    assert w.stack.issued[0]["changed"] == [LISTENER_URN]
    assert (done.updates, done.touched) == (1, 1)
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert done.weights == {"blue": 100, "green": 0}
    config = w.stack.release_config()
    assert config.in_progress is None
    assert config.last_release.outcome is Outcome.ABORTED
    # Nothing deleted: green keeps v2, with no traffic.
    assert config.versions.green == "v2"


def test_after_a_promotion_live_flips_back_in_one_listener_update(w: World) -> None:
    assert release(w, "v2").outcome is Outcome.PROMOTED
    assert w.stack.served() == {"blue": 0, "green": 100}
    w.stack.issued.clear()

    done = fast_rollback(w.ctx)

    assert done.action == "flipped"
    assert (done.live, done.version) == (Colour.BLUE, "3f9c2e1a")
    assert [(u["targets"], u["changed"]) for u in w.stack.issued] == [([LISTENER_URN], [LISTENER_URN])]
    assert (done.updates, done.touched) == (1, 1)
    assert w.stack.served() == {"blue": 100, "green": 0}
    config = w.stack.release_config()
    assert config.live is Colour.BLUE
    assert config.last_release.outcome is Outcome.ROLLED_BACK
    assert (config.last_release.version, config.last_release.previous) == ("3f9c2e1a", "v2")
    assert config.versions.green == "v2", "the colour rolled away from keeps its version"
    assert w.ctx.aws.elbv2.target_health(w.stack.groups[Colour.GREEN]), "the colour rolled away from keeps its targets"


def test_a_listener_that_ignores_the_rollback_flip_is_not_recorded_as_rolled_back(w: World) -> None:
    assert release(w, "v2").outcome is Outcome.PROMOTED
    w.stack.listener_ignores = True
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    assert caught.value.infrastructure
    assert "the load balancer did not take the new weights" in caught.value.why
    assert '"blue": 100, "green": 0' in caught.value.why, "what it should serve"
    assert '"blue": 0, "green": 100' in caught.value.why, "what it still serves"
    assert w.stack.served() == {"blue": 0, "green": 100}
    # Old state, whole: green live in the config, the release still the last one and promoted, nothing in progress.
    config = w.stack.release_config()
    assert config.live is Colour.GREEN
    assert config.in_progress is None
    assert (config.last_release.outcome, config.last_release.version) == (Outcome.PROMOTED, "v2")


def test_a_scaled_down_previous_colour_is_refused_and_the_version_rollback_offered(w: World) -> None:
    release(w, "v2")
    w.stack.scale_down(Colour.BLUE)
    w.stack.issued.clear()

    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)

    assert "blue is not healthy" in caught.value.why
    assert "no targets registered in blue's target group" in caught.value.why
    # The newest update at which blue was still live with its version: the deploy of v2 to green.
    serving = next(h.version for h in w.stack.history() if "v2 on green" in h.message)
    assert f"--to-version {serving}" in caught.value.next_command
    assert w.stack.issued == []
    assert w.stack.served() == {"blue": 0, "green": 100}


def test_nothing_to_roll_back_is_refused(w: World) -> None:
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "nothing to roll back on staging: no release is in progress and no release has run" in str(caught.value)
    assert w.stack.issued == []


def test_a_second_fast_rollback_is_refused_as_already_done(w: World) -> None:
    release(w, "v2")
    fast_rollback(w.ctx)
    w.stack.issued.clear()
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "ended rolled-back" in caught.value.why
    assert w.stack.issued == []


def _version_after(w: World, version: str) -> int:
    """The stack version of the update that promoted ``version``."""
    return next(h.version for h in reversed(w.stack.history()) if f"({version}) to live" in h.message)


def test_to_version_releases_what_that_version_served_through_a_normal_release(w: World) -> None:
    for version in ("v2", "v3", "v4"):
        assert release(w, version).outcome is Outcome.PROMOTED
    first = _version_after(w, "v2")

    preview = rollback_version.prepare(w.ctx, first)
    assert preview.version == "v2"
    assert any(line.startswith("release:versions:") for line in preview.changes)
    assert any(s.startswith("deploy v2 to") for s in (step.describe() for step in preview.steps)), "a normal release, not a switch"
    assert any("smoke test" in step.describe() for step in preview.steps)

    w.stack.issued.clear()
    result = rollback_version.run(w.ctx, preview)

    assert result.outcome is Outcome.PROMOTED, result.why
    config = w.stack.release_config()
    assert config.versions.of(config.live) == "v2"
    assert config.last_release.rollback_to == first
    assert w.stack.served()[config.live.value] == 100
    shifts = [u["weights"][config.live.value] for u in w.stack.issued]
    assert shifts == [0, 25, 50, 95, 95, 100], "deploy, each canary step (the last keeps the control), promotion, control ended"


def test_to_version_of_an_unknown_stack_version_names_the_known_ones(w: World) -> None:
    with pytest.raises(BadInputError) as caught:
        rollback_version.prepare(w.ctx, 99)
    assert str(caught.value) == "--to-version 99: stack staging has no such version; recorded versions: 1"


def test_to_version_whose_config_fails_todays_validation_is_refused_with_the_problem(w: World) -> None:
    release(w, "v2")
    old = w.stack.history()[-1]
    config = {**old.config, "release:canaryWeight": "150"}
    w.stack.entries.append(HistoryEntry(0, "an old update", config, "succeeded"))
    w.stack.entries.sort(key=lambda h: -h.version)
    w.stack.issued.clear()

    with pytest.raises(RollbackRefusedError) as caught:
        rollback_version.prepare(w.ctx, 0)

    assert "its config fails today's validation" in caught.value.why
    assert "release:canaryWeight" in caught.value.why
    assert "history --stack staging" in caught.value.next_command
    assert w.stack.issued == []


def test_to_version_across_an_irreversible_migration_is_refused_and_points_to_its_snapshot(w: World) -> None:
    start = w.stack.history()[0].version
    w.stack.set_config({"data:migrationReversible": "false"})
    release(w, "v2")
    w.stack.set_config({"data:migrationReversible": "true"})
    release(w, "v3")
    w.stack.issued.clear()

    with pytest.raises(RollbackRefusedError) as caught:
        rollback_version.prepare(w.ctx, start)

    assert "ran a migration recorded as irreversible" in caught.value.why
    assert "restore the database from snapshot staging-release-v2" in caught.value.next_command
    assert w.stack.issued == []
    assert w.stack.release_config().versions.of(w.stack.release_config().live) == "v3"


def test_to_version_after_the_irreversible_release_is_allowed(w: World) -> None:
    w.stack.set_config({"data:migrationReversible": "false"})
    release(w, "v2")
    w.stack.set_config({"data:migrationReversible": "true"})
    release(w, "v3")
    assert rollback_version.prepare(w.ctx, _version_after(w, "v2")).version == "v2"


def test_to_version_of_the_live_version_is_refused(w: World) -> None:
    release(w, "v2")
    with pytest.raises(RollbackRefusedError) as caught:
        rollback_version.prepare(w.ctx, _version_after(w, "v2"))
    assert caught.value.why == "v2 (what it served) is already live on green"


def test_recorded_secrets_keep_their_current_values_and_records_are_not_replayed() -> None:
    entry = HistoryEntry(3, "m", {"app:token": "[secret]", "release:live": "blue", "release:lastRelease": "{}"}, "succeeded")
    assert rollback_version.then_config(entry, {"app:token": "today"}) == {"app:token": "today", "release:live": "blue"}


def test_compare_separates_release_inputs_from_kept_config() -> None:
    applied, kept = rollback_version.compare(
        {"release:live": "green", "platform:owner": "a", "release:lastRelease": "x"},
        {"release:live": "blue", "platform:owner": "b"},
    )
    assert applied == ["release:live: green -> blue"]
    assert kept == ["platform:owner: a -> b"]
