"""Catalog presets: `slokit catalog preset`, `include:` and its merge rule,
`third_party: true`, and each preset's example SLO repo through validate,
generate, promtool check rules and the generated promtool tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from slokit.presets import apply_includes, load_preset, preset_names, preset_text
from slokit.errors import SlokitError
from slokit.load import read_yaml
from slokit.model import Catalog
from slokit.project import load_project, to_model
from slokit.validate import check_catalog
from support.fixtures import REPO_ROOT, slokit_argv
from support.prometheus import binary

PRESETS = ["litellm", "openlit", "openllmetry", "otel-genai", "vllm"]
EXAMPLES = REPO_ROOT / "docs" / "examples" / "presets"


def slokit(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def write_catalog(tmp_path: Path, text: str) -> tuple[Catalog, object]:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    source = read_yaml(path, "catalog.yaml")
    catalog, errors = to_model(source, Catalog)
    assert not errors, [e.format() for e in errors]
    return catalog, source


def test_bundled_presets_are_listed_printed_and_pass_the_catalog_checks():
    assert preset_names() == PRESETS
    listed = slokit("catalog", "preset")
    assert listed.returncode == 0 and listed.stdout.split() == PRESETS
    for name in PRESETS:
        printed = slokit("catalog", "preset", name)
        assert printed.returncode == 0 and printed.stdout == preset_text(name)
        catalog, source = load_preset(name)
        assert catalog.metrics and not check_catalog(catalog, source), name
    unknown = slokit("catalog", "preset", "nope")
    assert unknown.returncode == 2 and "bundled presets: litellm, openlit, openllmetry, otel-genai, vllm" in unknown.stderr


def test_without_third_party_the_presets_fail_todays_naming_checks(tmp_path):
    """The flag is what lets them in: strip it and the colon, _total and unit checks fire."""
    for name, expected in (("vllm", "contains ':'"), ("litellm", "does not end in _seconds"),
                           ("otel-genai", "does not end in _tokens"),
                           ("openllmetry", "does not end in _tokens"), ("openlit", "does not end in _usd")):
        data = yaml.safe_load(preset_text(name))
        for metric in data["metrics"].values():
            metric.pop("third_party")
        catalog, source = write_catalog(tmp_path, yaml.safe_dump(data))
        messages = [d.message for d in check_catalog(catalog, source)]
        assert any(expected in m for m in messages), (name, messages)


def test_third_party_relaxes_conventions_but_not_the_prometheus_name_grammar(tmp_path):
    base = ("version: 1\nlabels: {}\nmetrics:\n  nginx_ingress_controller_requests:\n    type: counter\n"
            "    unit: requests\n    help: Requests.\n")
    catalog, source = write_catalog(tmp_path, base)
    advice = [d for d in check_catalog(catalog, source) if "does not end in _total" in d.message]
    assert advice and all(d.severity == "warning" for d in advice)  # advice, not an error (unless --strict)
    catalog, source = write_catalog(tmp_path, base + "    third_party: true\n")
    assert not check_catalog(catalog, source)
    path = tmp_path / "bad.yaml"
    path.write_text(base.replace("nginx_ingress_controller_requests", "gen_ai.client.token.usage")
                    + "    third_party: true\n")
    _, errors = to_model(read_yaml(path, "bad.yaml"), Catalog)
    assert errors  # a dotted name is not a Prometheus metric name, third party or not


def test_otel_genai_names_are_the_translated_convention_names():
    """gen_ai.client.operation.duration (unit s) -> gen_ai_client_operation_duration_seconds; {token} adds nothing."""
    catalog, _ = load_preset("otel-genai")
    for name, metric in catalog.metrics.items():
        translated = metric.otel.name.replace(".", "_") + ("_seconds" if metric.unit == "seconds" else "")
        assert name == translated
        assert metric.type == "histogram" and metric.third_party
    assert {"gen_ai_client_operation_duration_seconds", "gen_ai_client_token_usage",
            "gen_ai_server_request_duration_seconds", "gen_ai_server_time_to_first_token_seconds",
            "gen_ai_server_time_per_output_token_seconds"} <= set(catalog.metrics)
    for label in ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_system", "gen_ai_request_model",
                  "gen_ai_response_model", "gen_ai_token_type", "error_type", "server_address"):
        assert label in catalog.labels


# The Prometheus names the OpenTelemetry Prometheus exporter writes for each
# instrument's name and unit (the unit is what makes OpenLLMetry's differ).
SUFFIX = {"s": "_seconds", "1": "", "{token}": "", "USD": "_USD", "token": "_token", "choice": "_choice",
          "time": "_time", "element": "_element"}
THIRD_PARTY_UNITS = {
    "openlit": {"gen_ai.client.operation.duration": "s", "gen_ai.client.token.usage": "{token}",
                "gen_ai.client.operation.time_to_first_chunk": "s", "gen_ai.client.operation.time_per_output_chunk": "s",
                "gen_ai.server.time_to_first_token": "s", "gen_ai.server.time_per_output_token": "s",
                "gen_ai.server.request.duration": "s", "gen_ai.usage.cost": "USD", "gen_ai.total.requests": "1",
                "gen_ai.usage.input_tokens": "1", "gen_ai.usage.output_tokens": "1",
                "gen_ai.usage.reasoning_tokens": "1"},
    "openllmetry": {"gen_ai.client.operation.duration": "s", "gen_ai.client.token.usage": "token",
                    "gen_ai.server.time_to_first_token": "s", "llm.chat_completions.streaming_time_to_generate": "s",
                    "gen_ai.client.generation.choices": "choice", "llm.openai.chat_completions.exceptions": "time",
                    "llm.openai.embeddings.exceptions": "time", "llm.openai.image_generations.exceptions": "time",
                    "llm.openai.embeddings.vector_size": "element"},
}


@pytest.mark.parametrize("preset", sorted(THIRD_PARTY_UNITS))
def test_instrumentation_presets_name_what_the_exporter_writes(preset):
    """Each OpenLIT / OpenLLMetry instrument, translated by its unit: exactly the preset's metrics."""
    catalog, _ = load_preset(preset)
    expected = {}
    for otel_name, unit in THIRD_PARTY_UNITS[preset].items():
        counter = unit in ("1", "choice", "time", "element")
        expected[otel_name.replace(".", "_") + SUFFIX[unit] + ("_total" if counter else "")] = otel_name
    assert {name: metric.otel.name for name, metric in catalog.metrics.items()} == expected
    for name, metric in catalog.metrics.items():
        assert metric.third_party and metric.type == ("counter" if name.endswith("_total") else "histogram"), name
        for label in metric.labels:
            assert label in catalog.labels, (name, label)


def test_openllmetry_differs_from_otel_genai_where_its_source_does():
    ours, _ = load_preset("openllmetry")
    semconv, _ = load_preset("otel-genai")
    # No bucket advice in OpenLLMetry: the SDK's defaults, not the conventions' boundaries.
    assert ours.metrics["gen_ai_client_operation_duration_seconds"].buckets[:3] == [0, 5, 10]
    assert semconv.metrics["gen_ai_client_operation_duration_seconds"].buckets[0] == 0.01
    assert "gen_ai_client_token_usage" not in ours.metrics and "gen_ai_client_token_usage" in semconv.metrics
    assert ours.metrics["llm_openai_chat_completions_exceptions_time_total"].labels == ["error_type"]


def test_openlit_replaces_otel_genai_rather_than_joining_it(tmp_path):
    """The shared names carry OpenLIT's labels: including both is an error at the include line, not a silent pick."""
    catalog, source = write_catalog(tmp_path, "version: 1\ninclude: [otel-genai, openlit]\n")
    _, diags = apply_includes(catalog, source)
    messages = [d.message for d in diags]
    assert "presets 'otel-genai' and 'openlit' define metric gen_ai_client_operation_duration_seconds differently" \
        in messages, messages
    merged, diags = apply_includes(*write_catalog(tmp_path, "version: 1\ninclude: [openlit]\n"))
    assert not diags and {"gen_ai_usage_cost_USD", "gen_ai_total_requests_total"} <= set(merged.metrics)


def test_include_adds_the_preset_and_the_users_entries_win(tmp_path):
    catalog, source = write_catalog(tmp_path, (
        "version: 1\ninclude: [otel-genai]\nlabels:\n  gen_ai_request_model:\n    values: [gpt-4o, other]\n"
        "metrics:\n  app_requests_total:\n    type: counter\n    unit: requests\n    help: Requests.\n"))
    merged, diags = apply_includes(catalog, source)
    assert not diags
    assert merged.labels["gen_ai_request_model"].values == ["gpt-4o", "other"]  # the user's, not the cap of 50
    assert merged.labels["gen_ai_token_type"].values == ["input", "output"]  # from the preset
    assert {"app_requests_total", "gen_ai_client_token_usage"} <= set(merged.metrics)
    assert not check_catalog(merged, source)


def test_include_errors_are_positioned(tmp_path):
    catalog, source = write_catalog(tmp_path, "version: 1\ninclude: [vllm, otel-genaii, vllm]\n")
    _, diags = apply_includes(catalog, source)
    assert [(d.line, d.message) for d in diags] == [(2, "unknown preset 'otel-genaii'"),
                                                    (2, "preset 'vllm' is included twice")]
    assert "bundled presets: litellm, openlit, openllmetry, otel-genai, vllm" in diags[0].hint
    # Two presets that define one name differently: an error, neither wins.
    vllm, vllm_source = load_preset("vllm")
    other = vllm.model_copy(update={"labels": {**vllm.labels, "engine": vllm.labels["model_name"]}})
    loaders = {"a": (vllm, vllm_source), "b": (other, vllm_source)}
    catalog, source = write_catalog(tmp_path, "version: 1\ninclude: [a, b]\n")
    _, diags = apply_includes(catalog, source, known=["a", "b"], loader=loaders.__getitem__)
    assert [d.message for d in diags] == ["presets 'a' and 'b' define label engine differently"]
    # ... unless the catalog itself defines it.
    catalog, source = write_catalog(tmp_path, "version: 1\ninclude: [a, b]\nlabels:\n  engine:\n"
                                              "    max_cardinality: 4\n")
    merged, diags = apply_includes(catalog, source, known=["a", "b"], loader=loaders.__getitem__)
    assert not diags and merged.labels["engine"].max_cardinality == 4


def test_a_project_with_an_unknown_include_fails_validate(tmp_path):
    (tmp_path / "catalog.yaml").write_text("version: 1\ninclude: [nope]\n")
    (tmp_path / "svc.yaml").write_text((EXAMPLES / "vllm" / "vllm-serving.yaml").read_text())
    result = slokit("validate", str(tmp_path))
    assert result.returncode == 1 and "catalog.yaml:2:11: unknown preset 'nope'" in result.stderr
    with pytest.raises(SlokitError):
        load_project([tmp_path])


@pytest.mark.parametrize("preset", PRESETS)
def test_example_repo_validates_generates_and_passes_promtool(preset, tmp_path):
    example = EXAMPLES / preset
    assert yaml.safe_load((example / "catalog.yaml").read_text())["include"] == [preset]
    project = load_project([example])
    assert len(project.services) == 1 and project.services[0].spec.slos
    generated = slokit("generate", str(example), "--out", str(tmp_path / "out"))
    assert generated.returncode == 0, generated.stderr
    rules = sorted((tmp_path / "out" / "alerts").glob("*.rules.yaml"))
    assert len(rules) == 1
    check = subprocess.run([binary("promtool"), "check", "rules", str(rules[0])], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0 and "SUCCESS" in check.stdout, check.stdout + check.stderr
    text = rules[0].read_text()
    assert any(name in text for name in load_preset(preset)[0].metrics)  # the rules query the preset's own names
    tested = slokit("test", str(tmp_path / "out" / "alerts" / "tests"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
