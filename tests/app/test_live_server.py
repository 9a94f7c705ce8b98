"""The real thing: `slokit-demo-app` under uvicorn on a free 127.0.0.1 port,
driven by the load generator over HTTP, scenarios switched on a schedule."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from slokit_app.loadgen import LoadConfig, parse_schedule, run_load

from .helpers import PROMETHEUS_ACCEPT, drain, free_port, sample_sum, stop_process


def _app_command() -> list[str]:
    """The installed console script (beside this interpreter), else the module."""
    beside = os.path.join(os.path.dirname(sys.executable), "slokit-demo-app")
    exe = beside if os.access(beside, os.X_OK) else shutil.which("slokit-demo-app")
    return [exe] if exe else [sys.executable, "-m", "slokit_app"]


def _start_app() -> tuple[subprocess.Popen, str, str] | None:
    """Start the app on a free port; None when it exits early (the port was taken meanwhile)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOKIT_APP_", "OTEL_"))}
    env["SLOKIT_APP_PORT"] = str(port)
    proc = subprocess.Popen(_app_command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        token_line = proc.stderr.readline()
        match = re.search(r"admin token \(shown once\): (\S+)", token_line)
        assert match, token_line
        drain(proc.stderr)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return None
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return proc, url, match.group(1)
            except httpx.HTTPError:
                time.sleep(0.1)
        pytest.fail("the app did not answer /healthz within 30 s")
    except BaseException:
        stop_process(proc)
        raise


@pytest.fixture
def live_app():
    for _ in range(3):
        started = _start_app()
        if started is not None:
            break
    else:
        pytest.fail("the app exited at start three times")
    proc, url, token = started
    try:
        yield url, token
    finally:
        stop_process(proc)


def test_loadgen_drives_the_live_app_through_a_scenario(live_app):
    url, token = live_app
    assert httpx.get(url + "/admin/scenarios").status_code == 401
    config = LoadConfig(url=url, rate=0, duration_s=3.0, concurrency=8, seed=3, admin_token=token,
                        schedule=parse_schedule("1s:provider_outage,2s:none"))
    summary = asyncio.run(run_load(config))
    assert summary.requests > 50
    assert [c.split(":")[0] for c in summary.scenario_changes] == ["1s +provider_outage", "2s none"]
    assert all("HTTP 200" in c for c in summary.scenario_changes)
    assert 0 < summary.errors < summary.requests and summary.ok > 0
    assert set(summary.by_feature) == {"support_chat", "order_agent", "rag_answer"}
    assert summary.spend_usd > 0 and summary.latency_p95_ms >= summary.latency_p50_ms > 0

    resp = httpx.get(url + "/metrics", headers={"accept": PROMETHEUS_ACCEPT})
    assert resp.headers["content-type"].startswith("application/openmetrics-text")
    fams = {f.name: f for f in text_string_to_metric_families(resp.text)}
    assert sample_sum(fams, "llm_requests", "llm_requests_total", status="ok") > 0
    assert sample_sum(fams, "llm_requests", "llm_requests_total", status="server_error") \
        + sample_sum(fams, "llm_requests", "llm_requests_total", status="timeout") > 0
    assert any(s.exemplar for s in fams["llm_requests"].samples)
    assert httpx.get(url + "/admin/scenarios", headers={"authorization": f"Bearer {token}"}).json()["active"] == []


def test_loadgen_cli_prints_a_summary(live_app):
    url, _ = live_app
    out = subprocess.run([sys.executable, "-c", "from slokit_app.loadgen import main; main()", "--url", url,
                          "--rate", "40", "--duration", "1s", "--seed", "1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for word in ("requests", "errors", "p50", "p95", "spend"):
        assert word in out.stdout
    assert re.search(r"requests\s+(\d+)", out.stdout) and int(re.search(r"requests\s+(\d+)", out.stdout).group(1)) > 10


def test_bad_catalog_exits_1_with_a_positioned_message(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("version: 1\nmetrics:\n  llm_x:\n    type: timer\n")
    cmd = _app_command() + ["--catalog", str(path), "--port", str(free_port())]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "SLOKIT_APP_ADMIN_TOKEN": "x"})
    assert out.returncode == 1
    assert f"{path}:" in out.stderr and "Traceback" not in out.stderr


def test_real_prometheus_scrapes_metrics_and_exemplars(live_app, tmp_path):
    """Prometheus 2.42 ingests the OpenMetrics exposition, exemplars included."""
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.fail("prometheus binary not installed (make system-deps)")
    url, _ = live_app
    target = url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: demo-app\n"
                      f"    static_configs: [{{targets: ['{target}']}}]\n")
    port = free_port()
    proc = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--enable-feature=exemplar-storage"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        summary = asyncio.run(run_load(LoadConfig(url=url, rate=0, duration_s=1.0, concurrency=4, seed=9)))
        assert summary.ok > 0
        ok_series, exemplars = [], []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "prometheus exited (port taken or bad config?)"
            try:
                ok_series = httpx.get(api + "/query", params={"query": 'llm_requests_total{status="ok"}'}).json()["data"]["result"]
                now = time.time()
                exemplars = httpx.get(api + "/query_exemplars", params={
                    "query": "llm_ttft_seconds_bucket", "start": now - 300, "end": now + 60}).json()["data"]
            except (httpx.HTTPError, KeyError):
                pass
            if ok_series and exemplars:
                break
            time.sleep(0.2)
        assert ok_series, "Prometheus has no llm_requests_total series"
        assert {s["metric"]["feature"] for s in ok_series} == {"support_chat", "order_agent", "rag_answer"}
        trace_ids = {e["labels"]["trace_id"] for series in exemplars for e in series["exemplars"]}
        assert trace_ids and all(re.fullmatch(r"[0-9a-f]{32}", t) for t in trace_ids)
        created = httpx.get(api + "/query", params={"query": '{__name__=~"llm_.*_created"}'}).json()["data"]["result"]
        assert created == []
    finally:
        stop_process(proc)
