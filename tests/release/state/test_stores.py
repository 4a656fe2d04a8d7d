"""Where release state lives: the file store, the ESC store against a local server, and the stack files that import it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.config import ConfigError
from offline.stacks import ROOT, ProjectFiles
from release.state import EscStateStore, FileStateStore, StateConflictError, StateStoreError
from tests.release.state.esc_server import EscServer, serve_esc

# --- the file store ------------------------------------------------------------------


def test_the_file_store_starts_from_its_initial_values_and_writes_only_on_the_tag_it_was_read_at(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json", {"release:live": "blue"})
    values, tag = store.read()
    assert values == {"release:live": "blue"}
    new_tag = store.write({"release:canaryWeight": "25"}, (), tag)
    assert store.read() == ({"release:live": "blue", "release:canaryWeight": "25"}, new_tag)
    with pytest.raises(StateConflictError):
        store.write({"release:canaryWeight": "50"}, (), tag)
    assert store.read()[0]["release:canaryWeight"] == "25", "a conflicting write changes nothing"


def test_the_file_store_refuses_keys_that_are_not_release_state(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    with pytest.raises(StateStoreError) as caught:
        store.write({"fleet:cpu": "512"}, (), store.read()[1])
    assert "fleet:cpu are not release keys" in caught.value.why


def test_a_write_that_dies_before_the_rename_leaves_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStateStore(tmp_path / "state.json")
    tag = store.write({"release:live": "blue"}, (), store.read()[1])

    def dies(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("release.state.file.os.fsync", dies)
    with pytest.raises(StateStoreError):
        store.write({"release:live": "green"}, (), tag)
    assert store.read() == ({"release:live": "blue"}, tag)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"], "no half-written file is left"


_WRITER = """
import sys
from pathlib import Path
from release.state import FileStateStore, StateConflictError
store = FileStateStore(Path(sys.argv[1]), {"release:canaryWeight": "0"})
done = 0
while done < int(sys.argv[2]):
    values, tag = store.read()
    try:
        store.write({"release:canaryWeight": str(int(values["release:canaryWeight"]) + 1)}, (), tag)
    except StateConflictError:
        continue
    done += 1
"""


def test_two_processes_counting_through_the_file_store_lose_no_write(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "40"], cwd=ROOT)  # noqa: S603 - this interpreter, our code
        for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    values, tag = FileStateStore(path).read()
    assert values["release:canaryWeight"] == "80"
    assert tag == "80"


# --- the ESC store against a local server with the service's semantics ------------------


@pytest.fixture
def esc() -> Iterator[tuple[EscServer, str]]:
    config = {"release:live": "blue", "release:canaryWeight": 0}
    with serve_esc({"imports": ["shared/base"], "values": {"note": "kept", "pulumiConfig": config}}) as found:
        yield found


def test_the_esc_store_reads_pulumi_config_and_patches_with_the_etag_it_read(esc: tuple[EscServer, str]) -> None:
    env, url = esc
    store = EscStateStore("acme", "release-platform", "staging-release", token="pul-test", base_url=url)
    values, tag = store.read()
    assert values == {"release:live": "blue", "release:canaryWeight": "0"}
    assert tag == '"etag-1"'
    store.write({"release:canaryWeight": "25", "release:inProgress": json.dumps({"id": "r-1"})}, (), tag)
    method, path, headers = env.requests[-1]
    assert (method, path) == ("PATCH", "/api/esc/environments/acme/release-platform/staging-release")
    assert (headers["etag"], headers["authorization"], headers["accept"]) == ('"etag-1"', "token pul-test", "application/vnd.pulumi+8")
    written = yaml.safe_load(env.definition)
    assert written["imports"] == ["shared/base"], "the rest of the definition is kept"
    assert written["values"]["note"] == "kept"
    assert written["values"]["pulumiConfig"] == {"release:live": "blue", "release:canaryWeight": 25, "release:inProgress": {"id": "r-1"}}
    assert store.read()[0]["release:inProgress"] == '{"id":"r-1"}'


def test_a_409_from_the_service_is_a_conflict_and_nothing_is_written(esc: tuple[EscServer, str]) -> None:
    env, url = esc
    mine = EscStateStore("acme", "release-platform", "staging-release", token="pul-test", base_url=url)
    theirs = EscStateStore("acme", "release-platform", "staging-release", token="pul-test", base_url=url)
    _, tag = mine.read()
    theirs.write({"release:canaryWeight": "0"}, ("release:live",), theirs.read()[1])
    before = env.definition
    with pytest.raises(StateConflictError) as caught:
        mine.write({"release:canaryWeight": "50"}, (), tag)
    assert "409" in caught.value.why
    assert env.definition == before


def test_the_esc_store_without_a_token_or_with_a_wrong_one_says_so(esc: tuple[EscServer, str]) -> None:
    _, url = esc
    with pytest.raises(StateStoreError) as caught:
        EscStateStore("acme", "release-platform", "staging-release", token="", base_url=url).read()
    assert caught.value.why == "PULUMI_ACCESS_TOKEN is not set"
    with pytest.raises(StateStoreError) as caught:
        EscStateStore("acme", "release-platform", "staging-release", token="wrong", base_url=url).read()
    assert "HTTP 401" in caught.value.why


def test_the_esc_store_never_writes_without_a_tag(esc: tuple[EscServer, str]) -> None:
    env, url = esc
    store = EscStateStore("acme", "release-platform", "staging-release", token="pul-test", base_url=url)
    with pytest.raises(StateStoreError) as caught:
        store.write({"release:canaryWeight": "50"}, (), "")
    assert caught.value.why.startswith("no ETag to compare")
    assert env.requests == [], "refused before asking the service anything"


def test_each_stack_imports_its_release_environment_from_its_organisation() -> None:
    files = ProjectFiles.here()
    for stack in files.stacks():
        config, _ = files.stack_config(stack, required_secrets=())
        store = EscStateStore.for_stack(files, stack, config)
        assert store.name == f"{config['deployments:organization']}/release-platform/{stack}-release"


# --- the stack files ---------------------------------------------------------------------


def _project(tmp_path: Path, stack_file: str, environments: dict[str, str]) -> ProjectFiles:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_file)
    (tmp_path / "environments").mkdir()
    for name, text in environments.items():
        (tmp_path / "environments" / f"{name}.yaml").write_text(text)
    return ProjectFiles(tmp_path)


def test_imported_environments_merge_in_order_and_the_stack_file_wins(tmp_path: Path) -> None:
    files = _project(
        tmp_path,
        "environment:\n  - demo/common\n  - demo/dev-release\nconfig:\n  aws:region: eu-west-1\n",
        {
            "common": "values:\n  pulumiConfig:\n    aws:region: us-east-1\n    greeting: hello\n    fleet:cpu: 256\n",
            "dev-release": "values:\n  pulumiConfig:\n    fleet:cpu: 512\n    release:versions: {blue: '1.0', green: '1.0'}\n",
        },
    )
    config, _ = files.stack_config("dev", required_secrets=())
    assert config == {
        "aws:region": "eu-west-1", "demo:greeting": "hello", "fleet:cpu": "512", "release:versions": '{"blue":"1.0","green":"1.0"}',
    }


def test_a_release_key_in_a_stack_file_is_a_config_error_saying_where_it_belongs(tmp_path: Path) -> None:
    files = _project(tmp_path, "config:\n  release:canaryWeight: 25\n  release:strategy: canary\n", {})
    with pytest.raises(ConfigError) as caught:
        files.stack_config("dev", required_secrets=())
    assert caught.value.problems == [
        "release:canaryWeight (Pulumi.dev.yaml): release state does not belong in the stack file; it lives in the ESC "
        "environment demo/dev-release (initially environments/dev-release.yaml, under values.pulumiConfig), which the stack imports",
    ]


def test_an_import_without_a_committed_definition_is_named(tmp_path: Path) -> None:
    files = _project(tmp_path, "environment: [demo/dev-release]\nconfig: {}\n", {})
    with pytest.raises(ConfigError) as caught:
        files.stack_config("dev", required_secrets=())
    assert "environment demo/dev-release (imported by Pulumi.dev.yaml): no committed definition at environments/dev-release.yaml" in (
        caught.value.problems[0])


def test_an_imported_secrets_environment_needs_no_committed_definition(tmp_path: Path) -> None:
    files = _project(tmp_path, "environment: [demo/dev-secrets, demo/dev-release]\nconfig: {}\n",
                     {"dev-release": "values:\n  pulumiConfig:\n    release:live: green\n"})
    assert files.stack_config("dev", required_secrets=())[0] == {"release:live": "green"}


def test_the_committed_stack_files_hold_no_release_state_and_import_it() -> None:
    files = ProjectFiles.here()
    for stack in files.stacks():
        data = yaml.safe_load(files.stack_file(stack).read_text())
        assert not [k for k in data["config"] if k in ("release:live", "release:versions", "release:canaryWeight")]
        assert files.imports(stack)[-1] == f"release-platform/{stack}-release"
        assert files.stack_config(stack)[0]["release:versions"].startswith('{"blue":')
