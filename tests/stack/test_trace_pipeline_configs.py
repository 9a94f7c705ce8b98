"""Tempo, the OpenTelemetry Collector and Grafana do not run here (no Docker
engine, no binaries), so their configs are checked as far as a test can:

- every key path used is one the pinned version documents (the lists below
  cite their source; a key outside them fails until someone checks the docs);
- the values the issue and DOMAIN.md prescribe (OTLP receivers, local
  storage, metrics generator with exemplars, the tail-sampling policies);
- cross-file wiring: ports and hostnames agree between the app, the
  Collector, Tempo, Prometheus, the compose file and the generated Grafana
  provisioning;
- the span attributes and statuses the sampling policies read are the ones
  the demo app really emits (the app runs in-process with an in-memory span
  exporter).

Not verified: that Tempo 2.6.1 / otelcol-contrib 0.111.0 / Grafana 11.3.0
accept the files at start-up, and any runtime behaviour of the three.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from slokit_app.app import create_app
from slokit_app.config import Settings
from support.compose import compose_config

REPO = Path(__file__).resolve().parents[2]
TEMPO = REPO / "stack" / "tempo" / "tempo.yaml"
COLLECTOR = REPO / "stack" / "otel-collector" / "config.yaml"

# Key paths of Tempo 2.x's configuration reference that this stack uses
# (https://grafana.com/docs/tempo/v2.6.x/configuration/ and its manifest).
# `[]` marks a list item.
TEMPO_DOCUMENTED = {
    "server", "server.http_listen_port", "server.grpc_listen_port", "server.log_level",
    "usage_report", "usage_report.reporting_enabled",
    "distributor", "distributor.receivers", "distributor.receivers.otlp", "distributor.receivers.otlp.protocols",
    "distributor.receivers.otlp.protocols.grpc", "distributor.receivers.otlp.protocols.grpc.endpoint",
    "distributor.receivers.otlp.protocols.http", "distributor.receivers.otlp.protocols.http.endpoint",
    "ingester", "ingester.max_block_duration",
    "compactor", "compactor.compaction", "compactor.compaction.block_retention",
    "metrics_generator", "metrics_generator.registry", "metrics_generator.registry.external_labels",
    "metrics_generator.processor", "metrics_generator.processor.span_metrics",
    "metrics_generator.processor.span_metrics.dimensions", "metrics_generator.processor.service_graphs",
    "metrics_generator.processor.service_graphs.dimensions",
    "metrics_generator.storage", "metrics_generator.storage.path", "metrics_generator.storage.remote_write",
    "metrics_generator.storage.remote_write[].url", "metrics_generator.storage.remote_write[].send_exemplars",
    "storage", "storage.trace", "storage.trace.backend", "storage.trace.wal", "storage.trace.wal.path",
    "storage.trace.local", "storage.trace.local.path",
    "overrides", "overrides.defaults", "overrides.defaults.metrics_generator",
    "overrides.defaults.metrics_generator.processors",
}
# Maps whose keys are the user's (label names), not config keys.
TEMPO_FREE_FORM = {"metrics_generator.registry.external_labels"}
TEMPO_PROCESSORS = {"service-graphs", "span-metrics", "local-blocks"}

# Component types of the otelcol-contrib 0.111.0 distribution used here, and
# the tail_sampling processor's documented keys and policy types
# (processor/tailsamplingprocessor/README.md and config.go at v0.111.0).
COLLECTOR_TOP_LEVEL = {"receivers", "processors", "exporters", "extensions", "connectors", "service"}
COLLECTOR_COMPONENTS = {"receivers": {"otlp"}, "processors": {"memory_limiter", "tail_sampling", "batch"},
                        "exporters": {"otlp"}, "extensions": {"health_check"}}
TAIL_SAMPLING_KEYS = {"decision_wait", "num_traces", "expected_new_traces_per_sec", "policies", "decision_cache"}
POLICY_TYPES = {"always_sample", "latency", "numeric_attribute", "probabilistic", "status_code", "string_attribute",
                "trace_state", "rate_limiting", "span_count", "boolean_attribute", "ottl_condition", "and",
                "composite", "drop"}


def key_paths(node: Any, prefix: str = "", free_form: frozenset[str] = frozenset()) -> Iterator[str]:
    if isinstance(node, dict) and prefix not in free_form:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from key_paths(value, path, free_form)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                yield from key_paths(item, prefix + "[]", free_form)


def port(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture(scope="module")
def tempo() -> dict:
    return yaml.safe_load(TEMPO.read_text())


@pytest.fixture(scope="module")
def collector() -> dict:
    return yaml.safe_load(COLLECTOR.read_text())


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> dict:
    return compose_config(tmp_path_factory.mktemp("compose")).config["services"]


# -- Tempo --------------------------------------------------------------------


def test_tempo_uses_documented_keys_only(tempo):
    unknown = sorted(set(key_paths(tempo, free_form=frozenset(TEMPO_FREE_FORM))) - TEMPO_DOCUMENTED)
    assert not unknown, f"keys not in the Tempo 2.x reference list (check the docs, then add them): {unknown}"


def test_tempo_otlp_local_storage_metrics_generator(tempo, services):
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    # Tempo >= 2.7 defaults receivers to localhost: inside a container they must listen on all interfaces.
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317" and protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert tempo["storage"]["trace"]["backend"] == "local"
    volume = next(v.split(":")[1] for v in services["tempo"]["volumes"] if v.startswith("tempo-data:"))
    for path in (tempo["storage"]["trace"]["wal"]["path"], tempo["storage"]["trace"]["local"]["path"],
                 tempo["metrics_generator"]["storage"]["path"]):
        assert path.startswith(volume + "/"), f"{path} is not on the tempo-data volume ({volume})"
    processors = tempo["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert set(processors) == {"service-graphs", "span-metrics"} and set(processors) <= TEMPO_PROCESSORS
    (remote,) = tempo["metrics_generator"]["storage"]["remote_write"]
    assert remote == {"url": "http://prometheus:9090/api/v1/write", "send_exemplars": True}
    assert "--web.enable-remote-write-receiver" in services["prometheus"]["command"]


def test_tempo_ports_agree_with_compose(tempo, services):
    http_port = tempo["server"]["http_listen_port"]
    assert any(f":{http_port}/" in part for part in services["tempo"]["healthcheck"]["test"])
    assert [port(p) for p in services["tempo"]["ports"]] == [http_port]
    assert services["tempo"]["image"].startswith("grafana/tempo:2.")


# -- Collector ----------------------------------------------------------------


def test_collector_components_are_documented_defined_and_used(collector):
    assert set(collector) <= COLLECTOR_TOP_LEVEL
    service = collector["service"]
    used = {"extensions": set(service.get("extensions", []))}
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            used.setdefault(kind, set()).update(pipeline.get(kind, []))
    for kind, names in used.items():
        defined = set(collector.get(kind, {}))
        assert names == defined, f"{kind}: used {sorted(names)}, defined {sorted(defined)}"
        for name in names:
            assert name.split("/")[0] in COLLECTOR_COMPONENTS[kind], f"{kind} {name}: not in otelcol-contrib"
    processors = service["pipelines"]["traces"]["processors"]
    # The Collector's guidance: memory_limiter first, batch last; tail sampling needs whole traces, before batching.
    assert processors[0] == "memory_limiter" and processors[-1] == "batch" and "tail_sampling" in processors


def test_tail_sampling_policies_match_domain(collector):
    config = collector["processors"]["tail_sampling"]
    assert set(config) <= TAIL_SAMPLING_KEYS
    assert config["decision_wait"] == "10s"
    policies = {p["name"]: p for p in config["policies"]}
    for policy in policies.values():
        assert policy["type"] in POLICY_TYPES
        assert set(policy) == {"name", "type", policy["type"]}, f"{policy['name']}: config must sit under its type"
    assert policies["errors"]["status_code"] == {"status_codes": ["ERROR"]}
    assert policies["slow"]["latency"] == {"threshold_ms": 5000}
    expensive = policies["expensive"]["numeric_attribute"]
    # numeric_attribute compares integers: the integer micro-dollar attribute, strictly above $0.10.
    assert expensive["key"] == "app.llm.cost_micros" and expensive["min_value"] == 100_001
    assert expensive["max_value"] > 10**9
    assert policies["baseline"]["probabilistic"] == {"sampling_percentage": 1}
    assert len(policies) == 4


def test_collector_wiring(collector, tempo, services):
    exporter = collector["exporters"]["otlp/tempo"]
    grpc = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert exporter["endpoint"] == f"tempo:{port(grpc)}"
    assert exporter["tls"] == {"insecure": True}
    http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    # The app exports OTLP/HTTP to the Collector's HTTP receiver.
    assert services["app"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://otel-collector:{port(http)}"
    assert "otel-collector:8888" in (REPO / "stack" / "prometheus" / "prometheus.yml").read_text()
    assert collector["service"]["telemetry"]["metrics"]["address"].endswith(":8888")
    assert services["otel-collector"]["image"].startswith("otel/opentelemetry-collector-contrib:0.")


def run_app(scenario: str | None, n: int = 60) -> list:
    spans = InMemorySpanExporter()
    settings = Settings(catalog_path=REPO / "slos" / "catalog.yaml", seed=5, admin_token="t")
    app = create_app(settings, span_exporters=[spans], log_stream=io.StringIO())
    client = TestClient(app, client=("127.0.0.1", 50000))
    if scenario:
        assert client.put(f"/admin/scenarios/{scenario}", json={"params": {}},
                          headers={"authorization": "Bearer t"}).status_code == 200
    for i in range(n):
        if i % 2:
            client.post("/v1/chat", json={"message": "Where is my order?", "feature": "order_agent"})
        else:
            client.post("/v1/rag/answer", json={"question": "What is the return policy?"})
    return [s for s in spans.get_finished_spans() if s.parent is None]


def test_the_app_emits_what_the_policies_read():
    """The policies key on attributes and statuses the app really sets."""
    roots = run_app("token_explosion")
    assert roots
    for span in roots:
        micros, usd = span.attributes["app.llm.cost_micros"], span.attributes["app.llm.cost_usd"]
        assert isinstance(micros, int) and micros == round(usd * 1e6)
        assert span.attributes["app.llm.expensive"] == (usd > 0.10)
    expensive = [s for s in roots if s.attributes["app.llm.cost_micros"] >= 100_001]
    assert expensive and all(s.attributes["app.llm.cost_usd"] > 0.10 for s in expensive)
    # The latency policy measures the whole trace: spans are timed on the simulated timeline.
    assert any((s.end_time - s.start_time) / 1e9 > 5 for s in roots)

    failed = run_app("provider_outage", n=10)
    assert failed and all(s.status.status_code is StatusCode.ERROR for s in failed)
    healthy = run_app(None, n=10)
    assert any(s.status.status_code is not StatusCode.ERROR for s in healthy)


# -- Grafana provisioning (generated) -------------------------------------------


def test_generated_provisioning_points_at_the_compose_services(generated, tempo, services):
    datasources = yaml.safe_load((generated / "stack/grafana/provisioning/datasources/slokit.yaml").read_text())
    by_uid = {d["uid"]: d for d in datasources["datasources"]}
    assert set(by_uid) == {"prometheus", "tempo", "alertmanager"}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["tempo"]["url"] == f"http://tempo:{tempo['server']['http_listen_port']}"
    assert by_uid["alertmanager"]["url"] == "http://alertmanager:9093"
    for uid in by_uid:
        assert uid in services
    destinations = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert {d["name"] for d in destinations} >= {"trace_id", "traceID"}
    assert {d["datasourceUid"] for d in destinations} == {"tempo"}


def test_generated_dashboard_provider_reads_the_mounted_dashboards(generated, services):
    providers = yaml.safe_load((generated / "stack/grafana/provisioning/dashboards/slokit.yaml").read_text())
    mount = next(v.split(":")[1] for v in services["grafana"]["volumes"] if v.split(":")[0] == str(REPO / "dashboards"))
    paths = [p["options"]["path"] for p in providers["providers"]]
    assert paths
    for path in paths:
        assert path.startswith(mount + "/") or path == mount, f"{path} is outside the mount {mount}"
        relative = path[len(mount):].lstrip("/")
        assert (generated / "dashboards" / relative).exists(), f"provider path {path}: no such generated file"


def test_provisioning_dollars_are_escaped(generated):
    """Grafana expands $VAR / ${VAR} in provisioning files: every literal `$` must be `$$`."""
    for path in (generated / "stack/grafana/provisioning").rglob("*.yaml"):
        text = path.read_text().replace("$$", "")
        unescaped = re.findall(r".{0,20}\$.{0,20}", text)
        assert not unescaped, f"{path.name}: unescaped $ in {unescaped}"
