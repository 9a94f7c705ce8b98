"""The real-process fixtures of tests/support work together: the demo app is
scraped by Prometheus, a rule fires, Alertmanager delivers it to the webhook,
and everything is stopped afterwards."""

from __future__ import annotations

import httpx
import pytest
import yaml

from support.prometheus import PrometheusError, prometheus_config
from support.wait import wait_until
from support.webhook import labels_match


def test_app_prometheus_alertmanager_webhook_chain(tmp_path, demo_app, webhook, start_prometheus, start_alertmanager):
    am = start_alertmanager({
        "route": {"receiver": "hook", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "1s"},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": webhook.url, "send_resolved": True}]}],
    })
    rules = tmp_path / "smoke.rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "smoke", "rules": [
        {"alert": "AppUp", "expr": 'up{job="demo-app"} == 1', "labels": {"severity": "ticket"}}]}]}))
    prom = start_prometheus(prometheus_config({"demo-app": [demo_app.address]}, [rules], am.address))

    assert httpx.post(demo_app.url + "/v1/chat", json={"message": "Where is my order?"}).status_code == 200
    wait_until(lambda: prom.client.value('sum(llm_requests_total)'), 30, what="llm_requests_total scraped")
    _, alert = webhook.wait_for_alert(labels_match(alertname="AppUp", status="firing"), 30)
    assert alert["labels"]["severity"] == "ticket"
    assert demo_app.activate("provider_outage")["active"]
    assert demo_app.clear()["active"] == []

    with pytest.raises(PrometheusError):
        prom.client.query("sum(")

    processes = [demo_app.process, prom.process, am.process]
    for proc in processes:
        assert proc.running()
    prom.stop(), am.stop(), demo_app.stop()
    assert not any(proc.running() for proc in processes)
