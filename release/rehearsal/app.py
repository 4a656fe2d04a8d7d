"""One colour of the rehearsal's application: a process on 127.0.0.1 whose behaviour its arguments set.

``python -m release.rehearsal.app --colour green --error-rate 0.03 --latency-ms 80 --added-latency-ms 0
--spread 0.25 --seed 7`` binds a free port on 127.0.0.1, prints ``listening <port>`` and serves until killed.
With ``--crash-on-start`` it exits with status 1 before it listens, as a release whose tasks never start.

Every request but ``/healthz`` is answered 500 with probability ``--error-rate``, else 200, from a seeded
generator, so a rehearsal gives the same answers in the same order every time. Time in a rehearsal is the
injected clock's, not the machine's, so the process does not sleep: it answers at once and names the service
time it stands for in the ``X-Service-Time`` header (seconds): ``(latency + added latency) * e^(spread * z)``
with ``z`` standard normal, a log-normal spread around the median. Only the standard library is used, so the
process starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE_TIME_HEADER = "X-Service-Time"
HEALTH_PATH = "/healthz"


class Answers:
    """The seeded source of statuses and service times; one lock, so concurrent requests stay in one sequence."""

    def __init__(self, error_rate: float, latency_ms: float, added_latency_ms: float, spread: float, seed: int) -> None:
        self.error_rate = error_rate
        self.median = (latency_ms + added_latency_ms) / 1000
        self.spread = spread
        self.random = random.Random(seed)  # noqa: S311 - a reproducible rehearsal, not security
        self.lock = threading.Lock()

    def next(self) -> tuple[int, float]:
        """The next request's status and service time in seconds."""
        with self.lock:
            status = 500 if self.random.random() < self.error_rate else 200
            seconds = self.median * math.exp(self.spread * self.random.gauss(0.0, 1.0))
        return status, seconds


def serve(answers: Answers, colour: str) -> ThreadingHTTPServer:
    """An HTTP/1.1 server on a free port of 127.0.0.1 answering from ``answers``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection carries a whole rehearsal's requests
        disable_nagle_algorithm = True  # small answers go out at once instead of waiting for an ACK

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            if self.path == HEALTH_PATH:
                status, seconds = 200, 0.0
            else:
                status, seconds = answers.next()
            body = f'{{"colour":"{colour}","status":{status}}}'.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header(SERVICE_TIME_HEADER, f"{seconds:.6f}")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            """Quiet: the rehearsal keeps its own account."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main(argv: list[str] | None = None) -> int:
    """Parse the behaviour, listen, print the port, serve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--colour", required=True)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--added-latency-ms", type=float, default=0.0)
    parser.add_argument("--spread", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crash-on-start", action="store_true")
    args = parser.parse_args(argv)
    if args.crash_on_start:
        print(f"{args.colour}: crashed on start", file=sys.stderr)
        return 1
    answers = Answers(args.error_rate, args.latency_ms, args.added_latency_ms, args.spread, args.seed)
    server = serve(answers, args.colour)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
