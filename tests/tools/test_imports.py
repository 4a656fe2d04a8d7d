"""The layout's import rules: no circle, and no import against the direction the README gives."""

from __future__ import annotations

from pathlib import Path

from tools.imports import against_the_layout, circle, graph

ROOT = Path(__file__).resolve().parents[2]


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_project_has_no_import_circle_and_no_import_against_the_layout() -> None:
    edges = graph(ROOT)
    assert "release.strategies.executor" in edges, "the graph reads the project"
    assert "rehearsal.run" in edges["rehearsal.cli"]
    assert circle(edges) == []
    assert against_the_layout(edges) == []


def test_a_driver_module_that_imports_the_world_is_named(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "release/__init__.py": "", "release/steps.py": "from rehearsal.world.proxy import WeightedProxy\n",
        "rehearsal/__init__.py": "", "rehearsal/world/__init__.py": "", "rehearsal/world/proxy.py": "import release.steps\n",
        "components/__init__.py": "", "components/fleet.py": "from release import steps\n",
    })
    assert against_the_layout(graph(root)) == [
        "components.fleet imports release", "components.fleet imports release.steps",
        "release.steps imports rehearsal.world.proxy",
    ]


def test_a_circle_through_a_type_checking_import_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "release/__init__.py": "from release import runner\n",
        "release/runner.py": "from release.executor import Timing\n",
        "release/executor.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from release.runner import Runner\n",
    })
    found = circle(graph(root))
    assert set(found) == {"release.runner", "release.executor"}
    assert found[0] == found[-1]


def test_a_package_importing_its_own_modules_is_no_circle(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"release/__init__.py": "from release.runner import Runner\n", "release/runner.py": "import release\n"})
    assert circle(graph(root)) == []
