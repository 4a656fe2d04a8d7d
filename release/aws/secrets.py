"""Secrets Manager for a release: the token that opens a colour's listener rule to a smoke test."""

from __future__ import annotations

from typing import Any

from release.aws.base import AwsError, with_retries
from release.clock import Clock


class Secrets:
    """Secrets Manager calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("secretsmanager")
        self.clock = clock

    def read(self, secret_arn: str) -> str:
        """The current string value of a secret; the value is never part of an error."""
        what = f"reading the secret {secret_arn}"
        errors = self.client.exceptions
        try:
            answer = with_retries(lambda: self.client.get_secret_value(SecretId=secret_arn), self.clock, what=what)
        except errors.ResourceNotFoundException as exc:
            raise AwsError(what, "the secret does not exist (or has no current value)",
                           "run `pulumi up` for the stack: it stores traffic:releaseToken there") from exc
        except (errors.InvalidRequestException, errors.DecryptionFailure) as exc:
            raise AwsError(what, f"Secrets Manager refused: {exc.response['Error'].get('Message', '')}",
                           "check that the secret is not scheduled for deletion and that this role may read it") from exc
        value = answer.get("SecretString")
        if not isinstance(value, str) or not value:
            raise AwsError(what, "the secret holds no string value", "set traffic:releaseToken and run `pulumi up`")
        return value
