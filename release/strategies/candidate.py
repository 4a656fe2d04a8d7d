"""How a smoke test reaches one colour through the public name: the candidate route's two headers.

The stack exports ``candidate_route`` (the header names) and
``release_token_secret_arn``; the stack's token is read from Secrets Manager at
the moment of the probe, never from config and never printed, and the header
carries the colour's token derived from it and the version the colour runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from components.config import Colour
from components.config.traffic import colour_token

ROUTE_OUTPUT = "candidate_route"
SECRET_OUTPUT = "release_token_secret_arn"  # noqa: S105 - an output's name, not a secret


class SecretReader(Protocol):
    """Reads a secret's current value (``release.aws.secrets.Secrets``)."""

    def read(self, secret_arn: str) -> str:
        """The secret's string value."""
        ...


class MissingRouteError(Exception):
    """The stack does not export the candidate route."""


def candidate_headers(outputs: Mapping[str, Any], colour: Colour, secrets: SecretReader) -> dict[str, str]:
    """The headers that send a request to ``colour`` whatever the weights; MissingRouteError without the route."""
    route = outputs.get(ROUTE_OUTPUT)
    secret_arn = outputs.get(SECRET_OUTPUT)
    if not isinstance(route, Mapping) or not route.get("token_header") or not route.get("colour_header") or not secret_arn:
        message = f"the stack exports no {ROUTE_OUTPUT} and {SECRET_OUTPUT}: run `pulumi up` for it first"
        raise MissingRouteError(message)
    versions = outputs.get("versions")
    version = versions.get(colour.value) if isinstance(versions, Mapping) else None
    if not version:
        message = f"the stack exports no version for {colour.value}: run `pulumi up` for it first"
        raise MissingRouteError(message)
    token = colour_token(secrets.read(str(secret_arn)), str(version))
    return {str(route["token_header"]): token, str(route["colour_header"]): colour.value}


def curl_command(url: str, headers: Mapping[str, str], outputs: Mapping[str, Any]) -> str:
    """The curl command a person runs to repeat a probe, with the token left as a placeholder."""
    route = outputs.get(ROUTE_OUTPUT)
    secret_header = route.get("token_header") if isinstance(route, Mapping) else None
    parts = ["curl -i"]
    for name, value in headers.items():
        parts.append(f"-H '{name}: {'<token from ' + SECRET_OUTPUT + '>' if name == secret_header else value}'")
    return " ".join([*parts, url])
