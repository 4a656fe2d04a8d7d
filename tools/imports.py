"""The project's import graph, read with ``ast``: its circles, and imports against the direction of the layout.

``python -m tools.imports`` prints both and exits 1 when there is either. Every
import counts, those under ``if TYPE_CHECKING:`` too (a circle of types is still
a circle to a reader); a package's ``__init__`` importing its own modules does
not. Circles are found by the standard library's ``graphlib``.

The direction (README, "Layout"): the Pulumi program imports neither the offline
evaluation nor the driver; the offline evaluation does not import the driver;
nothing under ``release/`` imports the rehearsal's world, which reaches the driver
only through the driver's seams.
"""

from __future__ import annotations

import ast
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tools.source import parse

PACKAGES = ("components", "offline", "release", "rehearsal", "policy", "tools", "bench")
FORBIDDEN = {
    "components": ("offline", "release", "rehearsal"),
    "offline": ("release", "rehearsal"),
    "release": ("rehearsal",),
}
"""Package -> the packages none of its modules may import."""


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the project's packages and its ``__main__.py``."""
    found = {"__main__": root / "__main__.py"} if (root / "__main__.py").exists() else {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part in {"venv", "__pycache__"} for part in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    known = modules(root)
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name and not (path.name == "__init__.py" and target.startswith(f"{name}.")):
                    edges[name].add(target)
    return edges


def circle(edges: dict[str, set[str]]) -> list[str]:
    """One import circle (its modules in order, the first repeated last), or [] when there is none."""
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return []


def against_the_layout(edges: dict[str, set[str]]) -> list[str]:
    """``a imports b`` for every import a package may not make."""
    found = []
    for name, targets in sorted(edges.items()):
        top = name.partition(".")[0]
        for target in sorted(targets):
            if target.partition(".")[0] in FORBIDDEN.get(top, ()):
                found.append(f"{name} imports {target}")
    return found


def main() -> int:
    """Print the circle and the imports against the layout; 1 when there is either."""
    edges = graph(Path.cwd())
    loop, wrong = circle(edges), against_the_layout(edges)
    if loop:
        print("circle: " + " -> ".join(loop))
    for line in wrong:
        print(line)
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports: "
          f"{'a circle' if loop else 'no circle'}, {len(wrong)} against the layout")
    return 1 if loop or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
