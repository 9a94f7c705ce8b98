"""`slokit report` for November 2026 against a real Prometheus whose TSDB holds October and November.

The history (written as OpenMetrics, backfilled with promtool) has the raw
cost counters and the series the generated rules would have recorded: the
5m base rates, the burn rates per alert window and the ALERTS series of the
burn alerts, all at 5-minute steps and worked out here from one constant
error-ratio timeline, so each expected number follows from the constants.
- shop/api-success (99%): 10 events/s at 0.1% errors; 30% errors on
  2026-11-10 12:00-14:00, 50% on 2026-10-20 10:00-11:00 (outside the period).
- shop/ttft-under-1s (95%, per feature): support_chat 2/s at 2% slow;
  order_agent 1/s at 1% slow in October, 4% in November (the worst group).
- shop/spend: support_chat/sim-large 0.0001 USD/s; order_agent/sim-large
  0.0002 USD/s in October, 0.0004 in November (the top mover);
  order_agent/sim-small 0.00005 USD/s.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from support.fixtures import slokit_argv
from support.openmetrics import OpenMetricsFile, backfill, counter_points
from support.prometheus import PrometheusServer

from .history import RETENTION, budget_labels, raw_cost, slo_labels, spec_dir

STEP = 300
DAY = 86400


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


START, NOV, DEC = ts(2026, 10, 1), ts(2026, 11, 1), ts(2026, 12, 1)
INCIDENTS = ((ts(2026, 11, 10, 12), ts(2026, 11, 10, 14), 0.3), (ts(2026, 10, 20, 10), ts(2026, 10, 20, 11), 0.5))
TIMES = list(range(START, DEC + 1, STEP))
# (severity, long, short, burn factor) of a 30-day SLO, as `slokit explain` prints them.
TIERS = (("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6), ("ticket", "1d", "2h", 3), ("ticket", "3d", "6h", 1))
WINDOW_S = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": DAY, "3d": 3 * DAY}


def error_ratio(t: int) -> float:
    """Of the 5 minutes ending at t."""
    for begin, end, ratio in INCIDENTS:
        if begin < t <= end:
            return ratio
    return 0.001


def burn_series() -> dict[str, list[float]]:
    """Burn rate per window at each sample: bad / total over the window's samples, over the 1% budget."""
    ratios = [error_ratio(t) for t in TIMES]
    prefix = [0.0]
    for r in ratios:
        prefix.append(prefix[-1] + r)
    out = {}
    for window, seconds in WINDOW_S.items():
        n = seconds // STEP
        out[window] = [(prefix[i + 1] - prefix[max(0, i + 1 - n)]) / min(n, i + 1) / 0.01 for i in range(len(TIMES))]
    return out


def burning(burns: dict[str, list[float]], long: str, short: str, factor: float) -> list[bool]:
    return [a > factor and b > factor for a, b in zip(burns[long], burns[short])]


def build_history() -> OpenMetricsFile:
    om = OpenMetricsFile()
    api = slo_labels("api-success")
    om.gauge("slo:total_events:rate5m", api, [(t, 10.0) for t in TIMES])
    om.gauge("slo:bad_events:rate5m", api, [(t, 10 * error_ratio(t)) for t in TIMES])
    burns = burn_series()
    for window, values in burns.items():
        om.gauge(f"slo:burn_rate:rate{window}", api, list(zip(TIMES, values)))
    for severity, long, short, factor in TIERS:
        on = burning(burns, long, short, factor)
        labels = {"alertname": "SLOErrorBudgetBurn", "alertstate": "firing", **api, "severity": severity,
                  "long_window": long, "team": "shop-team"}
        om.gauge("ALERTS", labels, [(t, 1.0) for t, o in zip(TIMES, on) if o])
    for feature, total, slow in (("support_chat", 2.0, lambda t: 0.02), ("order_agent", 1.0,
                                                                          lambda t: 0.04 if t > NOV else 0.01)):
        labels = slo_labels("ttft-under-1s", feature=feature)
        om.gauge("slo:total_events:rate5m", labels, [(t, total) for t in TIMES])
        om.gauge("slo:bad_events:rate5m", labels, [(t, total * slow(t)) for t in TIMES])
    for feature, model, rate in (("support_chat", "sim-large", lambda t: 0.0001),
                                 ("order_agent", "sim-large", lambda t: 0.0004 if t > NOV else 0.0002),
                                 ("order_agent", "sim-small", lambda t: 0.00005)):
        raw_cost(om, TIMES, feature, model, rate, START)
    return om


@pytest.fixture(scope="module")
def november(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("report")
    specs = spec_dir(work)
    backfill(build_history(), work, work / "prometheus" / "data")
    server = PrometheusServer({"global": {"scrape_interval": "1m"}}, work / "prometheus", extra_args=RETENTION).start()
    try:
        yield specs, server
    finally:
        server.stop()


def report(specs: Path, server: PrometheusServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "report", str(specs), "--prometheus", server.url, "--month", "2026-11",
                           *args], capture_output=True, text=True, timeout=300)


def test_numbers(november):
    specs, server = november
    proc = report(specs, server, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["period"]["start"], doc["period"]["end"]) == (NOV, DEC)
    assert (doc["previous"]["start"], doc["previous"]["end"]) == (START, NOV)
    slos = {s["slo"]: s for s in doc["slos"]}
    api = slos["api-success"]
    # 8640 five-minute samples in November, 24 of them at 30%, the rest at 0.1%.
    ratio = (24 * 0.3 + 8616 * 0.001) / 8640
    assert 1 - api["attainment"] == pytest.approx(ratio, rel=1e-3)
    assert api["budget_consumed"] == pytest.approx(ratio / 0.01, rel=1e-3)
    assert api["met"] is True
    assert api["events"] == pytest.approx(10 * 30 * DAY, rel=1e-3)
    assert api["bad_events"] == pytest.approx(ratio * 10 * 30 * DAY, rel=1e-3)
    # Time above each tier: 5 minutes per sample whose long and short burn rates both exceed the factor.
    burns = burn_series()
    in_nov = [NOV < t <= DEC for t in TIMES]
    tiers = {t["long_window"]: t for t in api["tiers"]}
    for severity, long, short, factor in TIERS:
        expected = STEP * sum(1 for on, n in zip(burning(burns, long, short, factor), in_nov) if on and n)
        assert tiers[long]["seconds"] == pytest.approx(expected, abs=2 * STEP), long
    assert tiers["1h"]["seconds"] > 3600  # the incident pages
    # Alerts: one episode per tier that fired in November (October's incident is outside the period).
    fired = {(a["target"], a["severity"], a["long_window"]): a for a in doc["alerts"]}
    for severity, long, short, factor in TIERS:
        on = [o and n for o, n in zip(burning(burns, long, short, factor), in_nov)]
        key = ("shop/api-success", severity, long)
        if any(on):
            assert fired[key]["count"] == 1
            assert fired[key]["seconds"] == pytest.approx(STEP * sum(on), abs=2 * STEP)
            assert ts(2026, 11, 10, 12) <= fired[key]["first"] <= ts(2026, 11, 10, 14)
        else:
            assert key not in fired
    ttft = slos["ttft-under-1s"]
    assert 1 - ttft["attainment"] == pytest.approx((2 * 0.02 + 1 * 0.04) / 3, rel=1e-3)
    worst = ttft["worst_groups"]
    assert [g["group"]["feature"] for g in worst] == ["order_agent", "support_chat"]
    assert worst[0]["attainment"] == pytest.approx(0.96, abs=1e-5)
    # Daily points: 30 days; the 10th has the incident.
    days = {datetime.fromtimestamp(d["end"] - 1, timezone.utc).day: d for d in api["days"]}
    assert len(days) == 30
    assert days[10]["bad"] / days[10]["total"] == pytest.approx((24 * 0.3 + 264 * 0.001) / 288, rel=1e-3)

    spend = doc["budgets"][0]
    rows = {(r["group"]["feature"], r["group"]["model"]): r for r in spend["rows"]}
    nov_s, oct_s = 30 * DAY, 31 * DAY
    assert rows[("order_agent", "sim-large")]["spend"] == pytest.approx(0.0004 * nov_s, rel=2e-3)
    assert rows[("order_agent", "sim-large")]["previous"] == pytest.approx(0.0002 * oct_s, rel=2e-3)
    assert rows[("support_chat", "sim-large")]["spend"] == pytest.approx(0.0001 * nov_s, rel=2e-3)
    assert spend["spent"] == pytest.approx((0.0001 + 0.0004 + 0.00005) * nov_s, rel=2e-3)
    assert spend["movers"][0]["group"] == {"feature": "order_agent", "model": "sim-large"}
    assert spend["period_limit"] == pytest.approx(300)
    assert len(spend["days"]) == 30 and spend["days"][0][1] == pytest.approx(0.00055 * DAY, rel=2e-3)


def test_markdown_and_html(november, tmp_path):
    specs, server = november
    md = report(specs, server)
    assert md.returncode == 0, md.stderr
    text = md.stdout
    assert text.startswith("# SLO report: November 2026")
    assert re.search(r"\| shop/api-success \| 99% \| 99\.817% \| yes \|", text), text
    assert "| order\\_agent" not in text  # label values in cells are escaped only where needed
    assert "feature=order\\_agent, model=sim-large" in text
    assert "SLOErrorBudgetBurn" in text and "| 2026-11-10 12:" in text
    out = tmp_path / "november.html"
    html = report(specs, server, "--format", "html", "--out", str(out))
    assert html.returncode == 0, html.stderr
    page = out.read_text()
    assert page.count('src="data:image/png;base64,') == 3  # two SLIs and one budget
    assert "<script" not in page and "http://" not in page.replace(server.url, "")


def test_template_override_and_bad_month(november, tmp_path):
    specs, server = november
    (specs / "templates").mkdir(exist_ok=True)
    (specs / "templates" / "report.md.j2").write_text("custom {{ report.period.label }}: "
                                                      "{{ report.slos | length }} SLOs\n")
    try:
        proc = report(specs, server)
        assert proc.returncode == 0 and proc.stdout == "custom November 2026: 2 SLOs\n", proc.stderr
    finally:
        (specs / "templates" / "report.md.j2").unlink()
        (specs / "templates").rmdir()
    bad = subprocess.run([*slokit_argv(), "report", str(specs), "--prometheus", server.url, "--month", "2026-13"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a month" in bad.stderr
