"""A typed model of a GitHub Actions workflow, rendered to the YAML GitHub reads.

Building the pipeline from dataclasses rather than a YAML template lets tests ask
questions of it (which jobs assume a role, what each deploy needs) and makes an
unsupported shape (a job without a timeout, a step both ``uses`` and ``run``)
an error at construction instead of a surprise on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Writes multi-line scripts as literal blocks, the way people read them in a workflow file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


class WorkflowModelError(ValueError):
    """A workflow, job or step that GitHub would refuse or that breaks a rule of this project."""


# A tag or branch can be moved to other code; a full commit SHA cannot. Source: GitHub's "Security hardening
# for GitHub Actions" ("Pin actions to a full length commit SHA ... the only way to use an action as an
# immutable release").
_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


@dataclass(frozen=True)
class Action:
    """An action pinned to the commit of one of its release tags."""

    repository: str
    """``owner/repo`` (optionally ``/path``) of the action."""
    sha: str
    """The full commit SHA the release tag points to."""
    version: str
    """The release tag, written beside the SHA for people and update tools."""

    def __post_init__(self) -> None:
        if not _PINNED.fullmatch(self.ref):
            message = f"action {self.repository}: got {self.sha!r}; pin a full 40-character commit SHA"
            raise WorkflowModelError(message)

    @property
    def ref(self) -> str:
        """What ``uses:`` names."""
        return f"{self.repository}@{self.sha}"


@dataclass(frozen=True)
class Step:
    """One step: either an action (``uses``) or a shell command (``run``)."""

    name: str
    """Shown in the run log."""
    uses: Action | None = None
    """The action, pinned to a commit."""
    run: str | None = None
    """A shell script run with bash."""
    with_: Mapping[str, str | int | bool] = field(default_factory=dict)
    """Inputs of the action."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables of the step: the safe way to hand expressions to a script."""
    if_: str | None = None
    """Expression deciding whether the step runs."""
    id: str | None = None
    """Identifier other steps use to read this step's outputs."""

    def __post_init__(self) -> None:
        if (self.uses is None) == (self.run is None):
            message = f"step {self.name!r}: give exactly one of uses or run"
            raise WorkflowModelError(message)
        if self.with_ and self.uses is None:
            message = f"step {self.name!r}: with is only for actions (uses)"
            raise WorkflowModelError(message)

    def to_dict(self) -> dict[str, Any]:
        """The step as GitHub's YAML mapping."""
        out: dict[str, Any] = {"name": self.name}
        if self.id:
            out["id"] = self.id
        if self.if_:
            out["if"] = self.if_
        if self.uses:
            out["uses"] = self.uses.ref
        if self.with_:
            out["with"] = dict(self.with_)
        if self.env:
            out["env"] = dict(self.env)
        if self.run:
            out["run"] = self.run
        return out


@dataclass(frozen=True)
class Concurrency:
    """Runs sharing a group wait for each other (or replace each other when cancelling)."""

    group: str
    """The group's name; an expression may make it per ref or per environment."""
    cancel_in_progress: bool | str = False
    """Whether a new run cancels the running one; a deploy never does."""

    def to_dict(self) -> dict[str, Any]:
        """The concurrency block."""
        return {"group": self.group, "cancel-in-progress": self.cancel_in_progress}


@dataclass(frozen=True)
class Job:
    """One job. Timeout and permissions are required: GitHub's defaults (6 hours, a broad token) are never wanted."""

    name: str
    """Shown in the checks list; required status checks match it."""
    timeout_minutes: int
    """Minutes before GitHub cancels the job."""
    permissions: Mapping[str, str]
    """Scopes of the job's GITHUB_TOKEN, e.g. ``{"contents": "read"}``."""
    steps: tuple[Step, ...]
    """What the job does, in order."""
    needs: tuple[str, ...] = ()
    """Jobs that must succeed first."""
    if_: str | None = None
    """Expression deciding whether the job runs."""
    environment: str | None = None
    """The deployment environment the job runs in (its protection rules, variables and secrets)."""
    concurrency: Concurrency | None = None
    """Serialises jobs across runs."""
    runs_on: str = "ubuntu-latest"
    """The runner label."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables of every step."""
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Values later jobs read as ``needs.<job>.outputs.<name>``."""

    def __post_init__(self) -> None:
        if not 1 <= self.timeout_minutes <= 360:
            message = f"job {self.name!r}: timeout_minutes must be 1-360, got {self.timeout_minutes}"
            raise WorkflowModelError(message)
        if not self.steps:
            message = f"job {self.name!r}: a job needs at least one step"
            raise WorkflowModelError(message)

    @property
    def assumes_role(self) -> bool:
        """Whether the job may request an OIDC token (to assume an AWS role)."""
        return self.permissions.get("id-token") == "write"

    def to_dict(self) -> dict[str, Any]:
        """The job as GitHub's YAML mapping."""
        out: dict[str, Any] = {"name": self.name, "runs-on": self.runs_on}
        if self.needs:
            out["needs"] = list(self.needs)
        if self.if_:
            out["if"] = self.if_
        if self.environment:
            out["environment"] = self.environment
        if self.concurrency:
            out["concurrency"] = self.concurrency.to_dict()
        out["permissions"] = dict(self.permissions)
        out["timeout-minutes"] = self.timeout_minutes
        if self.outputs:
            out["outputs"] = dict(self.outputs)
        if self.env:
            out["env"] = dict(self.env)
        out["steps"] = [step.to_dict() for step in self.steps]
        return out


@dataclass(frozen=True)
class Triggers:
    """Events that start the workflow."""

    push_branches: tuple[str, ...] = ()
    """Branches whose pushes run it."""
    pull_request_branches: tuple[str, ...] = ()
    """Base branches whose pull requests run it."""
    push_paths_ignore: tuple[str, ...] = ()
    """Pushes that change only files matching these globs do not run it (GitHub's ``on.push.paths-ignore``:
    the workflow is skipped when every changed path matches)."""

    def to_dict(self) -> dict[str, Any]:
        """The ``on`` block."""
        out: dict[str, Any] = {}
        if self.push_branches:
            out["push"] = {"branches": list(self.push_branches)}
            if self.push_paths_ignore:
                out["push"]["paths-ignore"] = list(self.push_paths_ignore)
        if self.pull_request_branches:
            out["pull_request"] = {"branches": list(self.pull_request_branches)}
        return out


@dataclass(frozen=True)
class Workflow:
    """A whole workflow file."""

    name: str
    """Shown in the Actions tab."""
    on: Triggers
    """What starts it."""
    jobs: Mapping[str, Job]
    """Jobs by id, in the order they are written."""
    concurrency: Concurrency | None = None
    """Serialises whole runs (e.g. per ref)."""
    permissions: Mapping[str, str] = field(default_factory=dict)
    """The token's default scopes; empty means none, so each job states what it needs."""

    def __post_init__(self) -> None:
        for job_id, job in self.jobs.items():
            unknown = [n for n in job.needs if n not in self.jobs]
            if unknown:
                message = f"job {job_id!r} needs unknown job(s) {unknown}; jobs are {list(self.jobs)}"
                raise WorkflowModelError(message)
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        done: set[str] = set()

        def visit(job_id: str, path: tuple[str, ...]) -> None:
            if job_id in path:
                message = f"jobs form a cycle: {' -> '.join((*path, job_id))}"
                raise WorkflowModelError(message)
            if job_id in done:
                return
            for need in self.jobs[job_id].needs:
                visit(need, (*path, job_id))
            done.add(job_id)

        for job_id in self.jobs:
            visit(job_id, ())

    def to_dict(self) -> dict[str, Any]:
        """The workflow as GitHub's YAML mapping."""
        out: dict[str, Any] = {"name": self.name, "on": self.on.to_dict(), "permissions": dict(self.permissions)}
        if self.concurrency:
            out["concurrency"] = self.concurrency.to_dict()
        out["jobs"] = {job_id: job.to_dict() for job_id, job in self.jobs.items()}
        return out

    def actions(self) -> list[Action]:
        """Every action the workflow uses, once each, in order of first use."""
        found: dict[str, Action] = {}
        for job in self.jobs.values():
            for step in job.steps:
                if step.uses is not None:
                    found.setdefault(step.uses.ref, step.uses)
        return list(found.values())

    def render(self, header: str = "") -> str:
        """The YAML text committed to the repository, with an optional comment header.

        Each pinned action carries its release tag as a trailing comment (``@<sha> # v6.1.0``).
        """
        comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
        text = yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, width=200, default_flow_style=False)
        for action in self.actions():
            text = re.sub(rf"(uses: {re.escape(action.ref)})$", rf"\1 # {action.version}", text, flags=re.MULTILINE)
        return comment + text
