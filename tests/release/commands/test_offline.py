"""``python -m release plan`` and ``diff`` as a user runs them: output, JSON and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from release.cli import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_plan_json_has_the_documented_shape() -> None:
    result = runner.invoke(app, ["plan", "--stack", "production", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert (doc["project"], doc["stack"]) == ("release-platform", "production")
    for res in doc["resources"]:
        assert {"urn", "type", "name", "parent", "custom", "inputs"} <= set(res)
    assert doc["outputs"]["live_colour"] == "green"


def test_plan_defaults_to_staging() -> None:
    result = runner.invoke(app, ["plan"])
    assert result.exit_code == 0, result.output
    assert "Plan of release-platform/staging" in result.stdout


def test_unknown_stack_exits_2_and_lists_the_stacks() -> None:
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 2
    assert "unknown stack 'prod'; the stacks are: production, staging" in result.stderr


def test_bad_config_exits_2_naming_the_key_without_a_traceback() -> None:
    result = runner.invoke(app, ["plan", "--stack", "staging", "-c", "release:canaryWeight=140"])
    assert result.exit_code == 2
    assert "release:canaryWeight: got 140; input should be less than or equal to 100" in result.stderr
    assert "Traceback" not in result.output


def test_bad_override_exits_2() -> None:
    result = runner.invoke(app, ["diff", "--stack", "staging", "-c", "release:canaryWeight"])
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr


def test_diff_reports_output_changes() -> None:
    result = runner.invoke(app, ["diff", "--stack", "production", "-c", "release:live=blue", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"path": "live_colour", "old": "green", "new": "blue"} in doc["outputs"]


def test_module_entry_point_runs_in_a_fresh_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "release", "plan", "--stack", "nope"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "the stacks are: production, staging" in proc.stderr


def test_plan_with_policy_prints_findings_beside_the_plan() -> None:
    result = runner.invoke(app, ["plan", "--stack", "production", "--policy"])
    assert result.exit_code == 0, result.output
    assert "Plan of release-platform/production" in result.stdout
    assert "Policy findings for release-platform/production: 0 mandatory, 0 advisory" in result.stdout


def test_plan_with_policy_exits_1_on_a_mandatory_finding_and_names_it() -> None:
    result = runner.invoke(app, ["plan", "--stack", "production", "--policy", "-c", "traffic:deletionProtection=false"])
    assert result.exit_code == 1
    assert "Policy findings for release-platform/production: 2 mandatory, 0 advisory" in result.stdout
    assert ("[mandatory] load-balancer-deletion-protection webapp-traffic-alb: enableDeletionProtection: got false"
            in result.stdout)


def test_plan_with_policy_json_carries_the_findings() -> None:
    result = runner.invoke(app, ["plan", "--stack", "staging", "--policy", "--json"])
    doc = json.loads(result.stdout)
    assert set(doc) == {"project", "stack", "resources", "outputs", "policy"}
    assert all(set(f) == {"policy", "enforcement", "urn", "message"} for f in doc["policy"])
    multi_az = [f for f in doc["policy"] if f["policy"] == "data-multi-az"]
    assert multi_az
    assert {f["enforcement"] for f in multi_az} == {"advisory"}
