"""``abort`` from another shell on a canary release: it sends back whatever share the candidate has, and touches only
the listener when it has one to send back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from components.config.release_record import Outcome
from release.state import record as records
from release.strategies.executor import Executor, abort
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Shift
from tests.stack_world import POLL_SECONDS, FakeStack, Notes, release, world


def test_an_abort_at_one_percent_sends_the_last_percent_back(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=1, steps=(1, 100))
    assert w.stack.served() == {"blue": 99, "green": 1}
    held = records.in_progress(w.stack)
    assert held is not None
    notes = Notes()
    final = abort(replace(w.ctx, by="bob@desk", reporter=notes), held, "bob aborts", by="bob@desk")
    assert final.outcome is Outcome.ABORTED
    assert w.stack.get_config()["release:canaryWeight"] == "0"
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert notes.notes[-1] == "aborted: green back to 0%, blue serves 100%"


def test_an_abort_before_any_shift_leaves_the_listener_out_of_its_update(session: Any) -> None:
    w = world(session)
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version="v2", bake_minutes=1, poll_seconds=POLL_SECONDS), "staging")
    first_shift = next(i for i, step in enumerate(steps) if isinstance(step, Shift))
    Executor(w.ctx).run(steps[:first_shift], records.new_record(config, "v2", "canary", w.clock, w.ctx.by))
    held = records.in_progress(w.stack)
    assert held is not None
    weight = w.stack.get_config().get("release:canaryWeight")
    final = abort(replace(w.ctx, by="bob@desk"), held, "bob aborts", by="bob@desk")
    assert final.outcome is Outcome.ABORTED
    assert w.stack.get_config().get("release:canaryWeight") == weight, "no share to send back: the weight is not written"
    assert w.stack.issued[-1]["targets"] is None, "a whole update (the candidate's extra tasks go), not one of the listener"
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_an_abort_reads_the_config_as_its_own_stacks(session: Any) -> None:
    # Production gated by its own releases is a problem of production's config only: read as another stack's, the
    # abort would go on to an update the program refuses.
    w = world(session)
    production = FakeStack(session, w.clock, stack="production", prefix=f"{w.stack.prefix}p")
    ctx = replace(w.ctx, stack="production", engine=production)
    release(replace(w, stack=production, ctx=ctx), "v2", until_weight=25)
    held = records.in_progress(production)
    assert held is not None
    production.set_release(stagingStack="production")
    with pytest.raises(StepFailure) as caught:
        abort(ctx, held, "bob aborts", by="bob@desk")
    assert caught.value.what == "stack config"
    assert caught.value.why.startswith('release:stagingStack: got "production"')
    assert caught.value.next_command == "fix the config of production"
    assert records.in_progress(production) == held, "nothing was marked or written"
