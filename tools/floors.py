"""``python -m tools.floors``: the runtime requirements pinned to their floors, as a pip constraints file.

Each ``name>=X`` in requirements.txt becomes ``name==X``: installing with these
constraints proves the floors still have every feature the program, the driver and
the pack use (``make floors``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FLOOR = re.compile(r"^(?P<name>[A-Za-z0-9_.\[\]-]+?)(?:\[[^\]]*\])?>=(?P<version>[0-9][0-9.]*)")


def floors(text: str) -> list[str]:
    """``name==floor`` for every requirement line with a ``>=`` floor, in file order."""
    pins = []
    for line in text.splitlines():
        match = _FLOOR.match(line.strip())
        if match:
            name = re.sub(r"\[.*\]", "", match.group("name"))
            pins.append(f"{name}=={match.group('version')}")
    return pins


def main() -> int:
    """Print the constraints of requirements.txt and policy/requirements.txt."""
    pins = floors((ROOT / "requirements.txt").read_text()) + floors((ROOT / "policy" / "requirements.txt").read_text())
    print("\n".join(dict.fromkeys(pins)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
