"""RDS for a release: a fresh manual snapshot before anything changes, waited on until available.

Every release takes its own snapshot: the name carries the time it was taken,
and a name that already exists is never taken as this release's backup (it is
somebody else's snapshot, of another moment); the next free name is used.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any

from release.aws.base import AwsError, wait_until, with_retries
from release.clock import Clock

# DBSnapshotIdentifier of CreateDBSnapshotMessage (botocore/data/rds/2014-10-31/service-2.json):
# 1 to 255 letters, numbers or hyphens; first character a letter; no two consecutive hyphens; not ending in a hyphen.
SNAPSHOT_ID_MAX = 255
NAME_ATTEMPTS = 5


class SnapshotExistsError(AwsError):
    """A snapshot of that name exists already: it is not this release's."""


def snapshot_identifier(text: str, suffix: str = "") -> str:
    """``text`` made a valid snapshot identifier, with room kept for ``suffix`` (itself valid, starting with '-')."""
    body = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    if not body[:1].isalpha():
        body = f"s-{body}".rstrip("-")
    return body[: SNAPSHOT_ID_MAX - len(suffix)].rstrip("-") + suffix


def fresh_snapshot_id(base: str, when: datetime, attempt: int = 1) -> str:
    """``<base>-<UTC yyyymmddHHMMSS>``, then ``-2``, ``-3``... for later attempts: a name no earlier release used."""
    suffix = f"-{when:%Y%m%d%H%M%S}" + (f"-{attempt}" if attempt > 1 else "")
    return snapshot_identifier(base, suffix)


class Databases:
    """RDS calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("rds")
        self.clock = clock

    def fresh_snapshot(self, instance: str, base: str, *, timeout: float = 3600, interval: float = 15) -> str:
        """Take a new snapshot named ``<base>-<now>`` (or the first free ``-N`` after it), wait until available; return its name."""
        now = self.clock.now()
        taken = self._snapshot_names()
        for _ in range(NAME_ATTEMPTS):
            name = next(n for n in (fresh_snapshot_id(base, now, a) for a in range(1, len(taken) + 2)) if n not in taken)
            try:
                self.snapshot(instance, name, timeout=timeout, interval=interval)
            except SnapshotExistsError:
                taken.add(name)  # taken since the listing (another release, or another instance's snapshot)
                continue
            return name
        what = f"snapshot {fresh_snapshot_id(base, now)} of {instance}"
        raise AwsError(what, f"{NAME_ATTEMPTS} free names were taken while trying them", "release again in a second")

    def _snapshot_names(self) -> set[str]:
        """The account's manual snapshot names in this region (paginated): identifiers are unique across instances."""
        names: set[str] = set()
        marker: str | None = None
        while True:
            kwargs: dict[str, Any] = {"SnapshotType": "manual"}
            if marker:
                kwargs["Marker"] = marker
            answer = with_retries(partial(self.client.describe_db_snapshots, **kwargs), self.clock, what="listing the manual snapshots")
            names.update(s["DBSnapshotIdentifier"] for s in answer.get("DBSnapshots", []))
            marker = answer.get("Marker")
            if not marker:
                return names

    def snapshot(self, instance: str, snapshot_id: str, *, timeout: float = 3600, interval: float = 15) -> str:
        """Snapshot the instance as ``snapshot_id`` and wait until it is available; return its ARN.

        An existing snapshot of that name raises ``SnapshotExistsError``: it was taken at another moment.
        """
        what = f"snapshot {snapshot_id} of {instance}"
        try:
            with_retries(
                lambda: self.client.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=snapshot_id),
                self.clock, what=what,
            )
        except self.client.exceptions.DBSnapshotAlreadyExistsFault as exc:
            raise SnapshotExistsError(what, "a snapshot of that name exists already", "pick another name") from exc
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
