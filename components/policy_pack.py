"""The policy pack as it is published: one set of files, hashed, uploaded and recorded alike.

The ``PolicyPack`` resource of pulumi-pulumiservice (``provider/pkg/resources/policy_pack.go``)
does two things with its ``sourcePath``:

- ``hashPolicyPackSource`` hashes every entry of the directory except anything named
  ``node_modules``, ``.git`` or ``.pulumi``, and a changed hash replaces the resource:
  it publishes the version again, which Pulumi Cloud refuses (a version tag is
  immutable);
- ``packagePolicyPackArchive`` uploads ``archive.TGZ(dir, "package", true)``
  (pulumi/pulumi ``sdk/go/common/util/archive/archive.go``): every file, minus
  ``.git`` and what any ``.gitignore`` in the directory or above it ignores. No
  ``.pulumiignore`` is read.

So ``policy/`` itself is never the source: importing it writes ``__pycache__``
there, ``make policy-venv`` puts ``venv`` there, and the repository's
``.gitignore`` hides both from the upload but not from the hash. The source is a
staged copy of the pack's files (``pack_files``), with fixed modes, in a
directory named by its own content hash, outside the repository: nothing imports
from it, nothing ignores anything in it, so the upload, the hash and the record
in ``policy/published.json`` cover the same files, and the hash is a function of
the commit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import yaml

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
RECORD = "published.json"

# Beside the pack in policy/, never shipped: the config generator and the offline runner import the
# program and the offline plan; the config files feed --policy-pack-config; the record names the digest.
REPOSITORY_SIDE = frozenset({"enforcement.py", "offline.py", "config", RECORD})
# Made on a machine, never part of a commit: bytecode, the pack's local virtualenv, and what the provider skips.
BUILT = frozenset({"__pycache__", "venv", "node_modules", ".git", ".pulumi"})
# The provider's hash skips these names (hashPolicyPackSource).
HASH_SKIPS = frozenset({"node_modules", ".git", ".pulumi"})
# Go's fs.FileMode bits as hashPolicyPackSource prints them with %d (Go's io/fs: ModeDir is 1<<31, ModeSymlink 1<<27).
_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
# The staged copy's modes: what a checkout makes with the usual umask 022, fixed so that umask changes nothing.
FILE_MODE, DIR_MODE = 0o644, 0o755


class PackVersionError(ValueError):
    """The pack's files changed but its version did not."""


def pack_files(directory: Path = POLICY_DIR) -> list[PurePosixPath]:
    """The pack's files, relative to its directory, sorted: everything but repository-side and built files."""
    found = []
    for path in sorted(directory.rglob("*")):
        relative = PurePosixPath(path.relative_to(directory).as_posix())
        if relative.parts[0] in REPOSITORY_SIDE or BUILT & set(relative.parts) or relative.suffix == ".pyc":
            continue
        if path.is_file():
            found.append(relative)
    return found


# The name the earlier record and its tests use.
packed_files = pack_files


def content_hash(source: Path) -> str:
    """``hashPolicyPackSource`` of pulumi-pulumiservice, in Python: the provider's content hash of a directory.

    A lexical walk (Go's ``filepath.WalkDir``), the root skipped; per entry the slash path, NUL, the Go mode as a decimal, NUL,
    then a regular file's bytes or a symlink's target; ``node_modules``, ``.git``, ``.pulumi`` skipped by name.
    """
    hasher = hashlib.sha256()

    def walk(directory: Path, prefix: str) -> None:
        # Go's os.ReadDir sorts by name as bytes; Python's str order is the same for UTF-8 names.
        for name in sorted(os.listdir(directory)):
            if name in HASH_SKIPS:
                continue
            path = directory / name
            info = path.lstat()
            relative = f"{prefix}{name}"
            permissions = stat.S_IMODE(info.st_mode) & 0o777
            if stat.S_ISDIR(info.st_mode):
                mode = _GO_MODE_DIR | permissions
            elif stat.S_ISLNK(info.st_mode):
                mode = _GO_MODE_SYMLINK | permissions
            elif stat.S_ISREG(info.st_mode) and not info.st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
                mode = permissions
            else:
                message = f"{path}: neither a plain file, a directory nor a symlink; the pack holds none"
                raise PackVersionError(message)
            hasher.update(f"{relative}\0{mode}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                hasher.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                hasher.update(path.read_bytes())
            else:
                walk(path, f"{relative}/")

    walk(source, "")
    return hasher.hexdigest()


def _copy(directory: Path, into: Path) -> None:
    into.mkdir(mode=DIR_MODE)
    for relative in pack_files(directory):
        target = into / relative
        for parent in reversed(target.relative_to(into).parents[:-1]):
            (into / parent).mkdir(mode=DIR_MODE, exist_ok=True)
        shutil.copyfile(directory / relative, target)
    # Fixed modes, whatever the umask of the machine that staged it.
    for path in [into, *into.rglob("*")]:
        path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)


def staging_root() -> Path:
    """Where staged packs go: the system's temporary directory, outside any repository's .gitignore."""
    return Path(tempfile.gettempdir()) / "release-platform-pack"


def stage(directory: Path = POLICY_DIR, root: Path | None = None) -> Path:
    """The pack's files copied to ``<root>/<content hash>/``; the same path and hash for the same files."""
    root = root or staging_root()
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        _copy(directory, scratch / "pack")
        digest_ = content_hash(scratch / "pack")
        final = root / digest_
        if final.exists() and content_hash(final) == digest_:
            return final
        if final.exists():
            shutil.rmtree(final)
        try:
            (scratch / "pack").rename(final)
        except OSError:
            # Another process staged the same files first.
            if content_hash(final) != digest_:
                raise
        return final
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def digest(directory: Path = POLICY_DIR) -> str:
    """The provider's content hash of the staged pack: what its state records as ``contentHash``."""
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "pack"
        _copy(directory, staged)
        return content_hash(staged)


def tarball(directory: Path = POLICY_DIR) -> bytes:
    """The upload of the staged pack: every file under ``package/``, as ``archive.TGZ`` packs a directory."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "pack"
        _copy(directory, staged)
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in sorted(staged.rglob("*")):
                if path.is_file():
                    archive.add(path, arcname=f"package/{path.relative_to(staged).as_posix()}", recursive=False)
    return buffer.getvalue()


def version(directory: Path = POLICY_DIR) -> str:
    """The pack's version, from ``PulumiPolicy.yaml``."""
    return str(yaml.safe_load((directory / "PulumiPolicy.yaml").read_text())["version"])


def recorded(directory: Path = POLICY_DIR) -> dict[str, str]:
    """Each recorded version's content hash."""
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
    """Record the current version's content hash; refuse to change the hash of a version already recorded."""
    current, files = version(directory), digest(directory)
    versions = recorded(directory)
    if versions.get(current, files) != files:
        message = f"policy pack version {current} is recorded with other files: raise `version` in policy/PulumiPolicy.yaml first"
        raise PackVersionError(message)
    versions[current] = files
    (directory / RECORD).write_text(json.dumps(dict(sorted(versions.items())), indent=2) + "\n")
    return current
