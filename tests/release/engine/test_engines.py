"""The StackEngine seam: the offline engine's updates, and the Automation API engine's error mapping."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from offline import Plan
from release.engine import StackBusyError, StackMissingError, UpdateFailedError
from release.engine.automation import AutomationEngine
from release.engine.offline import OfflineEngine
from release.state import MemoryStateStore

LISTENER = "aws:lb/listener:Listener"
STAGING = "acme-platform/release-platform/staging"
QA = "acme-platform/release-platform/qa"


@pytest.fixture(scope="module")
def shared_engine() -> OfflineEngine:
    return OfflineEngine("staging")


def test_an_update_reports_the_resources_it_changed(tmp_path: Path) -> None:
    engine = OfflineEngine("staging", state_path=tmp_path / "state.json")
    seen: list[Plan] = []
    engine.hooks.append(lambda plan, result: seen.append(plan))
    engine.set_config({"release:versions": '{"blue":"3f9c2e1a","green":"4a5b6c7d"}'})
    engine.update("deploy")
    engine.set_config({"release:canaryWeight": "25"})
    result = engine.update("shift to 25")
    assert result.touched == 1
    assert [u.split("::")[-1] for u in result.changed] == ["webapp-traffic-https"]
    assert result.counts == {"update": 1}
    assert engine.outputs()["weights"] == {"blue": 75, "green": 25}
    assert len(seen) == 2
    assert [h.message for h in engine.history()] == ["shift to 25", "deploy"]
    assert engine.history()[0].config["release:canaryWeight"] == "25"


def test_a_second_engine_on_the_same_state_file_sees_the_first_ones_config(tmp_path: Path) -> None:
    first = OfflineEngine("staging", state_path=tmp_path / "state.json")
    first.set_config({"release:bakeMinutes": "7"})
    second = OfflineEngine("staging", state_path=tmp_path / "state.json")
    assert second.get_config()["release:bakeMinutes"] == "7"


def test_a_targeted_update_counts_only_its_targets(shared_engine: OfflineEngine) -> None:
    engine = OfflineEngine("staging")
    engine.set_config({"release:versions": '{"blue":"3f9c2e1a","green":"4a5b6c7d"}', "release:canaryWeight": "10"})
    result = engine.update("deploy and shift", targets=["urn:nothing"])
    assert result.changed == ()
    assert result.touched == 0


def test_an_invalid_config_fails_the_update_with_the_problem_and_is_recorded() -> None:
    engine = OfflineEngine("staging")
    engine.set_config({"release:canaryWeight": "25"})
    with pytest.raises(UpdateFailedError) as caught:
        engine.update("shift without a candidate version")
    assert "release:canaryWeight: got 25" in caught.value.why
    assert engine.history()[0].result == "failed"


def test_a_busy_offline_stack_refuses_updates_and_names_the_holder() -> None:
    engine = OfflineEngine("staging")
    engine.busy_with = "alice@laptop"
    with pytest.raises(StackBusyError) as caught:
        engine.update("anything")
    assert "alice@laptop" in caught.value.why
    assert engine.holder() == "alice@laptop"


# --- the Automation API engine, through a stand-in for the automation module ---------


class _Stack:
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, Any]] = []
        self.config: dict[str, auto.ConfigValue] = {"release:canaryWeight": auto.ConfigValue("0")}

    def _check(self) -> None:
        if self.fail is not None:
            raise self.fail

    def up(self, **kwargs: Any) -> Any:
        self.calls.append(("up", kwargs))
        self._check()
        return SimpleNamespace(summary=SimpleNamespace(version=12, resource_changes={"update": 1, "same": 60}))

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        self._check()
        return self.config

    def set_all_config(self, config: dict[str, auto.ConfigValue]) -> None:
        self.calls.append(("set_all_config", config))
        self._check()

    def outputs(self) -> dict[str, auto.OutputValue]:
        return {"live_colour": auto.OutputValue("blue", False), "token": auto.OutputValue("x", True)}


def _module(stack: _Stack, select_error: Exception | None = None) -> Any:
    def create_or_select_stack(stack_name: str, work_dir: str) -> _Stack:
        stack.calls.append(("select", {"stack_name": stack_name, "work_dir": work_dir}))
        if select_error is not None:
            raise select_error
        return stack

    return SimpleNamespace(
        create_or_select_stack=create_or_select_stack, ConfigValue=auto.ConfigValue,
        ConcurrentUpdateError=auto.ConcurrentUpdateError, StackNotFoundError=auto.StackNotFoundError,
        CommandError=auto.CommandError,
    )


def _result(stderr: str) -> CommandResult:
    return CommandResult(stdout="", stderr=stderr, code=255)


def test_the_automation_engine_selects_the_local_program_and_passes_message_and_targets(tmp_path: Path) -> None:
    stack = _Stack()
    engine = AutomationEngine("staging", tmp_path, qualified=STAGING, automation=_module(stack))
    result = engine.update("release r-1: 25% to green", targets=["urn:listener"])
    assert stack.calls[0] == ("select", {"stack_name": "acme-platform/release-platform/staging", "work_dir": str(tmp_path)})
    name, kwargs = stack.calls[1]
    assert name == "up"
    assert kwargs["message"] == "release r-1: 25% to green"
    assert kwargs["target"] == ["urn:listener"]
    assert result.version == 12
    assert result.touched == 1


def test_the_automation_engine_writes_config_as_plain_values_and_hides_secret_outputs(tmp_path: Path) -> None:
    stack = _Stack()
    engine = AutomationEngine("staging", tmp_path, qualified=STAGING, automation=_module(stack), store=MemoryStateStore())
    engine.set_config({"release:bakeMinutes": "7"})
    _, written = stack.calls[-1]
    assert written["release:bakeMinutes"].value == "7"
    assert written["release:bakeMinutes"].secret is False
    assert engine.outputs() == {"live_colour": "blue", "token": "[secret]"}


def test_the_automation_engine_writes_release_keys_to_the_release_environment_never_the_stack_file(tmp_path: Path) -> None:
    stack = _Stack()
    store = MemoryStateStore({"release:canaryWeight": "0"})
    engine = AutomationEngine("staging", tmp_path, qualified=STAGING, automation=_module(stack), store=store)
    engine.set_config({"release:canaryWeight": "25", "release:bakeMinutes": "7"})
    engine.remove_config(["release:inProgress", "release:canaryWeight"])
    written = [kwargs for name, kwargs in stack.calls if name == "set_all_config"]
    assert [sorted(w) for w in written] == [["release:bakeMinutes"]]
    assert store.read()[0] == {}
    engine.set_config({"release:live": "green"})
    assert engine.get_config()["release:live"] == "green"


def test_a_concurrent_update_is_mapped_to_busy_with_the_holder(tmp_path: Path) -> None:
    error = auto.ConcurrentUpdateError(_result("error: the stack is currently locked by 1 lock(s): alice@laptop: created 1m ago"))
    engine = AutomationEngine("staging", tmp_path, qualified=STAGING, automation=_module(_Stack(fail=error)))
    with pytest.raises(StackBusyError) as caught:
        engine.update("shift")
    assert "another update holds stack staging" in caught.value.why
    assert "pulumi cancel --stack staging" in caught.value.next_command
    assert engine.holder() is not None


def test_a_missing_stack_is_mapped_with_the_command_that_creates_it(tmp_path: Path) -> None:
    error = auto.StackNotFoundError(_result("error: no stack named 'qa' found"))
    engine = AutomationEngine("qa", tmp_path, qualified=QA, automation=_module(_Stack(), select_error=error))
    with pytest.raises(StackMissingError) as caught:
        engine.get_config()
    assert caught.value.why == "stack qa does not exist in the Pulumi backend"
    assert "pulumi stack init qa" in caught.value.next_command


def test_a_failed_update_is_mapped_to_its_last_error_line(tmp_path: Path) -> None:
    error = auto.CommandError(_result("Updating...\nerror: update failed\nerror: ELBv2 ValidationError: weight 1000 out of range"))
    engine = AutomationEngine("staging", tmp_path, qualified=STAGING, automation=_module(_Stack(fail=error)))
    with pytest.raises(UpdateFailedError) as caught:
        engine.update("shift")
    assert caught.value.why == "error: ELBv2 ValidationError: weight 1000 out of range"


def test_the_offline_engine_reads_config_on_every_call_so_another_process_change_is_seen(tmp_path: Path) -> None:
    mine = OfflineEngine("staging", state_path=tmp_path / "state.json")
    assert mine.get_config()["release:canaryWeight"] == "0"
    theirs = OfflineEngine("staging", state_path=tmp_path / "state.json")
    theirs.set_config({"release:versions": '{"blue":"3f9c2e1a","green":"4a5b6c7d"}', "release:canaryWeight": "10",
                       "release:bakeMinutes": "7"})
    seen = mine.get_config()
    assert (seen["release:canaryWeight"], seen["release:bakeMinutes"]) == ("10", "7")


def test_a_targeted_update_changes_only_its_targets_and_reports_the_rest_as_pending() -> None:
    engine = OfflineEngine("staging")
    listener = next(u for u in _urns(engine) if u.endswith("::webapp-traffic-https"))
    engine.set_config({"release:versions": '{"blue":"3f9c2e1a","green":"4a5b6c7d"}', "release:canaryWeight": "10"})
    result = engine.update("shift only", targets=[listener])
    assert result.changed == (listener,)
    assert result.pending, "the new green version is pending"
    assert listener not in result.pending
    assert engine.outputs()["versions"]["green"] == "3f9c2e1a", "a targeted update does not re-evaluate the outputs"
    rest = engine.update("everything")
    assert set(rest.changed) == set(result.pending)
    assert rest.pending == ()
    assert engine.outputs()["versions"]["green"] == "4a5b6c7d"


def test_a_concurrent_update_from_another_process_gets_stack_busy_naming_the_holder(tmp_path: Path) -> None:
    holder = OfflineEngine("staging", state_path=tmp_path / "state.json")
    other = OfflineEngine("staging", state_path=tmp_path / "state.json")
    with holder.locked("release r-1: 25% to green"), pytest.raises(StackBusyError) as caught:
        other.update("abort")
    assert "another update is in progress (release r-1: 25% to green (pid" in caught.value.why
    assert other.history() == []
    assert other.update("abort").version == 2, "the lock is free once the holder is done"


def _urns(engine: OfflineEngine) -> list[str]:
    return [r.urn for r in engine.plan().resources]


def test_the_stack_is_selected_by_its_fully_qualified_name_from_the_stack_file() -> None:
    stack = _Stack()
    AutomationEngine("production", automation=_module(stack)).outputs()
    assert stack.calls[0][1]["stack_name"] == "acme-platform/release-platform/production"


def test_a_stack_without_an_organisation_is_refused_before_anything_is_selected(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: release-platform\nruntime: python\n")
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    stack = _Stack()
    engine = AutomationEngine("qa", tmp_path, automation=_module(stack))
    with pytest.raises(StackMissingError) as caught:
        engine.update("anything")
    assert "deployments:organization is not set" in caught.value.why
    assert caught.value.next_command == "pulumi config set deployments:organization <org> -s qa"
    assert stack.calls == []
