"""What runs before any endpoint reads a byte of the request body.

An ASGI middleware, outside FastAPI, so nothing in the framework can parse a
body first:

- the admin gate: `/admin/...` answers 403 (not loopback) or 401 (no or wrong
  token) from the headers alone, before the body is read or parsed;
- the body cap: a `Content-Length` above the endpoint's limit is 413 at once;
  a body without one (chunked) is counted as it arrives and cut off with 413
  at the limit, so memory never holds more than one limit per request.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
# A chat message may hold 200,000 characters; JSON-escaped non-ASCII text takes
# up to 6 bytes a character, so 1.25 MiB covers any message the schema accepts.
CONTENT_BODY_LIMIT = 1280 * KIB
SMALL_BODY_LIMIT = 16 * KIB
CONTENT_PATHS = frozenset({"/v1/chat", "/v1/rag/answer"})


def body_limit(path: str) -> int:
    """Bytes a request to `path` may carry: the content endpoints a message, the rest 16 KiB."""
    return CONTENT_BODY_LIMIT if path in CONTENT_PATHS else SMALL_BODY_LIMIT


async def _reply(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AdminPolicy:
    token: str
    allow_remote: bool

    def denial(self, scope: Scope) -> tuple[int, str] | None:
        client = scope.get("client")
        if not self.allow_remote and not _is_loopback(client[0] if client else None):
            return 403, "admin is served to loopback clients only"
        bearer = (_header(scope, b"authorization") or "").removeprefix("Bearer ").strip()
        given = bearer or _header(scope, b"x-admin-token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return 401, "missing or wrong admin token"
        return None


class Guard:
    """Wraps the ASGI app: admin gate first, then the body cap."""

    def __init__(self, app: ASGIApp, admin: AdminPolicy):
        self.app = app
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == "/admin" or path.startswith("/admin/"):
            denied = self.admin.denial(scope)
            if denied is not None:
                await _reply(send, *denied)
                return
        limit = body_limit(path)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _reply(send, 400, "bad content-length")
                return
            if int(declared) > limit:
                await _reply(send, 413, f"request body over {limit} bytes")
                return
        await _Capped(self.app, limit).run(scope, receive, send)


class _Capped:
    """One request whose body is counted as the app reads it. Past the limit the
    client gets 413, the app sees a disconnect, and whatever it answers is dropped."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit
        self.received = 0
        self.started = False
        self.cut = False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def capped_receive() -> Message:
            if self.cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.cut = True
                    if not self.started:
                        self.started = True
                        await _reply(send, 413, f"request body over {self.limit} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if self.cut:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except Exception:
            # The app failing on the body we cut off is expected; the client has its 413.
            if not self.cut:
                raise
