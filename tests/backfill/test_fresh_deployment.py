"""A fresh deployment onto weeks of raw history: a short blip soon after must not alert, the budget must read true.

Two real Prometheus 2.42 servers start from copies of one TSDB holding 14 days
of raw `llm_requests_total` (10 calls/s, 0.02% errors; backfilled with promtool
from OpenMetrics), load the generated rules of a 99.9% / 30d SLO at that
instant and scrape the continuation of the same counters from a tiny exporter.
One of them gets `slokit backfill` right after its first evaluation, the other
(the control: today's deployment without the step) does not. Then one minute
at 20% errors. Test intervals, for wall time: scrape 2s, rule evaluation 10s
(the backfill evaluates at the group's interval, so history and live samples
weigh alike); the blip and 5 minutes after it are watched in real time, since
a 5m rate holds a blip for 5 minutes (about 7 minutes in all).

Expected, by hand (burn = error ratio / 0.1%; baseline burn 0.2):
- the 120 bad calls of the blip diluted over a full window: 6h 0.56, 1d 0.14,
  3d 0.05 above the baseline; raw 2h 1.67, 30m 6.7, 1h 3.3, 5m 40.
  Backfilled: no tier has both windows over its factor (6h/30m: 0.76 < 6;
  3d/6h: 0.25 and 0.76 < 1; 1d/2h: 0.34 < 3; 1h/5m: 3.5 < 14.4).
  The control's derived windows hold minutes only, so 3d/6h tickets and 6h/30m pages.
- budget left from the raw counters: 1 - (2419 + 96) / 12.1M / 0.1% = 0.79; the
  backfilled record must read within 0.01 of it, the control reads far below 0.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from support.fixtures import REPO_ROOT, generate, slokit_argv
from support.openmetrics import OpenMetricsFile, backfill, counter_points
from support.prometheus import PromClient, PrometheusServer, prometheus_config
from support.wait import wait_until

from .exporter import LABELS, Exporter, Requests

DAY = 86400
HISTORY_DAYS = 14
RATE = 10.0
BASELINE = 0.0002
BLIP_RATIO = 0.2
BLIP_S = 60
WATCH_AFTER_S = 5 * 60 + 20  # the blip leaves the 5m rate after 5 minutes; one evaluation more
BUDGET_TOLERANCE = 0.01  # of the budget; the recorded and raw forms differ by rate extrapolation only
SEL = 'service="fresh", slo="api-success"'

SPEC = """\
version: 1
service: fresh
description: A service that gets slokit after weeks in production.
owner: fresh-team
scope:
  feature: [support_chat]
slos:
  - name: api-success
    description: Calls without a server error.
    objective: 99.9
    window: 30d
    sli:
      ratio:
        bad:
          metric: llm_requests_total
          match: {status: [server_error, timeout]}
        total:
          metric: llm_requests_total
"""

RAW_BUDGET = (f"1 - (sum(rate(llm_requests_total{{status=\"server_error\"}}[30d])) / "
              f"sum(rate(llm_requests_total[30d]))) / 0.001")


def history(requests: Requests, exporter: Exporter, end: int) -> OpenMetricsFile:
    """The raw counters as Prometheus would have scraped them (same job and instance), every minute."""
    om = OpenMetricsFile()
    times = list(range(int(requests.t0) + 60, end, 60))
    scraped = {**LABELS, "job": "app", "instance": exporter.address}
    om.counter("llm_requests_total", {**scraped, "status": "ok"},
               counter_points(times, lambda t: requests.rate * (1 - requests.ratio), int(requests.t0)))
    om.counter("llm_requests_total", {**scraped, "status": "server_error"},
               counter_points(times, lambda t: requests.rate * requests.ratio, int(requests.t0)))
    return om


def burn_alerts(client: PromClient) -> set[tuple[str, str]]:
    return {(a["labels"].get("long_window", ""), a["labels"].get("severity", "")) for a in client.alerts()
            if a["labels"].get("alertname") == "SLOErrorBudgetBurn"}


def test_fresh_deployment_with_backfill_neither_alerts_on_a_blip_nor_reads_a_low_budget(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "fresh.yaml").write_text(SPEC)
    shutil.copy(REPO_ROOT / "slos" / "catalog.yaml", specs / "catalog.yaml")
    rules = sorted((generate(tmp_path / "generated", specs) / "alerts").glob("*.rules.yaml"))

    now = int(time.time())
    requests = Requests(t0=now - HISTORY_DAYS * DAY, rate=RATE, ratio=BASELINE)
    servers: dict[str, PrometheusServer] = {}
    with Exporter(requests, clock=time.time) as exporter:
        raw = tmp_path / "raw"
        raw.mkdir()
        backfill(history(requests, exporter, now), tmp_path, raw)
        config = prometheus_config({"app": [exporter.address]}, rules, interval="2s", evaluation_interval="10s")
        try:
            for arm in ("backfilled", "control"):
                workdir = tmp_path / arm
                shutil.copytree(raw, workdir / "data")
                # Rules load now: the deployment instant.
                servers[arm] = PrometheusServer(config, workdir, extra_args=["--storage.tsdb.retention.time=400d"])
                servers[arm].start()
            for server in servers.values():
                wait_until(lambda s=server: s.client.query(f"slo:total_events:rate5m{{{SEL}}}"), 60,
                           what="the first evaluation of the rules")
            deployed = time.time()

            done = subprocess.run([*slokit_argv(), "backfill", str(specs), "--prometheus", servers["backfilled"].url,
                                   "--data-dir", str(tmp_path / "backfilled" / "data")],
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"slokit backfill failed:\n{done.stdout}\n{done.stderr}"
            for record in ("slo:total_events:rate5m", "slo:bad_events:rate5m"):
                assert f"slokit-fresh-api-success: {record}" in done.stdout, done.stdout
            backfilled = servers["backfilled"].client
            # 14 days at the group's 10s: the recorded base rate now reaches back as far as the raw counters.
            for record in ("slo:total_events:rate5m", "slo:bad_events:rate5m"):
                history_samples = float(backfilled.query(
                    f"count_over_time({record}{{{SEL}}}[{HISTORY_DAYS + 1}d])")[0]["value"][1])
                assert history_samples > 0.99 * HISTORY_DAYS * DAY / 10, (record, done.stdout)

            blip = time.time()
            requests.blip_ratio, requests.blip_start, requests.blip_end = BLIP_RATIO, blip, blip + BLIP_S
            seen: dict[str, set[tuple[str, str]]] = {arm: set() for arm in servers}
            while time.time() < blip + BLIP_S + WATCH_AFTER_S:
                for arm, server in servers.items():
                    seen[arm] |= burn_alerts(server.client)
                time.sleep(2)

            budgets = {arm: float(s.client.query(f"slo:error_budget_remaining:ratio{{{SEL}}}")[0]["value"][1])
                       for arm, s in servers.items()}
            raw_budget = float(backfilled.query(RAW_BUDGET)[0]["value"][1])
            peaks = {window: float(backfilled.query(
                f"max_over_time(slo:burn_rate:rate{window}{{{SEL}}}[{BLIP_S + WATCH_AFTER_S}s])")[0]["value"][1])
                for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")}
            measured = (f"deployed {blip - deployed:.0f}s before the blip; alerts seen {seen}; budget left "
                        f"{budgets}, raw counters {raw_budget:.4f}; peak burn rates with backfill {peaks}")
            print(measured)

            # The control shows the scenario bites: without the history the blip tickets and the budget reads low.
            assert ("3d", "ticket") in seen["control"], measured
            assert budgets["control"] < raw_budget - 0.5, measured
            # With the deployment step: no tier, and the budget the raw counters give.
            assert seen["backfilled"] == set(), measured
            assert abs(budgets["backfilled"] - raw_budget) <= BUDGET_TOLERANCE, measured
            assert 0.75 < raw_budget < 0.83, measured
        finally:
            for server in servers.values():
                server.stop()
