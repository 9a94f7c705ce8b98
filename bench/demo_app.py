"""Benchmark of the demo app (stack/app): instrumentation overhead and throughput.

1. Overhead per request: the same request mix through two app instances in
   one process, telemetry on (metrics + spans into a discarding exporter +
   JSON logs into a discarding stream) and off, interleaved in alternating
   batches so machine noise hits both alike. Prints µs/request and the ratio.
2. Throughput: the real server (uvicorn, one process) driven over HTTP by
   the load generator in closed loop, telemetry on and off, side by side.

Simulated latencies are not slept (time scale 0), so both measure the app's
own CPU cost. Usage: python bench/demo_app.py [--requests 3000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace

import httpx
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from slokit_app.app import create_app
from slokit_app.config import Settings
from slokit_app.flow import Ask
from slokit_app.loadgen import LoadConfig, run_load

FEATURES = ("support_chat", "support_chat", "order_agent", "rag_answer")


class _Discard(SpanExporter):
    def export(self, spans):
        return SpanExportResult.SUCCESS


class _Null(io.TextIOBase):
    def write(self, s):
        return len(s)


def _flow(telemetry: bool):
    settings = replace(Settings(), seed=11, admin_token="bench", telemetry=telemetry)
    return create_app(settings, span_exporters=[_Discard()], log_stream=_Null()).state.flow


async def _batch(flow, asks) -> float:
    start = time.perf_counter()
    for ask in asks:
        await flow.handle(ask)
    return time.perf_counter() - start


def overhead(requests: int, batch: int = 100) -> None:
    rng = random.Random(5)
    asks = [Ask(FEATURES[i % len(FEATURES)], "Where is my order? " * rng.randint(1, 30), f"tenant-{i % 40}")
            for i in range(requests)]
    flows = {"on": _flow(True), "off": _flow(False)}
    spent = {"on": 0.0, "off": 0.0}

    async def run() -> None:
        for name in flows:  # warm-up
            await _batch(flows[name], asks[:batch])
        for i in range(0, requests, batch):
            order = ("on", "off") if (i // batch) % 2 == 0 else ("off", "on")
            for name in order:
                spent[name] += await _batch(flows[name], asks[i:i + batch])

    asyncio.run(run())
    on, off = spent["on"] / requests * 1e6, spent["off"] / requests * 1e6
    print(f"overhead   {requests} requests each, in-process, interleaved batches of {batch}")
    print(f"  telemetry off  {off:8.1f} us/request")
    print(f"  telemetry on   {on:8.1f} us/request")
    print(f"  instrumentation {on - off:7.1f} us/request; ratio on/off = {on / off:.2f}x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(telemetry: bool) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOKIT_APP_", "OTEL_"))}
    env.update(SLOKIT_APP_PORT=str(port), SLOKIT_APP_ADMIN_TOKEN="bench", SLOKIT_APP_TELEMETRY=str(telemetry).lower())
    exe = shutil.which("slokit-demo-app")
    proc = subprocess.Popen([exe] if exe else [sys.executable, "-m", "slokit_app"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the app did not start")


def throughput(seconds: float, concurrency: int) -> None:
    print(f"throughput uvicorn (1 process) + slokit-loadgen closed loop, concurrency {concurrency}, {seconds:g}s each")
    results = {}
    for label, telemetry in (("off", False), ("on", True)):
        proc, url = _serve(telemetry)
        try:
            summary = asyncio.run(run_load(LoadConfig(url=url, rate=0, duration_s=seconds, concurrency=concurrency,
                                                      seed=2, feedback_rate=0.0)))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        results[label] = summary
        print(f"  telemetry {label:3}  {summary.throughput_rps:7.1f} req/s  p50 {summary.latency_p50_ms:6.1f} ms  "
              f"p95 {summary.latency_p95_ms:6.1f} ms  errors {summary.errors}/{summary.requests}")
    print(f"  ratio on/off = {results['on'].throughput_rps / results['off'].throughput_rps:.2f}x throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    overhead(args.requests)
    throughput(args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
