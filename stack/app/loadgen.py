"""`slokit-loadgen`: drive a running demo app over HTTP with a realistic mix,
optionally switching fault scenarios on a schedule, and print a summary."""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import click
import httpx

# Share of traffic per feature, and the endpoint that serves it.
FEATURE_MIX = (("support_chat", 0.45), ("order_agent", 0.20), ("rag_answer", 0.35))
QUESTIONS = (
    "Where is my order?", "How long do refunds take?", "Can I change the delivery address?",
    "My parcel arrived damaged, what now?", "What is your return policy?", "Why was I charged twice?",
    "Do gift cards expire?", "How do I reset my password?", "Is there a warranty on this item?",
)
PASTE_WORDS = ("invoice", "line", "item", "qty", "price", "shipping", "note", "customer", "order", "total")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")


def parse_duration(text: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration like 30s, 2m or 1.5h")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


@dataclass(frozen=True)
class ScheduleStep:
    at_s: float
    action: str  # "activate", "deactivate" or "clear"
    scenario: str = ""


def parse_schedule(text: str) -> list[ScheduleStep]:
    """`10s:latency_spike,40s:-latency_spike,60s:none` -> steps sorted by time."""
    steps = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        at, sep, what = item.partition(":")
        if not sep or not what:
            raise click.BadParameter(f"schedule item {item!r}: expected AT:SCENARIO, -SCENARIO or none")
        if what == "none":
            steps.append(ScheduleStep(parse_duration(at), "clear"))
        elif what.startswith("-"):
            steps.append(ScheduleStep(parse_duration(at), "deactivate", what[1:]))
        else:
            steps.append(ScheduleStep(parse_duration(at), "activate", what.lstrip("+")))
    return sorted(steps, key=lambda s: s.at_s)


@dataclass
class LoadConfig:
    url: str = "http://127.0.0.1:8000"
    rate: float = 10.0  # requests/second (Poisson); 0 = closed loop, as fast as `concurrency` allows
    duration_s: float = 30.0
    concurrency: int = 32
    tenants: int = 40
    feedback_rate: float = 0.1
    seed: int | None = None
    schedule: list[ScheduleStep] = field(default_factory=list)
    admin_token: str | None = None
    timeout_s: float = 60.0


@dataclass
class Summary:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_feature: dict[str, int] = field(default_factory=dict)
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    latency_p99_ms: float = 0.0
    simulated_latency_p50_s: float = 0.0
    simulated_latency_p95_s: float = 0.0
    spend_usd: float = 0.0
    elapsed_s: float = 0.0
    throughput_rps: float = 0.0
    scenario_changes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"requests   {self.requests} in {self.elapsed_s:.1f}s ({self.throughput_rps:.1f} req/s)",
            f"ok         {self.ok}",
            f"errors     {self.errors} ({(self.errors / self.requests * 100) if self.requests else 0:.1f}%)",
            "status     " + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items())),
            "features   " + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_feature.items())),
            f"latency    p50 {self.latency_p50_ms:.1f} ms, p95 {self.latency_p95_ms:.1f} ms, p99 {self.latency_p99_ms:.1f} ms (HTTP, wall clock)",
            f"simulated  p50 {self.simulated_latency_p50_s:.2f} s, p95 {self.simulated_latency_p95_s:.2f} s (as the app observed them)",
            f"spend      ${self.spend_usd:.4f}",
        ]
        lines += [f"scenario   {c}" for c in self.scenario_changes]
        return "\n".join(lines)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class _Traffic:
    """Draws realistic requests: feature mix, Zipf-like tenants, long-tailed prompt sizes."""

    def __init__(self, rng: random.Random, tenants: int):
        self._rng = rng
        self._tenants = [f"tenant-{i:03d}" for i in range(1, tenants + 1)]
        self._weights = [1 / (rank ** 1.1) for rank in range(1, tenants + 1)]
        self._conversations: list[str] = []

    def next(self) -> tuple[str, str, dict]:
        rng = self._rng
        feature = rng.choices([f for f, _ in FEATURE_MIX], [w for _, w in FEATURE_MIX])[0]
        tenant = rng.choices(self._tenants, self._weights)[0]
        message = rng.choice(QUESTIONS)
        extra_words = int(min(4000, rng.lognormvariate(math.log(15), 1.0)))
        if rng.random() < 0.02:  # a pasted document
            extra_words += 1500
        if extra_words:
            message += " " + " ".join(rng.choice(PASTE_WORDS) for _ in range(extra_words))
        if self._conversations and rng.random() < 0.3:
            conversation = rng.choice(self._conversations)
        else:
            conversation = f"conv-{rng.getrandbits(48):012x}"
            self._conversations = (self._conversations + [conversation])[-200:]
        if feature == "rag_answer":
            return feature, "/v1/rag/answer", {"question": message, "tenant": tenant, "conversation_id": conversation}
        return feature, "/v1/chat", {"message": message, "feature": feature, "tenant": tenant,
                                     "conversation_id": conversation}


async def _apply(client: httpx.AsyncClient, config: LoadConfig, step: ScheduleStep) -> str:
    headers = {"authorization": f"Bearer {config.admin_token or ''}"}
    if step.action == "clear":
        resp = await client.delete(f"{config.url}/admin/scenarios", headers=headers)
    elif step.action == "deactivate":
        resp = await client.delete(f"{config.url}/admin/scenarios/{step.scenario}", headers=headers)
    else:
        resp = await client.put(f"{config.url}/admin/scenarios/{step.scenario}", headers=headers, json={"params": {}})
    label = "none" if step.action == "clear" else f"{'-' if step.action == 'deactivate' else '+'}{step.scenario}"
    return f"{step.at_s:g}s {label}: HTTP {resp.status_code}"


async def run_load(config: LoadConfig) -> Summary:
    rng = random.Random(config.seed)
    traffic = _Traffic(rng, config.tenants)
    summary = Summary()
    by_status: Counter[str] = Counter()
    by_feature: Counter[str] = Counter()
    wall: list[float] = []
    simulated: list[float] = []
    limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency)
    async with httpx.AsyncClient(timeout=config.timeout_s, limits=limits) as client:
        semaphore = asyncio.Semaphore(config.concurrency)
        start = time.perf_counter()
        deadline = start + config.duration_s

        async def one() -> None:
            feature, path, body = traffic.next()
            t0 = time.perf_counter()
            try:
                resp = await client.post(config.url + path, json=body)
                status = str(resp.status_code)
                data = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
            except httpx.HTTPError as exc:
                status, data = type(exc).__name__, {}
            wall.append(time.perf_counter() - t0)
            by_status[status] += 1
            by_feature[feature] += 1
            summary.requests += 1
            if status.startswith("2"):
                summary.ok += 1
            else:
                summary.errors += 1
            summary.spend_usd += float(data.get("cost_usd") or 0.0)
            if data.get("latency_s") is not None:
                simulated.append(float(data["latency_s"]))
            if status == "200" and rng.random() < config.feedback_rate:
                rating = "up" if rng.random() < 0.85 else "down"
                try:
                    await client.post(config.url + "/v1/feedback", json={"feature": feature, "rating": rating,
                                                                         "request_id": data.get("request_id")})
                except httpx.HTTPError:
                    pass

        async def guarded() -> None:
            try:
                await one()
            finally:
                semaphore.release()

        async def scheduler() -> None:
            for step in config.schedule:
                delay = start + step.at_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() >= deadline:
                    return
                summary.scenario_changes.append(await _apply(client, config, step))

        tasks: set[asyncio.Task] = set()
        schedule_task = asyncio.create_task(scheduler())
        next_at = start
        while True:
            if config.rate > 0:
                next_at += rng.expovariate(config.rate)
                delay = next_at - time.perf_counter()
                if next_at >= deadline:
                    break
                if delay > 0:
                    await asyncio.sleep(delay)
            elif time.perf_counter() >= deadline:
                break
            await semaphore.acquire()
            task = asyncio.create_task(guarded())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        schedule_task.cancel()
        summary.elapsed_s = time.perf_counter() - start
    summary.by_status, summary.by_feature = dict(by_status), dict(by_feature)
    summary.latency_p50_ms = _quantile(wall, 0.50) * 1000
    summary.latency_p95_ms = _quantile(wall, 0.95) * 1000
    summary.latency_p99_ms = _quantile(wall, 0.99) * 1000
    summary.simulated_latency_p50_s = _quantile(simulated, 0.50)
    summary.simulated_latency_p95_s = _quantile(simulated, 0.95)
    summary.spend_usd = round(summary.spend_usd, 6)
    summary.throughput_rps = summary.requests / summary.elapsed_s if summary.elapsed_s else 0.0
    return summary


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Base URL of the demo app.")
@click.option("--rate", type=float, default=10.0, show_default=True,
              help="Requests per second (Poisson arrivals); 0 = as fast as --concurrency allows.")
@click.option("--duration", default="30s", show_default=True, help="How long to run: 30s, 5m, 1h.")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="Most requests in flight at once.")
@click.option("--tenants", type=click.IntRange(1, 10000), default=40, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for a reproducible request mix.")
@click.option("--schedule", default="",
              help="Scenario changes: '10s:latency_spike,40s:-latency_spike,60s:none' (needs the admin token).")
@click.option("--admin-token", default=None, help="Admin token of the app (default: $SLOKIT_APP_ADMIN_TOKEN).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def main(url, rate, duration, concurrency, tenants, seed, schedule, admin_token, as_json) -> None:
    """Drive the demo app with a realistic mix of features, tenants and prompt sizes."""
    schedule_steps = parse_schedule(schedule)
    token = admin_token or os.environ.get("SLOKIT_APP_ADMIN_TOKEN")
    if schedule_steps and not token:
        raise click.UsageError("--schedule switches scenarios through the admin endpoint: pass --admin-token "
                               "or set SLOKIT_APP_ADMIN_TOKEN")
    config = LoadConfig(url=url.rstrip("/"), rate=rate, duration_s=parse_duration(duration), concurrency=concurrency,
                        tenants=tenants, seed=seed, schedule=schedule_steps, admin_token=token)
    try:
        summary = asyncio.run(run_load(config))
    except KeyboardInterrupt:
        sys.exit(130)
    click.echo(json.dumps(asdict(summary), sort_keys=True, indent=2) if as_json else summary.render())
    if summary.requests and all(not status.isdigit() for status in summary.by_status):
        sys.exit(1)  # the app was never reached
