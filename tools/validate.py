"""Validate every GitHub Actions workflow this repository owns or generates.

Each file goes through ``check-jsonschema --builtin-schema vendor.github-workflows``
and actionlint. Generated workflows are rendered from the stacks' offline plans
(the ``github:index/repositoryFile:RepositoryFile`` resources under
``.github/workflows/``), so what is checked is exactly what the program commits.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def generated_workflows() -> dict[str, str]:
    """The workflow files the program commits to the application repository, by stack and path."""
    from offline import evaluate_stack
    from offline.stacks import ProjectFiles

    found: dict[str, str] = {}
    for stack in ProjectFiles.here().stacks():
        plan = evaluate_stack(stack)
        for res in plan.of_type("github:index/repositoryFile:RepositoryFile"):
            path = str(res.inputs.get("file", ""))
            if path.startswith(".github/workflows/"):
                found[f"{stack}-{Path(path).name}"] = str(res.inputs.get("content", ""))
    return found


def run(command: list[str]) -> bool:
    """Run one validator; print its output; say whether it passed."""
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    if result.stdout.strip():
        print(result.stdout.strip())
    if result.stderr.strip():
        print(result.stderr.strip())
    return result.returncode == 0


def main() -> int:
    """Validate; exit non-zero when any file fails."""
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in generated_workflows().items():
            path = Path(tmp) / name
            path.write_text(content)
            files.append(path)
        ok = True
        for path in files:
            ok &= run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)])
            ok &= run([str(BIN / "actionlint"), "-no-color", str(path)])
    print(f"validated {len(files)} workflow file(s): {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
