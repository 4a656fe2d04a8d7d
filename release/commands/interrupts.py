"""Ctrl-C or SIGTERM while a release runs: the weights stay as last verified, and the two ways on are printed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from release.rollback.resume import interruptible


@contextmanager
def interrupt_exits(stack: str, console: Console) -> Iterator[None]:
    """Print how to resume or abort the release, then let the command's error mapping end it (exit 1, no traceback)."""
    with interruptible(stack, lambda text: console.print(text, markup=False)):
        yield
