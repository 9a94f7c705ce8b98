"""Simulated time of one request.

The simulator decides how long each step takes (TTFT, decode, retrieval,
backoff). Those durations are *observed* — recorded in metrics and used as
span start/end timestamps — but slept only scaled by `time_scale`
(0 = never sleep, the default; 1 = real time). So a test or a load run of
thousands of requests takes seconds, while metrics and traces still show the
realistic latencies. Real I/O (the OpenAI-compatible provider) advances the
timeline by the time it really took.
"""

from __future__ import annotations

import asyncio
import time


class Timeline:
    def __init__(self, time_scale: float = 0.0):
        self.start_ns = time.time_ns()
        self.elapsed_s = 0.0
        self._time_scale = time_scale

    def now_ns(self) -> int:
        return self.start_ns + int(self.elapsed_s * 1e9)

    async def advance(self, seconds: float) -> None:
        """Spend `seconds` of simulated time."""
        seconds = max(0.0, seconds)
        self.elapsed_s += seconds
        if self._time_scale > 0 and seconds > 0:
            await asyncio.sleep(seconds * self._time_scale)

    def advance_real(self, seconds: float) -> None:
        """Account for time that really passed (real network calls)."""
        self.elapsed_s += max(0.0, seconds)
