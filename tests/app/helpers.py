"""Shared helpers of the demo-app tests: build an app with in-memory telemetry,
drive traffic in-process, parse /metrics."""

from __future__ import annotations

import asyncio
import io
import random
import socket
import subprocess
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from slokit_app.app import create_app
from slokit_app.config import Settings
from slokit_app.flow import Ask

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "slos" / "catalog.yaml"
ADMIN_TOKEN = "test-admin-token"
LOOPBACK_CLIENT = ("127.0.0.1", 50000)
# What Prometheus 2.x sends: OpenMetrics preferred (exemplars), text as a fallback.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
QUESTIONS = ("Where is my order?", "How long do refunds take?", "What is your return policy?")


@dataclass
class Harness:
    app: object
    client: TestClient
    spans: InMemorySpanExporter
    log: io.StringIO

    @property
    def flow(self):
        return self.app.state.flow

    @property
    def faults(self):
        return self.app.state.faults

    def metrics_text(self) -> str:
        resp = self.client.get("/metrics", headers={"accept": PROMETHEUS_ACCEPT})
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/openmetrics-text")
        return resp.text

    def families(self) -> dict:
        return {f.name: f for f in text_string_to_metric_families(self.metrics_text())}

    def log_records(self) -> list[str]:
        return [line for line in self.log.getvalue().splitlines() if line]


def make_harness(**settings) -> Harness:
    base = Settings(catalog_path=CATALOG, seed=settings.pop("seed", 42), admin_token=ADMIN_TOKEN)
    spans = InMemorySpanExporter()
    log = io.StringIO()
    app = create_app(replace(base, **settings), span_exporters=[spans], log_stream=log)
    return Harness(app, TestClient(app, client=LOOPBACK_CLIENT), spans, log)


def drive(harness: Harness, n: int, features=("support_chat", "order_agent", "rag_answer"), seed: int = 1) -> None:
    """Run `n` requests straight through the app's flow (fast; no HTTP)."""
    rng = random.Random(seed)

    async def run() -> None:
        for i in range(n):
            await harness.flow.handle(Ask(features[i % len(features)], rng.choice(QUESTIONS), f"tenant-{i % 7}"))

    asyncio.run(run())


def sample_sum(families: dict, family: str, sample: str, **match) -> float:
    f = families.get(family)
    if f is None:
        return 0.0
    return sum(s.value for s in f.samples
               if s.name == sample and all(s.labels.get(k) == v for k, v in match.items()))


def bucket_share(families: dict, name: str, le: float, **match) -> float:
    """Share of a histogram's observations <= le."""
    count = sample_sum(families, name, name + "_count", **match)
    f = families[name]
    good = sum(s.value for s in f.samples if s.name == name + "_bucket" and float(s.labels["le"]) == le
               and all(s.labels.get(k) == v for k, v in match.items()))
    return good / count if count else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Terminate a process the test started; kill it if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)


def drain(stream) -> threading.Thread:
    """Keep reading a child's pipe so a chatty child never blocks on a full pipe."""
    thread = threading.Thread(target=lambda: [None for _ in iter(stream.readline, "")], daemon=True)
    thread.start()
    return thread
