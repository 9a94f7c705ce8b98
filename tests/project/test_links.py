"""Alert links that work at 3am: absolute runbook links from slokit.yaml's base, one runbook per SLO
shared by its alerts, the dashboard link opening the SLO's own panel with the alert's group and a time
range around it, summaries naming the group, descriptions naming the bad events and the error ratio.
Expanded by the real promtool (the generated rule tests assert the annotations as promtool renders them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main
from slokit.plan import build_plan
from slokit.project import load_project

from tests.rules.promtool import run_tests

REPO = Path(__file__).resolve().parents[2]

SPEC = """\
service: shop
owner: shop-team
slos:
  - name: requests
    objective: 99.5
    sli: {ratio: {bad: {metric: llm_requests_total, match: {status: timeout}}, total: {metric: llm_requests_total}}}
    alerting: {page: {runbook_url: https://wiki.example.com/shop/requests}}
  - name: by-feature
    objective: 95
    group_by: [feature]
    sli: {threshold: {metric: llm_ttft_seconds, le: 1}}
"""


def generate(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "repo"
    (root / "slos").mkdir(parents=True)
    shutil.copy(REPO / "slos" / "catalog.yaml", root / "slos" / "catalog.yaml")
    (root / "slos" / "shop.yaml").write_text(SPEC, encoding="utf-8")
    (root / "slokit.yaml").write_text("links: {runbook_base_url: 'https://git.example.com/slos/runbooks/', "
                                      "grafana_url: 'https://grafana.example.com'}\n", encoding="utf-8")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    return root


def alerts_of(root: Path, slo: str) -> list[dict]:
    rules = yaml.safe_load((root / N.rules_path("shop")).read_text(encoding="utf-8"))
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r and r["labels"]["slo"] == slo]


def fired(root: Path) -> list[dict]:
    tests = yaml.safe_load((root / N.rule_tests_path("shop")).read_text(encoding="utf-8"))
    return [a for g in tests["tests"] for t in g.get("alert_rule_test", []) for a in t["exp_alerts"]]


def test_a_routes_runbook_is_the_slos_runbook_and_the_default_is_absolute(tmp_path, monkeypatch):
    root = generate(tmp_path, monkeypatch)
    assert {a["annotations"]["runbook_url"] for a in alerts_of(root, "requests")} == \
        {"https://wiki.example.com/shop/requests"}  # page, ticket and no-data alike
    assert {a["annotations"]["runbook_url"] for a in alerts_of(root, "by-feature")} == \
        {"https://git.example.com/slos/runbooks/shop.md#by-feature"}


def test_the_dashboard_link_opens_the_slos_panel_with_its_group_and_a_time_range(tmp_path, monkeypatch):
    root = generate(tmp_path, monkeypatch)
    plan = build_plan(load_project([root / "slos"]))
    board = json.loads((root / N.service_dashboard_path("shop")).read_text(encoding="utf-8"))
    titles = {p["id"]: p["title"] for p in board["panels"]}
    for slo in plan.services[0].slos:
        assert titles[N.slo_panel_id(slo.name)].startswith(f"{slo.name}: SLI over ")
    variables = {v["name"] for v in board["templating"]["list"]}
    assert "feature" in variables
    # As promtool expands it for an alert that fired: the group's value, and from/to in ms around the alert.
    links = [a["exp_annotations"]["dashboard"] for a in fired(root)
             if a["exp_labels"]["slo"] == "by-feature" and "long_window" in a["exp_labels"]]
    assert links
    for link in links:
        assert link.startswith(f"https://grafana.example.com/d/slokit-shop?viewPanel={N.slo_panel_id('by-feature')}"
                               "&var-feature=")
        params = dict(p.split("=", 1) for p in link.split("?", 1)[1].split("&"))
        assert int(params["from"]) < int(params["to"])
        assert params["var-feature"] in ("support_chat", "order_agent", "rag_answer", "other")


def test_summaries_name_the_group_and_descriptions_the_bad_events_and_error_ratio(tmp_path, monkeypatch):
    root = generate(tmp_path, monkeypatch)
    by_feature = [a for a in fired(root) if a["exp_labels"]["slo"] == "by-feature"
                  and a["exp_labels"]["severity"] in ("page", "ticket") and "long_window" in a["exp_labels"]]
    assert by_feature
    for a in by_feature:
        feature = a["exp_labels"]["feature"]
        assert a["exp_annotations"]["summary"].endswith(f"burning too fast for feature={feature}.")
        description = a["exp_annotations"]["description"]
        assert "Bad events: observations of llm_ttft_seconds > 1 seconds." in description
        assert f"Error ratio over the last {a['exp_labels']['long_window']}: " in description
        assert "against a budget of 5%" in description
    requests = [a for a in alerts_of(root, "requests") if "long_window" in a["labels"]]
    assert all('Bad events: llm_requests_total{status="timeout"}.' in a["annotations"]["description"]
               for a in requests)


def test_promtool_expands_the_links_as_the_tests_expect(tmp_path, monkeypatch):
    root = generate(tmp_path, monkeypatch)
    proc = run_tests(*sorted((root / "alerts" / "tests").glob("*.yaml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
