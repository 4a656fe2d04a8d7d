"""The policy pack as Pulumi publishes it, and the record that ties each published version to its files.

``pulumi policy publish`` packs a Python pack with ``archive.TGZ(dir, "package",
useDefaultExcludes=true)`` (pulumi/pulumi ``pkg/backend/httpstate/policypack.go``):
every file of the pack's directory under ``package/``, minus ``.git`` and whatever
the directory's ``.pulumiignore`` (gitignore syntax) excludes
(``pkg/util/archive``). Installing it, Pulumi unpacks it, defaults the runtime's
``virtualenv`` option to ``venv`` and installs the pack's dependencies
(``installRequiredPolicy``). Pack versions are immutable in Pulumi Cloud, so
``published.json`` records a digest of the packed files per version; publishing
files that differ from their version's record is refused.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import tarfile
from pathlib import Path, PurePosixPath

import yaml

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
RECORD = "published.json"
IGNORE_FILE = ".pulumiignore"


class PackVersionError(ValueError):
    """The pack's files changed but its version did not."""


def _ignore_patterns(directory: Path) -> list[str]:
    path = directory / IGNORE_FILE
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _ignored(relative: PurePosixPath, patterns: list[str]) -> bool:
    # The subset of gitignore this pack uses: "name/" ignores a directory anywhere, "glob" a file anywhere.
    for pattern in patterns:
        if pattern.endswith("/"):
            if any(fnmatch.fnmatchcase(part, pattern[:-1]) for part in relative.parts[:-1]):
                return True
        elif fnmatch.fnmatchcase(relative.name, pattern):
            return True
    return False


def packed_files(directory: Path = POLICY_DIR) -> list[PurePosixPath]:
    """The files the publisher puts in the pack, relative to its directory, sorted."""
    patterns = _ignore_patterns(directory)
    found = []
    for path in sorted(directory.rglob("*")):
        relative = PurePosixPath(path.relative_to(directory).as_posix())
        if path.is_file() and relative.parts[0] != ".git" and not _ignored(relative, patterns):
            found.append(relative)
    return found


def tarball(directory: Path = POLICY_DIR) -> bytes:
    """The pack as the publisher uploads it: a .tgz with every packed file under ``package/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for relative in packed_files(directory):
            archive.add(directory / relative, arcname=f"package/{relative}", recursive=False)
    return buffer.getvalue()


def digest(directory: Path = POLICY_DIR) -> str:
    """SHA-256 over the packed files' names and contents (not the record, which names it)."""
    hasher = hashlib.sha256()
    for relative in packed_files(directory):
        if relative.name == RECORD:
            continue
        hasher.update(f"{relative}\0".encode())
        hasher.update((directory / relative).read_bytes())
        hasher.update(b"\0")
    return hasher.hexdigest()


def version(directory: Path = POLICY_DIR) -> str:
    """The pack's version, from ``PulumiPolicy.yaml``."""
    return str(yaml.safe_load((directory / "PulumiPolicy.yaml").read_text())["version"])


def recorded(directory: Path = POLICY_DIR) -> dict[str, str]:
    """Each recorded version's digest."""
    path = directory / RECORD
    return dict(json.loads(path.read_text())) if path.exists() else {}


def check(directory: Path = POLICY_DIR) -> str:
    """The version to publish; refuse when the files differ from what that version recorded."""
    current, files = version(directory), digest(directory)
    known = recorded(directory).get(current)
    if known is None:
        message = (
            f"policy pack version {current} is not recorded in policy/{RECORD}: run `python -m tools.policy_pack record` "
            "and commit the record with the change"
        )
        raise PackVersionError(message)
    if known != files:
        message = (
            f"policy pack version {current} was recorded with other files (policy/{RECORD}); published versions never "
            "change: raise `version` in policy/PulumiPolicy.yaml, then run `python -m tools.policy_pack record`"
        )
        raise PackVersionError(message)
    return current


def record(directory: Path = POLICY_DIR) -> str:
    """Record the current version's digest; refuse to change the digest of a version already recorded."""
    current, files = version(directory), digest(directory)
    versions = recorded(directory)
    if versions.get(current, files) != files:
        message = f"policy pack version {current} is recorded with other files: raise `version` in policy/PulumiPolicy.yaml first"
        raise PackVersionError(message)
    versions[current] = files
    (directory / RECORD).write_text(json.dumps(dict(sorted(versions.items())), indent=2) + "\n")
    return current
