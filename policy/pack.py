"""The pack's identity, shared by ``policy/__main__.py`` (which serves it) and the offline runner."""

from __future__ import annotations

NAME = "release-platform"
DESCRIPTION = (
    "Guardrails of the release platform: TLS and weighted forwards on the load balancer, no public ingress but "
    "web ports, private encrypted data, least-privilege IAM and OIDC trusts, reviewed production delivery."
)
