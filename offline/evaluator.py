"""Run the real Pulumi program under Pulumi's unit-test mocks and record what it registers.

The engine cannot run here, so this is how the program is planned and diffed:
``pulumi.runtime.set_mocks`` with a monitor that records every registration
(type, name, parent, inputs as registered, ``protect``, dependencies,
``ignore_changes``, ``delete_before_replace``) and mocks that answer
each resource type and invoke with realistic values (``offline.models``).
A resource type or invoke the models do not know fails the evaluation.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.sync_await import _sync_await

from offline import cache
from offline.models import OfflineMocks
from offline.plan import SECRET, Plan, PlannedResource
from offline.stacks import ProjectFiles, apply_overrides

_SECRET_SIG = rpc._special_secret_sig  # noqa: SLF001 - the wire marker of a secret value
_SIG_KEY = rpc._special_sig_key  # noqa: SLF001
_RESOURCE_SIG = rpc._special_resource_sig  # noqa: SLF001

# The Pulumi runtime keeps global state: one evaluation at a time per process.
_LOCK = threading.Lock()


class OfflineEvaluationError(Exception):
    """The program could not be evaluated offline for a reason other than bad config."""


def redact(value: Any) -> Any:
    """Replace every secret in a deserialized property value with ``SECRET``; drop resource refs to URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        return {k: redact(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The wire format carries every number as a double; integers are shown as written.
        return int(value)
    return value


class _Recorder(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps every registration in order, with its parent and options."""

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.registered: list[PlannedResource] = []
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the root stack's type is not part of a child's type."""
        return super().make_urn("" if parent == self.stack_urn else parent, type_, name)

    def _resolve_urns(self, urns: Any) -> list[str]:
        # The stack itself is every resource's implicit ancestor, never a dependency worth showing.
        return sorted({str(u) for u in urns if u and u != self.stack_urn})

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        inputs = redact(rpc.deserialize_properties(request.object))
        # The physical id is part of what the provider answers: other resources' inputs refer to it.
        state = self.resources[response.urn].state
        outputs = redact({"id": response.id, **state} if request.custom else state)
        parent = request.parent or None
        self.registered.append(PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=None if parent == self.stack_urn else parent,
            custom=bool(request.custom),
            inputs=inputs,
            protect=bool(request.protect),
            outputs=outputs,
            dependencies=tuple(self._resolve_urns(request.dependencies)),
            property_dependencies={
                key: tuple(self._resolve_urns(deps.urns))
                for key, deps in request.propertyDependencies.items()
                if self._resolve_urns(deps.urns)
            },
            ignore_changes=tuple(request.ignoreChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
        ))
        return response


class _WarningLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _resolve(value: Any) -> Any:
    output = pulumi.Output.from_input(value)
    if _sync_await(output.is_secret()):
        return SECRET
    return redact(_sync_await(output.future()))


def evaluate(
    program_dir: Path,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: tuple[str, ...] = (),
) -> Plan:
    """Run ``program_dir/__main__.py`` for one stack and config; return what it registered.

    With ``$RELEASE_PLAN_CACHE`` set, a plan another process (or this one) already
    evaluated from the same sources and config is read from disk (``offline.cache``).
    """

    def run() -> Plan:
        with _LOCK:
            return _evaluate(program_dir, project, stack, config, secret_keys)

    return cache.cached(program_dir, project, stack, config, secret_keys, run)


def _no_stack_trace() -> Any:
    return pulumi_resource.source_pb2.StackTrace()


# Each registration walks and formats the Python stack for the engine's messages (pulumi/runtime/resource.py,
# ``_get_stack_trace``: the source position of the resource). The mocks never read it, and it was a tenth of an
# evaluation's time; an evaluation registers with an empty one instead (evaluations hold ``_LOCK``).
_STACK_TRACE = "_get_stack_trace"


def _evaluate(
    program_dir: Path, project: str, stack: str, config: Mapping[str, str], secret_keys: tuple[str, ...],
) -> Plan:
    traced = getattr(pulumi_resource, _STACK_TRACE, None)
    if traced is not None:
        setattr(pulumi_resource, _STACK_TRACE, _no_stack_trace)
    try:
        return _evaluate_untraced(program_dir, project, stack, config, secret_keys)
    finally:
        if traced is not None:
            setattr(pulumi_resource, _STACK_TRACE, traced)


def _evaluate_untraced(
    program_dir: Path, project: str, stack: str, config: Mapping[str, str], secret_keys: tuple[str, ...],
) -> Plan:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    logger = logging.getLogger(f"offline.{stack}")
    logger.propagate = False
    warnings = _WarningLog()
    logger.addHandler(warnings)
    mocks = OfflineMocks(project=project, stack=stack, region=config.get("aws:region", "us-east-1"))
    monitor = _Recorder(mocks)
    path_added = str(program_dir) not in sys.path
    if path_added:
        sys.path.insert(0, str(program_dir))
    try:
        settings.reset_options(project=project, stack=stack)
        set_all_config(dict(config), list(secret_keys))
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, logger=logger, monitor=monitor)
        settings.SETTINGS.outputs.clear()

        def program() -> None:
            runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")

        try:
            _sync_await(pulumi.runtime.stack.run_pulumi_func(program))
        except Exception as exc:
            # Tests prove that bad config stops the program before anything is registered.
            exc.registered_before_error = len(monitor.registered)  # type: ignore[attr-defined]
            raise
        if mocks.failures:
            raise OfflineEvaluationError("; ".join(mocks.failures))
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        outputs = {name: _resolve(value) for name, value in exported.items()}
        return Plan(
            project=project,
            stack=stack,
            resources=tuple(monitor.registered),
            outputs=outputs,
            warnings=tuple(warnings.messages),
            invokes=tuple((token, redact(arguments)) for token, arguments in mocks.calls),
        )
    finally:
        logger.removeHandler(warnings)
        settings.reset_options()
        if path_added:
            sys.path.remove(str(program_dir))
        loop.close()
        asyncio.set_event_loop(None)


def evaluate_stack(
    stack: str,
    overrides: Iterable[tuple[str, Any]] = (),
    files: ProjectFiles | None = None,
) -> Plan:
    """Evaluate a stack's program with its file config plus ``(key, value)`` overrides."""
    files = files or ProjectFiles.here()
    config, secret_keys = files.stack_config(stack)
    config = apply_overrides(config, overrides, files)
    return evaluate(files.root, files.project, stack, config, secret_keys)
