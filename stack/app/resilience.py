"""Circuit breaker and retry backoff for model calls."""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class CircuitBreaker:
    """Opens after `failures` consecutive failures; after `cooldown_s` lets one
    probe through (half-open); a success closes it, a failure re-opens it.

    The cooldown runs on the wall clock (`clock`): simulated request timelines
    are independent of each other and cannot time a shared state.
    """

    def __init__(self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic):
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        if self._opened_at is None:
            return True
        if not self._probing and self._clock() - self._opened_at >= self._cooldown_s:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self._consecutive = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._consecutive += 1
        if self._probing or self._consecutive >= self._threshold:
            self._opened_at = self._clock()
            self._probing = False


def backoff_s(attempt: int, base_s: float, retry_after_s: float | None, rng: random.Random) -> float:
    """Honour the provider's retry-after; else exponential backoff with full jitter."""
    if retry_after_s is not None:
        return retry_after_s
    return rng.uniform(0, base_s * (2 ** attempt))
