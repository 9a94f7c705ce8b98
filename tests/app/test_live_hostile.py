"""Hostile callers against the real server: `slokit-demo-app` under uvicorn on
127.0.0.1 (tests/support/demo_app.py), its stdout and stderr in one log file,
its spans exported over OTLP/HTTP to a local receiver that decodes them.

- Oversized bodies (declared and chunked, 300 MB) are refused with 413/401
  before they are read: the server's peak RSS stays far below the body size.
- A PII corpus of 62 shapes goes through every field, header and query string
  of every endpoint; no value and no 8-character fragment of one reaches the
  logs (JSON request lines and debug captures), the spans or /metrics.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from support.demo_app import DemoApp

from .helpers import PROMETHEUS_ACCEPT
from .pii_corpus import CORPUS, sentence

MIB = 1 << 20
HUGE = 300 * MIB


# ---- oversized bodies ------------------------------------------------------

def _peak_rss_bytes(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def _send_huge(port: int, head: str, total: int, chunked: bool) -> tuple[int, int]:
    """Send a request head, then up to `total` body bytes until the server answers
    or closes; returns (HTTP status, body bytes sent)."""
    chunk = b"x" * MIB
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall((b"%x\r\n" % len(chunk) + chunk + b"\r\n") if chunked else chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        if chunked and sent >= total:
            try:
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        response = b""
        try:
            while b"\r\n" not in response:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
        except (ConnectionResetError, TimeoutError):
            pass
    status_line = response.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), f"no HTTP response: {status_line!r} (sent {sent} bytes)"
    return int(status_line.split()[1]), sent


def _head(method: str, path: str, *, length: int | None, token: str | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n"


def test_huge_bodies_are_refused_before_they_are_read(tmp_path):
    with DemoApp(tmp_path) as app:
        pid = app.process.proc.pid
        rss_before, _ = _peak_rss_bytes(pid)
        cases = [
            ("unauthenticated admin, declared", _head("PUT", "/admin/scenarios/latency_spike", length=HUGE), False, 401),
            ("unauthenticated admin, chunked", _head("PUT", "/admin/scenarios/latency_spike", length=None), True, 401),
            ("admin with token, chunked", _head("PUT", "/admin/scenarios/latency_spike", length=None, token=app.token),
             True, 413),
            ("chat, declared", _head("POST", "/v1/chat", length=HUGE), False, 413),
            ("chat, chunked", _head("POST", "/v1/chat", length=None), True, 413),
            ("rag, chunked", _head("POST", "/v1/rag/answer", length=None), True, 413),
            ("feedback, chunked", _head("POST", "/v1/feedback", length=None), True, 413),
            ("metrics, declared", _head("GET", "/metrics", length=HUGE), False, 413),
            # An endpoint that takes no body never reads one: it answers, and the rest is never buffered.
            ("metrics, chunked", _head("GET", "/metrics", length=None), True, 200),
        ]
        outcomes = {}
        for name, head, chunked, _ in cases:
            outcomes[name] = _send_huge(app.port, head, HUGE, chunked)
        rss_after, peak = _peak_rss_bytes(pid)
        assert httpx.get(app.url + "/healthz", timeout=10).status_code == 200
        assert app.active() == []
    for name, _, _, expected in cases:
        status, sent = outcomes[name]
        assert status == expected, f"{name}: HTTP {status} after {sent} bytes"
        # Refused long before the end of the body (the cap is 1.25 MiB; socket buffers add a few MiB).
        assert sent < 64 * MIB, f"{name}: the server read {sent} bytes before answering"
    growth = peak - rss_before
    assert growth < 150 * MIB, f"peak RSS grew by {growth / MIB:.0f} MiB (from {rss_before / MIB:.0f} MiB)"
    print(f"RSS before {rss_before / MIB:.1f} MiB, after {rss_after / MIB:.1f} MiB, peak {peak / MIB:.1f} MiB")


# ---- the PII corpus through every field and header ---------------------------

class _OtlpReceiver:
    """OTLP/HTTP trace receiver (protobuf, POST /v1/traces) on 127.0.0.1 that keeps every request."""

    def __init__(self):
        self.requests: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                receiver.requests.append(message)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _any_value_strings(value) -> list[str]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return [value.string_value]
    if kind == "array_value":
        return [s for v in value.array_value.values for s in _any_value_strings(v)]
    if kind == "kvlist_value":
        return [s for kv in value.kvlist_value.values for s in [kv.key, *_any_value_strings(kv.value)]]
    if kind == "bytes_value":
        return [value.bytes_value.decode("utf-8", "replace")]
    return []


def _span_strings(requests: list[ExportTraceServiceRequest]) -> tuple[list[str], int, int]:
    """Every string the exported spans carry; the span count; the content-capture event count."""
    out, spans, captures = [], 0, 0
    for request in requests:
        for resource_spans in request.resource_spans:
            for attr in resource_spans.resource.attributes:
                out += [attr.key, *_any_value_strings(attr.value)]
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans += 1
                    out += [span.name, span.trace_state, span.status.message]
                    for attr in span.attributes:
                        out += [attr.key, *_any_value_strings(attr.value)]
                    for event in span.events:
                        captures += event.name == "app.llm.content_capture"
                        out.append(event.name)
                        for attr in event.attributes:
                            out += [attr.key, *_any_value_strings(attr.value)]
                    for link in span.links:
                        out.append(link.trace_state)
    return out, spans, captures


def _json_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_json_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []  # numbers and booleans are computed by the app, not copied from callers


def _log_strings(text: str) -> tuple[list[str], int, int]:
    """Strings of the JSON log lines (every other line whole); request lines; debug captures."""
    out, requests, captures = [], 0, 0
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        if not isinstance(record, dict):
            out.append(line)
            continue
        requests += record.get("event") == "llm_request"
        captures += record.get("event") == "debug_capture"
        out += _json_strings(record)
    return out, requests, captures


def _metric_strings(openmetrics: str, text: str) -> list[str]:
    out = []
    for family in [*parse_openmetrics(openmetrics), *parse_text(text)]:
        out += [family.name, family.documentation]
        for sample in family.samples:
            out += [sample.name, *sample.labels.keys(), *sample.labels.values()]
            if sample.exemplar is not None:
                out += [*sample.exemplar.labels.keys(), *sample.exemplar.labels.values()]
    return out


def _is_generated_id(text: str) -> bool:
    """Ids and hashes the app makes (trace, span, request ids; prompt hashes): random hex,
    where an 8-digit run of a phone or card number could only occur by chance."""
    return len(text) in (12, 16, 32) and all(c in "0123456789abcdef" for c in text)


def _leaks(value: str, haystacks: dict[str, list[str]]) -> list[str]:
    fragments = {value} | {value[i:i + 8] for i in range(len(value) - 7)}
    found = []
    for where, strings in haystacks.items():
        joined = "\n".join(s for s in strings if not _is_generated_id(s))
        found += [f"{where}: {fragment!r}" for fragment in sorted(fragments) if fragment in joined]
    return found


def _header_safe(text: str) -> bytes:
    return text.replace("\n", " ").encode("utf-8")


def _send_everywhere(client: httpx.Client, token: str, cue: str, value: str) -> None:
    text = sentence(cue, value)
    query = "?q=" + quote(text, safe="")
    headers = {name: _header_safe(text) for name in (
        "x-tenant-id", "user-agent", "referer", "cookie", "x-forwarded-for", "x-request-id", "x-real-ip",
        "tracestate", "baggage", "x-pii")}
    headers["traceparent"] = _header_safe(f"00-{text}-01")
    headers["authorization"] = _header_safe(f"Bearer {text}")
    for feature in ("support_chat", "order_agent"):
        client.post("/v1/chat" + query, headers=headers, json={
            "message": f"Please help. {text} Where is my order?", "feature": feature, "tenant": value,
            "conversation_id": value})
    client.post("/v1/chat" + query, headers=headers, json={"message": text, "feature": value})
    client.post("/v1/rag/answer" + query, headers=headers, json={
        "question": f"About {text}: what is the refund policy?", "tenant": text, "conversation_id": text})
    client.post("/v1/feedback" + query, headers=headers, json={"feature": value, "rating": "down", "request_id": value})
    client.post("/v1/feedback" + query, headers=headers, json={"feature": "support_chat", "rating": value})
    client.get("/metrics" + query, headers=headers)
    client.get("/healthz" + query, headers=headers)
    client.put("/admin/scenarios/" + quote(value, safe="") + query, headers=headers, json={"params": {"x": text}})
    admin = {**headers, "authorization": f"Bearer {token}".encode()}
    client.put("/admin/scenarios/" + quote(value, safe=""), headers=admin, json={})
    client.put("/admin/scenarios/prompt_regression", headers=admin, json={"params": {"version": text}})
    client.put("/admin/scenarios/latency_spike", headers=admin, json={"params": {"features": [text]}})


def test_corpus_shapes():
    assert len(CORPUS) >= 50
    assert all(len(value) >= 8 for _, value in CORPUS)
    assert len({value for _, value in CORPUS}) == len(CORPUS)


def test_pii_sent_everywhere_leaves_no_fragment_in_logs_spans_or_metrics(tmp_path):
    with _OtlpReceiver() as otlp:
        app = DemoApp(tmp_path, env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "200",
                                     "SLOKIT_APP_DEBUG_CAPTURE_RATE": "1"})
        with app:
            with httpx.Client(base_url=app.url, timeout=30) as client:
                for cue, value in CORPUS:
                    _send_everywhere(client, app.token, cue, value)
                openmetrics = client.get("/metrics", headers={"accept": PROMETHEUS_ACCEPT}).text
                text = client.get("/metrics").text
        # Stopped: the batch span processor has flushed on shutdown.
        logs, log_requests, log_captures = _log_strings((tmp_path / "app.log").read_text(errors="replace"))
        spans, span_count, span_captures = _span_strings(otlp.requests)
    # Not vacuous: every chat/RAG request was logged with a debug capture and exported with its capture event.
    assert log_requests >= 3 * len(CORPUS) and log_captures == log_requests
    assert span_count > 10 * len(CORPUS) and span_captures == log_requests
    assert any("[REDACTED:" in s for s in logs) and any("[REDACTED:" in s for s in spans)
    assert "llm_requests_total" in openmetrics and "llm_requests_total" in text
    haystacks = {"logs": logs, "spans": spans, "metrics": _metric_strings(openmetrics, text)}
    leaks = {value: found for _, value in CORPUS if (found := _leaks(value, haystacks))}
    assert not leaks, json.dumps(leaks, indent=1)[:4000]


@pytest.mark.parametrize("value", ["acme-corp"])
def test_the_leak_check_finds_a_planted_value(value):
    """The check itself: a value that is really there is reported, by fragment too."""
    haystacks = {"logs": [f'{{"tenant": "{value}"}}'], "spans": ["x"], "metrics": ["y"]}
    assert _leaks(value, haystacks) and _leaks("zzacme-corpzz", haystacks)
    assert not _leaks("4bf92f3577b34da6", {"logs": ["4bf92f3577b34da6a3ce929d0e0e4736"]})
