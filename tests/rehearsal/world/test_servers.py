"""moto's server for the rehearsal: kept-alive connections, a 500 when moto fails, a clean stop, and the world's clients."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.world.servers import Moto, dispatcher

CALLS = 12


def test_calls_from_one_client_share_one_connection() -> None:
    moto = Moto("eu-west-1")
    with moto as session:
        cloudwatch = session.client("cloudwatch")
        before = moto.accepted
        for _ in range(CALLS):
            cloudwatch.describe_alarms()
        # werkzeug's server (moto's own) closes every connection after its answer: that would be CALLS accepts.
        assert moto.accepted - before == 1


def test_the_dispatcher_names_moto_s_own_backend_for_every_host_each_time() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    own, remembering = DomainDispatcherApplication(create_backend_app), dispatcher()
    hosts = [f"{s}.eu-west-1.amazonaws.com" for s in ("elasticloadbalancing", "monitoring", "ecs", "logs", "rds", "secretsmanager")]
    for host in [*hosts, "moto_api", None, *hosts]:
        assert remembering.get_backend_for_host(host) == own.get_backend_for_host(host), host
    assert {remembering.get_backend_for_host(h) for h in hosts} == {"elb", "cloudwatch", "ecs", "logs", "rds", "secretsmanager"}


def test_an_exception_inside_moto_is_a_500_on_a_connection_that_stays_open(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    def broken(self: Any) -> str:
        raise KeyError("StartTime")  # what moto 5.0.13's GetMetricData raised in a rehearsal

    moto = Moto("eu-west-1")
    with moto as session:
        cloudwatch = session.client("cloudwatch")
        cloudwatch.describe_alarms()
        before = moto.accepted
        monkeypatch.setattr(CloudWatchResponse, "describe_alarms", broken)
        with pytest.raises(ClientError) as raised:
            cloudwatch.describe_alarms()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        monkeypatch.undo()
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []
        # cheroot's own 500 closes the connection under the client (and botocore's retries open new ones).
        assert moto.accepted == before


def test_a_stopped_server_leaves_no_thread_and_refuses_connections() -> None:
    before = set(threading.enumerate())
    moto = Moto("eu-west-1")
    with moto as session:
        session.client("cloudwatch").describe_alarms()  # a kept-alive connection is open when it stops
        port = int(session.endpoint.rsplit(":", 1)[1])
        assert set(threading.enumerate()) > before
    # stop() joins the workers and the selector loop; the thread that waited for unservable connections ends on its own.
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_the_world_shares_one_client_per_service_and_a_new_hook_reaches_only_clients_made_after_it() -> None:
    with Moto("eu-west-1") as session:
        first = session.shared("ecs")
        assert session.shared("ecs") is first
        assert session.shared("cloudwatch") is not first
        # The driver's wrappers get their own: handlers their owners register stay theirs.
        assert session.client("ecs") is not first
        seen: list[str] = []
        session.hooks.append(("after-call.ecs.ListClusters", lambda **_: seen.append("hook")))
        second = session.shared("ecs")
        assert second is not first
        assert session.shared("ecs") is second
        first.list_clusters()
        assert seen == []
        second.list_clusters()
        session.client("ecs").list_clusters()
        assert seen == ["hook", "hook"]


def test_each_world_starts_from_an_empty_account_without_a_request_to_moto() -> None:
    with Moto("eu-west-1") as session:
        session.client("logs").create_log_group(logGroupName="/ecs/left-behind")
    moto = Moto("eu-west-1")
    with moto as session:
        # The reset is a call into moto, not a request: nothing a loaded machine can time out.
        assert moto.accepted == 0
        assert session.client("logs").describe_log_groups()["logGroups"] == []


def test_the_candidate_route_opens_a_colour_with_its_tokens_version_only_whatever_its_case() -> None:
    from components.config.traffic import colour_token
    from rehearsal.world.servers import CandidateRoute

    route = CandidateRoute("X-Release-Token", "0123456789abcdef" * 4, "X-Release-Colour", {"blue": "v1", "green": "v2"})
    green = colour_token(route.token, "v2")
    assert route.colour({"x-release-token": green, "X-Release-Colour": "green"}) == "green"
    # The load balancer compares header values case-insensitively.
    assert route.colour({"X-Release-Token": green.upper(), "X-Release-Colour": "green"}) == "green"
    # Another version's token, the other colour's, or the release token itself open nothing.
    assert route.colour({"X-Release-Token": colour_token(route.token, "v1"), "X-Release-Colour": "green"}) is None
    assert route.colour({"X-Release-Token": green, "X-Release-Colour": "blue"}) is None
    assert route.colour({"X-Release-Token": route.token, "X-Release-Colour": "green"}) is None
