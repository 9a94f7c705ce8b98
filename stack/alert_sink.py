"""The stack's default Alertmanager webhook receiver.

Prints one JSON line per alert in each notification (receiver, status,
alertname, severity, service, slo, summary, runbook) so
`docker compose logs -f alert-sink` shows what would have paged or ticketed.
Standard library only; listens where it is told (0.0.0.0 inside the compose
network, never published).
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
FIELDS = ("alertname", "severity", "service", "slo", "budget", "long_window", "team")


def summarize(payload: dict) -> list[dict]:
    """One flat record per alert of an Alertmanager webhook payload."""
    records = []
    for alert in payload.get("alerts", []):
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        record = {"receiver": payload.get("receiver"), "status": alert.get("status"),
                  "startsAt": alert.get("startsAt"), "endsAt": alert.get("endsAt")}
        record = {k: v for k, v in record.items() if v is not None}
        record.update({k: labels[k] for k in FIELDS if k in labels})
        for key in ("summary", "runbook_url", "dashboard_url"):
            if key in annotations:
                record[key] = annotations[key]
        records.append(record)
    return records


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self.send_response(413)
            self.end_headers()
            return
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        for record in summarize(payload):
            print(json.dumps(record, sort_keys=True), flush=True)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"alert-sink listening on {args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
