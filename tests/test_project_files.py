"""The Pulumi project file and the stack files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from offline.stacks import BadOverrideError, ProjectFiles, UnknownStackError, apply_overrides, parse_override

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"
SCHEMA = ROOT / "schemas" / "pulumi-project.schema.json"


def test_pulumi_yaml_validates_against_the_shared_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "release-platform"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason="../shared is not beside this checkout")
def test_the_vendored_schema_is_the_shared_one() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_schema_rejects_a_broken_project_file() -> None:
    schema = json.loads(SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "release-platform"}, schema)  # no runtime


def test_both_stacks_exist() -> None:
    assert ProjectFiles.here().stacks() == ["production", "staging"]


def test_stack_files_hold_no_secret_in_clear() -> None:
    for stack in ProjectFiles.here().stacks():
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text().lower()
        for word in ("token", "password", "secret"):
            for line in text.splitlines():
                if word in line.split(":", 2)[-1] and "secure:" not in line:
                    assert not line.strip().startswith(word), line


def test_unknown_stack_lists_the_stacks() -> None:
    with pytest.raises(UnknownStackError, match="production, staging"):
        ProjectFiles.here().stack_file("prod")


def test_config_is_encoded_as_the_engine_passes_it() -> None:
    config, secrets = ProjectFiles.here().stack_config("staging", required_secrets=())
    assert json.loads(config["release:versions"]) == {"blue": "3f9c2e1a", "green": "3f9c2e1a"}
    assert config["release:canaryWeight"] == "0"
    assert "release:steps" not in config, "staging walks the default steps"
    production, _ = ProjectFiles.here().stack_config("production", required_secrets=())
    assert json.loads(production["release:steps"]) == [5, 25, 50, 100]
    assert secrets == ()


def test_required_secrets_get_marked_placeholders() -> None:
    config, secrets = ProjectFiles.here().stack_config("staging", required_secrets=("github:token",))
    assert secrets == ("github:token",)
    assert config["github:token"].startswith("offline-placeholder")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("release:canaryWeight=25", ("release:canaryWeight", 25)),
        ("release:live=green", ("release:live", "green")),
        ('release:steps=[50,100]', ("release:steps", [50, 100])),
        ("release:versions.green=1.2.3", ("release:versions.green", "1.2.3")),
        ("a=b=c", ("a", "b=c")),
    ],
)
def test_parse_override_reads_json_else_string(text: str, expected: tuple[str, object]) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["release:canaryWeight", "=3", ""])
def test_parse_override_refuses_text_without_key_and_value(text: str) -> None:
    with pytest.raises(BadOverrideError, match="KEY=VALUE"):
        parse_override(text)


def test_path_override_sets_one_field_of_an_object() -> None:
    files = ProjectFiles.here()
    config, _ = files.stack_config("staging", required_secrets=())
    result = apply_overrides(config, [("release:versions.green", "9a9a9a9a")], files)
    assert json.loads(result["release:versions"]) == {"blue": "3f9c2e1a", "green": "9a9a9a9a"}


def test_null_override_removes_the_key_so_its_default_applies() -> None:
    files = ProjectFiles.here()
    config, _ = files.stack_config("staging", required_secrets=())
    assert "release:bakeMinutes" in config
    result = apply_overrides(config, [parse_override("release:bakeMinutes=null")], files)
    assert "release:bakeMinutes" not in result
    assert result["release:live"] == config["release:live"]


def test_path_override_on_a_scalar_is_refused() -> None:
    files = ProjectFiles.here()
    config, _ = files.stack_config("staging", required_secrets=())
    with pytest.raises(BadOverrideError, match="release:canaryWeight is not an object"):
        apply_overrides(config, [("release:canaryWeight.x", 1)], files)
