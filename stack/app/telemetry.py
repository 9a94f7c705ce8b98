"""The app's three signals, bundled, with one switch to turn them all off
(the overhead benchmark compares both)."""

from __future__ import annotations

from dataclasses import dataclass

from slokit_app.logs import JsonLogger
from slokit_app.metrics import Metrics
from slokit_app.tracing import Tracer


@dataclass
class Telemetry:
    metrics: Metrics
    tracer: Tracer
    logger: JsonLogger
    hash_key: bytes
    debug_capture_rate: float = 0.0
