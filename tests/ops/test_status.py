"""`slokit status` against a real Prometheus with a backfilled TSDB and the generated rules loaded.

History (tests/ops/history.py helpers), ending at t0 (about now):
- shop/api-success (99% over 30d): 10 events/s; error ratio 0.2% for 30 days,
  then 20% over the last 2 hours (the recorded 5m rates for 30d+2h at 1m
  steps, the raw counters for the last 3h).
- shop/ttft-under-1s (95%, per feature): support_chat 2/s at 1% slow,
  order_agent 1/s at 2% slow, all along.
- shop/spend (300 USD per 30d per feature): support_chat 0.00005 USD/s,
  order_agent 0.0002 USD/s (518.4 USD per 30 days: projected overrun).
Prometheus evaluates the generated rules every minute (the backfilled base
rates are at 1m steps too, so live samples weigh like history); status reads
what the rules recorded. Expected values are worked out in each assertion.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from support.fixtures import slokit_argv
from support.openmetrics import OpenMetricsFile, backfill
from support.prometheus import PrometheusServer
from support.wait import wait_until

from .history import (RETENTION, budget_labels, raw_cost, raw_requests, raw_ttft, rule_files, slo_labels,
                      spec_dir)

DAY = 86400
OUTAGE = 2 * 3600


def build_history(t0: int) -> OpenMetricsFile:
    om = OpenMetricsFile()
    minutes = list(range(t0 - 30 * DAY - OUTAGE, t0 + 1, 60))
    dense = list(range(t0 - 3 * 3600, t0 + 1, 15))
    bad = lambda t: 2.0 if t > t0 - OUTAGE else 0.02  # noqa: E731 - error ratio 20% then, 0.2% before
    om.gauge("slo:total_events:rate5m", slo_labels("api-success"), [(t, 10.0) for t in minutes])
    om.gauge("slo:bad_events:rate5m", slo_labels("api-success"), [(t, bad(t)) for t in minutes])
    raw_requests(om, dense, lambda t: 10.0, bad, dense[0])
    for feature, total, slow in (("support_chat", 2.0, 0.02), ("order_agent", 1.0, 0.02)):
        om.gauge("slo:total_events:rate5m", slo_labels("ttft-under-1s", feature=feature), [(t, total) for t in minutes])
        om.gauge("slo:bad_events:rate5m", slo_labels("ttft-under-1s", feature=feature), [(t, slow) for t in minutes])
        raw_ttft(om, dense, feature, total, slow, dense[0])
    for feature, usd in (("support_chat", 0.00005), ("order_agent", 0.0002)):
        om.gauge("slo_budget:usage:rate5m", budget_labels("spend", feature=feature), [(t, usd) for t in minutes])
        raw_cost(om, dense, feature, "sim-large", lambda t, usd=usd: usd, dense[0])
    return om


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("status")
    specs = spec_dir(work)
    rules = rule_files(work, specs)
    t0 = int(time.time()) // 60 * 60
    backfill(build_history(t0), work, work / "prometheus" / "data")
    config = {"global": {"scrape_interval": "1m", "evaluation_interval": "1m"}, "rule_files": [str(r) for r in rules]}
    server = PrometheusServer(config, work / "prometheus", extra_args=RETENTION).start()
    try:
        # The first evaluation of every group (up to one interval after start) records and fires.
        wait_until(lambda: {a["labels"]["alertname"] for a in server.client.alerts() if a["state"] == "firing"}
                   >= {"SLOErrorBudgetBurn", "SLOBudgetProjectedOverrun"}, timeout=150, interval=2,
                   what="burn and overrun alerts to fire")
        wait_until(lambda: server.client.query('slo:error_budget_remaining:ratio{service="shop"}') and len(
            server.client.query('slo:error_budget_remaining:ratio{service="shop"}')) == 3, timeout=90, interval=2,
                   what="budget-left recordings")
        yield specs, server
    finally:
        server.stop()


def status(specs: Path, server: PrometheusServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "status", str(specs), "--prometheus", server.url, *args],
                          capture_output=True, text=True, timeout=120)


def by_slo(doc: dict, slo: str) -> dict:
    return next(s for s in doc["slos"] if s["slo"] == slo)


def group(slo: dict, **labels: str) -> dict:
    return next(g for g in slo["groups"] if g["group"] == labels)


def test_json_numbers_follow_from_the_history(shop):
    specs, server = shop
    result = status(specs, server, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    api = by_slo(doc, "api-success")
    g = group(api)
    # 30d error ratio: (2h at 20% + 718h at 0.2%) / 720h = 0.0025556; budget 1%.
    ratio = (2 * 0.2 + 718 * 0.002) / 720
    assert 1 - g["sli"] == pytest.approx(ratio, rel=0.02)
    assert g["budget_left"] == pytest.approx(1 - ratio / 0.01, abs=0.01)
    assert g["events"] == pytest.approx(10 * 30 * DAY, rel=0.01)
    assert g["budget_left_events"] == pytest.approx((0.01 - ratio) * 10 * 30 * DAY, rel=0.02)
    assert g["budget_left_outage_seconds"] == pytest.approx((1 - ratio / 0.01) * 0.01 * 30 * DAY, rel=0.02)
    burns = {(b["long_window"], b["short_window"]): b for b in g["burns"]}
    # Last 1h and 5m: 20% / 1% = burn 20 > 14.4.
    assert burns[("1h", "5m")]["long_burn"] == pytest.approx(20, rel=0.02)
    assert burns[("1h", "5m")]["burning"] is True
    # 6h: (2h at 20% + 4h at 0.2%) / 6h = 6.8% -> burn 6.8 > 6, 30m at 20.
    assert burns[("6h", "30m")]["long_burn"] == pytest.approx(6.8, rel=0.03)
    assert burns[("6h", "30m")]["burning"] is True
    # 1d: (2h at 20% + 22h at 0.2%) / 24h = 1.85% -> burn 1.85 < 3.
    assert burns[("1d", "2h")]["long_burn"] == pytest.approx(1.85, rel=0.03)
    assert burns[("1d", "2h")]["burning"] is False
    firing = {(a["alert"], a["severity"], a["labels"].get("long_window")) for a in api["alerts"] if a["state"] == "firing"}
    assert ("SLOErrorBudgetBurn", "page", "1h") in firing and ("SLOErrorBudgetBurn", "page", "6h") in firing
    assert not any(a["labels"].get("long_window") in ("1d", "3d") for a in api["alerts"])

    ttft = by_slo(doc, "ttft-under-1s")
    assert group(ttft, feature="support_chat")["sli"] == pytest.approx(0.99, abs=1e-4)
    assert group(ttft, feature="order_agent")["sli"] == pytest.approx(0.98, abs=1e-4)
    assert group(ttft, feature="order_agent")["budget_left"] == pytest.approx(1 - 0.02 / 0.05, abs=1e-3)
    assert ttft["alerts"] == []

    spend = next(b for b in doc["budgets"] if b["budget"] == "spend")
    groups = {g["group"]["feature"]: g for g in spend["groups"]}
    # 0.0002 USD/s x 30 days = 518.4 USD, limit 300.
    assert groups["order_agent"]["used"] == pytest.approx(518.4, rel=0.01)
    assert groups["order_agent"]["projected"] == pytest.approx(518.4, rel=0.01)
    assert groups["order_agent"]["remaining"] == pytest.approx(1 - 518.4 / 300, abs=0.01)
    assert groups["support_chat"]["used"] == pytest.approx(129.6, rel=0.01)
    overruns = {a["labels"].get("feature") for a in spend["alerts"] if a["alert"] == "SLOBudgetProjectedOverrun"}
    assert overruns == {"order_agent"}


def test_table_and_target(shop):
    specs, server = shop
    result = status(specs, server, "shop/api-success")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "shop/api-success" in out and "ttft-under-1s" not in out
    assert "99.7" in out  # SLI 99.744%
    assert "SLOErrorBudgetBurn page 1h" in out and "firing" in out and "20/20 > 14.4 !" in out
    assert "\x1b[" not in out  # no colour codes into a pipe


def test_unknown_target_and_unreachable_prometheus(shop, tmp_path):
    specs, server = shop
    result = status(specs, server, "shop/nope")
    assert result.returncode == 2 and "has no SLO or budget 'nope'" in result.stderr
    result = subprocess.run([*slokit_argv(), "status", str(specs), "--prometheus", "http://127.0.0.1:9"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "cannot reach Prometheus" in result.stderr and "Traceback" not in result.stderr
