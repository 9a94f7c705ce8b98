"""Benchmark of the demo app (stack/app): instrumentation overhead and throughput.

1. Overhead per request: the same request mix through two app instances in
   one process, telemetry on (metrics + spans into a discarding exporter +
   JSON logs into a discarding stream) and off, interleaved in alternating
   batches so machine noise hits both alike. Prints µs/request and the ratio.
2. Throughput: two real servers (uvicorn, one process each; telemetry off
   and on) driven over HTTP by the load generator in closed loop, in ABBA
   slices, side by side: requests/s, latency, and the server's own CPU time
   per request (from /proc), which stays meaningful when the load generator
   (one Python process on the same cores) is the bottleneck.

Simulated latencies are not slept (time scale 0), so both measure the app's
own CPU cost. Usage: python bench/demo_app.py [--requests 3000] [--seconds 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

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


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(telemetry: bool) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOKIT_APP_", "OTEL_"))}
    env.update(SLOKIT_APP_PORT=str(port), SLOKIT_APP_ADMIN_TOKEN="bench", SLOKIT_APP_TELEMETRY=str(telemetry).lower())
    beside = os.path.join(os.path.dirname(sys.executable), "slokit-demo-app")
    exe = beside if os.access(beside, os.X_OK) else shutil.which("slokit-demo-app")
    proc = subprocess.Popen([exe] if exe else [sys.executable, "-m", "slokit_app"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    _stop(proc)
    raise SystemExit("the app did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class _Totals:
    requests: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    p50_ms: list[float] = field(default_factory=list)
    p95_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s / self.requests * 1000 if self.requests else 0.0


def throughput(seconds: float, concurrency: int, rounds: int = 2) -> None:
    """Both servers run at once; the load generator alternates between them in
    ABBA order (off, on, on, off, ...) so drift in the machine hits both alike."""
    slice_s = seconds / rounds
    print(f"throughput uvicorn (1 process each) + slokit-loadgen closed loop, concurrency {concurrency}, "
          f"{seconds:g}s each in ABBA slices of {slice_s:g}s")
    servers = {}
    try:
        for label, telemetry in (("off", False), ("on", True)):
            servers[label] = _serve(telemetry)
        for label in servers:  # warm-up: first requests pay for lazy imports
            asyncio.run(run_load(LoadConfig(url=servers[label][1], rate=0, duration_s=0.5, concurrency=concurrency,
                                            seed=1, feedback_rate=0.0)))
        totals = {label: _Totals() for label in servers}
        order = [("off", "on") if i % 2 == 0 else ("on", "off") for i in range(rounds)]
        for i, pair in enumerate(order):
            for label in pair:
                proc, url = servers[label]
                cpu_before = _cpu_seconds(proc.pid)
                summary = asyncio.run(run_load(LoadConfig(url=url, rate=0, duration_s=slice_s, concurrency=concurrency,
                                                          seed=2 + i, feedback_rate=0.0)))
                cpu_after = _cpu_seconds(proc.pid)
                t = totals[label]
                t.requests += summary.requests
                t.errors += summary.errors
                t.elapsed_s += summary.elapsed_s
                if cpu_before is not None and cpu_after is not None:
                    t.cpu_s += cpu_after - cpu_before
                t.p50_ms.append(summary.latency_p50_ms)
                t.p95_ms.append(summary.latency_p95_ms)
    finally:
        for proc, _ in servers.values():
            _stop(proc)
    for label, t in totals.items():
        print(f"  telemetry {label:3}  {t.rps:7.1f} req/s  p50 {statistics.mean(t.p50_ms):6.1f} ms  "
              f"p95 {statistics.mean(t.p95_ms):6.1f} ms  server CPU {t.cpu_ms_per_request:5.2f} ms/request  "
              f"errors {t.errors}/{t.requests}")
    on, off = totals["on"], totals["off"]
    line = f"  ratio on/off = {on.rps / off.rps:.2f}x throughput"
    if off.cpu_ms_per_request and on.cpu_ms_per_request:
        line += f", {on.cpu_ms_per_request / off.cpu_ms_per_request:.2f}x server CPU per request"
        # What one server process could serve on a core of its own; the measured
        # req/s is lower whenever the load generator, not the server, is the limit.
        line += (f" (one core would serve ~{1000 / off.cpu_ms_per_request:.0f} req/s off, "
                 f"~{1000 / on.cpu_ms_per_request:.0f} on)")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds of the throughput runs")
    args = parser.parse_args()
    overhead(args.requests)
    throughput(args.seconds, args.concurrency, args.rounds)


if __name__ == "__main__":
    main()
