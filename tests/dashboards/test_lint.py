"""Lint rules on the generated dashboards and provisioning (lint.py), and that each rule bites."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from slokit.plan import build_plan
from slokit.project import load_project

from . import lint
from .harness import EXAMPLE, dashboards, example_outputs

PLAN = build_plan(load_project([EXAMPLE]))
OUTPUTS = example_outputs()
DASHBOARDS = dashboards()
PROVISIONING = sorted(p for p in OUTPUTS if p.startswith("stack/grafana/provisioning/"))


@pytest.mark.parametrize("path", sorted(DASHBOARDS))
def test_dashboard_passes_every_rule(path: str) -> None:
    assert lint.all_dashboard_rules(path, OUTPUTS[path], PLAN) == []


@pytest.mark.parametrize("path", PROVISIONING)
def test_provisioning_escapes_dollars(path: str) -> None:
    assert lint.dollars_escaped(OUTPUTS[path]) == []


def test_provisioning_files() -> None:
    assert PROVISIONING == ["stack/grafana/provisioning/dashboards/slokit.yaml",
                            "stack/grafana/provisioning/datasources/slokit.yaml"]


# -- each rule catches what it is for ---------------------------------------

SERVICE = "dashboards/support-chatbot.json"


def _lint(d: dict) -> str:
    return "\n".join(lint.all_dashboard_rules(SERVICE, json.dumps(d), PLAN))


def _copy() -> dict:
    return copy.deepcopy(DASHBOARDS[SERVICE])


def _first(d: dict, kind: str) -> dict:
    return next(p for p in d["panels"] if p["type"] == kind)


def _query(d: dict, title_part: str) -> dict:
    panel = next(p for p in d["panels"] if title_part in p.get("title", ""))
    return panel["targets"][0]


def test_a_second_datasource_variable_is_caught() -> None:
    d = _copy()
    d["templating"]["list"].append({**d["templating"]["list"][0], "name": "ds2"})
    assert "want exactly one named 'datasource'" in _lint(d)


def test_missing_description_unit_and_refid_are_caught() -> None:
    d = _copy()
    ts = _first(d, "timeseries")
    ts["description"] = ""
    del ts["fieldConfig"]["defaults"]["unit"]
    ts["targets"][0]["refId"] = ""
    text = _lint(d)
    assert "no description" in text and "no unit" in text and "without refId" in text


def test_a_datasource_by_name_or_fixed_prometheus_uid_is_caught() -> None:
    d = _copy()
    _first(d, "timeseries")["datasource"] = "Prometheus"
    _first(d, "stat")["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    text = _lint(d)
    assert "is not a {type, uid} ref" in text and "is not {'type': 'prometheus'" in text


def test_import_placeholders_are_caught() -> None:
    d = _copy()
    d["__inputs"] = []
    _first(d, "stat")["targets"][0]["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    text = _lint(d)
    assert "contains __inputs" in text and "${DS_...} placeholder" in text


def test_nulls_and_overlaps_are_caught() -> None:
    d = _copy()
    _first(d, "stat")["interval"] = None
    second = [p for p in d["panels"] if p["type"] == "stat"][1]
    second["gridPos"] = dict(_first(d, "stat")["gridPos"])
    text = _lint(d)
    assert ".interval: null" in text and "overlaps" in text


def test_rate_without_rate_interval_is_caught() -> None:
    d = _copy()
    target = _query(d, "Model calls per second")
    target["expr"] = target["expr"].replace("$__rate_interval", "5m")
    assert "rate() over 0:05:00, not $__rate_interval" in _lint(d)


def test_aggregating_a_counter_before_rate_is_caught() -> None:
    d = _copy()
    target = _query(d, "Model calls per second")
    target["expr"] = 'rate(sum(llm_requests_total{feature=~"$feature", model=~"$model"})[$__rate_interval:])'
    text = _lint(d)
    assert "counter llm_requests_total used without rate()" in text and "a subquery" in text


def test_a_query_ignoring_a_variable_is_caught() -> None:
    d = _copy()
    target = _query(d, "Model calls per second")
    target["expr"] = target["expr"].replace(', model=~"$model"', "")
    assert "llm_requests_total is not filtered by $model" in _lint(d)
    d = _copy()
    table = next(p for p in d["panels"] if p.get("title") == "ttft-under-1s: per feature")
    table["targets"][0]["expr"] = table["targets"][0]["expr"].replace('feature=~"$feature", ', "")
    assert "slo:error_ratio:slo_window is not filtered by $feature" in _lint(d)


def test_an_unescaped_dollar_in_provisioning_is_caught() -> None:
    text = OUTPUTS["stack/grafana/provisioning/datasources/slokit.yaml"].replace("$$__tags", "$__tags")
    assert any("unescaped $" in p for p in lint.dollars_escaped(text))


# -- provisioning content -----------------------------------------------------


def _datasources() -> dict[str, dict]:
    data = yaml.safe_load(OUTPUTS["stack/grafana/provisioning/datasources/slokit.yaml"])
    return {d["uid"]: d for d in data["datasources"]}


def test_datasources_have_fixed_uids_and_links() -> None:
    ds = _datasources()
    assert set(ds) == {"prometheus", "tempo", "alertmanager"}
    prom, tempo, am = ds["prometheus"], ds["tempo"], ds["alertmanager"]
    assert prom["type"] == "prometheus" and prom["isDefault"] is True
    assert tempo["type"] == "tempo" and am["type"] == "alertmanager"
    assert am["jsonData"]["implementation"] == "prometheus"
    assert tempo["jsonData"]["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["jsonData"]["serviceMap"]["datasourceUid"] == "prometheus"
    assert tempo["jsonData"]["tracesToMetrics"]["queries"], "traces-to-metrics has no queries"


def test_exemplars_link_to_tempo_for_both_trace_id_spellings() -> None:
    destinations = _datasources()["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert {(d["name"], d["datasourceUid"]) for d in destinations} == {("trace_id", "tempo"), ("traceID", "tempo")}


def test_trace_to_metrics_queries_use_catalog_metrics() -> None:
    catalog = PLAN.catalog
    for query in _datasources()["tempo"]["jsonData"]["tracesToMetrics"]["queries"]:
        promql = query["query"].replace("$$__tags", 'feature="support_chat"')
        from .harness import metric_name, selectors

        for s in selectors(promql):
            name = metric_name(s) or ""
            assert name in catalog.metrics or name.removesuffix("_bucket") in catalog.metrics, name


def test_dashboard_providers_put_each_service_in_its_folder() -> None:
    providers = yaml.safe_load(OUTPUTS["stack/grafana/provisioning/dashboards/slokit.yaml"])["providers"]
    by_file = {p["options"]["path"].rsplit("/", 1)[1]: p for p in providers}
    assert set(by_file) == {path.split("/", 1)[1] for path in DASHBOARDS}
    for service in PLAN.services:
        provider = by_file[f"{service.service}.json"]
        assert provider["folder"] == service.service
        assert provider["folderUid"] != service.dashboard_uid and len(provider["folderUid"]) <= 40
        assert provider["allowUiUpdates"] is False and provider["type"] == "file"
    assert by_file["slokit-overview.json"]["folder"] == by_file["slokit-cost.json"]["folder"]
    assert len({p["name"] for p in providers}) == len(providers)
    assert len({p["folderUid"] for p in providers}) == len(PLAN.services) + 1


def test_provider_paths_match_the_compose_mount() -> None:
    """The provider reads where stack/docker-compose.yml mounts dashboards/ (when the stack is present)."""
    from .harness import REPO

    compose_file = REPO / "stack" / "docker-compose.yml"
    compose = yaml.safe_load(compose_file.read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    mounts = dict(v.split(":")[:2] for v in volumes if isinstance(v, str) and v.startswith("."))
    providers = yaml.safe_load(OUTPUTS["stack/grafana/provisioning/dashboards/slokit.yaml"])["providers"]
    dashboards_mount = mounts["../dashboards"]
    for provider in providers:
        assert provider["options"]["path"].rsplit("/", 1)[0] == dashboards_mount
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"


def test_datasource_urls_and_scrape_interval_match_the_stack() -> None:
    """Datasource hosts are compose services; Grafana's minimum interval is Prometheus' scrape interval."""
    from urllib.parse import urlparse

    from .harness import REPO

    compose = yaml.safe_load((REPO / "stack" / "docker-compose.yml").read_text())
    for ds in _datasources().values():
        assert urlparse(ds["url"]).hostname in compose["services"], ds["url"]
    prometheus = yaml.safe_load((REPO / "stack" / "prometheus" / "prometheus.yml").read_text())
    assert _datasources()["prometheus"]["jsonData"]["timeInterval"] == prometheus["global"]["scrape_interval"]


def test_tempo_searches_are_scoped_to_the_service() -> None:
    """No Tempo runs here, so the TraceQL is checked as text: one spanset filter, the service's
    features, and the slow / failed / expensive conditions."""
    for service in PLAN.services:
        d = DASHBOARDS[f"dashboards/{service.service}.json"]
        traceql = {p["title"]: p["targets"][0]["query"] for p in d["panels"]
                   if p.get("datasource", {}).get("type") == "tempo"}
        assert set(traceql) == {"Slow LLM calls (traces)", "Failed requests (traces)", "Expensive requests (traces)"}
        features = dict(service.scope)["feature"]
        for title, query in traceql.items():
            assert query.startswith("{ ") and query.endswith(" }") and query.count("{") == 1, query
            assert f'span.app.llm.feature =~ "{"|".join(features)}"' in query, query
        assert "duration > 5s" in traceql["Slow LLM calls (traces)"]
        assert "status = error" in traceql["Failed requests (traces)"]
        assert "span.app.llm.expensive = true" in traceql["Expensive requests (traces)"]
        links = [link["url"] for p in d["panels"] if p.get("title") in ("Total latency", "Errors by kind")
                 for link in p.get("links", [])]
        assert links and all(url.startswith("/explore?") and "${__from}" in url for url in links)
