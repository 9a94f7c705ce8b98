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

PRESETS = ["litellm", "otel-genai", "vllm"]
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
    assert unknown.returncode == 2 and "bundled presets: litellm, otel-genai, vllm" in unknown.stderr


def test_without_third_party_the_presets_fail_todays_naming_checks(tmp_path):
    """The flag is what lets them in: strip it and the colon, _total and unit checks fire."""
    for name, expected in (("vllm", "contains ':'"), ("litellm", "does not end in _seconds"),
                           ("otel-genai", "does not end in _tokens")):
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
    assert "bundled presets: litellm, otel-genai, vllm" in diags[0].hint
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
