"""ECS for a release: service running counts and one-off tasks (the database migration)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from release.aws.base import AwsError, wait_until, with_retries
from release.clock import Clock


@dataclass(frozen=True)
class TaskSpec:
    """How to run the migration task: the stack output ``migration`` plus which command."""

    cluster: str
    task_definition_arn: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    container_name: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class TaskRun:
    """A finished one-off task."""

    task_arn: str
    exit_code: int | None
    reason: str = ""


class Containers:
    """ECS calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("ecs")
        self.clock = clock

    def service(self, cluster: str, service: str, what: str) -> dict[str, Any]:
        """DescribeServices of one service; a missing cluster or service is named with the output to check."""
        try:
            answer = with_retries(lambda: self.client.describe_services(cluster=cluster, services=[service]), self.clock, what=what)
        except self.client.exceptions.ClusterNotFoundException as exc:
            raise AwsError(what, f"cluster {cluster} does not exist", "check the stack output cluster_name") from exc
        services = answer.get("services", [])
        if not services:
            raise AwsError(what, f"no service {service} in cluster {cluster}", "check the stack output service_names")
        return dict(services[0])

    def running_count(self, cluster: str, service: str) -> tuple[int, int]:
        """(running, desired) tasks of a service."""
        found = self.service(cluster, service, f"reading service {service}")
        return int(found.get("runningCount", 0)), int(found.get("desiredCount", 0))

    def start_task(self, spec: TaskSpec, started_by: str) -> str:
        """Start the task on Fargate with the command overridden; return its ARN."""
        what = f"starting task {spec.task_definition_arn}"
        answer = with_retries(
            lambda: self.client.run_task(
                cluster=spec.cluster,
                taskDefinition=spec.task_definition_arn,
                launchType="FARGATE",
                startedBy=started_by[:36],
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": list(spec.subnets), "securityGroups": list(spec.security_groups), "assignPublicIp": "DISABLED",
                }},
                overrides={"containerOverrides": [{"name": spec.container_name, "command": list(spec.command)}]},
            ),
            self.clock, what=what,
        )
        if answer.get("failures") or not answer.get("tasks"):
            why = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in answer.get("failures", [])) or "no task"
            raise AwsError(what, why, "check the cluster's capacity and the task definition")
        return str(answer["tasks"][0]["taskArn"])

    def wait_stopped(self, cluster: str, task_arn: str, container: str, *, timeout: float, interval: float = 10,
                     heartbeat: Callable[[], None] | None = None) -> TaskRun:
        """Wait until the task stops; return the named container's exit code. ``heartbeat`` is called before each read."""
        last: dict[str, Any] = {}

        def stopped() -> tuple[bool, str]:
            if heartbeat is not None:
                heartbeat()
            answer = with_retries(lambda: self.client.describe_tasks(cluster=cluster, tasks=[task_arn]), self.clock, what="reading task")
            tasks: Sequence[dict[str, Any]] = answer.get("tasks", [])
            if not tasks:
                return False, "not found yet"
            last.update(tasks[0])
            return tasks[0].get("lastStatus") == "STOPPED", str(tasks[0].get("lastStatus"))

        wait_until(stopped, self.clock, what=f"task {task_arn}", timeout=timeout, interval=interval,
                   next_command=f"aws ecs describe-tasks --cluster {cluster} --tasks {task_arn}")
        code = next((c.get("exitCode") for c in last.get("containers", []) if c.get("name") == container), None)
        return TaskRun(task_arn=task_arn, exit_code=None if code is None else int(code), reason=str(last.get("stoppedReason", "")))


# botocore/data/ecs/2014-11-13/service-2.json, shape DeploymentRolloutState: the enum of ``rolloutState``.
IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"
ROLLOUT_STATES = frozenset({IN_PROGRESS, COMPLETED, FAILED})
# The same file, shape Deployment, member ``status``: PRIMARY is the most recent deployment, ACTIVE one whose tasks are
# still being replaced by the PRIMARY one, INACTIVE one completely replaced.
PRIMARY, ACTIVE = "PRIMARY", "ACTIVE"


@dataclass(frozen=True)
class Deployment:
    """One deployment of a service, as DescribeServices reports it (botocore ecs shape ``Deployment``)."""

    id: str
    status: str
    """PRIMARY, ACTIVE or INACTIVE."""
    task_definition: str
    rollout_state: str
    """IN_PROGRESS, COMPLETED or FAILED; empty when ECS reports none (not a rolling-update service)."""
    reason: str
    running: int
    desired: int
    failed_tasks: int

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Deployment:
        """From one element of a DescribeServices ``deployments`` list."""
        return cls(
            id=str(raw.get("id", "")), status=str(raw.get("status", "")), task_definition=str(raw.get("taskDefinition", "")),
            rollout_state=str(raw.get("rolloutState", "")), reason=str(raw.get("rolloutStateReason", "")),
            running=int(raw.get("runningCount", 0)), desired=int(raw.get("desiredCount", 0)),
            failed_tasks=int(raw.get("failedTasks", 0)),
        )


def primary(deployments: Sequence[Deployment]) -> Deployment | None:
    """The service's most recent deployment (status PRIMARY), if it reports one."""
    return next((d for d in deployments if d.status == PRIMARY), None)


class Rollouts:
    """ECS's rolling deployments of a service: what DescribeServices says, and which image each task definition runs."""

    def __init__(self, containers: Containers) -> None:
        self.containers = containers
        self.client = containers.client
        self.clock = containers.clock
        self._images: dict[str, tuple[str, ...]] = {}

    def deployments(self, cluster: str, service: str) -> list[Deployment]:
        """The service's deployments, PRIMARY first as ECS lists them."""
        found = self.containers.service(cluster, service, f"reading the deployments of service {service}")
        return [Deployment.of(d) for d in found.get("deployments", [])]

    def images(self, task_definition: str) -> tuple[str, ...]:
        """The container images of a task definition (a revision never changes, so each is read once)."""
        if task_definition not in self._images:
            answer = with_retries(lambda: self.client.describe_task_definition(taskDefinition=task_definition), self.clock,
                                  what=f"reading task definition {task_definition}")
            containers = answer.get("taskDefinition", {}).get("containerDefinitions", [])
            self._images[task_definition] = tuple(str(c.get("image", "")) for c in containers)
        return self._images[task_definition]

    def runs(self, task_definition: str, version: str) -> bool:
        """Whether a task definition runs the image tag ``version`` (``<repository>:<version>``)."""
        return any(image.rsplit(":", 1)[-1] == version and ":" in image for image in self.images(task_definition))
