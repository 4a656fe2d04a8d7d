"""Text values checked against a pattern, refused with a description a person can act on."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def matching(pattern: str, description: str) -> AfterValidator:
    """A validator accepting strings that fully match ``pattern``; otherwise it says what is expected."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(description)
        return value

    return AfterValidator(check)


EcrRepository = Annotated[str, matching(
    r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9][a-z0-9._/-]{0,254}",
    "an ECR repository URL: <account>.dkr.ecr.<region>.amazonaws.com/<name>",
)]
EnvName = Annotated[str, matching(
    r"[A-Za-z_][A-Za-z0-9_]{0,254}", "an environment variable name: letters, digits and underscores, not starting with a digit",
)]
HealthPath = Annotated[str, matching(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}", "a URL path starting with /, e.g. /healthz")]
Matcher = Annotated[str, matching(
    r"[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*", "status codes such as 200, 200-299 or 200,302",
)]
Email = Annotated[str, matching(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an email address such as oncall@example.com")]
HttpsUrl = Annotated[str, matching(r"https://[^\s/]+(/\S*)?", "an https:// URL")]
