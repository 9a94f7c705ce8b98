"""The otel-genai preset against a real, published instrumentation library.

A local fake OpenAI-compatible server (support/fake_openai.py) answers chat
completions, plain and streamed, with usage tokens, fails one model with
HTTP 500, and answers embeddings. Separate processes (support/genai_client.py)
call it through the `openai` client instrumented by the official
OpenTelemetry OpenAI instrumentation (opentelemetry-instrumentation-openai-v2)
and export the metrics with the OpenTelemetry Prometheus exporter on
127.0.0.1: one sends chat completions, one embeddings (in one process the
two paths corrupt each other's labels, see EMBEDDING_MODEL). A real
Prometheus scrapes them every second and evaluates the rules slokit generates
for docs/examples/presets/otel-genai (SLOs written on the preset only).

It shows, with the versions installed (see pyproject.toml's test extras):
- every gen_ai metric the library emits is a preset entry of the same type,
  its labels are preset labels (besides the target labels and the exporter's
  otel_scope_* labels, which SLO rules sum away), its values are within the
  declared values, and its buckets are the preset's;
- which preset entries this library does not emit (asserted exactly, so a new
  library release that starts or stops emitting one fails here and the preset
  gets reviewed);
- `slokit catalog discover --prometheus` finds the same names, types and buckets, and
  prints a snippet that passes the catalog check as it is;
- every recording rule's expression and every dashboard query (variables set
  to All) returns data from that Prometheus.

Everything waits by polling with deadlines (the machine may be loaded), never
by fixed sleeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from dashboards.harness import promql_of, queries
from slokit.catalog.discover import NO_UNIT
from slokit.presets import load_preset
from support.discovered import as_catalog
from support.fake_openai import FakeOpenAI
from support.fixtures import REPO_ROOT, generate, slokit_argv
from support.ports import free_port
from support.process import ManagedProcess, clean_env, http_ok
from support.prometheus import PrometheusError, PrometheusServer, prometheus_config
from support.wait import wait_until

EXAMPLE = REPO_ROOT / "docs" / "examples" / "presets" / "otel-genai"
CLIENT = Path(__file__).resolve().parents[1] / "support" / "genai_client.py"
JOB = "genai-client"
EMBEDDINGS_JOB = "genai-embeddings"
JOBS = f'job=~"{JOB}|{EMBEDDINGS_JOB}"'
EMBEDDING_MODEL = "text-embedding-3-small"
# Why embeddings run in a process of their own: with openai-v2 2.4b0 the chat path records
# through util-genai (scope opentelemetry.util.genai.handler, gen_ai.provider.name) and the
# embeddings path through the instrumentation's own instruments (scope
# opentelemetry.instrumentation.openai_v2, gen_ai.system). When both reach one OpenTelemetry
# Prometheus exporter (0.66b2), it merges the two scopes' points into one family and writes
# label values under the wrong label names (seen here: gen_ai_operation_name="<model>",
# error_type="embeddings"). docs/catalog.md warns about it.
MODELS = ("gpt-4o-mini", "gpt-4.1-nano")
FAILING_MODEL = "overloaded-model"
PROMPT_WORD = "hello"  # a word of the client's prompt: it must never reach a label

# Labels that are not the library's attributes: Prometheus' target labels,
# the classic histogram's bucket label, and the instrumentation scope the
# OpenTelemetry Prometheus exporter adds to every series.
NOT_ATTRIBUTES = {"job", "instance", "le", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}

# What opentelemetry-instrumentation-openai-v2 2.4b0 (with opentelemetry-util-genai
# 1.1b0 and openai 3.x) records for chat completions and embeddings, and what of
# the preset it does not: the server metrics come from GenAI servers; the
# streaming chunk timings are defined by util-genai but not recorded by this
# instrumentation; server.address/server.port are recommended by the conventions
# but absent from this library's metric points. Chat sends gen_ai.provider.name,
# embeddings the pre-1.37 gen_ai.system.
EMITTED = {"gen_ai_client_operation_duration_seconds", "gen_ai_client_token_usage"}
NOT_EMITTED_METRICS = {"gen_ai_client_operation_time_to_first_chunk_seconds",
                       "gen_ai_client_operation_time_per_output_chunk_seconds",
                       "gen_ai_server_request_duration_seconds", "gen_ai_server_time_to_first_token_seconds",
                       "gen_ai_server_time_per_output_token_seconds"}
NOT_EMITTED_LABELS = {
    "gen_ai_client_operation_duration_seconds": {"server_address", "server_port"},
    "gen_ai_client_token_usage": {"server_address", "server_port"},
}

RULES_TIMEOUT = 300
TRAFFIC_TIMEOUT = 180


@dataclass
class Stack:
    prometheus: PrometheusServer
    out: Path
    api: FakeOpenAI
    work: Path


def _client_argv(api: FakeOpenAI, port: int, *calls: str) -> list[str]:
    return [sys.executable, str(CLIENT), "--base-url", api.base_url, "--metrics-port", str(port), *calls]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("otel-library")
    out = generate(work / "out", EXAMPLE)
    rules = sorted((out / "alerts").glob("*.rules.yaml"))
    assert len(rules) == 1, rules
    with FakeOpenAI(failing_models=frozenset({FAILING_MODEL})) as api:
        chat_port, embeddings_port = free_port(), free_port()
        clients = [
            ManagedProcess(JOB, _client_argv(api, chat_port, "--models", ",".join(MODELS), "--failing-model",
                                             FAILING_MODEL), work / "chat-client.log", env=clean_env()),
            ManagedProcess(EMBEDDINGS_JOB, _client_argv(api, embeddings_port, "--embedding-model", EMBEDDING_MODEL),
                           work / "embeddings-client.log", env=clean_env()),
        ]
        try:
            for client, port in zip(clients, (chat_port, embeddings_port)):
                client.start()
                client.wait_ready(http_ok(f"http://127.0.0.1:{port}/metrics"), timeout=120)
            config = prometheus_config({JOB: [f"127.0.0.1:{chat_port}"],
                                        EMBEDDINGS_JOB: [f"127.0.0.1:{embeddings_port}"]},
                                       rule_files=rules, interval="1s")
            with PrometheusServer(config, work / "prometheus") as prom:
                wait_for_traffic(prom, clients)
                yield Stack(prom, out, api, work)
        finally:
            for client in clients:
                client.stop()


def wait_for_traffic(prom: PrometheusServer, clients: list[ManagedProcess]) -> None:
    """Until Prometheus has stored successes of every chat model, the failing
    model's errors, both token types, and embeddings."""
    def ready() -> bool:
        for client in clients:
            assert client.running(), f"{client.name} exited:\n{client.log_tail()}"
        q = prom.client.query
        models = {s["metric"].get("gen_ai_request_model")
                  for s in q(f'gen_ai_client_operation_duration_seconds_count{{job="{JOB}", error_type=""}}')}
        errors = q(f'gen_ai_client_operation_duration_seconds_count{{job="{JOB}", error_type!=""}}')
        tokens = {s["metric"].get("gen_ai_token_type") for s in q(f'gen_ai_client_token_usage_count{{job="{JOB}"}}')}
        embeddings = q(f'gen_ai_client_token_usage_count{{job="{EMBEDDINGS_JOB}"}}')
        return set(MODELS) <= models and bool(errors) and tokens == {"input", "output"} and bool(embeddings)
    wait_until(ready, TRAFFIC_TIMEOUT, interval=1.0, what="the instrumented client's metrics in Prometheus")


def series(prom: PrometheusServer, match: str) -> list[dict[str, str]]:
    return prom.client._get("series", **{"match[]": match})


def family_of(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_the_library_emits_exactly_preset_names_labels_values_and_buckets(stack: Stack):
    preset, _ = load_preset("otel-genai")
    emitted = series(stack.prometheus, f'{{__name__=~"gen_ai_.+", {JOBS}}}')
    labels: dict[str, set[str]] = {}
    values: dict[str, set[str]] = {}
    buckets: dict[str, set[str]] = {}
    suffixes: dict[str, set[str]] = {}
    for s in emitted:
        family = family_of(s["__name__"])
        suffixes.setdefault(family, set()).add(s["__name__"][len(family):])
        labels.setdefault(family, set()).update(k for k in s if k != "__name__" and k not in NOT_ATTRIBUTES)
        for k, v in s.items():
            if k not in NOT_ATTRIBUTES and k != "__name__" and v:
                values.setdefault(k, set()).add(v)
        if "le" in s:
            buckets.setdefault(family, set()).add(s["le"])
    assert set(labels) == EMITTED, f"the library now emits {sorted(labels)}: review the preset"
    for family in EMITTED:
        entry = preset.metrics[family]
        assert entry.type == "histogram" and suffixes[family] == {"_bucket", "_sum", "_count"}, family
        assert labels[family] <= set(entry.labels), f"{family}: labels not in the preset: " \
                                                     f"{sorted(labels[family] - set(entry.labels))}"
        assert set(entry.labels) - labels[family] == NOT_EMITTED_LABELS[family], family
        expected_le = {_le(b) for b in entry.buckets} | {"+Inf"}
        assert buckets[family] == expected_le, f"{family}: buckets {sorted(buckets[family])} != preset"
    assert set(preset.metrics) - EMITTED == NOT_EMITTED_METRICS
    for label, seen in values.items():
        declared = preset.labels[label].values
        if declared:
            assert seen <= set(declared), f"{label}: {sorted(seen - set(declared))} not declared in the preset"
    assert values["gen_ai_operation_name"] == {"chat", "embeddings"}
    assert values["gen_ai_provider_name"] == {"openai"} and values["gen_ai_system"] == {"openai"}
    assert values["gen_ai_request_model"] == set(MODELS) | {FAILING_MODEL, EMBEDDING_MODEL}
    assert values["gen_ai_response_model"] == set(MODELS) | {EMBEDDING_MODEL}  # the failing call has none
    by_job = {(s["job"], s.get("gen_ai_operation_name")) for s in emitted}
    assert by_job == {(JOB, "chat"), (EMBEDDINGS_JOB, "embeddings")}
    assert len(values["error_type"]) == 1 and "InternalServerError" in next(iter(values["error_type"]))
    # The exporter writes otel_scope_version="" for a scope without a version (both scopes here), and
    # Prometheus stores no label with an empty value: the stored series carry only these two.
    scope_labels = {k for s in emitted for k in s if k.startswith("otel_scope_")}
    assert scope_labels == {"otel_scope_name", "otel_scope_schema_url"}, scope_labels
    assert all("otel_scope_name" in s and "otel_scope_schema_url" in s for s in emitted)
    # No prompt text in any label (the instrumentation captures no content by default).
    assert not [s for s in emitted if any(PROMPT_WORD in v for v in s.values())]


def _le(bound: float) -> str:
    """A bucket bound as the OpenTelemetry Prometheus exporter writes `le` (Python's float repr, integers bare)."""
    return str(int(bound)) if float(bound).is_integer() else repr(float(bound))


def test_discover_finds_the_preset_names_types_and_buckets(stack: Stack):
    preset, _ = load_preset("otel-genai")
    result = subprocess.run([*slokit_argv(), "catalog", "discover", "--prometheus", stack.prometheus.url,
                             "--match", f'{{{JOBS}, __name__=~"gen_ai_.+"}}'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (stack.work / "discovered.yaml").write_text(result.stdout)
    # The snippet is a catalog as printed, although the library's error_type value is no valid
    # catalog label value: that label gets a cap, with a comment naming the value and why.
    catalog = as_catalog(result.stdout, stack.work)
    assert catalog.labels["error_type"].values is None and catalog.labels["error_type"].max_cardinality == 10
    assert "#   \"<class 'openai.InternalServerError'>\" contains '<'" in result.stdout
    # Units: the exporter's metadata for seconds; none for {token}, and none guessed from "usage".
    assert catalog.metrics["gen_ai_client_operation_duration_seconds"].unit == "seconds"
    assert catalog.metrics["gen_ai_client_token_usage"].unit == NO_UNIT
    snippet = yaml.safe_load(result.stdout)
    assert set(snippet["metrics"]) == EMITTED
    for name, found in snippet["metrics"].items():
        entry = preset.metrics[name]
        assert found["type"] == entry.type == "histogram", name
        assert found["buckets"] == entry.buckets, name
        assert set(found["labels"]) - NOT_ATTRIBUTES <= set(entry.labels), name
    assert snippet["labels"]["gen_ai_token_type"]["values"] == ["input", "output"]
    assert snippet["labels"]["gen_ai_operation_name"]["values"] == ["chat", "embeddings"]


def test_every_recording_rule_and_dashboard_query_returns_data(stack: Stack):
    prom = stack.prometheus.client
    rules_file = next((stack.out / "alerts").glob("*.rules.yaml"))
    recorded = [(rule["record"], rule["expr"]) for group in yaml.safe_load(rules_file.read_text())["groups"]
                for rule in group["rules"] if "record" in rule]
    assert len(recorded) > 50  # three SLOs' windows, burn rates and budgets

    boards = {path.stem: json.loads(path.read_text()) for path in sorted((stack.out / "dashboards").glob("*.json"))}
    assert {"genai-chat", "slokit-overview"} <= set(boards)
    # No budget is declared, so the cost dashboard has no panels, only its service variable
    # over slo_budget:limit (which nothing records): stated, not silently skipped.
    cost = list(queries("slokit-cost", boards.pop("slokit-cost")))
    assert [q.kind for q in cost] == ["variable"] and "slo_budget:limit" in cost[0].expr
    dashboard_queries = []
    for name, board in boards.items():
        all_values = {v["name"]: ".*" for v in board.get("templating", {}).get("list", []) if v["type"] != "datasource"}
        dashboard_queries += [(f"{name}: {q.kind} {q.panel!r}", promql_of(q, all_values)) for q in queries(name, board)]
    assert len(dashboard_queries) > 40

    pending = {f"record {record}: {expr}": expr for record, expr in recorded}
    pending.update({label: expr for label, expr in dashboard_queries})

    broken: dict[str, str] = {}

    def all_have_data() -> bool:
        for label, expr in list(pending.items()):
            try:
                if prom.query(expr):
                    del pending[label]
            except PrometheusError as exc:  # a PromQL error never heals: report it, do not wait on it
                broken[label] = str(exc)
                del pending[label]
        return not pending

    try:
        wait_until(all_have_data, RULES_TIMEOUT, interval=2.0, what="data in every rule and dashboard query")
    except AssertionError as exc:
        raise AssertionError(f"{len(pending)} queries still return no data:\n" + "\n".join(sorted(pending))) from exc
    assert not broken, broken
