"""Where MetricsQL computes the generated rules differently from PromQL, measured on the same data.

The same synthetic history goes into a real Prometheus 2 (backfilled with
promtool) and a real VictoriaMetrics (imported with /api/v1/import/prometheus),
and the generated expressions of the support-chatbot api-success SLO (99.5%,
page at 14.4 x 0.5% = 7.2% errors over 1h and 5m) are evaluated on both at
every minute of an outage at 10% errors:

1. the bad-events series appears with the outage (no error before it):
   MetricsQL's rate() divides by the series' own age, so the plain rules' 1h
   error ratio reads 10% at once and the page fires within a minute instead of
   after 43 minutes; the `--format vmalert` rules (increase / seconds) page
   when Prometheus does;
2. the bad-events series existed before (a 0.1% baseline): both engines agree
   on the plain rules too;
3. derived windows (avg_over_time of the recorded 5m rates): MetricsQL ranges
   are left-open like Prometheus 3, so a 6h average holds one sample fewer;
   the measured difference is printed and bounded;
4. `absent()` of a recorded series that stopped (SLONoData reads it): when it
   starts returning 1 on each engine, with vmalert's default query step (5m).

Each case prints its numbers (docs/alerting.md quotes them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
import yaml

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project
from support.openmetrics import OpenMetricsFile, backfill
from support.prometheus import PrometheusServer
from support.victoriametrics import VictoriaMetricsServer

REPO = Path(__file__).resolve().parents[2]
STEP = 10                      # seconds between samples (a 10s scrape)
TRAFFIC = 10.0                 # events/s
OUTAGE_ERRORS = 0.10           # error ratio during the outage
BASELINE_ERRORS = 0.001        # scenario 2's errors before the outage
HISTORY_S = 7 * 3600          # longer than the 6h derived window
OUTAGE_S = 50 * 60
THRESHOLD = 14.4 * 0.005       # the api-success page: burn 14.4 x budget 0.5%
VMALERT_STEP = "5m"            # vmalert's default -datasource.queryStep
GAUGE_STOP_S = 30 * 60         # scenario 4: the recorded series stops this long before the end
FEATURES = {"new": "support_chat", "existing": "order_agent"}


def expressions() -> dict[str, dict[str, str]]:
    """{format: {record: expr}} of api-success's rules, plain and vmalert."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        outputs = build_outputs(load_project([Path("slos")]), ("vmalert",))
    finally:
        os.chdir(cwd)
    found = {}
    for fmt, path in (("plain", N.rules_path("support-chatbot")), ("vmalert", N.vmalert_rules_path("support-chatbot"))):
        group = next(g for g in yaml.safe_load(outputs[path])["groups"] if g["name"].endswith("api-success"))
        found[fmt] = {r["record"]: r["expr"] for r in group["rules"] if "record" in r}
        found[fmt]["absent"] = next(r["expr"] for r in group["rules"] if r.get("alert") == N.ALERT_NO_DATA)
    return found


def narrowed(expr: str, feature: str) -> str:
    """The generated expression for one feature (each scenario has its own)."""
    wide = 'feature=~"order_agent|support_chat"'
    assert wide in expr, expr
    return expr.replace(wide, f'feature="{feature}"')


def ratio_query(exprs: dict[str, str], window: str, feature: str) -> str:
    bad = narrowed(exprs[N.slo_bad_rate(window)], feature)
    total = narrowed(exprs[N.slo_total_rate(window)], feature)
    return f"({bad})\n/\n({total})"


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    work = tmp_path_factory.mktemp("metricsql")
    end = (int(time.time()) - 600) // 60 * 60   # well past VictoriaMetrics' latency offset
    start, outage = end - HISTORY_S, end - OUTAGE_S
    om, lines = OpenMetricsFile(), []

    def counter(labels: dict[str, str], rate_at, first: int) -> None:
        total, points = 0.0, []
        for t in range(first, end + 1, STEP):
            total += rate_at(t) * STEP
            points.append((t, total))
        om.counter("llm_requests_total", labels, points)
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines.extend(f"llm_requests_total{{{text}}} {v:.9g} {t * 1000}" for t, v in points)

    def errors(t: int) -> float:
        return OUTAGE_ERRORS if t > outage else 0.0

    base = {"model": "sim-large", "provider": "simulated", "tenant": "tenant-1"}
    # 1: errors only from the outage on (the error series appears with it).
    counter({**base, "feature": FEATURES["new"], "status": "ok"}, lambda t: TRAFFIC * (1 - errors(t)), start)
    counter({**base, "feature": FEATURES["new"], "status": "server_error"}, lambda t: TRAFFIC * errors(t),
            outage + STEP)
    # 2: a baseline of errors before it.
    counter({**base, "feature": FEATURES["existing"], "status": "ok"},
            lambda t: TRAFFIC * (1 - max(errors(t), BASELINE_ERRORS)), start)
    counter({**base, "feature": FEATURES["existing"], "status": "server_error"},
            lambda t: TRAFFIC * max(errors(t), BASELINE_ERRORS), start)
    # 3 and 4: recorded 5m rates as the rules write them every minute; the error rate steps up at the outage,
    # and a second SLO's series stops GAUGE_STOP_S before the end.
    ids = {"service": "support-chatbot", "slo": "api-success"}
    gone = {"service": "support-chatbot", "slo": "gone"}
    bad = [(t, TRAFFIC * (OUTAGE_ERRORS if t > outage else BASELINE_ERRORS)) for t in range(start, end + 1, 60)]
    stopped = [(t, TRAFFIC) for t in range(start, end - GAUGE_STOP_S + 1, 60)]
    for name, labels, points in ((N.slo_bad_rate("5m"), ids, bad), (N.slo_total_rate("5m"), gone, stopped)):
        om.gauge(name, labels, points)
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines.extend(f"{name}{{{text}}} {v:.9g} {t * 1000}" for t, v in points)

    data = work / "prometheus" / "data"
    data.mkdir(parents=True)
    backfill(om, work, data)
    with PrometheusServer({"global": {"scrape_interval": "1m"}}, work / "prometheus") as prom, \
            VictoriaMetricsServer(work / "vm") as vm:
        vm.import_prometheus("\n".join(lines) + "\n")
        yield {"prometheus": prom.url, "victoriametrics": vm.url}, start, outage, end


def instant(url: str, expr: str, at: int) -> float | None:
    params = {"query": expr, "time": at, "step": VMALERT_STEP, "nocache": "1"}
    body = httpx.get(f"{url}/api/v1/query", params=params, timeout=30).json()
    assert body["status"] == "success", f"{expr}: {body}"
    result = body["data"]["result"]
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def first_page(url: str, exprs: dict[str, str], feature: str, outage: int, end: int) -> float | None:
    """Minutes after the outage start at which both page windows are over the threshold (evaluated every minute)."""
    long_q, short_q = ratio_query(exprs, "1h", feature), ratio_query(exprs, "5m", feature)
    for at in range(outage + 60, end + 1, 60):
        long_r, short_r = instant(url, long_q, at), instant(url, short_q, at)
        if long_r is not None and short_r is not None and long_r > THRESHOLD and short_r > THRESHOLD:
            return (at - outage) / 60
    return None


def test_rate_of_a_series_born_in_the_window(engines):
    urls, _, outage, end = engines
    exprs = expressions()
    prom = first_page(urls["prometheus"], exprs["plain"], FEATURES["new"], outage, end)
    prom_vm_format = first_page(urls["prometheus"], exprs["vmalert"], FEATURES["new"], outage, end)
    vm_plain = first_page(urls["victoriametrics"], exprs["plain"], FEATURES["new"], outage, end)
    vm_format = first_page(urls["victoriametrics"], exprs["vmalert"], FEATURES["new"], outage, end)
    at = outage + 10 * 60
    ratios = {name: instant(urls[engine], ratio_query(exprs[fmt], "1h", FEATURES["new"]), at)
              for name, engine, fmt in (("prometheus", "prometheus", "plain"),
                                        ("vm plain", "victoriametrics", "plain"),
                                        ("vm vmalert format", "victoriametrics", "vmalert"))}
    print(f"\nerror series born with a 10% outage: page after {prom} min (Prometheus), {prom_vm_format} min "
          f"(Prometheus, vmalert file), {vm_plain} min (VictoriaMetrics, plain rules), {vm_format} min "
          f"(VictoriaMetrics, vmalert file); 1h error ratio 10 min into it: {ratios}")
    # The workbook's detection time: 14.4 x 0.5% x 60 min / 10% = 43.2 min (sampled every minute).
    assert prom == 44 and prom_vm_format == prom
    assert vm_plain is not None and vm_plain <= 2, "MetricsQL's rate() no longer reads a new series' age"
    assert vm_format is not None and abs(vm_format - prom) <= 1
    # 10 minutes in, the true 1h ratio is 10% x 10/60; MetricsQL's plain rate reads most of the outage's 10%.
    assert ratios["prometheus"] == pytest.approx(OUTAGE_ERRORS / 6, rel=0.02)
    assert ratios["vm plain"] > 5 * ratios["prometheus"]
    assert ratios["vm vmalert format"] == pytest.approx(ratios["prometheus"], rel=0.02)


def test_rate_of_a_series_that_existed_before(engines):
    urls, _, outage, end = engines
    exprs = expressions()
    found = {(engine, fmt): first_page(urls[engine], exprs[fmt], FEATURES["existing"], outage, end)
             for engine in urls for fmt in exprs}
    print(f"\nerror series with a 0.1% baseline, then a 10% outage: page after (minutes) {found}")
    prom = found[("prometheus", "plain")]
    assert prom is not None and 42 <= prom <= 45
    assert all(v is not None and abs(v - prom) <= 1 for v in found.values()), found


def test_derived_windows_are_left_open(engines):
    urls, _, outage, end = engines
    exprs = expressions()
    expr = exprs["plain"][N.slo_bad_rate("6h")]
    assert exprs["vmalert"][N.slo_bad_rate("6h")] == expr, "derived windows are not rewritten"
    diffs = []
    for at in range(outage, end + 1, 300):
        prom, vm = instant(urls["prometheus"], expr, at), instant(urls["victoriametrics"], expr, at)
        assert prom and vm
        diffs.append(abs(vm - prom) / prom)
    # One sample a minute: the closed range holds one sample more (61 against 60 in 1h).
    count = f'count_over_time({N.slo_bad_rate("5m")}{{service="support-chatbot", slo="api-success"}}[1h])'
    counts = instant(urls["prometheus"], count, end), instant(urls["victoriametrics"], count, end)
    print(f"\n6h average of the recorded 5m rate: largest relative difference {max(diffs):.3e}; samples in a 1h "
          f"range (Prometheus 2, VictoriaMetrics): {counts}")
    assert counts == (61, 60)
    # The sample at t - 6h is the old baseline: dropping it moves the average by about a 360th of the step.
    assert 1e-4 < max(diffs) < 0.01


def test_absent_after_a_recorded_series_stops(engines):
    urls, _, _, end = engines
    exprs = expressions()
    expr = exprs["plain"]["absent"].replace('slo="api-success"', 'slo="gone"')
    assert exprs["vmalert"]["absent"] == exprs["plain"]["absent"]
    last = end - GAUGE_STOP_S
    first = {}
    for name, url in urls.items():
        for at in range(last, end + 1, 30):
            if instant(url, expr, at) == 1:
                first[name] = at - last
                break
    print(f"\nabsent() after the last sample (1m samples, no staleness marker, query step {VMALERT_STEP}): "
          f"first 1 after {first} seconds")
    # Prometheus: its 5m lookback (a stale marker would make it immediate).
    assert 270 <= first["prometheus"] <= 330
    assert "victoriametrics" in first
