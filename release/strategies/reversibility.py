"""Whether a migration can be undone by its rollback command, and which releases since a stack version cannot.

The stack says it once with ``data:migrationReversible`` (default true, and
exported by the data tier as ``migration.reversible``); a release can say
otherwise for itself. The answer is recorded with the
migration run in the release record, so a later ``rollback --to-version`` knows
when it would cross a migration that only a snapshot restore can undo.
"""

from __future__ import annotations

from collections.abc import Mapping

REVERSIBLE_KEY = "data:migrationReversible"


def migration_reversible(config: Mapping[str, str], override: bool | None = None, exported: object = None) -> bool:
    """The release's own choice, else the stack's ``migration.reversible`` output, else ``data:migrationReversible``, else true."""
    if override is not None:
        return override
    if isinstance(exported, bool):
        return exported
    raw = str(config.get(REVERSIBLE_KEY, "true")).strip().lower()
    # Anything but an explicit "false" keeps the documented default: reversible.
    return raw != "false"
