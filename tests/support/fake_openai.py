"""A local stand-in for the OpenAI chat completions API on 127.0.0.1.

Implements only what the `openai` client calls for `chat.completions.create`
and `embeddings.create` (OpenAI API reference, "Chat > Create chat
completion", "The chat completion chunk object", "Embeddings > Create
embeddings"): POST /v1/embeddings (a constant vector per input), and
POST /v1/chat/completions, answered as one JSON
body or, with `"stream": true`, as server-sent events ending in
`data: [DONE]`, with a final usage chunk when `stream_options.include_usage`
is set. Usage tokens are counted from the request (words in, a fixed reply
out). A model listed in `failing_models` answers 500 with the documented
error body, so instrumentations record an `error.type`. Streamed chunks are
spaced by `chunk_gap` seconds, so time-to-first-chunk and time-per-chunk
measurements have something to measure.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = ["Hello", " from", " the", " local", " fake", "."]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        app: FakeOpenAI = self.server.app  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return self._json(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
        if self.path.rstrip("/") == "/v1/embeddings":
            return self._embeddings(request)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
        model = str(request.get("model", ""))
        with app.lock:
            app.calls += 1
        if model in app.failing_models:
            return self._json(500, {"error": {"message": "the fake server fails this model", "type": "server_error",
                                              "param": None, "code": None}})
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(REPLY),
                 "total_tokens": prompt_tokens + len(REPLY)}
        if request.get("stream"):
            return self._stream(model, usage, bool((request.get("stream_options") or {}).get("include_usage")), app)
        self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                         "model": model,
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": "".join(REPLY)}}],
                         "usage": usage})

    def _embeddings(self, request: dict[str, Any]) -> None:
        inputs = request.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        dimensions = int(request.get("dimensions") or 8)
        tokens = sum(len(str(text).split()) for text in inputs)
        self._json(200, {"object": "list", "model": str(request.get("model", "")),
                         "data": [{"object": "embedding", "index": i, "embedding": [0.125] * dimensions}
                                  for i in range(len(inputs))],
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _stream(self, model: str, usage: dict[str, int], include_usage: bool, app: "FakeOpenAI") -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        for i, piece in enumerate(REPLY):
            time.sleep(app.chunk_gap)
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            finish = "stop" if i == len(REPLY) - 1 else None
            self._event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        if include_usage:
            self._event({**base, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, chunk: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client stopped mid-stream (the test ends its clients while they call): not an error here.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@dataclass
class FakeOpenAI:
    """`with FakeOpenAI() as api:` serves on 127.0.0.1 (a free port); `api.base_url` is the client's base URL."""

    failing_models: frozenset[str] = frozenset()
    chunk_gap: float = 0.01
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> "FakeOpenAI":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.app = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
