"""The rehearsal's load balancer: a weighted proxy on 127.0.0.1 that routes by the listener's weights in moto.

``follow`` gives it the forward weights moto's listener holds and the colours with registered targets; the
rehearsal calls it at the start and after every stack update, so every request is routed by the weights the
listener holds at that moment. Each request picks a colour with a seeded generator (weights as
probabilities, as an ALB's weighted forward does), goes to that colour's process, and leaves a ``Sample``.

What the proxy answers itself, as an ALB would: 503 when the chosen colour has no registered target, 502 when
its target does not answer (its process died). Those are the load balancer's errors, not the target's: they
count in ``RequestCount`` of the target group the request was routed to but not in
``HTTPCode_Target_5XX_Count``, and they have no ``TargetResponseTime``.
"""

from __future__ import annotations

import http.client
import random
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from components.config import Colour
from rehearsal.world.app import SERVICE_TIME_HEADER, TIME_HEADER

__all__ = ["LOCALHOST", "TIME_HEADER", "Sample", "WeightedProxy"]
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class Sample:
    """One request as the load balancer saw it."""

    at: float
    """When it arrived: epoch seconds on the rehearsal's clock."""
    colour: Colour
    status: int
    seconds: float | None
    """Target response time; None when no target answered."""
    by_target: bool
    """Whether a target answered (False: the load balancer answered 502 or 503 itself)."""


@dataclass
class Routes:
    """What the listener in moto says now."""

    weights: dict[Colour, int] = field(default_factory=dict)
    targets: frozenset[Colour] = frozenset()


class WeightedProxy:
    """An HTTP server on 127.0.0.1 forwarding each request to one colour's process by weight."""

    def __init__(self, port_of: Callable[[Colour], int | None], seed: int = 1) -> None:
        self.port_of = port_of
        self.routes = Routes()
        self.samples: list[Sample] = []
        self._random = random.Random(seed)  # noqa: S311 - a reproducible rehearsal, not security
        self._lock = threading.Lock()
        self._upstream: dict[Colour, tuple[int, http.client.HTTPConnection]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                at = float(self.headers.get(TIME_HEADER, "0"))
                status, body = owner.forward(self.path, at)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                """Quiet: the samples are the account."""

        self._server = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The proxy's port on 127.0.0.1."""
        return int(self._server.server_address[1])

    def follow(self, weights: Mapping[Colour, int], targets: Collection[Colour]) -> None:
        """Route from now on by ``weights``, to the colours in ``targets``."""
        with self._lock:
            self.routes = Routes(dict(weights), frozenset(targets))

    def choose(self) -> Colour | None:
        """The colour the next request goes to, or None when every weight is 0."""
        weights = self.routes.weights
        total = sum(weights.values())
        if total <= 0:
            return None
        point = self._random.random() * total
        for colour in sorted(weights, key=lambda c: c.value):
            point -= weights[colour]
            if point < 0:
                return colour
        return max(weights, key=lambda c: weights[c])

    def forward(self, path: str, at: float) -> tuple[int, bytes]:
        """Route one request; record and return its status and body."""
        with self._lock:
            colour = self.choose()
            if colour is None:
                return 503, b"no weight on any target group"
            if colour not in self.routes.targets:
                self.samples.append(Sample(at, colour, 503, None, by_target=False))
                return 503, b"no registered target"
            answer = self._ask(colour, path, at)
            if answer is None:
                self.samples.append(Sample(at, colour, 502, None, by_target=False))
                return 502, b"the target did not answer"
            status, seconds, body = answer
            self.samples.append(Sample(at, colour, status, seconds, by_target=True))
            return status, body

    def _ask(self, colour: Colour, path: str, at: float) -> tuple[int, float, bytes] | None:
        port = self.port_of(colour)
        if port is None:
            return None
        held = self._upstream.get(colour)
        if held is None or held[0] != port:
            held = (port, http.client.HTTPConnection(LOCALHOST, port, timeout=5))
            self._upstream[colour] = held
        connection = held[1]
        try:
            # The request's time goes on to the target, which stamps its log line with it.
            connection.request("GET", path, headers={TIME_HEADER: f"{at:.3f}"})
            answer = connection.getresponse()
            body = answer.read()
        except OSError:
            connection.close()
            del self._upstream[colour]
            return None
        return answer.status, float(answer.getheader(SERVICE_TIME_HEADER) or 0.0), body

    def __enter__(self) -> WeightedProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        for _, connection in self._upstream.values():
            connection.close()
