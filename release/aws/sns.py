"""SNS for a release: the summary sent to the alert topic."""

from __future__ import annotations

from typing import Any

from release.aws.base import AwsError, with_retries
from release.clock import Clock


class Notifications:
    """SNS calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("sns")
        self.clock = clock

    def publish(self, topic_arn: str, subject: str, message: str) -> str:
        """Publish a message; return its id."""
        what = f"publishing to {topic_arn}"
        try:
            answer = with_retries(
                # SNS subjects are limited to 100 characters.
                lambda: self.client.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message), self.clock, what=what,
            )
        except self.client.exceptions.NotFoundException as exc:
            raise AwsError(what, "the topic does not exist", "check the stack output alert_topic_arn") from exc
        return str(answer["MessageId"])
