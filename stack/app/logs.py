"""One JSON line per request (DOMAIN.md section 8), redacted before it is written.

Raw prompts and completions never appear: only keyed hashes and lengths.
The debug-capture switch writes extra `debug_capture` lines with redacted
content for a sampled share of requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
from datetime import datetime, timezone
from typing import TextIO

from slokit_app.redact import redact_value

# Fields the app generates itself (ids, timestamps); everything else is redacted,
# because its value may carry something a user typed.
_TRUSTED = frozenset({"timestamp", "trace_id", "span_id", "request_id"})


def text_fingerprint(key: bytes, text: str) -> dict[str, object]:
    """A keyed hash and the length: enough to group identical prompts, useless to
    brute-force a short secret (the key is per deployment)."""
    digest = hmac.new(key, text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]
    return {"hash": digest, "chars": len(text)}


def utc_timestamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLogger:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self._stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()
        self.enabled = enabled

    def write(self, record: dict[str, object]) -> None:
        if not self.enabled:
            return
        safe = {k: (v if k in _TRUSTED else redact_value(v)) for k, v in record.items()}
        line = json.dumps(safe, sort_keys=True, separators=(",", ":"), default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
