"""Exemplar links work: the demo app's histograms carry exemplars whose trace id
label is one the provisioned Prometheus datasource links to Tempo, and the
dashboards' exemplar-enabled queries return them from a real Prometheus.

The demo app (prometheus-client, OpenMetrics) labels exemplars `trace_id`;
Tempo's metrics generator writes `traceID`. The datasource lists both, so a
dot on a panel opens the trace whichever wrote the series.
"""

from __future__ import annotations

import time

import httpx
import yaml

from support.prometheus import prometheus_config
from support.wait import wait_until

from .harness import all_queries, example_outputs, promql_of

CALLS = (("/v1/chat", {"message": "Where is my order?", "feature": "support_chat"}),
         ("/v1/chat", {"message": "Refund for order A12345?", "feature": "order_agent"}),
         ("/v1/rag/answer", {"question": "What is the return policy?"}))
ALL = {"datasource": "prometheus", "feature": ".*", "model": ".*", "service": ".*"}


def trace_id_labels() -> set[str]:
    text = example_outputs()["stack/grafana/provisioning/datasources/slokit.yaml"]
    prometheus = next(d for d in yaml.safe_load(text)["datasources"] if d["type"] == "prometheus")
    return {d["name"] for d in prometheus["jsonData"]["exemplarTraceIdDestinations"]}


def test_exemplar_queries_return_exemplars_with_a_linked_trace_id(demo_app, start_prometheus) -> None:
    prom = start_prometheus(prometheus_config({"demo-app": [demo_app.address]}, interval="1s"))
    start = time.time()
    for _ in range(4):
        for path, body in CALLS:
            assert httpx.post(demo_app.url + path, json=body, timeout=30).status_code == 200
    wait_until(lambda: prom.client.query("llm_ttft_seconds_bucket"), 30, what="the first scrape of the app")
    time.sleep(2)  # one more scrape after the last call

    exemplar_queries = [q for q in all_queries() if q.exemplar]
    assert exemplar_queries
    linked = trace_id_labels()
    with_exemplars, problems = set(), []
    for q in exemplar_queries:
        result = prom.client.exemplars(promql_of(q, ALL), start - 60, time.time() + 1)
        for series in result:
            for exemplar in series["exemplars"]:
                if not set(exemplar["labels"]) & linked:
                    problems.append(f"{q.dashboard} {q.panel!r}: exemplar labels {exemplar['labels']} "
                                    f"have none of {sorted(linked)}")
                else:
                    with_exemplars.add((q.dashboard, q.panel))
    assert not problems, "\n".join(problems)
    missing = {(q.dashboard, q.panel) for q in exemplar_queries} - with_exemplars
    assert not missing, f"exemplar-enabled panels without exemplars: {sorted(missing)}"
    assert ("dashboards/support-chatbot.json", "Time to first token") in with_exemplars


def test_the_datasource_links_both_spellings() -> None:
    assert trace_id_labels() == {"trace_id", "traceID"}
