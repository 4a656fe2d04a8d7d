"""The policy pack as Pulumi publishes and installs it: its own requirements, its runtime options, its version."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from components import policy_pack
from policy.policies import by_name
from tests.policy_support import urn


def test_the_pack_ships_what_it_serves_and_nothing_of_the_repository() -> None:
    files = {str(f) for f in policy_pack.packed_files()}
    assert {"PulumiPolicy.yaml", "requirements.txt", "__main__.py", "__init__.py", "pack.py", "policies/base.py"} <= files
    # The config generator and the offline runner import the program and the offline plan: repository-side only.
    assert not files & {"enforcement.py", "offline.py", "published.json", "config/staging.json"}
    assert not any("__pycache__" in f or f.startswith("venv/") for f in files)


def test_the_runtime_installs_the_pack_into_its_own_virtualenv() -> None:
    project = yaml.safe_load((policy_pack.POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    lines = (policy_pack.POLICY_DIR / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["pulumi-policy>=1.18,<2"]


def test_the_committed_record_matches_the_packs_files() -> None:
    # Fails when a packed file changes without a version bump and a new record (`python -m tools.policy_pack record`).
    assert policy_pack.check() == policy_pack.version()


def _copy(tmp_path: Path) -> Path:
    pack = tmp_path / "policy"
    shutil.copytree(policy_pack.POLICY_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return pack


def test_a_changed_pack_cannot_be_published_under_its_old_version(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    base = pack / "policies" / "base.py"
    base.write_text(base.read_text() + "\n# a change\n")
    with pytest.raises(policy_pack.PackVersionError, match="was recorded with other files"):
        policy_pack.check(pack)
    with pytest.raises(policy_pack.PackVersionError, match="is recorded with other files"):
        policy_pack.record(pack)
    # Ignored files change nothing; a new version is recorded beside the old one.
    (pack / "offline.py").write_text("# repository-side\n")
    project = pack / "PulumiPolicy.yaml"
    project.write_text(project.read_text().replace(f"version: {policy_pack.version()}", "version: 9.9.9"))
    assert policy_pack.record(pack) == "9.9.9"
    assert policy_pack.check(pack) == "9.9.9"
    assert set(policy_pack.recorded(pack)) == {policy_pack.version(), "9.9.9"}


def test_the_tarball_holds_every_packed_file_under_package() -> None:
    with tarfile.open(fileobj=io.BytesIO(policy_pack.tarball()), mode="r:gz") as archive:
        names = sorted(archive.getnames())
    assert names == sorted(f"package/{f}" for f in policy_pack.packed_files())


# --- installed as Pulumi installs a published pack: a fresh virtualenv from the pack's requirements ------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    root = tmp_path_factory.mktemp("installed")
    with tarfile.open(fileobj=io.BytesIO(policy_pack.tarball()), mode="r:gz") as archive:
        archive.extractall(root, filter="data")
    pack = root / "package"
    venv = pack / "venv"
    # No system site packages: the pack's own requirements.txt must be enough.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"]
    result = subprocess.run(install, cwd=pack, check=False, capture_output=True, text=True)  # noqa: S603
    assert result.returncode == 0, result.stderr[-2000:]
    # Every shipped module imports from the pack alone (``__main__`` is the server itself, started below).
    modules = sorted({
        str(f.parent if f.name == "__init__.py" else f.with_suffix("")).replace("/", ".")
        for f in policy_pack.packed_files() if f.suffix == ".py" and f.name != "__main__.py"
    } - {"."})
    # Registered as ``policy`` by path, the way ``__main__`` registers the unpacked directory.
    probe = (
        "import importlib, importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('policy', '__init__.py', submodule_search_locations=['.'])\n"
        "sys.modules['policy'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(sys.modules['policy'])\n"
        "for m in sys.argv[1:]: importlib.import_module('policy.' + m)"
    )
    imported = subprocess.run([str(python), "-I", "-c", probe, *modules], cwd=pack, check=False, capture_output=True, text=True)  # noqa: S603
    assert imported.returncode == 0, imported.stderr[-2000:]
    proc = subprocess.Popen(  # noqa: S603
        [str(python), "-m", "pulumi.policy", "127.0.0.1:0", "."], cwd=pack, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), (port, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.registry
def test_the_published_pack_installs_from_its_own_requirements_and_enforces(installed: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = installed.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    assert info.name == "release-platform"
    assert sorted(p.name for p in info.policies) == sorted(by_name())
    properties = struct_pb2.Struct()
    properties.update({"engine": "postgres", "storageEncrypted": True, "publiclyAccessible": True, "multiAz": True,
                       "deletionProtection": True, "backupRetentionPeriod": 7.0})
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:rds/instance:Instance", properties=properties, urn=urn("aws:rds/instance:Instance", "db"), name="db",
        options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
    )
    found = {d.policyName for d in installed.Analyze(request, timeout=60).diagnostics}
    assert found == {"database-not-public"}
