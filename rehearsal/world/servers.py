"""The rehearsal's two local servers: moto (AWS) and the application's health endpoints."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

FAKE_CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}  # noqa: S105 - moto's, not AWS's


class MotoSession:
    """A stand-in for a boto3 session whose clients all talk to one moto server."""

    def __init__(self, endpoint: str, region: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.hooks: list[tuple[str, Callable[..., None]]] = []
        """(botocore event, handler) registered on every client made from now on: the rehearsal's seams."""

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` pointed at moto, with the session's hooks."""
        made = boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, **FAKE_CREDENTIALS)  # type: ignore[call-overload]
        for event, handler in self.hooks:
            made.meta.events.register(event, handler)
        return made


class Moto:
    """moto's server on 127.0.0.1 with a free port, for the length of a ``with`` block."""

    def __init__(self, region: str) -> None:
        from moto.server import ThreadedMotoServer

        # moto's server logs every request through werkzeug; the rehearsal prints its own account.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.region = region
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def __enter__(self) -> MotoSession:
        self._server.start()
        host, port = self._server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto's backends live in the process, not the server: start from an empty account every time.
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - our own local server
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
        return MotoSession(endpoint, self.region)

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


@dataclass(frozen=True)
class CandidateRoute:
    """What the load balancer's header-matched rules require to reach one colour directly."""

    token_header: str
    token: str
    colour_header: str

    def colour(self, headers: Mapping[str, str]) -> str | None:
        """The colour a request asks for with the right token; None: the request is public.

        Header names compare case-insensitively, as the load balancer's http-header condition does.
        """
        lowered = {name.lower(): value for name, value in headers.items()}
        if lowered.get(self.token_header.lower()) != self.token:
            return None
        return lowered.get(self.colour_header.lower()) or None


@dataclass
class Behaviour:
    """What the application answers: through the candidate route (token and colour headers) or publicly (live)."""

    test_status: int = 200
    live_status: int = 200
    requests: list[str] = field(default_factory=list)
    route: CandidateRoute | None = None


class HealthServer:
    """Serves the health path on 127.0.0.1 with the statuses of a ``Behaviour``, routed by the candidate headers."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                route = owner.behaviour.route
                colour = route.colour(dict(self.headers.items())) if route is not None else None
                owner.behaviour.requests.append(f"{self.path} ({colour or 'public'})")
                status = owner.behaviour.test_status if colour else owner.behaviour.live_status
                body = b'{"status":"ok"}' if status < 400 else b'{"status":"failing"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                """Quiet: the rehearsal prints its own summary."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HealthServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
