"""Every command under bad input and faults: a message and the tabled exit code, never a traceback.

Bad flags and formats must be refused before anything connects (``CONNECT``
raises if it is called). Faults are injected around a stack with a release in
progress (the offline engine mirrored into moto): the Pulumi CLI missing, the
engine busy or failing, Ctrl-C in an update, an unwritable state file (the tests
run as root, for whom a read-only file is still writable, so the write raises
what the OS would), AWS unreachable or throttled, a corrupt ``release:inProgress``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from typer.testing import CliRunner, Result

from components.config.release_record import Outcome
from offline.stacks import ROOT
from rehearsal.world.engine import RehearsalEngine
from rehearsal.world.seams import RehearsalTaskRunner
from rehearsal.world.servers import Behaviour, HealthServer, Moto, MotoSession, reset
from rehearsal.world.stack import World
from release.cli import app
from release.clock import ManualClock
from release.commands import driver
from release.context import Aws
from release.engine import StackBusyError, UpdateFailedError
from release.engine.offline import OfflineEngine
from release.errors import CONDITIONS, ExitCode
from release.state import record as records
from release.strategies.executor import Result as ExecutorResult

RUNNER = CliRunner()
VERSIONS = '{"blue":"3f9c2e1a","green":"4a5b6c7d"}'
RECORD = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop", "phase": "smoke-tested", "weight": 0, "highestWeight": 0,
}
COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "deploy": ["deploy", "--version", "v9", "--yes"],
    "dry-run": ["deploy", "--version", "v9", "--dry-run"],
    "promote": ["promote"],
    "abort": ["abort"],
    "rollback": ["rollback"],
    "to-version": ["rollback", "--to-version", "1", "--yes"],
    "history": ["history"],
    "migrate": ["migrate", "--yes"],
    "resume": ["resume"],
    "resume-abort": ["resume", "--abort"],
}
ENGINE_COMMANDS = [name for name in COMMANDS if name != "dry-run"]


def invoke(args: Sequence[str], **env: str) -> Result:
    result = RUNNER.invoke(app, list(args), terminal_width=400, env=env or None)
    # An exception escaping a command is exactly what a user would see as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception), result.output)
    assert "Traceback" not in result.output, result.output
    return result


def flat(result: Result) -> str:
    # Usage errors come in a box whose lines wrap: drop the frame, join the words.
    return " ".join(result.output.replace("\u2502", " ").split())


# --- bad input: exit 2, before connecting -------------------------------------------------------------------------

BAD_INPUTS = [
    *[(name, ["-o", "xml"], "'xml' is not one of 'text', 'json'") for name in COMMANDS],
    *[(name, ["--stack", "qa"], "unknown stack 'qa'") for name in COMMANDS],
    ("deploy", ["--version", "bad tag!"], "--version 'bad tag!': not an image tag"),
    ("dry-run", ["--version", "bad tag!"], "--version 'bad tag!': not an image tag"),
    ("deploy", ["--steps", "10,,100"], "--steps '10,,100': a comma-separated list of whole percents with no empty parts"),
    ("dry-run", ["--steps", "10,,100"], "--steps '10,,100': a comma-separated list of whole percents with no empty parts"),
    ("deploy", ["--steps", "50,10"], "--steps 50,10: steps must be strictly increasing"),
    ("deploy", ["--bake", "-1"], "--bake -1: minutes from 0 to 1440"),
    ("to-version", ["--to-version", "0"], "--to-version 0: stack versions start at 1"),
    ("to-version", ["--to-version", "x"], "Invalid value for '--to-version': Input should be a valid integer"),
]


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def refuse(stack: str) -> driver.Connection:
        calls.append(stack)
        msg = "connected before the flags were checked"
        raise AssertionError(msg)

    monkeypatch.setattr(driver, "CONNECT", refuse)
    return calls


@pytest.mark.parametrize(("name", "extra", "message"), BAD_INPUTS)
def test_bad_flags_exit_2_naming_the_flag_before_connecting(no_connect: list[str], name: str, extra: list[str], message: str) -> None:
    args = [*COMMANDS[name], "--stack", "staging", *extra]
    result = invoke(args)
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert message in flat(result)
    assert no_connect == []


@pytest.mark.parametrize("args", [
    ["deploy", "--stack", "staging", "--version", "v9", "-o", "json"],
    ["migrate", "--stack", "staging", "-o", "json"],
    ["rollback", "--stack", "staging", "--to-version", "3", "-o", "json"],
])
def test_json_output_without_yes_changes_nothing(no_connect: list[str], args: list[str]) -> None:
    result = invoke(args)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "with --output json needs --yes: there is nobody to confirm, so nothing was changed" in json.loads(result.output)["error"]["why"]
    assert no_connect == []


# --- no Pulumi CLI -------------------------------------------------------------------------------------------------

@pytest.fixture
def no_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `pulumi` anywhere
    monkeypatch.setattr(driver, "CONNECT", driver.connect)


@pytest.mark.parametrize("name", ENGINE_COMMANDS)
def test_without_the_pulumi_cli_engine_commands_exit_3_saying_what_works(no_pulumi: None, name: str) -> None:
    result = invoke([*COMMANDS[name], "--stack", "staging"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE, result.output
    text = flat(result)
    assert "failed: the Pulumi CLI is not installed" in text
    assert "`python -m release deploy --dry-run`" in text


def test_without_the_pulumi_cli_a_dry_run_plans_from_the_stack_file(no_pulumi: None) -> None:
    result = invoke(["deploy", "--stack", "staging", "--version", "1.2.3", "--dry-run"])
    assert result.exit_code == ExitCode.OK, result.output
    text = flat(result)
    assert "planned from Pulumi.staging.yaml and the offline plan's outputs (the Pulumi CLI is not installed)" in text
    assert "deploy 1.2.3 to green" in text
    assert "dry run: nothing was changed" in text


# --- faults around a release in progress ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[MotoSession, str]]:
    with Moto("eu-west-1") as session, HealthServer(Behaviour()) as health:
        yield session, health.base_url


class Faulty(RehearsalEngine):
    """The rehearsal engine with one fault: ``busy``, ``update-fails``, ``interrupt`` or ``read-only``."""

    fault = ""
    deployed_outputs: dict[str, Any] | None = None

    def outputs(self) -> dict[str, Any]:
        # The offline engine evaluates its config again when it starts; a real stack's outputs are those of its last update.
        return self.deployed_outputs if self.deployed_outputs is not None else super().outputs()

    def update(self, message: str, targets: Sequence[str] | None = None) -> Any:
        if self.fault == "busy":
            msg = "update of stack staging"
            raise StackBusyError(msg, "another update is in progress (bob@ci)", "wait")
        if self.fault == "update-fails":
            msg = "update of stack staging"
            raise UpdateFailedError(msg, "error: the provider refused", "read the log")
        if self.fault == "interrupt":
            raise KeyboardInterrupt
        return super().update(message, targets)

    def set_config(self, values: Mapping[str, str]) -> None:
        if self.fault == "read-only":
            raise PermissionError(13, "Permission denied", "Pulumi.staging.yaml")
        super().set_config(values)

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        # The offline release state is a file too (the ESC environment's stand-in).
        if self.fault == "read-only":
            raise PermissionError(13, "Permission denied", "Pulumi.staging.yaml")
        return super().write_release(changes, removals, expect_etag)

    def remove_config(self, keys: Sequence[str]) -> None:
        if self.fault == "read-only":
            raise PermissionError(13, "Permission denied", "Pulumi.staging.yaml")
        super().remove_config(keys)


def _aws_fault(aws: Aws, fault: str) -> None:
    def raise_(**_: Any) -> None:
        if fault == "aws-down":
            raise EndpointConnectionError(endpoint_url="https://elasticloadbalancing.eu-west-1.amazonaws.com/")
        response: Any = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        raise ClientError(response, "Describe")

    for wrapper in (aws.elbv2, aws.cloudwatch, aws.ecs, aws.rds, aws.sns):
        wrapper.client.meta.events.register("before-call", raise_)


@pytest.fixture
def stage(servers: tuple[MotoSession, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], OfflineEngine]:
    session, health = servers
    reset()
    clock = ManualClock()
    state = tmp_path / "staging.json"
    first = OfflineEngine("staging", state_path=state, clock=clock)
    world = World(session, clock, health)
    world.build(first.plan())
    first.hooks.append(world.apply)
    first.set_config({"release:versions": VERSIONS})
    first.update("deploy 4a5b6c7d to green")
    first.set_config({records.IN_PROGRESS: json.dumps(RECORD)})

    deployed = RehearsalEngine(first, world).outputs()

    def with_fault(fault: str) -> OfflineEngine:
        if fault == "corrupt-record":
            first.set_config({records.IN_PROGRESS: '{"id": "r-1", "version": '})

        def connect(stack: str) -> driver.Connection:
            offline = OfflineEngine(stack, state_path=state, clock=clock)
            offline.hooks.append(world.apply)
            engine = Faulty(offline, world)
            engine.fault = fault
            engine.deployed_outputs = deployed if fault == "corrupt-record" else None
            aws = Aws.from_session(session, clock)
            if fault in ("aws-down", "throttled"):
                _aws_fault(aws, fault)
            return driver.Connection(engine, aws, clock, RehearsalTaskRunner(session))

        monkeypatch.setattr(driver, "CONNECT", connect)
        return first

    return with_fault


FAULTS = ("busy", "update-fails", "interrupt", "read-only", "aws-down", "throttled", "corrupt-record")


@pytest.mark.parametrize("fault", FAULTS)
def test_no_command_prints_a_traceback_under_any_fault(stage: Callable[[str], OfflineEngine], fault: str) -> None:
    stage(fault)
    codes = {}
    for name in COMMANDS:
        result = invoke([*COMMANDS[name], "--stack", "staging"])
        codes[name] = result.exit_code
        assert result.exit_code in set(ExitCode), (name, result.output)
        if result.exit_code != ExitCode.OK:
            assert "why:" in result.output or "error" in result.output, (name, result.output)
    assert any(code != ExitCode.OK for code in codes.values()), codes


def test_ctrl_c_during_an_update_exits_1_with_the_way_on(stage: Callable[[str], OfflineEngine]) -> None:
    stage("interrupt")
    result = invoke(["abort", "--stack", "staging"])
    assert result.exit_code == ExitCode.REFUSED
    text = flat(result)
    assert "failed: interrupted" in text
    assert "python -m release status --stack staging" in text


def test_an_unwritable_stack_file_exits_3_naming_it(stage: Callable[[str], OfflineEngine]) -> None:
    stage("read-only")
    result = invoke(["abort", "--stack", "staging", "-o", "json"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert json.loads(result.output)["error"]["what"] == "file Pulumi.staging.yaml"
    assert json.loads(result.output)["error"]["why"] == "Permission denied"


def test_throttled_aws_exits_3_naming_the_aws_error_code(stage: Callable[[str], OfflineEngine]) -> None:
    stage("throttled")
    result = invoke(["status", "--stack", "staging", "-o", "json"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "AWS answered Throttling 8 times in a row" in json.loads(result.output)["error"]["why"]


def test_unreachable_aws_exits_3(stage: Callable[[str], OfflineEngine]) -> None:
    stage("aws-down")
    result = invoke(["status", "--stack", "staging", "-o", "json"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "Could not connect to the endpoint URL" in json.loads(result.output)["error"]["why"]


def test_a_corrupt_record_is_shown_as_corrupt_and_refused_by_abort(stage: Callable[[str], OfflineEngine]) -> None:
    stage("corrupt-record")
    status = invoke(["status", "--stack", "staging"])
    assert status.exit_code == ExitCode.OK, status.output
    text = flat(status)
    assert "in progress: UNREADABLE: release:inProgress is corrupt" in text
    assert "in progress: none" not in text
    data = json.loads(invoke(["status", "--stack", "staging", "-o", "json"]).output)
    assert data["in_progress_problem"].startswith("release:inProgress is corrupt")
    for command in ("abort", "promote", "resume"):
        result = invoke([command, "--stack", "staging"])
        assert result.exit_code == ExitCode.BAD_INPUT, (command, result.output)
        assert "release:inProgress is corrupt" in flat(result), command


def test_every_condition_has_one_exit_code_and_the_runbook_tables_them() -> None:
    text = (ROOT / "docs" / "releasing.md").read_text()
    assert len({condition for condition, _ in CONDITIONS}) == len(CONDITIONS)
    for condition, code in CONDITIONS:
        assert f"| {condition} | {int(code)} |" in text, condition


def test_a_newcomer_without_the_pulumi_cli_gets_the_dry_run(tmp_path: Path) -> None:
    # The acceptance run, as a process: PATH holds no `pulumi` (nor anything else).
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "release", "deploy", "--stack", "staging", "--version", "1.2.3", "--dry-run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "deploy 1.2.3 to green, wait until its targets are healthy" in done.stdout
    assert "dry run: nothing was changed" in done.stdout


def test_reasons_with_brackets_are_printed_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    monkeypatch.setattr(driver, "CONNECT", lambda stack: driver.Connection(
        engine, Aws.from_session(MotoSession("http://127.0.0.1:9", "eu-west-1"), ManualClock()), ManualClock(),
        RehearsalTaskRunner(MotoSession("http://127.0.0.1:9", "eu-west-1"))))

    class Fails:
        def __init__(self, ctx: Any) -> None:
            del ctx

        def run(self, steps: Any, record: Any) -> ExecutorResult:
            return ExecutorResult(Outcome.ABORTED, None, "bake", "[/red] config [secret] {'a': [1]}", "[bold]status")

    monkeypatch.setattr(driver, "Executor", Fails)
    result = invoke(["deploy", "--stack", "staging", "--version", "v9", "--yes"])
    assert result.exit_code == ExitCode.REFUSED
    assert "why: [/red] config [secret] {'a': [1]}" in result.output


# --- a verification AWS will not answer: unknown, never a different state ------------------------------------------

AT_HALF = {**RECORD, "phase": "shifting", "weight": 50, "highestWeight": 50}


def _throttle_listener_reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Every DescribeListeners of the driver's next connections answers Throttling; the returned call lifts it."""
    real = driver.CONNECT
    throttled = [True]

    def raise_(model: Any, **_: Any) -> None:
        if throttled[0] and model.name == "DescribeListeners":
            response: Any = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(response, "DescribeListeners")

    def connect(stack: str) -> driver.Connection:
        conn = real(stack)
        conn.aws.elbv2.client.meta.events.register("before-call", raise_)
        return conn

    monkeypatch.setattr(driver, "CONNECT", connect)
    return lambda: throttled.__setitem__(0, False)


@pytest.mark.rehearsal  # the program evaluated three times over a world of its own: the fast tier has the same case over
# tests/stack_world.py (tests/release/state/test_marked_records.py), and separate processes run it in test_shells.py
def test_an_abort_whose_verification_is_throttled_says_unknown_and_keeps_what_it_applied(
    stage: Callable[[str], OfflineEngine], monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = stage("")
    first.set_config({"release:canaryWeight": "50", records.IN_PROGRESS: json.dumps(AT_HALF)})
    first.update("step 2: send 50% to green")
    lift = _throttle_listener_reads(monkeypatch)

    result = invoke(["abort", "--stack", "staging", "-o", "json"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE, result.output
    error = json.loads(result.output)["error"]
    assert "what the load balancer serves is unknown: AWS answered Throttling" in error["why"]
    assert "still serves" not in error["why"], "an unread listener is never reported as serving something"
    assert "run the same command again" in error["next"]
    # The update was applied and is not undone: the config says 0, as the listener does; the release stays marked aborting,
    # so the next whole-stack update cannot send 50% back to the candidate.
    config = first.get_config()
    assert config["release:canaryWeight"] == "0"
    marked = records.decode(config[records.IN_PROGRESS])
    assert marked is not None
    assert marked.ending is not None
    assert marked.ending.outcome is Outcome.ABORTED

    lift()
    status = json.loads(invoke(["status", "--stack", "staging", "-o", "json"]).output)
    assert status["served"] == {"blue": 100, "green": 0}, status
    again = invoke(["abort", "--stack", "staging", "-o", "json"])
    assert again.exit_code == ExitCode.REFUSED, again.output
    assert json.loads(again.output)["outcome"] == "aborted"
    assert records.IN_PROGRESS not in first.get_config()
    last = records.last_release(first.get_config())
    assert last is not None
    assert last.outcome is Outcome.ABORTED
