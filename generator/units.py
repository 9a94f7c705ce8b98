"""Threshold values in a histogram's own unit, or as a duration converted to it.

A threshold is written as a number in the metric's catalog `unit` (`le: 500`
on `istio_request_duration_milliseconds`) or as a duration (`le: 500ms`)
that slokit converts to that unit. Arithmetic is decimal, so `300ms` on a
seconds histogram is exactly 0.3, never 0.30000000000000004 in an `le`
matcher.
"""

from __future__ import annotations

import re
from decimal import Decimal

# One number with a unit (500ms, 0.5s, 2.5m) or a compound duration (1m30s, 1s500ms).
DURATION_THRESHOLD_PATTERN = (r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h)|"
                              r"(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?)$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_SECONDS_PER = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}

# Time units a catalog `unit` may name, as the seconds one of them holds.
TIME_UNITS: dict[str, Decimal] = {
    "seconds": Decimal(1), "s": Decimal(1),
    "milliseconds": Decimal("0.001"), "ms": Decimal("0.001"),
    "microseconds": Decimal("0.000001"), "us": Decimal("0.000001"),
    "nanoseconds": Decimal("0.000000001"), "ns": Decimal("0.000000001"),
    "minutes": Decimal(60), "hours": Decimal(3600),
}


def is_duration(value: object) -> bool:
    return isinstance(value, str)


def duration_seconds(text: str) -> Decimal:
    """Seconds in a threshold duration such as `500ms`, `0.5s` or `1m30s` (already pattern-checked)."""
    return sum((Decimal(n) * _SECONDS_PER[u] for n, u in _PART.findall(text)), Decimal(0))


def in_unit(value: float | str, unit: str) -> Decimal | None:
    """The threshold in `unit`: a number as written, a duration converted; None when `unit` is not a time unit."""
    if not is_duration(value):
        return Decimal(repr(float(value)))  # the shortest text of the float: 0.3 stays 0.3
    per = TIME_UNITS.get(unit)
    if per is None:
        return None
    return (duration_seconds(str(value)) / per).normalize()


def same_bound(value: Decimal, bucket: float) -> bool:
    """Whether a bucket bound is the threshold, compared as the decimals people write (0.3 == 0.3)."""
    return Decimal(repr(float(bucket))) == value
