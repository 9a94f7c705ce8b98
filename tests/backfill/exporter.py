"""A tiny exporter of `llm_requests_total` whose counters continue a known history in real time.

The counters are closed-form integrals of a piecewise constant error ratio,
so the history written for promtool and what Prometheus scrapes later are one
continuous counter, and a blip is a window of another error ratio.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.ports import free_port

LABELS = {"feature": "support_chat", "model": "sim-large", "provider": "simulated"}


@dataclass
class Requests:
    """`rate` calls per second since `t0`, bad at `ratio`, at `blip_ratio` inside [blip_start, blip_end)."""

    t0: float
    rate: float
    ratio: float
    blip_ratio: float = 0.0
    blip_start: float = float("inf")
    blip_end: float = float("inf")

    def total(self, t: float) -> float:
        return self.rate * (t - self.t0)

    def bad(self, t: float) -> float:
        inside = max(0.0, min(t, self.blip_end) - max(self.blip_start, self.t0))
        return self.rate * (self.ratio * (t - self.t0 - inside) + self.blip_ratio * inside)

    def ok(self, t: float) -> float:
        return self.total(t) - self.bad(t)


@dataclass
class Exporter:
    requests: Requests
    clock: object  # () -> float
    port: int = field(default_factory=free_port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def exposition(self) -> str:
        t = self.clock()
        base = ",".join(f'{k}="{v}"' for k, v in sorted(LABELS.items()))
        return ("# TYPE llm_requests_total counter\n"
                f'llm_requests_total{{{base},status="ok"}} {self.requests.ok(t):.6f}\n'
                f'llm_requests_total{{{base},status="server_error"}} {self.requests.bad(t):.6f}\n')

    def __enter__(self) -> "Exporter":
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body = exporter.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
