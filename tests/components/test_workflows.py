"""The typed workflow model refuses shapes GitHub would reject or this project forbids, and renders readable YAML."""

from __future__ import annotations

import pytest
import yaml

from components.workflows import Action, Concurrency, Job, Step, Triggers, Workflow, WorkflowModelError

RUN = (Step("hello", run="echo hello"),)


def test_a_step_is_an_action_or_a_script_never_both_or_neither() -> None:
    with pytest.raises(WorkflowModelError, match="step 'x': give exactly one of uses or run"):
        Step("x", uses=Action("actions/checkout", "d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0"), run="ls")
    with pytest.raises(WorkflowModelError, match="step 'x': give exactly one of uses or run"):
        Step("x")
    with pytest.raises(WorkflowModelError, match="step 'x': with is only for actions"):
        Step("x", run="ls", with_={"a": "b"})


@pytest.mark.parametrize("minutes", [0, 361])
def test_a_job_timeout_is_bounded(minutes: int) -> None:
    with pytest.raises(WorkflowModelError, match=f"job 'j': timeout_minutes must be 1-360, got {minutes}"):
        Job(name="j", timeout_minutes=minutes, permissions={}, steps=RUN)


def test_needs_must_name_jobs_of_the_workflow_and_form_no_cycle() -> None:
    a = Job(name="a", timeout_minutes=5, permissions={}, steps=RUN, needs=("b",))
    with pytest.raises(WorkflowModelError, match=r"job 'a' needs unknown job\(s\) \['b'\]"):
        Workflow(name="w", on=Triggers(push_branches=("main",)), jobs={"a": a})
    b = Job(name="b", timeout_minutes=5, permissions={}, steps=RUN, needs=("a",))
    with pytest.raises(WorkflowModelError, match="jobs form a cycle: a -> b -> a"):
        Workflow(name="w", on=Triggers(push_branches=("main",)), jobs={"a": a, "b": b})


def test_render_writes_scripts_as_literal_blocks_and_round_trips() -> None:
    job = Job(
        name="j", timeout_minutes=5, permissions={"contents": "read"},
        steps=(Step("two lines", run="echo one\necho two"),),
        concurrency=Concurrency(group="g"),
    )
    workflow = Workflow(name="w", on=Triggers(push_branches=("main",), pull_request_branches=("main",)), jobs={"j": job})
    text = workflow.render("first\nsecond")
    assert text.startswith("# first\n# second\nname: w\n")
    assert "run: |-\n        echo one\n        echo two\n" in text
    data = yaml.safe_load(text)
    assert data["on"] == {"push": {"branches": ["main"]}, "pull_request": {"branches": ["main"]}}
    assert data["jobs"]["j"]["concurrency"] == {"group": "g", "cancel-in-progress": False}
    assert data["jobs"]["j"]["timeout-minutes"] == 5
    assert data["permissions"] == {}


@pytest.mark.parametrize("ref", ["v6", "v6.1.0", "main", "d23441a", "D23441A48E516B6C34AEA4FA41551A30E30AF803"])
def test_an_action_is_pinned_to_a_full_commit_sha(ref: str) -> None:
    with pytest.raises(WorkflowModelError, match=f"action actions/checkout: got '{ref}'; pin a full 40-character commit SHA"):
        Action("actions/checkout", ref, "v6.1.0")


def test_a_pinned_action_is_rendered_with_its_version_as_a_comment() -> None:
    checkout = Action("actions/checkout", "d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0")
    job = Job(name="j", timeout_minutes=5, permissions={}, steps=(Step("out", uses=checkout), Step("again", uses=checkout)))
    text = Workflow(name="w", on=Triggers(push_branches=("main",)), jobs={"j": job}).render()
    assert text.count("uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0\n") == 2
    assert yaml.safe_load(text)["jobs"]["j"]["steps"][0]["uses"] == checkout.ref
