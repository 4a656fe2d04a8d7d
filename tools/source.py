"""Parse a project file into its syntax tree, safe beside threads that parse at the same time.

CPython 3.11 keeps the AST constructor's recursion counter in per-interpreter state
(`Python/Python-ast.c`, `PyAST_mod2obj`). When a garbage collection inside one thread's
`ast.parse` runs a finalizer, the interpreter may switch to another thread that parses too
(3.11's tracebacks parse the failing line to place their carets), and the first parse then
fails with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905,
pytest-dev/pytest#10763). With the collector off, building the tree runs no Python code, so
no other thread runs until it is done.
"""

from __future__ import annotations

import ast
import gc
from pathlib import Path


def parse(path: Path) -> ast.Module:
    """The syntax tree of the Python file at ``path``."""
    source = path.read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, str(path))
    finally:
        if enabled:
            gc.enable()
