"""RDS for a release: a manual snapshot before anything changes, waited on until available."""

from __future__ import annotations

from typing import Any

from release.aws.base import AwsError, wait_until, with_retries
from release.clock import Clock


class Databases:
    """RDS calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("rds")
        self.clock = clock

    def snapshot(self, instance: str, snapshot_id: str, *, timeout: float = 3600, interval: float = 15) -> str:
        """Snapshot the instance (reusing one of the same name) and wait until it is available; return its ARN."""
        what = f"snapshot {snapshot_id} of {instance}"
        try:
            with_retries(
                lambda: self.client.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=snapshot_id),
                self.clock, what=what,
            )
        except self.client.exceptions.DBSnapshotAlreadyExistsFault:
            pass  # a retried release of the same version reuses its snapshot
        except self.client.exceptions.DBInstanceNotFoundFault as exc:
            raise AwsError(what, f"database {instance} does not exist", "check the stack output database_identifier") from exc
        arn: list[str] = []

        def available() -> tuple[bool, str]:
            found = with_retries(
                lambda: self.client.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id), self.clock, what=what,
            )["DBSnapshots"][0]
            arn[:] = [found.get("DBSnapshotArn", snapshot_id)]
            return found["Status"] == "available", found["Status"]

        wait_until(available, self.clock, what=what, timeout=timeout, interval=interval,
                   next_command=f"aws rds describe-db-snapshots --db-snapshot-identifier {snapshot_id}")
        return arn[0]
