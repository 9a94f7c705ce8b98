"""A read-only front for Prometheus: the UI and the query API, never the write paths.

The demo stack's Prometheus runs with `--web.enable-remote-write-receiver`
(Tempo's metrics generator writes span metrics to it) and serves the UI, the
query API and the receiver on one port. Publishing that port would let anyone
on the host forge series with a remote-write request. So Prometheus is
published nowhere; this proxy is, and it forwards only what reads:

- GET and HEAD, on any path but the admin API;
- POST on the query endpoints the UI and Grafana post forms to.

Everything else (`/api/v1/write`, `/api/v1/otlp/...`, `/api/v1/admin/...`,
`/-/reload`, `/-/quit`, any PUT or DELETE) is 403 without reaching Prometheus.

    python -m slokit_app.readonly_proxy --host 0.0.0.0 --port 9090 --upstream http://prometheus:9090
"""

from __future__ import annotations

import json

import click
import httpx

from slokit_app.guard import SMALL_BODY_LIMIT

READ_POSTS = frozenset({"/api/v1/query", "/api/v1/query_range", "/api/v1/query_exemplars", "/api/v1/series",
                        "/api/v1/labels", "/api/v1/format_query"})
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                         b"trailer", b"transfer-encoding", b"upgrade", b"host", b"content-length"})


def allowed(method: str, path: str) -> bool:
    if path.startswith("/api/v1/admin/"):
        return False
    if method in ("GET", "HEAD"):
        return True
    return method == "POST" and path in READ_POSTS


async def _deny(send, status: int, error: str) -> None:
    body = json.dumps({"status": "error", "errorType": "forbidden", "error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None when it passes `limit` (query forms are small)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        size += len(message.get("body", b""))
        if size > limit:
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class ReadOnlyProxy:
    def __init__(self, upstream: str, client: httpx.AsyncClient | None = None):
        self.upstream = upstream.rstrip("/")
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if not allowed(method, path):
            await _deny(send, 403, f"read-only proxy: {method} {path} is not forwarded")
            return
        body = await _read_body(receive, 16 * SMALL_BODY_LIMIT)
        if body is None:
            await _deny(send, 413, "request body too large for a query")
            return
        url = self.upstream + scope.get("raw_path", path.encode()).decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        request = self.client.build_request(method, url, headers=headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _deny(send, 502, f"upstream unreachable: {type(exc).__name__}")
            return
        try:
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
                   if k.lower().encode() not in _HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=9090, show_default=True)
@click.option("--upstream", default="http://127.0.0.1:9090", show_default=True, help="Prometheus base URL.")
def main(host: str, port: int, upstream: str) -> None:
    """Serve Prometheus's UI and query API read-only (no remote write, no admin)."""
    import uvicorn

    uvicorn.run(ReadOnlyProxy(upstream), host=host, port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
