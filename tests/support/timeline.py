"""A printed timeline of what a live test did and saw (thread-safe)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Timeline:
    """`mark(lane, what)` records an event relative to the start; `render()`
    gives the sorted table that the test prints (pytest shows it with -s, and
    on failure in the captured output)."""

    start: float = field(default_factory=time.time)
    _events: list[tuple[float, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, lane: str, what: str, at: float | None = None) -> float:
        when = time.time() if at is None else at
        with self._lock:
            self._events.append((when, lane, what))
        print(f"[{when - self.start:7.1f}s] {lane:<8} {what}", flush=True)
        return when

    def render(self) -> str:
        with self._lock:
            events = sorted(self._events)
        lines = [f"{'t (s)':>8}  {'lane':<8} event"]
        lines += [f"{when - self.start:8.1f}  {lane:<8} {what}" for when, lane, what in events]
        return "\n".join(lines)
