"""`slokit push rules`: a local server implementing the documented Mimir ruler API (Mimir does not
run here), and a real Prometheus for --prometheus-reload."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main
from tests.dashboards.harness import EXAMPLE
from tests.support.fake_apis import FakeRuler
from tests.support.prometheus import PrometheusServer

SERVICES = ("rag-assistant", "support-chatbot")
FOREIGN = {"name": "team-own-rules", "rules": [{"record": "team:x:sum", "expr": "sum(up)"}]}


@pytest.fixture()
def specs(tmp_path: Path) -> Path:
    target = tmp_path / "slos"
    shutil.copytree(EXAMPLE, target)
    return target


def push(ruler: FakeRuler, specs: Path, *extra: str):
    return CliRunner().invoke(main, ["push", "rules", "--ruler-url", ruler.url + ruler.prefix, "--tenant", "team-a",
                                     "--specs", str(specs), *extra])


def _expected_groups(service: str) -> list[dict]:
    return yaml.safe_load((EXAMPLE.parent / N.rules_path(service)).read_text())["groups"]


def test_groups_land_in_a_namespace_per_service_for_the_tenant(specs: Path) -> None:
    with FakeRuler() as ruler:
        result = push(ruler, specs)
        assert result.exit_code == 0, result.output
        namespaces = ruler.tenants["team-a"]
        for service in SERVICES:
            stored = namespaces[N.mimir_namespace(service)]
            assert sorted(g["name"] for g in stored) == sorted(g["name"] for g in _expected_groups(service))
            assert sorted(stored, key=lambda g: g["name"]) == sorted(_expected_groups(service),
                                                                     key=lambda g: g["name"])
        assert all(r.headers.get("x-scope-orgid") == "team-a" for r in ruler.requests)
        again = push(ruler, specs)
        assert again.exit_code == 0 and "0 created, 0 updated, 0 deleted" in again.output


def test_only_slokits_stale_groups_are_deleted(specs: Path) -> None:
    namespace = N.mimir_namespace("rag-assistant")
    with FakeRuler() as ruler:
        stale = {"name": "slokit-rag-assistant-removed-slo", "rules": [{"record": "slo:x", "expr": "vector(1)"}]}
        ruler.tenants["team-a"] = {namespace: [FOREIGN, stale], "slokit-gone-service": [dict(stale, name="slokit-gone")],
                                   "other-team": [FOREIGN]}
        result = push(ruler, specs)
        assert result.exit_code == 0, result.output
        names = {g["name"] for g in ruler.tenants["team-a"][namespace]}
        assert FOREIGN["name"] in names and stale["name"] not in names
        assert ruler.tenants["team-a"]["slokit-gone-service"] == []
        assert ruler.tenants["team-a"]["other-team"] == [FOREIGN]
        assert f"deleted       rule group {stale['name']} in {namespace}" in result.output


def test_dry_run_writes_nothing(specs: Path) -> None:
    with FakeRuler() as ruler:
        result = push(ruler, specs, "--dry-run")
        assert result.exit_code == 0, result.output
        assert ruler.writes() == []
        assert "would create  rule group slokit-rag-assistant-answer-success in slokit-rag-assistant" in result.output


def test_a_wrong_prefix_and_a_missing_tenant_explain_themselves(specs: Path) -> None:
    with FakeRuler() as ruler:
        wrong = CliRunner().invoke(main, ["push", "rules", "--ruler-url", ruler.url, "--tenant", "t",
                                          "--specs", str(specs)])
        no_tenant = CliRunner().invoke(main, ["push", "rules", "--ruler-url", ruler.url + ruler.prefix,
                                              "--specs", str(specs)])
    assert wrong.exit_code == 1 and "answered 404" in wrong.output and "/prometheus" in wrong.output
    assert no_tenant.exit_code == 1 and "answered 401" in no_tenant.output and "--tenant" in no_tenant.output


def test_prometheus_reload_loads_a_changed_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "slokit.rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "before", "rules": [{"record": "a:b:c", "expr": "1"}]}]}))
    config = {"global": {"evaluation_interval": "1s"}, "rule_files": [str(rules)]}
    with PrometheusServer(config, tmp_path / "prom") as prometheus:
        assert [g["name"] for g in prometheus.client._get("rules")["groups"]] == ["before"]
        rules.write_text(yaml.safe_dump({"groups": [{"name": "after", "rules": [{"record": "a:b:c", "expr": "2"}]}]}))
        result = CliRunner().invoke(main, ["push", "rules", "--prometheus-reload", prometheus.url])
        assert result.exit_code == 0, result.output
        deadline = time.monotonic() + 10
        while [g["name"] for g in prometheus.client._get("rules")["groups"]] != ["after"]:
            assert time.monotonic() < deadline, "reload did not load the new rule file"
            time.sleep(0.2)


def test_reload_of_nothing_listening_is_a_clear_error() -> None:
    from tests.support.ports import free_port

    result = CliRunner().invoke(main, ["push", "rules", "--prometheus-reload", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1 and "cannot connect to the Prometheus" in result.output


def test_source_tenants_of_slokit_yaml_go_with_every_group(specs: Path, monkeypatch) -> None:
    (specs.parent / "slokit.yaml").write_text("version: 1\nspecs: [slos]\nmimir: {source_tenants: [team-a, team-b]}\n",
                                              encoding="utf-8")
    monkeypatch.chdir(specs.parent)
    with FakeRuler() as ruler:
        result = push(ruler, specs)
        assert result.exit_code == 0, result.output
        for service in SERVICES:
            stored = ruler.tenants["team-a"][N.mimir_namespace(service)]
            assert stored and all(g["source_tenants"] == ["team-a", "team-b"] for g in stored)
            assert [{k: v for k, v in g.items() if k != "source_tenants"} for g in sorted(
                stored, key=lambda g: g["name"])] == sorted(_expected_groups(service), key=lambda g: g["name"])
        # The group's own tenant must be a source: the long windows read what the group recorded there.
        writes = len(ruler.writes())
        wrong = CliRunner().invoke(main, ["push", "rules", "--ruler-url", ruler.url + ruler.prefix, "--tenant",
                                          "team-c", "--specs", str(specs)])
        assert wrong.exit_code == 1
        assert "does not list the tenant the rules are loaded into (team-c)" in wrong.output
        assert "Traceback" not in wrong.output and len(ruler.writes()) == writes
