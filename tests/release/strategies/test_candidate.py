"""The candidate's smoke test: the release token read from Secrets Manager, sent with the colour, never shown."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import Colour
from components.config.traffic import colour_token
from release.aws.base import AwsError
from release.aws.secrets import Secrets
from release.clock import ManualClock
from release.strategies.candidate import MissingRouteError, candidate_headers, curl_command
from tests.stack_world import release, world


def test_the_candidate_smoke_test_sends_the_token_and_its_colour_and_the_public_one_sends_nothing(session: Any) -> None:
    w = world(session)
    result = release(w, "v2")
    assert result.exit_code == 0, result.why
    # First the candidate through its route, then (after promotion) the public name as users reach it.
    assert w.probes == ["http://live.example/health", "http://live.example/health"]
    # The green colour's token at the version it now runs, derived from the stack's release token.
    token = colour_token(w.stack.release_token, "v2")
    assert w.probe_headers == [{"X-Release-Token": token, "X-Release-Colour": "green"}, {}]


def test_a_failed_candidate_smoke_test_names_the_headers_but_not_the_token(session: Any) -> None:
    w = world(session, probe_status=503)
    result = release(w, "v2")
    assert result.exit_code == 1
    assert "-H 'X-Release-Token: <token from release_token_secret_arn>' -H 'X-Release-Colour: green'" in result.next_command
    assert w.stack.release_token not in f"{result.why} {result.next_command}"
    assert colour_token(w.stack.release_token, "v2") not in f"{result.why} {result.next_command}"


def test_a_stack_without_the_candidate_route_is_refused_before_any_probe(session: Any) -> None:
    secrets = Secrets(session, ManualClock())
    with pytest.raises(MissingRouteError, match="exports no candidate_route and release_token_secret_arn"):
        candidate_headers({"endpoint_url": "https://app.example.com"}, Colour.GREEN, secrets)


def test_a_missing_secret_is_an_infrastructure_error_naming_the_secret(session: Any) -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone-AbCdEf"
    with pytest.raises(AwsError) as caught:
        Secrets(session, ManualClock()).read(arn)
    assert caught.value.what == f"reading the secret {arn}"
    assert "does not exist" in caught.value.why


def test_the_curl_command_keeps_the_token_out() -> None:
    route = {"candidate_route": {"token_header": "X-Release-Token", "colour_header": "X-Release-Colour"}}
    command = curl_command("https://app.example.com/healthz", {"X-Release-Token": "s3cr3t", "X-Release-Colour": "blue"}, route)
    assert command == ("curl -i -H 'X-Release-Token: <token from release_token_secret_arn>' -H 'X-Release-Colour: blue' "
                       "https://app.example.com/healthz")
