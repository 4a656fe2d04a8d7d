"""Whether the Pulumi CLI is here: every command that drives a real stack needs it; the offline ones do not.

The Automation API runs ``pulumi`` from ``PATH`` (``PulumiCommand`` in
``pulumi/automation/_cmd.py`` calls ``pulumi version`` first), so without it
every engine call would end in a ``FileNotFoundError``. The check runs before
anything connects, and says what works without the CLI.
"""

from __future__ import annotations

import shutil

from release.engine import EngineError

OFFLINE_COMMANDS = ("release deploy --dry-run", "release plan", "release diff", "rehearsal")
INSTALL_PAGE = "https://www.pulumi.com/docs/iac/download-install/"  # Pulumi docs: "Download & install Pulumi"


class PulumiMissingError(EngineError):
    """The Pulumi CLI is not on PATH."""


def missing_message(stack: str) -> PulumiMissingError:
    """The one message every engine command gives when the CLI is absent."""
    works = ", ".join(f"`python -m {c}`" for c in OFFLINE_COMMANDS)
    return PulumiMissingError(
        "the Pulumi CLI is not installed",
        f"no `pulumi` on PATH; this command reads or updates stack {stack} through it",
        f"install it ({INSTALL_PAGE}) and `pulumi login`; without it these work offline: {works}",
    )


def require_pulumi(stack: str) -> None:
    """Refuse, before connecting, when the Pulumi CLI cannot be run."""
    if shutil.which("pulumi") is None:
        raise missing_message(stack)
