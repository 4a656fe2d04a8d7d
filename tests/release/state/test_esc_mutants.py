"""The ESC store's requests and words, exactly: what it sends Pulumi Cloud, and what a person reads when it fails.

Each test here was written against a mutant of `release/state/esc.py` that the rest of this folder let live
(`make mutate MODULE=release/state/esc.py`). The requests are those of the ESC client (pulumi/esc
`cmd/esc/cli/client/client.go`: `GetEnvironment`, `UpdateEnvironmentWithRevision`, `httpCall`'s headers).
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from offline.stacks import ProjectFiles
from release.state import EscStateStore, StateConflictError, StateStoreError

DEFINITION = b"imports: [base]\nvalues:\n  pulumiConfig:\n    release:live: blue\n"


def said(error: StateStoreError) -> tuple[str, str, str]:
    """What an error tells a person: what failed, why, and what to do."""
    return error.what, error.why, error.next_command


class Cloud:
    """Pulumi Cloud's answers, one a request, and the requests it was sent."""

    def __init__(self, *answers: tuple[bytes, dict[str, str]] | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[urllib.request.Request, float]] = []

    @contextmanager
    def open(self, request: urllib.request.Request, timeout: float) -> Iterator[Any]:
        self.sent.append((request, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        body, headers = answer
        message = Message()
        for key, value in headers.items():
            message[key] = value
        yield type("Answer", (), {"read": lambda _self: body, "headers": message})()


def store(cloud: Cloud, token: str = "pul-abc") -> EscStateStore:  # noqa: S107 - a test token, never sent anywhere
    return EscStateStore("acme", "release-platform", "staging-release", token=token, base_url="https://cloud.example/",
                         opener=cloud.open, timeout=12.5)


def refused(code: int, body: bytes = b"") -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://cloud.example", code, "refused", Message(), io.BytesIO(body))


def test_a_read_is_a_get_of_the_environment_with_the_clients_headers_and_timeout() -> None:
    cloud = Cloud((DEFINITION, {"ETag": "e-1"}))
    assert store(cloud).read() == ({"release:live": "blue"}, "e-1")
    request, timeout = cloud.sent[0]
    assert (request.get_method(), request.full_url, timeout) == (
        "GET", "https://cloud.example/api/esc/environments/acme/release-platform/staging-release", 12.5)
    assert dict(request.header_items()) == {
        "Authorization": "token pul-abc", "Accept": "application/vnd.pulumi+8", "Content-type": "application/json"}


def test_a_write_patches_the_definition_read_with_its_etag_and_keeps_the_rest_of_it() -> None:
    cloud = Cloud((DEFINITION, {"ETag": "e-1"}), (b"", {"ETag": "e-2"}))
    esc = store(cloud)
    _, tag = esc.read()
    assert esc.write({"release:canaryWeight": "25"}, ("release:live",), tag) == "e-2"
    request, _ = cloud.sent[1]
    assert (request.get_method(), request.get_header("Etag")) == ("PATCH", "e-1")
    assert request.data == b"imports:\n- base\nvalues:\n  pulumiConfig:\n    release:canaryWeight: 25\n"


def test_a_write_keeps_the_definitions_own_order_of_keys() -> None:
    """A person's `pulumi env edit` layout survives the driver's writes: the definition is not re-sorted."""
    cloud = Cloud((b"values:\n  pulumiConfig:\n    release:live: blue\nimports: [base]\n", {"ETag": "e-1"}), (b"", {"ETag": "e-2"}))
    esc = store(cloud)
    esc.write({"release:live": "green"}, (), esc.read()[1])
    assert cloud.sent[1][0].data == b"values:\n  pulumiConfig:\n    release:live: green\nimports:\n- base\n"


@pytest.mark.parametrize(("headers", "tag"), [({"Pulumi-ESC-Revision": "7"}, "revision-7"), ({}, "revision-unknown")])
def test_a_write_answered_without_an_etag_returns_a_tag_no_read_gives(headers: dict[str, str], tag: str) -> None:
    cloud = Cloud((DEFINITION, {"ETag": "e-1"}), (b"", headers))
    esc = store(cloud)
    assert esc.write({"release:canaryWeight": "5"}, (), esc.read()[1]) == tag


def test_without_a_token_nothing_is_sent_and_the_error_says_how_to_log_in() -> None:
    cloud = Cloud()
    with pytest.raises(StateStoreError) as caught:
        store(cloud, token="").read()
    assert said(caught.value) == ("reading the release state (acme/release-platform/staging-release)",
                                  "PULUMI_ACCESS_TOKEN is not set", "pulumi login, or export PULUMI_ACCESS_TOKEN")
    assert cloud.sent == []


def test_every_failure_of_pulumi_cloud_is_said_in_its_own_words() -> None:
    name = "acme/release-platform/staging-release"
    cases: list[tuple[Any, type[StateStoreError], tuple[str, str, str]]] = [
        (refused(409), StateConflictError,
         (f"writing the release state ({name})", "the environment changed since it was read (HTTP 409)", "read it again")),
        (refused(403, b"x" * 400), StateStoreError,
         (f"writing the release state ({name})", "Pulumi Cloud answered HTTP 403: " + "x" * 300,
          f"check the token's access to the environment (pulumi env get {name})")),
        (urllib.error.URLError("timed out"), StateStoreError,
         (f"writing the release state ({name})", "Pulumi Cloud did not answer: <urlopen error timed out>",
          "check the network, then retry")),
    ]
    cases.append((refused(500, b"bad \xff gateway"), StateStoreError,
                  (f"writing the release state ({name})", "Pulumi Cloud answered HTTP 500: bad \ufffd gateway",
                   f"check the token's access to the environment (pulumi env get {name})")))
    for answer, kind, words in cases:
        cloud = Cloud((DEFINITION, {"ETag": "e-1"}), answer)
        esc = store(cloud)
        with pytest.raises(kind) as caught:
            esc.write({"release:canaryWeight": "5"}, (), esc.read()[1])
        assert type(caught.value) is kind
        assert said(caught.value) == words


def test_a_read_that_is_not_yaml_or_has_no_etag_is_refused() -> None:
    name = "acme/release-platform/staging-release"
    with pytest.raises(StateStoreError) as caught:
        store(Cloud((b"values: [", {"ETag": "e-1"}))).read()
    assert caught.value.what == f"reading the release state ({name})"
    assert caught.value.why.startswith("the definition is not YAML: ")
    assert caught.value.next_command == f"pulumi env edit {name}"
    with pytest.raises(StateStoreError) as untagged:
        store(Cloud((DEFINITION, {}))).read()
    assert said(untagged.value) == (f"reading the release state ({name})",
                                    "the answer carried no ETag, so no write could be compare-and-set", "retry")


def test_a_write_with_no_tag_or_a_tag_that_moved_is_refused_before_it_is_sent() -> None:
    name = "acme/release-platform/staging-release"
    cloud = Cloud((DEFINITION, {"ETag": "e-2"}))
    esc = store(cloud)
    with pytest.raises(StateStoreError) as untagged:
        esc.write({"release:canaryWeight": "5"}, (), "")
    assert said(untagged.value) == (f"writing the release state ({name})",
                                    "no ETag to compare: an unconditional write could undo another's", "read it first")
    with pytest.raises(StateConflictError) as moved:
        esc.write({"release:canaryWeight": "5"}, (), "e-1")
    assert said(moved.value) == (f"writing the release state ({name})", "the environment changed since it was read",
                                 "read it again")
    assert [request.get_method() for request, _ in cloud.sent] == ["GET"], "it read to compare, and sent no write"
    with pytest.raises(StateStoreError) as stray:
        esc.write({"fleet:cpu": "512"}, (), "e-2")
    assert stray.value.what == f"writing the release state ({name})"


def project(tmp_path: Path, imports: str, config: str = "") -> ProjectFiles:
    (tmp_path / "Pulumi.yaml").write_text("name: release-platform\nruntime: python\n")
    (tmp_path / "Pulumi.staging.yaml").write_text(f"environment: {imports}\n{config}")
    files = ProjectFiles(tmp_path)
    assert files.project == "release-platform"
    return files


def test_a_stack_whose_file_does_not_import_its_release_environment_is_refused_saying_what_to_add(tmp_path: Path) -> None:
    files = project(tmp_path, "[release-platform/base]")
    with pytest.raises(StateStoreError) as caught:
        EscStateStore.for_stack(files, "staging", {"deployments:organization": "acme"})
    assert said(caught.value) == (
        "release state", "Pulumi.staging.yaml does not import release-platform/staging-release",
        "add `environment: [release-platform/staging-release]` to Pulumi.staging.yaml (see README, bootstrap)")


def test_a_stack_with_no_organisation_is_refused_saying_which_key_to_set(tmp_path: Path) -> None:
    files = project(tmp_path, "[release-platform/staging-release]")
    with pytest.raises(StateStoreError) as caught:
        EscStateStore.for_stack(files, "staging", {})
    assert said(caught.value) == (
        "release state", "deployments:organization is not set: the environment's organisation is unknown",
        "pulumi config set deployments:organization <org> -s staging")
    found = EscStateStore.for_stack(files, "staging", {"deployments:organization": "acme"})
    assert (found.org, found.project, found.environment, found.name) == (
        "acme", "release-platform", "staging-release", "acme/release-platform/staging-release")


def test_without_arguments_the_token_and_backend_come_from_pulumis_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PULUMI_ACCESS_TOKEN` and `PULUMI_BACKEND_URL`, as the Pulumi CLI reads them (Pulumi docs, "Environment
    variables"); the backend's trailing slashes are dropped, nothing else of it; requests wait 30 s by default."""
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-env")
    monkeypatch.setenv("PULUMI_BACKEND_URL", "https://pulumi.example.com/BOX//")
    cloud = Cloud((DEFINITION, {"ETag": "e-1"}))
    esc = EscStateStore("acme", "release-platform", "staging-release", opener=cloud.open)
    esc.read()
    request, timeout = cloud.sent[0]
    assert request.full_url == "https://pulumi.example.com/BOX/api/esc/environments/acme/release-platform/staging-release"
    assert (request.get_header("Authorization"), timeout) == ("token pul-env", 30.0)
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN")
    monkeypatch.delenv("PULUMI_BACKEND_URL")
    unset = EscStateStore("acme", "release-platform", "staging-release", opener=Cloud().open)
    assert unset.url.startswith("https://api.pulumi.com/api/esc/")
    with pytest.raises(StateStoreError, match="PULUMI_ACCESS_TOKEN is not set"):
        unset.read()
    given = EscStateStore("acme", "release-platform", "staging-release", token="", opener=Cloud().open)
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-env")
    with pytest.raises(StateStoreError, match="PULUMI_ACCESS_TOKEN is not set"):
        given.read()
