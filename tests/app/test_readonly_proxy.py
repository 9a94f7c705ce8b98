"""The read-only Prometheus front of the compose stack, against a real Prometheus
with the remote-write receiver and the lifecycle API on: reads pass, writes,
reloads and admin calls stop at the proxy (and would have reached Prometheus)."""

from __future__ import annotations

import sys

import httpx
import pytest

from slokit_app.readonly_proxy import allowed

from support.ports import free_port
from support.process import ManagedProcess, http_ok
from support.prometheus import prometheus_config


@pytest.fixture
def prometheus_and_proxy(start_prometheus, tmp_path):
    prom = start_prometheus(prometheus_config({}), extra_args=["--web.enable-remote-write-receiver"])
    port = free_port()
    proxy = ManagedProcess("readonly-proxy", [sys.executable, "-m", "slokit_app.readonly_proxy", "--port", str(port),
                                              "--upstream", prom.url], tmp_path / "proxy.log").start()
    try:
        proxy.wait_ready(http_ok(f"http://127.0.0.1:{port}/-/ready"), 30)
        yield prom.url, f"http://127.0.0.1:{port}"
    finally:
        proxy.stop()


def test_reads_pass_through(prometheus_and_proxy):
    _, proxy = prometheus_and_proxy
    got = httpx.get(proxy + "/api/v1/query", params={"query": "1+1"}, timeout=10).json()
    assert got["status"] == "success" and got["data"]["result"][1] == "2"
    posted = httpx.post(proxy + "/api/v1/query", data={"query": "2*3"}, timeout=10).json()
    assert posted["data"]["result"][1] == "6"
    assert httpx.get(proxy + "/api/v1/status/buildinfo", timeout=10).json()["status"] == "success"
    assert httpx.get(proxy + "/graph", timeout=10, follow_redirects=True).status_code == 200


WRITES = [("POST", "/api/v1/write"), ("PUT", "/api/v1/write"), ("POST", "/-/reload"), ("PUT", "/-/quit"),
          ("POST", "/api/v1/admin/tsdb/snapshot"), ("GET", "/api/v1/admin/tsdb/snapshot"),
          ("POST", "/api/v1/otlp/v1/metrics"), ("DELETE", "/api/v1/series")]


def test_writes_stop_at_the_proxy_though_prometheus_would_take_them(prometheus_and_proxy):
    direct, proxy = prometheus_and_proxy
    for method, path in WRITES:
        resp = httpx.request(method, proxy + path, content=b"\x00garbage", timeout=10)
        assert resp.status_code == 403 and resp.json()["errorType"] == "forbidden", (method, path, resp.text)
    # The 403s are the proxy's doing: behind it the receiver is on (a malformed
    # write is the decoder's 400; 404 when the receiver is off) and so is reload.
    # Enabled receiver: a malformed write is a 400 from the decoder (404 when the receiver is off).
    assert httpx.post(direct + "/api/v1/write", content=b"\x00garbage", timeout=10).status_code == 400
    assert httpx.post(direct + "/-/reload", timeout=10).status_code == 200


def test_allowed_rules():
    assert allowed("GET", "/api/v1/query") and allowed("HEAD", "/") and allowed("POST", "/api/v1/query_range")
    assert not allowed("POST", "/api/v1/write") and not allowed("GET", "/api/v1/admin/tsdb/snapshot")
    assert not allowed("POST", "/api/v1/rules") and not allowed("PATCH", "/api/v1/query")
