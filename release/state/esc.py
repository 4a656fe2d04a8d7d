"""Release state in a Pulumi ESC environment, read and written over Pulumi Cloud's REST API.

The calls are those of the ESC client (source: pulumi/esc
``cmd/esc/cli/client/client.go``): ``GET /api/esc/environments/{org}/{project}/{env}``
answers the environment's YAML definition with its ``ETag`` header;
``UpdateEnvironmentWithRevision`` sends ``PATCH`` to the same path with the new
definition as the body and the tag read in an ``ETag`` request header, and the
service answers 409 when the environment changed since. Requests carry
``Authorization: token <PULUMI_ACCESS_TOKEN>`` and ``Accept:
application/vnd.pulumi+8`` as that client's ``httpCall`` does. Only
``values.pulumiConfig`` is changed; the rest of the definition is kept as read.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from offline.stacks import ProjectFiles, definition_values
from release.state.store import ReleaseStateStore, StateConflictError, StateStoreError, check_keys, to_definition

DEFAULT_BASE_URL = "https://api.pulumi.com"
Opener = Callable[..., Any]


class EscStateStore(ReleaseStateStore):
    """The release keys in ``values.pulumiConfig`` of one ESC environment."""

    def __init__(
        self, org: str, project: str, environment: str, *, token: str | None = None, base_url: str | None = None,
        opener: Opener | None = None, timeout: float = 30.0,
    ) -> None:
        self.org, self.project, self.environment = org, project, environment
        self.name = f"{org}/{project}/{environment}"
        self.token = token if token is not None else os.environ.get("PULUMI_ACCESS_TOKEN", "")
        self.base_url = (base_url or os.environ.get("PULUMI_BACKEND_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._open = opener or urllib.request.urlopen
        self.timeout = timeout
        self._definitions: dict[str, dict[str, Any]] = {}

    @classmethod
    def for_stack(cls, files: ProjectFiles, stack: str, config: Mapping[str, str]) -> EscStateStore:
        """The store of a stack's release environment; the organisation is ``deployments:organization``."""
        name = files.release_environment(stack)
        if name not in files.imports(stack):
            msg = "release state"
            raise StateStoreError(msg, f"Pulumi.{stack}.yaml does not import {name}",
                                  f"add `environment: [{name}]` to Pulumi.{stack}.yaml (see README, bootstrap)")
        org = config.get("deployments:organization", "")
        if not org:
            msg = "release state"
            raise StateStoreError(msg, "deployments:organization is not set: the environment's organisation is unknown",
                                  f"pulumi config set deployments:organization <org> -s {stack}")
        project, environment = name.split("/", 1)
        return cls(org, project, environment)

    @property
    def url(self) -> str:
        """The environment's REST address."""
        return f"{self.base_url}/api/esc/environments/{self.org}/{self.project}/{self.environment}"

    def _request(self, method: str, body: bytes | None = None, etag: str | None = None) -> tuple[bytes, Mapping[str, str]]:
        what = f"{'reading' if method == 'GET' else 'writing'} the release state ({self.name})"
        if not self.token:
            raise StateStoreError(what, "PULUMI_ACCESS_TOKEN is not set", "pulumi login, or export PULUMI_ACCESS_TOKEN")
        headers = {"Authorization": f"token {self.token}", "Accept": "application/vnd.pulumi+8", "Content-Type": "application/json"}
        if etag is not None:
            headers["ETag"] = etag
        request = urllib.request.Request(self.url, data=body, method=method, headers=headers)  # noqa: S310 - https or a test's 127.0.0.1
        try:
            with self._open(request, timeout=self.timeout) as answer:
                return answer.read(), answer.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                raise StateConflictError(what, "the environment changed since it was read (HTTP 409)", "read it again") from exc
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise StateStoreError(what, f"Pulumi Cloud answered HTTP {exc.code}: {detail}",
                                  "check the token's access to the environment (pulumi env get " + self.name + ")") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StateStoreError(what, f"Pulumi Cloud did not answer: {exc}", "check the network, then retry") from exc

    def read(self) -> tuple[dict[str, str], str]:
        """GET the definition; its ``values.pulumiConfig`` flat, and its ETag."""
        body, headers = self._request("GET")
        etag = headers.get("ETag") or ""
        try:
            definition = yaml.safe_load(body) or {}
        except yaml.YAMLError as exc:
            msg = f"reading the release state ({self.name})"
            raise StateStoreError(msg, f"the definition is not YAML: {exc}", f"pulumi env edit {self.name}") from exc
        if not etag:
            msg = f"reading the release state ({self.name})"
            raise StateStoreError(msg, "the answer carried no ETag, so no write could be compare-and-set", "retry")
        self._definitions = {etag: definition}
        return definition_values(definition), etag

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """PATCH the definition read at ``expect_etag`` with the changes; 409 is a conflict."""
        check_keys(changes, removals, self.name)
        if not expect_etag:
            msg = f"writing the release state ({self.name})"
            raise StateStoreError(msg, "no ETag to compare: an unconditional write could undo another's", "read it first")
        definition = self._definitions.get(expect_etag)
        if definition is None:
            _, current = self.read()
            if current != expect_etag:
                msg = f"writing the release state ({self.name})"
                raise StateConflictError(msg, "the environment changed since it was read", "read it again")
            definition = self._definitions[current]
        values = dict(definition.get("values") or {})
        config = dict(values.get("pulumiConfig") or {})
        config.update({key: to_definition(value) for key, value in changes.items()})
        for key in removals:
            config.pop(key, None)
        values["pulumiConfig"] = config
        updated = {**definition, "values": values}
        _, headers = self._request("PATCH", yaml.safe_dump(updated, sort_keys=False).encode(), etag=expect_etag)
        self._definitions = {}
        # Without an ETag in the answer, a tag that can never match: the next write must read first.
        return headers.get("ETag") or f"revision-{headers.get('Pulumi-ESC-Revision', 'unknown')}"
