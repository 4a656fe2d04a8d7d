"""Parsing the project's files is safe while another thread parses (CPython 3.11's shared AST counter)."""

from __future__ import annotations

import ast
import gc
import threading
import time
from pathlib import Path

from tools.source import parse

ROOT = Path(__file__).resolve().parents[2]


class _Finaliser:
    """A garbage cycle whose finaliser lets another thread run, as a collection inside a parse would."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        time.sleep(0.001)


def test_a_parse_survives_another_thread_parsing_while_a_collection_runs_finalisers(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text((ROOT / "tools" / "imports.py").read_text() * 3)
    stop = threading.Event()

    def parse_tracebacks() -> None:
        while not stop.is_set():
            ast.parse("x = f(g(h(1)))\n" * 5)

    other = threading.Thread(target=parse_tracebacks, daemon=True)
    other.start()
    failures = []
    try:
        for _ in range(60):
            gc.disable()
            for _ in range(5):
                _Finaliser()
            gc.enable()
            try:
                parse(source)
            except SystemError as error:
                failures.append(str(error))
    finally:
        stop.set()
        other.join()
    assert failures == []


def test_the_tree_is_the_one_ast_gives_and_the_collector_is_left_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("import os\nx = os.sep\n")
    assert ast.dump(parse(source)) == ast.dump(ast.parse(source.read_text()))
    assert gc.isenabled()
    gc.disable()
    try:
        parse(source)
        assert not gc.isenabled()
    finally:
        gc.enable()
