"""The acceptance of the environment as a person sees it: ``plan`` and ``diff`` of production."""

from __future__ import annotations

from typer.testing import CliRunner

from release.cli import app

runner = CliRunner()


def test_the_production_plan_shows_both_colours_the_weighted_forward_and_the_candidate_rules() -> None:
    result = runner.invoke(app, ["plan", "--stack", "production"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for line in (
        "+ aws:lb:TargetGroup webapp-traffic-blue",
        "+ aws:lb:TargetGroup webapp-traffic-green",
        "weighted forward:",
        "+ aws:lb:ListenerRule webapp-traffic-blue-candidate",
        "priority 10: matching requests forward to webapp-traffic-blue",
        "redirects to HTTPS:443 (HTTP_301)",
        "image app: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp:8d41b07c",
        "image app: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp:3f9c2e1a",
    ):
        assert line in text, line


def test_a_canary_step_diff_shows_one_changed_resource() -> None:
    result = runner.invoke(app, ["diff", "--stack", "production", "-c", "release:canaryWeight=25"])
    assert result.exit_code == 0, result.output
    assert "0 to add, 1 to change, 0 to replace, 0 to delete" in result.stdout
    assert "~ aws:lb:Listener webapp-traffic-https (update)" in result.stdout
