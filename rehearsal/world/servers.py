"""The rehearsal's two local servers: moto (AWS) and the application's health endpoints."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from werkzeug.exceptions import InternalServerError

from components.config.traffic import colour_token

FAKE_CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}  # noqa: S105 - moto's, not AWS's


class MotoSession:
    """A stand-in for a boto3 session whose clients all talk to one moto server."""

    def __init__(self, endpoint: str, region: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.hooks: list[tuple[str, Callable[..., None]]] = []
        """(botocore event, handler) registered on every client made from now on: the rehearsal's seams."""
        self._shared: dict[str, tuple[list[tuple[str, Callable[..., None]]], Any]] = {}

    def client(self, service: str) -> Any:
        """A new boto3 client of ``service`` pointed at moto, with the session's hooks: the caller's own.

        The driver's wrappers (``release/aws``) make theirs here, one each, and their owners register handlers of
        their own on them (``Throttle`` on the driver's CloudWatch client, a test's injected faults), which must not
        reach the world's calls.
        """
        made = boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, **FAKE_CREDENTIALS)  # type: ignore[call-overload]
        for event, handler in self.hooks:
            made.meta.events.register(event, handler)
        return made

    def shared(self, service: str) -> Any:
        """The world's client of ``service``: made once, and again only after the hooks changed; register nothing on it.

        The world calls moto per operation, some on every tick of the clock; one client keeps one connection open
        (``Moto``). A client made before a hook was appended never gets it, as with ``client``: the next call makes
        one that has it.
        """
        cached = self._shared.get(service)
        if cached is None or cached[0] != self.hooks:
            cached = (list(self.hooks), self.client(service))
            self._shared[service] = cached
        return cached[1]


# moto's own ThreadedMotoServer serves through werkzeug's development server, which answers every request with
# "Connection: close" (werkzeug/serving.py, WSGIRequestHandler.run_wsgi: "Always close the connection. This disables
# HTTP/1.1 keep-alive connections"), so every AWS call of a rehearsal opened a new TCP connection. cheroot (CherryPy's
# server) serves the same WSGI application with HTTP/1.1 keep-alive: before keeping a connection it reads what is left
# of the request body (cheroot/server.py, HTTPRequest.send_headers), idle connections wait in a selector rather than in
# a worker (cheroot's CHANGES.rst, v8.1.0: "Workers are now request-based"), and HTTPServer.stop() shuts it down from
# another thread. waitress has no such stop ("Waitress does not currently have a way to shut down the server
# programmatically", Pylons/waitress issue 372).
WORKERS = 4
"""Worker threads: the rehearsal's calls come one at a time from its one thread; a few spare cost nothing."""
KEPT_ALIVE = 64
"""Idle connections kept open at most (cheroot's default is 10): a rehearsal holds one per boto3 client, about twenty."""
STOP_POLL = 0.05
"""Seconds between cheroot's checks of its selector loop, so ``stop()`` returns that soon (cheroot's default is 0.5)."""


def answering_500(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app``, answering 500 itself when it raises, as werkzeug's server did for moto.

    cheroot answers an application's exception with a 500 that lacks "Connection: close" and then closes the connection
    (cheroot/server.py, HTTPConnection.communicate and HTTPRequest.simple_response), so a boto3 client may send its retry
    down a connection that is closing, and see ConnectionClosedError where werkzeug gave it the 500 (moto 5.0.13's
    GetMetricData raised KeyError 'StartTime' in a rehearsal). Answered here, the 500 is an ordinary response: the
    driver sees what it saw on werkzeug, and the connection stays open.
    """

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return app(environ, start_response)
        except Exception:
            logging.getLogger(__name__).exception("moto failed on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            body, status, headers = InternalServerError().get_response(environ).get_wsgi_response(environ)
            # exc_info: the application may have started a response before it raised (PEP 3333, start_response).
            start_response(status, headers, sys.exc_info())
            return body

    return guarded


def reset() -> None:
    """Empty every moto backend of this process, as ``POST /moto-api/reset`` does, without a request.

    The endpoint's handler calls ``moto_api_backend.reset()`` (moto/moto_api/_internal/responses.py,
    ``reset_response``); called here, the reset takes no socket and no timeout, so a loaded machine cannot
    turn a slow first request into a failed rehearsal.
    """
    from moto.moto_api._internal import moto_api_backend

    moto_api_backend.reset()


def dispatcher() -> Any:
    """The WSGI dispatcher of moto, remembering the backend of each host it names.

    For each request moto names a host from the signature's service, then matches it against every backend's URL
    patterns (moto/moto_server/werkzeug_app.py, ``get_backend_for_host``: 184 patterns, about a millisecond a
    request). Which backend serves a host never changes, so the first answer is kept.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class Remembering(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self.backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            # Called under the dispatcher's own lock (get_application).
            if host not in self.backends:
                self.backends[host] = super().get_backend_for_host(host)
            return self.backends[host]

    return Remembering()


class Moto:
    """moto's server on 127.0.0.1 with a free port and kept-alive connections, for the length of a ``with`` block."""

    def __init__(self, region: str) -> None:
        from cheroot import wsgi

        self.region = region
        # What ThreadedMotoServer serves (moto/moto_server/threaded_moto_server.py), on cheroot instead of werkzeug.
        app = answering_500(dispatcher())
        self._server = wsgi.Server(("127.0.0.1", 0), app, numthreads=WORKERS)
        # Past the cap a connection is closed after its answer, as werkzeug's are: slower, never wrong.
        self._server.keep_alive_conn_limit = KEPT_ALIVE
        self._server.expiration_interval = STOP_POLL
        # cheroot counts accepted connections in stats["Accepts"] only while its stats are enabled (cheroot/connections.py).
        self._server.stats["Enabled"] = True
        self._thread: threading.Thread | None = None

    @property
    def accepted(self) -> int:
        """TCP connections the server has accepted so far: one per boto3 client while keep-alive works."""
        return int(self._server.stats["Accepts"])

    def __enter__(self) -> MotoSession:
        # moto's backends live in the process, not the server: start from an empty account every time.
        reset()
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name="moto", daemon=True)
        self._thread.start()
        host, port = self._server.bind_addr[:2]
        return MotoSession(f"http://{host}:{port}", self.region)

    def __exit__(self, *exc: object) -> None:
        # Closes the listening socket and every kept-alive connection, and joins the workers.
        self._server.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


@dataclass(frozen=True)
class CandidateRoute:
    """What the load balancer's header-matched rules require to reach one colour directly."""

    token_header: str
    token: str
    """The stack's release token, in Secrets Manager; each colour's rule holds the token derived from it."""
    colour_header: str
    versions: dict[str, str] = field(default_factory=dict)
    """The version each colour runs now, as the last applied plan says."""

    def colour(self, headers: Mapping[str, str]) -> str | None:
        """The colour a request asks for with that colour's token; None: the request is public.

        Header names and values compare case-insensitively, as the load balancer's http-header condition does.
        """
        lowered = {name.lower(): value for name, value in headers.items()}
        colour = lowered.get(self.colour_header.lower())
        given = lowered.get(self.token_header.lower())
        if not colour or given is None or colour not in self.versions:
            return None
        return colour if given.lower() == colour_token(self.token, self.versions[colour]).lower() else None


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
