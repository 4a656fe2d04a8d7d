"""An ESC environment on 127.0.0.1 with the service's compare-and-set semantics, for the ESC store's tests.

GET answers the definition and its ``ETag``; PATCH must carry the ``ETag`` last answered or gets 409, as
pulumi/esc ``cmd/esc/cli/client/client.go`` (``UpdateEnvironmentWithRevision``) describes the service.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

TOKEN = "pul-test"


class EscServer:
    """The environment's definition, revision and every request it was sent."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = yaml.safe_dump(definition)
        self.revision = 1
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def etag(self) -> str:
        """The tag of the current revision."""
        return f'"etag-{self.revision}"'


@contextmanager
def serve_esc(definition: dict[str, Any]) -> Iterator[tuple[EscServer, str]]:
    """The environment served on a free port: (the environment, its base URL)."""
    env = EscServer(definition)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("ETag", env.etag())
            self.send_header("Pulumi-ESC-Revision", str(env.revision))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            env.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.headers.get("Authorization") != f"token {TOKEN}":
                self._answer(401, b'{"code":401,"message":"Unauthorized"}')
                return
            with env.lock:
                self._answer(200, env.definition.encode())

        def do_PATCH(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            env.requests.append(("PATCH", self.path, {k.lower(): v for k, v in self.headers.items()}))
            with env.lock:
                if self.headers.get("ETag") != env.etag():
                    self._answer(409, b'{"code":409,"message":"conflict"}')
                    return
                env.definition = body.decode()
                env.revision += 1
                self._answer(200, b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield env, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
