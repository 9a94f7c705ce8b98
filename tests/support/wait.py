"""Polling with a deadline (the only kind of waiting tests should do)."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """Raised when a condition did not become true in time; an AssertionError
    so pytest reports it as a test failure with the description."""


def wait_until(probe: Callable[[], T], timeout: float, interval: float = 0.25, what: str = "condition") -> T:
    """Call `probe` until it returns something truthy; return that value.

    Exceptions raised by `probe` count as "not yet" (a server still starting
    refuses connections); the last one is chained onto the timeout error.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - "not ready yet" takes many forms
            last_exc = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}") from last_exc
        time.sleep(interval)
