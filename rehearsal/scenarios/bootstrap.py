"""A bootstrap from an empty AWS account and an empty Pulumi organisation, in the documented order.

Each step is the first ``pulumi up`` of one stack: its program previewed through the
offline engine (``release.engine.offline.OfflineEngine``), then applied to stand-ins
of Pulumi Cloud and the AWS account (``rehearsal.world.control_planes``) that refuse
what the services would refuse where the order matters: a lookup of something no
step created yet, a second OIDC provider for one URL, a pack version published
twice, a policy group naming a version nobody published.

The documented order (README.md "The real path", docs/deployments.md, docs/github.md,
docs/security.md):

1. ``pack``: the pack project publishes the policy pack's version (``pack/``);
2. ``production``: creates the account-wide objects (both OIDC providers, the image
   repository, the repository-wide GitHub objects) and its policy group;
3. ``staging``: looks those up, and its policy group names the published version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from offline.stacks import ProjectFiles
from rehearsal.world.control_planes import ControlPlanes, Refused
from release.engine.offline import OfflineEngine
from release.errors import BadInputError

NAME = "bootstrap"
DOCUMENTED = ("pack", "production", "staging")
ORDERS = {"documented": DOCUMENTED, "reversed": tuple(reversed(DOCUMENTED))}


def _projects() -> dict[str, tuple[ProjectFiles, str]]:
    """Each step's project and stack."""
    main = ProjectFiles.here()
    return {"pack": (ProjectFiles(main.root / "pack"), "pack"), "production": (main, "production"), "staging": (main, "staging")}


def parse_order(text: str) -> tuple[str, ...]:
    """``documented``, ``reversed``, or steps separated by commas (``pack,staging,production``)."""
    if text in ORDERS:
        return ORDERS[text]
    steps = tuple(s.strip() for s in text.split(","))
    unknown = [s for s in steps if s not in DOCUMENTED]
    if unknown or not text.strip():
        message = (f"--order {text!r}: allowed {' or '.join(ORDERS)}, or steps separated by commas from "
                   f"{', '.join(DOCUMENTED)}")
        raise BadInputError(message)
    return steps


@dataclass(frozen=True)
class Step:
    """One step's outcome: what it looked up and created, or who refused it and why."""

    name: str
    project: str
    stack: str
    looked_up: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    refused: Refused | None = None

    def to_json(self) -> dict[str, object]:
        """The step in the ``--json`` summary."""
        refusal = None if self.refused is None else {
            "service": self.refused.service, "request": self.refused.request, "why": self.refused.why, "source": self.refused.source,
        }
        return {"step": self.name, "project": self.project, "stack": self.stack, "looked_up": list(self.looked_up),
                "created": len(self.created), "refused": refusal}


@dataclass
class Bootstrap:
    """The steps run, in order, up to the first refused one."""

    order: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)

    @property
    def refused(self) -> Step | None:
        """The step a service refused, when one was."""
        return next((s for s in self.steps if s.refused is not None), None)

    @property
    def exit_code(self) -> int:
        """0 every step succeeded; 1 a step was refused."""
        return 0 if self.refused is None else 1

    def lines(self) -> list[str]:
        """One line per step, then the verdict."""
        out = []
        for step in self.steps:
            if step.refused is None:
                out.append(f"{step.name}: {step.project}/{step.stack} created {len(step.created)} resources, "
                           f"looked up {len(step.looked_up)}")
            else:
                out.append(f"{step.name}: REFUSED: {step.refused}")
        refused = self.refused
        if refused is None:
            out.append(f"bootstrap in the order {', '.join(self.order)}: every step succeeded")
        else:
            out.append(f"bootstrap in the order {', '.join(self.order)}: refused at step {refused.name} "
                       f"(the documented order is {', '.join(DOCUMENTED)}: README.md, \"The real path\")")
        return out

    def to_json(self) -> str:
        """The ``--json`` summary."""
        refused = self.refused
        return json.dumps({
            "scenario": NAME, "order": list(self.order), "outcome": "succeeded" if refused is None else "refused",
            "refused_step": None if refused is None else refused.name, "steps": [s.to_json() for s in self.steps],
        }, indent=2)


def rehearse_bootstrap(order: tuple[str, ...] = DOCUMENTED, planes: ControlPlanes | None = None) -> Bootstrap:
    """Run the steps in ``order`` from empty control planes (or ``planes``); stop at the first refusal."""
    planes = planes or ControlPlanes()
    projects = _projects()
    result = Bootstrap(order)
    for name in order:
        files, stack = projects[name]
        plan = OfflineEngine(stack, files).preview()
        try:
            looked_up, created = planes.apply(f"{files.project}/{stack}", plan)
        except Refused as refusal:
            result.steps.append(Step(name, files.project, stack, refused=refusal))
            break
        result.steps.append(Step(name, files.project, stack, tuple(looked_up), tuple(created)))
    return result
