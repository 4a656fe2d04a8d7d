"""Which pushes Pulumi Deployments acts on, by its documented path-filter rules.

Each filter is a glob over the whole path from the repository root (``**/`` is
any number of folders, ``*`` stays within one); a leading ``!`` makes it an
exclude. A push deploys when at least one changed file matches an include (or
there are no includes) and no exclude. Used to show what a stack's filters skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache


@lru_cache(maxsize=256)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """A compiled regular expression matching the whole path the glob matches."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def file_matches(filters: Sequence[str], path: str) -> bool:
    """Whether one changed file counts towards a deployment."""
    includes = [f for f in filters if not f.startswith("!")]
    excludes = [f[1:] for f in filters if f.startswith("!")]
    included = not includes or any(glob_pattern(f).match(path) for f in includes)
    return included and not any(glob_pattern(f).match(path) for f in excludes)


def push_deploys(filters: Sequence[str], changed: Iterable[str]) -> bool:
    """Whether a push changing these files starts a deployment."""
    return any(file_matches(filters, path) for path in changed)
