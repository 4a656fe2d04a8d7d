"""The load balancer as the driver sees it: forward weights of a listener and target health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release.aws.base import AwsError, with_retries
from release.clock import Clock

MAX_WEIGHT = 999  # ELBv2's limit for one target group's weight in a forward action


@dataclass(frozen=True)
class TargetState:
    """One registered target and what the load balancer thinks of it."""

    id: str
    port: int
    state: str
    reason: str = ""


def check_weights(weights: Mapping[str, int]) -> None:
    """Refuse weights ELBv2 documents as invalid (moto accepts them, so we check ourselves)."""
    problems = []
    if not 2 <= len(weights) <= 5:
        problems.append(f"a weighted forward needs 2 to 5 target groups, got {len(weights)}")
    for arn, weight in weights.items():
        if not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT:
            problems.append(f"weight of {arn} is {weight!r}; allowed 0 to {MAX_WEIGHT}")
    if sum(w for w in weights.values() if isinstance(w, int)) <= 0:
        problems.append("the weights add up to 0; at least one target group must receive traffic")
    if problems:
        msg = "listener forward weights"
        raise AwsError(msg, "; ".join(problems))


class LoadBalancing:
    """ELBv2 calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("elbv2")
        self.clock = clock

    def forward_weights(self, listener_arn: str) -> dict[str, int]:
        """Target group ARN -> weight of the listener's default forward action."""
        what = f"reading listener {listener_arn}"
        try:
            answer = with_retries(lambda: self.client.describe_listeners(ListenerArns=[listener_arn]), self.clock, what=what)
        except self.client.exceptions.ListenerNotFoundException as exc:
            raise AwsError(what, "the listener does not exist", "check the stack output listener_arn") from exc
        actions = answer["Listeners"][0].get("DefaultActions", [])
        for action in actions:
            if action.get("Type") != "forward":
                continue
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
            if groups:
                return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
            if action.get("TargetGroupArn"):
                return {action["TargetGroupArn"]: 1}
        raise AwsError(what, "the listener has no forward action", "check the listener's default action")

    def set_forward_weights(self, listener_arn: str, weights: Mapping[str, int]) -> None:
        """Make the listener's default action forward with these weights."""
        check_weights(weights)
        groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
        action = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
        with_retries(
            lambda: self.client.modify_listener(ListenerArn=listener_arn, DefaultActions=[action]),
            self.clock, what=f"setting the weights of listener {listener_arn}",
        )

    def target_health(self, target_group_arn: str) -> list[TargetState]:
        """The registered targets of a group and their health."""
        what = f"reading target health of {target_group_arn}"
        try:
            answer = with_retries(
                lambda: self.client.describe_target_health(TargetGroupArn=target_group_arn), self.clock, what=what,
            )
        except self.client.exceptions.TargetGroupNotFoundException as exc:
            raise AwsError(what, "the target group does not exist", "check the stack output target_group_arns") from exc
        return [
            TargetState(
                id=d["Target"]["Id"], port=int(d["Target"].get("Port", 0)),
                state=d["TargetHealth"]["State"], reason=d["TargetHealth"].get("Reason", ""),
            )
            for d in answer["TargetHealthDescriptions"]
        ]
