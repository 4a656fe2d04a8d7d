"""The disk cache of offline evaluations (offline/cache.py), on copies of the small fixture program."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.config import ConfigError
from offline import Plan, cache, evaluator
from offline.evaluator import OfflineEvaluationError
from offline.stacks import ProjectFiles, apply_overrides, parse_override

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "weighted"


@pytest.fixture
def program(tmp_path: Path) -> Path:
    """A copy of the fixture program: each test edits and caches its own."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "weighted"))


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache turned on, in a directory of this test's own."""
    directory = tmp_path / "plan-cache"
    monkeypatch.setenv(cache.ENV, str(directory))
    return directory


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stacks the program was actually run for (the evaluation beneath the cache), in order."""
    calls: list[str] = []
    real = evaluator._evaluate

    def counted(program_dir: Path, project: str, stack: str, config: dict[str, str], secret_keys: tuple[str, ...]) -> Plan:
        calls.append(stack)
        return real(program_dir, project, stack, config, secret_keys)

    monkeypatch.setattr(evaluator, "_evaluate", counted)
    return calls


def plan(program: Path, *overrides: str) -> Plan:
    files = ProjectFiles(program)
    config, secrets = files.stack_config("dev", required_secrets=())
    config = apply_overrides(config, [parse_override(o) for o in overrides], files)
    return evaluator.evaluate(files.root, files.project, "dev", config, secrets)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.plan")) if directory.exists() else []


def everything(result: Plan) -> tuple[object, ...]:
    # Plan equality leaves out each resource's outputs and ordering options; a hit must return those too.
    return dataclasses.astuple(result)


def by_urn(result: Plan) -> dict[str, tuple[object, ...]]:
    # Two runs of a program may register in different orders (each registration awaits its inputs).
    return {r.urn: dataclasses.astuple(r) for r in result.resources}


def test_a_hit_returns_the_same_plan_without_running_the_program(program: Path, cache_dir: Path, runs: list[str]) -> None:
    first = plan(program, "weight=25")
    hits = cache.stats.hits
    second = plan(program, "weight=25")
    assert runs == ["dev"]
    assert cache.stats.hits == hits + 1
    assert everything(second) == everything(first)
    assert second.named("http").outputs == first.named("http").outputs != {}
    assert len(entries(cache_dir)) == 1


_READ_IN_ANOTHER_PROCESS = """
import dataclasses, sys
from pathlib import Path
from offline import cache, evaluator
from offline.stacks import ProjectFiles

def refuse(*args):
    raise AssertionError("the program was run: the entry was not read")

evaluator._evaluate = refuse
files = ProjectFiles(Path(sys.argv[1]))
config, secrets = files.stack_config("dev", required_secrets=())
plan = evaluator.evaluate(files.root, files.project, "dev", config, secrets)
print(cache.stats.hits)
print(repr(dataclasses.astuple(plan)))
"""


def test_another_process_reads_the_entry_this_one_wrote(program: Path, cache_dir: Path) -> None:
    written = plan(program)
    result = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _READ_IN_ANOTHER_PROCESS, str(program)],
        cwd=ROOT, env={**os.environ, cache.ENV: str(cache_dir)}, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    hits, shown = result.stdout.splitlines()
    assert hits == "1"
    assert shown == repr(everything(written))


def _key(program: Path, config: dict[str, str] | None = None, secret_keys: tuple[str, ...] = ()) -> str:
    # Hashed afresh: a process hashes each directory once, and these tests edit it in between.
    cache.sources_digest.cache_clear()
    return cache.key(program, "weighted-fixture", "dev", config or {"weighted-fixture:weight": "0"}, secret_keys)


@pytest.mark.parametrize(("path", "content"), [
    ("__main__.py", "# edited\n"),
    ("lib/helpers.py", "X = 1\n"),
    ("Pulumi.yaml", "# edited\n"),
    ("policy/config/dev.json", "{}\n"),
])
def test_a_changed_file_under_the_program_changes_the_key(program: Path, path: str, content: str) -> None:
    before = _key(program)
    target = program / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as out:
        out.write(content)
    assert _key(program) != before


@pytest.mark.parametrize("path", ["tests/test_x.py", "__pycache__/x.cpython-311.pyc", ".venv/lib/x.py", "docs/x.md", ".release/x"])
def test_a_file_no_evaluation_reads_leaves_the_key_alone(program: Path, path: str) -> None:
    before = _key(program)
    target = program / path
    target.parent.mkdir(parents=True)
    target.write_text("X = 1\n")
    assert _key(program) == before


def test_a_change_in_the_project_outside_the_program_changes_the_key(
    program: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A program elsewhere (the rehearsal's stand-in) imports the project's components; the mocks live in its offline/.
    project = tmp_path / "project"
    (project / "offline").mkdir(parents=True)
    (project / "offline" / "models.py").write_text("ANSWER = 1\n")
    monkeypatch.setattr(cache, "PROJECT", project)
    before = _key(program)
    (project / "offline" / "models.py").write_text("ANSWER = 2\n")
    assert _key(program) != before


def test_the_cache_directory_inside_the_program_leaves_the_key_alone(program: Path) -> None:
    inside = program / "plan-cache"
    cache.sources_digest.cache_clear()
    before = cache.key(program, "weighted-fixture", "dev", {}, (), inside)
    inside.mkdir()
    (inside / "entry.plan").write_bytes(b"x")
    cache.sources_digest.cache_clear()
    assert cache.key(program, "weighted-fixture", "dev", {}, (), inside) == before


def test_a_changed_config_value_or_secret_key_list_changes_the_key(program: Path) -> None:
    base = _key(program, {"weighted-fixture:weight": "0", "weighted-fixture:token": "x"})
    assert _key(program, {"weighted-fixture:weight": "25", "weighted-fixture:token": "x"}) != base
    secret = _key(program, {"weighted-fixture:weight": "0", "weighted-fixture:token": "x"}, ("weighted-fixture:token",))
    assert secret != base
    # The order of the secret keys means nothing to the runtime, so it gives the same entry.
    both = ("weighted-fixture:token", "weighted-fixture:weight")
    config = {"weighted-fixture:weight": "0", "weighted-fixture:token": "x"}
    assert _key(program, config, both) == _key(program, config, both[::-1])


def _damage(entry: Path, how: str) -> None:
    data = entry.read_bytes()
    if how == "empty":
        entry.write_bytes(b"")
    elif how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        entry.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    else:  # whole and checksummed, but not a plan, or not even a pickle
        payload = cache.zlib.compress(cache.pickle.dumps({"not": "a plan"})) if how == "not a plan" else b"garbage"
        entry.write_bytes(cache.hashlib.sha256(payload).digest() + payload)


@pytest.mark.parametrize("how", ["empty", "truncated", "flipped", "not a plan", "not a pickle"])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(program: Path, cache_dir: Path, runs: list[str], how: str) -> None:
    first = plan(program)
    (entry,) = entries(cache_dir)
    _damage(entry, how)
    again = plan(program)
    assert runs == ["dev", "dev"]
    assert by_urn(again) == by_urn(first)
    rewritten = cache.load(cache_dir, entry.name.removesuffix(".plan"))
    assert rewritten is not None
    assert everything(rewritten) == everything(again)


def test_without_the_variable_nothing_is_read_or_written(
    program: Path, tmp_path: Path, runs: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(cache.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    touched: list[str] = []
    monkeypatch.setattr(cache, "load", lambda *args: touched.append("load"))
    monkeypatch.setattr(cache, "store", lambda *args: touched.append("store"))
    before = sorted(tmp_path.rglob("*"))
    plan(program)
    plan(program)
    assert runs == ["dev", "dev"]
    assert touched == []
    assert sorted(tmp_path.rglob("*")) == before


def test_a_cache_that_cannot_be_written_does_not_fail_the_evaluation(
    program: Path, tmp_path: Path, runs: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocked = tmp_path / "a-file-not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv(cache.ENV, str(blocked))
    assert plan(program).named("http").inputs["port"] == 80
    assert plan(program).named("http").inputs["port"] == 80
    assert runs == ["dev", "dev"]


@pytest.mark.parametrize("error", [ConfigError(["weighted-fixture:weight: not a number"]), OfflineEvaluationError("no offline model")])
def test_a_failed_evaluation_is_not_stored(
    program: Path, cache_dir: Path, runs: list[str], monkeypatch: pytest.MonkeyPatch, error: Exception,
) -> None:
    counted = evaluator._evaluate

    def fail(*args: object) -> Plan:
        raise error

    monkeypatch.setattr(evaluator, "_evaluate", fail)
    with pytest.raises(type(error)):
        plan(program)
    assert entries(cache_dir) == []
    # The next call runs the program again, and its success is stored.
    monkeypatch.setattr(evaluator, "_evaluate", counted)
    plan(program)
    assert runs == ["dev"]
    assert len(entries(cache_dir)) == 1


def test_the_directory_keeps_the_most_recently_used_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = Plan(project="p", stack="s", resources=(), outputs={})
    for age, name in enumerate(["newest", "used", "oldest"]):
        cache.store(tmp_path, name, small)
        os.utime(tmp_path / f"{name}.plan", (1_000_000 - age, 1_000_000 - age))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    assert cache.load(tmp_path, "used") == small  # a hit makes it the newest
    # Another process's write under way is left alone; one abandoned by a process that died is removed.
    (tmp_path / ".writing-under-way").write_bytes(b"")
    (tmp_path / ".writing-abandoned").write_bytes(b"")
    os.utime(tmp_path / ".writing-abandoned", (1_000_000, 1_000_000))
    cache.store(tmp_path, "latest", small)
    assert [p.name for p in entries(tmp_path)] == ["latest.plan", "used.plan"]
    # Written through a temporary file renamed into place: nothing else is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".writing-under-way", "latest.plan", "used.plan"]
