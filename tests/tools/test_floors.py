"""Requirement floors are the first versions with every feature used; `make floors` installs exactly them."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from packaging.version import Version

from tools.floors import floors

ROOT = Path(__file__).resolve().parents[2]
# The first version of each with a feature the program, the driver or the pack uses (requirements.txt says where).
FIRST_WITH_FEATURES = {
    "pulumi-github": "6.13",  # ActionsEnvironmentSecret(value=)
    "pulumi-pulumiservice": "1.4",  # a PolicyGroup taking getPolicyPacks' Output (PolicyPack since 1.2)
    "pulumi-policy": "1.18",  # Policy(remediation_steps=)
    "pulumi": "3.235",  # required by pulumi-pulumiservice 1.4.0
    "typer": "0.18",  # works with the Click resolved beside it
    "moto": "5.0.13",  # a happy rehearsal passes on it (make floors); 5.0.0 answers it with 500s
    "cheroot": "8.5",  # HTTPServer.expiration_interval (rehearsal/world/servers.py)
}


def _floors(path: Path) -> dict[str, Version]:
    return {pin.split("==")[0].lower(): Version(pin.split("==")[1]) for pin in floors(path.read_text())}


@pytest.mark.parametrize("path", [ROOT / "requirements.txt", ROOT / "policy" / "requirements.txt"])
def test_no_floor_allows_a_version_without_a_feature_used(path: Path) -> None:
    found = _floors(path)
    for name, first in FIRST_WITH_FEATURES.items():
        if name in found:
            assert found[name] >= Version(first), f"{path.name}: {name}>={found[name]} allows versions without what we use"


def test_the_features_the_floors_were_chosen_for_are_used() -> None:
    import pulumi_github
    import pulumi_pulumiservice
    from pulumi_policy import ResourceValidationPolicy

    assert "value" in inspect.signature(pulumi_github.ActionsEnvironmentSecret._internal_init).parameters
    assert hasattr(pulumi_pulumiservice, "PolicyPack")
    assert "remediation_steps" in inspect.signature(ResourceValidationPolicy.__init__).parameters
    assert "value=pulumi.Output.secret(value)" in (ROOT / "components" / "github.py").read_text()


def test_the_floors_constraints_pin_every_floor_exactly() -> None:
    pins = floors("pulumi-github>=6.13,<7\nmoto[server]>=5.0,<6\n# comment\nPyYAML>=6,<7\n")
    assert pins == ["pulumi-github==6.13", "moto==5.0", "PyYAML==6"]
