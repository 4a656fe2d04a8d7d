"""One colour of the rehearsal's application: a process on 127.0.0.1 whose behaviour its arguments set.

``python -m rehearsal.world.app --colour green --error-rate 0.03 --latency-ms 80 --added-latency-ms 0
--spread 0.25 --seed 7`` binds a free port on 127.0.0.1, prints ``listening <port>`` and serves until killed.
With ``--crash-on-start`` it exits with status 1 before it listens, as a release whose tasks never start.

Every request but ``/healthz`` is answered 500 with probability ``--error-rate``, else 200, from a seeded
generator, so a rehearsal gives the same answers in the same order every time. Time in a rehearsal is the
injected clock's, not the machine's, so the process does not sleep: it answers at once and names the service
time it stands for in the ``X-Service-Time`` header (seconds): ``(latency + added latency) * e^(spread * z)``
with ``z`` standard normal, a log-normal spread around the median. Only the standard library is used, so the
process starts in a fraction of a second.

With ``--log-file`` it writes one structured JSON access line per request there, as the application writes to its
container's output (``docs/health-contract.md``, Logs): the request's time (the ``X-Rehearsal-Time`` header the load
balancer passes on), its error state as its level (``error`` for a 5xx, and for a share ``--error-log-rate`` of the
others, a request that failed inside though it answered 200; else ``info``), a message, the status and the service
time in milliseconds, under the field names the stack's ``monitoring:logs`` reads (``--level-field``,
``--message-field``, ``--duration-field``; a dotted name nests). Only the access line carries the duration. A
failing request also writes ``--error-lines`` - 1 more error lines before it (what failed inside, with no duration),
as a verbose application does. Each line is flushed before the answer goes out, so whoever saw the answer can read
its lines.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

SERVICE_TIME_HEADER = "X-Service-Time"
TIME_HEADER = "X-Rehearsal-Time"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class LogFields:
    """The names a log line's fields go under, and the level an error line carries."""

    level: str = "level"
    message: str = "message"
    duration: str = "durationMs"
    error_level: str = "error"


class RequestLog:
    """One JSON line per request, to a file; a seeded generator picks the noisy error lines."""

    def __init__(
        self, stream: IO[str], fields: LogFields, error_log_rate: float, colour: str, seed: int, error_lines: int = 1,
    ) -> None:
        self.stream = stream
        self.fields = fields
        self.error_log_rate = error_log_rate
        self.error_lines = error_lines
        """Error lines a failing request writes in all: its access line and ``error_lines - 1`` before it."""
        self.colour = colour
        # Its own generator: the answers' sequence stays what it was without logs.
        self.random = random.Random(f"{seed}-logs")  # noqa: S311 - a reproducible rehearsal, not security
        self.lock = threading.Lock()

    def write(self, at: float, status: int, seconds: float, path: str) -> None:
        """The request's line, flushed."""
        with self.lock:
            noisy = status < 500 and self.random.random() < self.error_log_rate
            error = status >= 500 or noisy
            message = ("request failed" if status >= 500 else "upstream call retried" if noisy else "request served")
            stamp = datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds")
            for _ in range(self.error_lines - 1 if error else 0):
                inner: dict[str, Any] = {"time": stamp}
                _put(inner, self.fields.level, self.fields.error_level)
                _put(inner, self.fields.message, "dependency call failed")
                inner.update({"path": path, "colour": self.colour})
                self.stream.write(json.dumps(inner, separators=(",", ":")) + "\n")
            line: dict[str, Any] = {"time": stamp}
            _put(line, self.fields.level, self.fields.error_level if error else "info")
            _put(line, self.fields.message, message)
            _put(line, self.fields.duration, round(seconds * 1000, 3))
            line.update({"status": status, "path": path, "colour": self.colour})
            self.stream.write(json.dumps(line, separators=(",", ":")) + "\n")
            self.stream.flush()


def _put(line: dict[str, Any], name: str, value: Any) -> None:
    """Set a possibly dotted field: ``log.level`` nests ``level`` under ``log``."""
    *parents, last = name.split(".")
    for parent in parents:
        line = line.setdefault(parent, {})
    line[last] = value


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


def serve(answers: Answers, colour: str, log: RequestLog | None = None) -> ThreadingHTTPServer:
    """An HTTP/1.1 server on a free port of 127.0.0.1 answering from ``answers``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection carries a whole rehearsal's requests
        disable_nagle_algorithm = True  # small answers go out at once instead of waiting for an ACK

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            if self.path == HEALTH_PATH:
                status, seconds = 200, 0.0
            else:
                status, seconds = answers.next()
                if log is not None:
                    log.write(float(self.headers.get(TIME_HEADER) or 0.0), status, seconds, self.path)
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
    parser.add_argument("--log-file")
    parser.add_argument("--error-log-rate", type=float, default=0.0)
    parser.add_argument("--error-lines", type=int, default=1)
    parser.add_argument("--level-field", default="level")
    parser.add_argument("--message-field", default="message")
    parser.add_argument("--duration-field", default="durationMs")
    parser.add_argument("--error-level", default="error")
    args = parser.parse_args(argv)
    if args.crash_on_start:
        print(f"{args.colour}: crashed on start", file=sys.stderr)
        return 1
    answers = Answers(args.error_rate, args.latency_ms, args.added_latency_ms, args.spread, args.seed)
    stream = open(args.log_file, "a", encoding="utf-8") if args.log_file else None  # noqa: SIM115 - held while serving
    fields = LogFields(args.level_field, args.message_field, args.duration_field, args.error_level)
    log = RequestLog(stream, fields, args.error_log_rate, args.colour, args.seed, args.error_lines) if stream else None
    server = serve(answers, args.colour, log)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if stream is not None:
            stream.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
