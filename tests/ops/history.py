"""Known histories of the `shop` test service (tests/ops/shop), for status and report tests.

Everything is piecewise constant, so each expected number follows from the
constants below by hand arithmetic (the tests spell it out).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from support.fixtures import REPO_ROOT, generate
from support.openmetrics import OpenMetricsFile, counter_points

SERVICE = "shop"
SPECS = Path(__file__).parent / "shop"
RETENTION = ["--storage.tsdb.retention.time=400d"]  # the history is older than the 15d default


def spec_dir(tmp: Path) -> Path:
    """shop.yaml with the repository's catalog beside it."""
    specs = tmp / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "shop.yaml", specs / "shop.yaml")
    shutil.copy(REPO_ROOT / "slos" / "catalog.yaml", specs / "catalog.yaml")
    return specs


def rule_files(tmp: Path, specs: Path) -> list[Path]:
    out = generate(tmp / "generated", specs)
    return sorted((out / "alerts").glob("*.rules.yaml"))


def slo_labels(slo: str, **group: str) -> dict[str, str]:
    return {"service": SERVICE, "slo": slo, **group}


def budget_labels(budget: str, **group: str) -> dict[str, str]:
    return {"service": SERVICE, "budget": budget, **group}


def raw_requests(om: OpenMetricsFile, times: list[int], total_at, bad_at, start: int) -> None:
    """llm_requests_total of support_chat: `bad_at(t)` per second server errors, the rest ok."""
    base = {"feature": "support_chat", "model": "sim-large", "provider": "simulated"}
    om.counter("llm_requests_total", {**base, "status": "ok"},
               counter_points(times, lambda t: total_at(t) - bad_at(t), start))
    om.counter("llm_requests_total", {**base, "status": "server_error"}, counter_points(times, bad_at, start))


def raw_ttft(om: OpenMetricsFile, times: list[int], feature: str, total: float, bad: float, start: int) -> None:
    labels = {"feature": feature, "model": "sim-large", "provider": "simulated"}
    om.histogram_series("llm_ttft_seconds", "_bucket", {**labels, "le": "1.0"},
                        counter_points(times, lambda t: total - bad, start))
    om.histogram_series("llm_ttft_seconds", "_bucket", {**labels, "le": "+Inf"},
                        counter_points(times, lambda t: total, start))
    om.histogram_series("llm_ttft_seconds", "_count", labels, counter_points(times, lambda t: total, start))
    om.histogram_series("llm_ttft_seconds", "_sum", labels, counter_points(times, lambda t: total * 0.5, start))


def raw_cost(om: OpenMetricsFile, times: list[int], feature: str, model: str, rate_at, start: int) -> None:
    om.counter("llm_cost_usd_total", {"feature": feature, "model": model, "provider": "simulated",
                                      "tenant": "acme"}, counter_points(times, rate_at, start))
