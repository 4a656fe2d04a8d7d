"""Records marked for an ending: the ending that finishes them, and the words every other command says.

After an ending's update applied and was verified, a failed last write says the outcome and the command that
finishes the record. A record marked for one ending refuses the others, and every command says what ``resume``
says of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config.release_record import Outcome, Phase
from release.cli import app
from release.commands import driver
from release.errors import ExitCode
from release.state import StateStoreError
from release.state import record as records
from release.strategies.executor import abort, promote_now
from release.strategies.failure import UnfinishedEndingError
from tests.stack_world import World, final_write_fails, release, world


def _bob(w: World) -> Any:
    return replace(w.ctx, by="bob@desk")


def _updates(w: World, text: str) -> list[str]:
    return [u["message"] for u in w.stack.issued if text in u["message"]]


# --- a failed final write after the promotion applied says promoted, never aborts ------------------------


def test_a_failed_final_write_after_the_promotion_applied_says_promoted_and_how_to_finish_the_record(session: Any) -> None:
    w = world(session)
    original = w.stack.write_release
    failing = [True]

    def write_release(changes: Any, removals: Any, expect_etag: str) -> str:
        if failing[0] and records.LAST_RELEASE in changes and '"promoted"' in changes[records.LAST_RELEASE]:
            msg = "writing the release state"
            raise StateStoreError(msg, "Pulumi Cloud answered HTTP 503", "retry")
        return original(changes, removals, expect_etag)

    w.stack.write_release = write_release  # type: ignore[method-assign]
    result = release(w, "v2")
    assert result.outcome is Outcome.PROMOTED
    assert result.why is not None
    assert result.why == "promote: promoted; the record is not finished: writing the release state: Pulumi Cloud answered HTTP 503"
    assert result.next_command == "python -m release promote --stack staging  (finishes the record)"
    # The store, not the release, failed: exit 3, and the record as the promotion left it (promoted, at 100%).
    assert (result.infrastructure, result.exit_code) == (True, 3)
    assert result.record is not None
    assert (result.record.phase, result.record.weight) == (Phase.PROMOTED, 100)
    assert not _updates(w, "abort"), "a promoted release is never aborted"
    assert w.stack.served() == {"blue": 5, "green": 95}, "promoted, live keeping its control share"
    failing[0] = False
    held = records.in_progress(w.stack)
    assert held is not None
    promote_now(w.ctx, held)
    assert w.stack.release_config().in_progress is None
    assert w.stack.release_config().last_release.outcome is Outcome.PROMOTED
    assert w.stack.served() == {"blue": 0, "green": 100}


# --- a record marked for one ending refuses the others ---------------------------------------------------


class Killed(BaseException):
    """The process dropped mid-way, as kill -9 would."""


def _abort_killed_after_its_update(w: World) -> None:
    release(w, "v2", until_weight=25)
    original = w.stack.write_release

    def killed(changes: Any, removals: Any, expect_etag: str) -> str:
        if records.LAST_RELEASE in changes:
            raise Killed
        return original(changes, removals, expect_etag)

    w.stack.write_release = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        abort(_bob(w), records.in_progress(w.stack), "bob aborts", by="bob@desk")
    w.stack.write_release = original  # type: ignore[method-assign]


@pytest.mark.parametrize("command", ["promote", "rollback-flip"])
def test_a_half_finished_abort_refuses_a_promotion_and_says_which_command_finishes_it(session: Any, command: str) -> None:
    w = world(session)
    _abort_killed_after_its_update(w)
    assert w.stack.served() == {"blue": 100, "green": 0}
    held = records.in_progress(w.stack)
    assert held is not None
    w.stack.issued.clear()
    other: dict[str, Callable[[], object]] = {
        "promote": lambda: promote_now(w.ctx, held),
        "rollback-flip": lambda: records.commit(w.stack, held, records.ending(held, Outcome.ROLLED_BACK, "carol@ci", w.clock),
                                                exact=False),
    }
    with pytest.raises(records.EndingUnfinishedError) as caught:
        other[command]()
    assert "is being aborted by bob@desk since" in caught.value.why
    assert caught.value.next_command == "python -m release abort --stack staging  (finishes it)"
    assert w.stack.issued == []
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert records.in_progress(w.stack).ending.outcome is Outcome.ABORTED  # type: ignore[union-attr]



# --- every command says what `resume` says of a record marked and not finished --------------------------


@pytest.fixture
def shell(session: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    found = world(session)
    conn = driver.Connection(found.stack, found.ctx.aws, found.clock, found.runner, found.ctx.probe)
    monkeypatch.setattr(driver, "CONNECT", lambda stack: conn)
    return found


def _promote_killed_after_its_mark(w: World) -> None:
    release(w, "v2", until_weight=25)
    original = w.stack.update

    def killed(message: str, targets: Any = None) -> Any:
        if "promote" in message:
            raise Killed
        return original(message, targets)

    w.stack.update = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        promote_now(_bob(w), records.in_progress(w.stack))
    w.stack.update = original  # type: ignore[method-assign]


def _said(args: list[str]) -> tuple[int, dict[str, Any]]:
    done = CliRunner().invoke(app, [*args, "--stack", "staging", "-o", "json"])
    assert "Traceback" not in done.output, done.output
    return done.exit_code, json.loads(done.output)["error"]


@pytest.mark.parametrize("command", [["abort"], ["rollback"], ["resume", "--abort"], ["deploy", "--version", "v9", "--yes"]])
def test_after_a_promotion_killed_past_its_mark_every_other_command_says_what_resume_says(shell: World, command: list[str]) -> None:
    _promote_killed_after_its_mark(shell)
    served = shell.stack.served()
    shell.stack.issued.clear()
    code, resumed = _said(["resume"])
    assert code == ExitCode.REFUSED
    assert "is being promoted by bob@desk since" in resumed["why"]
    assert resumed["next"] == "python -m release promote --stack staging  (finishes it)"
    code, said = _said(command)
    assert code == ExitCode.REFUSED
    assert (said["why"], said["next"]) == (resumed["why"], resumed["next"])
    assert "fix the config" not in json.dumps(said)
    assert shell.stack.issued == []
    assert shell.stack.served() == served
    done = CliRunner().invoke(app, ["promote", "--stack", "staging", "-o", "json"])
    assert done.exit_code == ExitCode.OK, done.output
    assert shell.stack.release_config().last_release.outcome is Outcome.PROMOTED


def test_promote_after_an_abort_killed_with_the_listener_back_on_live_is_refused(shell: World) -> None:
    _abort_killed_after_its_update(shell)
    code, said = _said(["promote"])
    assert code == ExitCode.REFUSED
    assert "is being aborted by bob@desk since" in said["why"]
    assert said["next"] == "python -m release abort --stack staging  (finishes it)"
    assert shell.stack.served() == {"blue": 100, "green": 0}
    done = CliRunner().invoke(app, ["abort", "--stack", "staging", "-o", "json"])
    assert done.exit_code == ExitCode.REFUSED, done.output
    assert shell.stack.release_config().last_release.outcome is Outcome.ABORTED


# --- a verification AWS will not answer: unknown, never a different state (the fast tier's copy of item 18) ------


def test_an_abort_whose_verification_is_throttled_says_unknown_keeps_what_it_applied_and_finishes_when_run_again(
    session: Any,
) -> None:
    from botocore.exceptions import ClientError

    from release.strategies.failure import UnknownStateError

    w = world(session)
    release(w, "v2", until_weight=50)
    throttled = [True]

    def refuse(model: Any, **_: Any) -> None:
        if throttled[0] and model.name == "DescribeListeners":
            response: Any = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(response, "DescribeListeners")

    w.ctx.aws.elbv2.client.meta.events.register("before-call", refuse)
    held = records.in_progress(w.stack)
    assert held is not None
    with pytest.raises(UnknownStateError) as caught:
        abort(_bob(w), held, "bob aborts", by="bob@desk")
    assert "what the load balancer serves is unknown: AWS answered Throttling" in caught.value.why
    assert "still serves" not in caught.value.why, "an unread listener is never reported as serving something"
    assert "run the same command again" in caught.value.next_command
    # Applied and kept: the config says 0, as the listener does; the record stays marked, so no update sends 50% back.
    assert w.stack.get_config()["release:canaryWeight"] == "0"
    assert w.stack.served() == {"blue": 100, "green": 0}
    marked = records.in_progress(w.stack)
    assert marked is not None
    assert marked.ending is not None
    assert marked.ending.outcome is Outcome.ABORTED

    throttled[0] = False
    abort(_bob(w), marked, "bob aborts", by="bob@desk")
    assert records.in_progress(w.stack) is None
    assert w.stack.release_config().last_release.outcome is Outcome.ABORTED


def test_a_promotion_from_another_shell_whose_final_write_fails_hands_back_the_record_promoted_at_100(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=50)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.weight == 50
    final_write_fails(w, StateStoreError("writing the release state", "Pulumi Cloud answered HTTP 503", "retry"))
    with pytest.raises(UnfinishedEndingError) as caught:
        promote_now(_bob(w), held)
    failure = caught.value
    assert (failure.what, failure.next_command, failure.infrastructure) == (
        "promote", "python -m release promote --stack staging  (finishes the record)", True)
    # What the promotion did, though its record is not finished: promoted, the candidate verified at 100%.
    assert failure.record is not None
    assert (failure.record.phase, failure.record.weight, failure.record.highest_weight) == (Phase.PROMOTED, 100, 100)


# --- a command from another shell ends the record as stored, never its own older copy -------------------------------


def test_an_abort_from_another_shell_holding_an_older_copy_ends_the_record_as_the_driver_last_wrote_it(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    read = records.in_progress(w.stack)  # what bob's shell read
    assert read is not None
    # The driver goes on meanwhile: its 50% step verified and written.
    later = records.commit(w.stack, read, records.advance(read, Phase.SHIFTING, weight=50))
    assert later is not None
    ended = abort(_bob(w), read, "bob aborts", by="bob@desk")
    assert (ended.id, ended.outcome, ended.highest_weight) == (read.id, Outcome.ABORTED, 50)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.highest_weight, last.revision > later.revision) == (50, True)
