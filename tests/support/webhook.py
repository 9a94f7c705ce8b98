"""A tiny webhook receiver (http.server in a thread) that records what
Alertmanager posts, for asserting on real notifications."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from .wait import wait_until


@dataclass(frozen=True)
class Notification:
    """One POSTed Alertmanager webhook payload and when it arrived."""

    received_at: float  # time.time()
    path: str
    payload: dict[str, Any]

    @property
    def alerts(self) -> list[dict[str, Any]]:
        return self.payload.get("alerts", [])

    @property
    def receiver(self) -> str:
        return self.payload.get("receiver", "")


@dataclass
class WebhookReceiver:
    """Listens on 127.0.0.1 (an OS-picked port, so no race); `url` is what to
    put into an Alertmanager webhook_config. Use as a context manager."""

    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _received: list[Notification] = field(default_factory=list, init=False)

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"_unparsed": body.decode(errors="replace")}
                with receiver._lock:
                    receiver._received.append(Notification(time.time(), self.path, payload))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """One webhook URL for every receiver (the payload names the receiver)."""
        return f"{self.base_url}/alerts"

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._received)

    def alerts(self) -> list[tuple[Notification, dict[str, Any]]]:
        """Every (notification, alert) pair received so far, in arrival order."""
        return [(n, a) for n in self.notifications() for a in n.alerts]

    def wait_for_alert(self, match: Callable[[dict[str, Any]], bool], timeout: float,
                       what: str = "an alert notification") -> tuple[Notification, dict[str, Any]]:
        """The first received (notification, alert) for which `match(alert)` is true."""
        def probe():
            return next(((n, a) for n, a in self.alerts() if match(a)), None)
        return wait_until(probe, timeout, interval=0.2, what=what)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def labels_match(**expected: str) -> Callable[[dict[str, Any]], bool]:
    """A matcher for `wait_for_alert`: the alert has these label values (and
    `status=` "firing"/"resolved" if given)."""
    status = expected.pop("status", None)

    def match(alert: dict[str, Any]) -> bool:
        labels = alert.get("labels", {})
        return (status is None or alert.get("status") == status) and \
            all(labels.get(k) == v for k, v in expected.items())

    return match
