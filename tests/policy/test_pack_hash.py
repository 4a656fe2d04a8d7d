"""The published pack is a function of the commit: hashed as the provider hashes it, uploaded and recorded alike.

The provider's hash is ``hashPolicyPackSource`` in pulumi-pulumiservice
``provider/pkg/resources/policy_pack.go``; ``components.policy_pack.content_hash`` is its port.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from components import pack_publishing, policy_pack
from components.config import ConfigError
from offline import Plan, evaluate
from offline.stacks import ProjectFiles

PACK = "pulumiservice:index:PolicyPack"
PACK_PROJECT = ProjectFiles(ProjectFiles.here().root / "pack")


def _pack_plan(*overrides: tuple[str, str]) -> Plan:
    config, secrets = PACK_PROJECT.stack_config("pack", required_secrets=())
    config.update(dict(overrides))
    return evaluate(PACK_PROJECT.root, PACK_PROJECT.project, "pack", config, secrets)


def test_the_port_walks_and_prints_entries_as_the_provider_does(tmp_path: Path) -> None:
    # One of each entry kind, and each name the provider skips.
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "a.txt").chmod(0o644)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub").chmod(0o755)
    (tmp_path / "sub" / "b").write_text("y")
    (tmp_path / "sub" / "b").chmod(0o600)
    (tmp_path / "l").symlink_to("a.txt")
    for skipped in ("node_modules", ".git", ".pulumi"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "f").write_text("never hashed")
    # Lexical order; "<slash path>\0<Go FileMode as %d>\0" then the bytes or the link's target. Go's io/fs:
    # ModeDir 1<<31, ModeSymlink 1<<27, and Linux reports a symlink's permissions as 0777.
    expected = hashlib.sha256(
        b"a.txt\x00420\x00x"
        + b"l\x00" + str((1 << 27) | 0o777).encode() + b"\x00a.txt"
        + b"sub\x00" + str((1 << 31) | 0o755).encode() + b"\x00"
        + b"sub/b\x00384\x00y",
    ).hexdigest()
    assert policy_pack.content_hash(tmp_path) == expected


def test_the_port_refuses_what_the_pack_never_holds(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(policy_pack.PackVersionError, match="neither a plain file"):
        policy_pack.content_hash(tmp_path)


def _polluted_copy(tmp_path: Path) -> Path:
    """The pack as a machine leaves it after running the programs: bytecode and the pack's own virtualenv."""
    pack = tmp_path / "policy"
    shutil.copytree(policy_pack.POLICY_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    for where in (pack, pack / "policies"):
        (where / "__pycache__").mkdir()
        (where / "__pycache__" / "base.cpython-311.pyc").write_bytes(os.urandom(64))
    (pack / "venv" / "bin").mkdir(parents=True)
    (pack / "venv" / "bin" / "python").write_text("#!/bin/sh\n")
    return pack


def test_running_the_programs_leaves_the_published_hash_as_recorded(tmp_path: Path) -> None:
    version = policy_pack.version()
    recorded = policy_pack.recorded()[version]
    # The pack project's program, as the engine runs it: it imports policy/ and stages the pack.
    plan = _pack_plan()
    [pack] = plan.of_type(PACK)
    assert pack.inputs["versionTag"] == version
    source = Path(pack.inputs["sourcePath"])
    # The provider hashes the source it is given; the model stores that hash as the state's contentHash.
    assert policy_pack.content_hash(source) == pack.outputs["contentHash"] == recorded
    assert plan.outputs["content_hash"] == recorded
    # After the programs ran (bytecode, a virtualenv in policy/), the same files stage to the same path and hash.
    polluted = _polluted_copy(tmp_path)
    assert policy_pack.stage(polluted, root=tmp_path / "staged").name == recorded
    assert policy_pack.digest(polluted) == recorded


def test_the_hash_does_not_depend_on_the_machines_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        staged = policy_pack.stage(root=tmp_path)
    finally:
        os.umask(previous)
    assert staged.name == policy_pack.content_hash(staged) == policy_pack.recorded()[policy_pack.version()]


def test_a_fresh_clone_holds_every_packed_file() -> None:
    # A clone holds what git tracks: every packed file is tracked and none is ignored, so a clone stages the same.
    root = ProjectFiles.here().root
    tracked = subprocess.run(["git", "ls-files", "policy"], cwd=root, capture_output=True, text=True, check=True)  # noqa: S607
    tracked_files = {line.removeprefix("policy/") for line in tracked.stdout.splitlines()}
    packed = {str(f) for f in policy_pack.pack_files()}
    assert packed <= tracked_files, packed - tracked_files
    assert {"PulumiPolicy.yaml", "__main__.py", "policies/base.py", "requirements.txt"} <= packed


def test_what_is_uploaded_hashed_and_recorded_are_the_same_files() -> None:
    staged = policy_pack.stage()
    hashed = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    with tarfile.open(fileobj=io.BytesIO(policy_pack.tarball()), mode="r:gz") as archive:
        uploaded = sorted(name.removeprefix("package/") for name in archive.getnames())
    assert hashed == uploaded == [str(f) for f in policy_pack.pack_files()]
    # archive.TGZ honours every .gitignore in the source and above it: there must be none to leave anything out.
    assert not any(p.name == ".gitignore" for p in staged.rglob("*"))
    assert not [str(d) for d in staged.parents if (d / ".gitignore").exists()]
    assert not (policy_pack.POLICY_DIR / ".pulumiignore").exists(), "Pulumi reads no .pulumiignore: keep the rule in code"


def test_publishing_changed_files_under_a_recorded_version_is_refused_before_anything_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy_pack, "digest", lambda directory=policy_pack.POLICY_DIR: "0" * 64)
    with pytest.raises(pack_publishing.PackRecordError) as caught:
        _pack_plan()
    assert caught.value.registered_before_error == 0  # type: ignore[attr-defined]
    assert f"policy pack version {policy_pack.version()} was recorded with other files" in str(caught.value)
    assert "raise `version` in policy/PulumiPolicy.yaml" in str(caught.value)


@pytest.mark.parametrize(("value", "shown"), [("", '""'), ("-acme", '"-acme"')])
def test_a_bad_organisation_is_refused_naming_the_key(value: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _pack_plan(("pack:organization", value))
    assert caught.value.registered_before_error == 0  # type: ignore[attr-defined]
    assert caught.value.problems[0].startswith(f"pack:organization: got {shown}; required: the Pulumi organisation")


def test_the_pack_project_is_its_own_pulumi_project() -> None:
    schema = json.loads((ProjectFiles.here().root / "schemas" / "pulumi-project.schema.json").read_text())
    project = yaml.safe_load((PACK_PROJECT.root / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    # Its program runs with the repository's virtualenv, one level up.
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    assert PACK_PROJECT.project == "release-platform-pack"
    assert PACK_PROJECT.stacks() == ["pack"]


