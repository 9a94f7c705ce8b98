"""Every rule file slokit writes passes `promtool check rules`, in every format, for the bundled example
and for a generated family of specs (all SLI kinds x windows 7d/28d/30d x objectives 90..99.99); the
generated promtool unit tests pass and test what they say they test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project

from . import family
from .promtool import check_rules, run_tests

REPO = Path(__file__).resolve().parents[2]


def write(outputs: dict[str, str], root: Path) -> None:
    for rel, text in outputs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def check_every_format(outputs: dict[str, str], root: Path) -> int:
    """promtool check rules on the plain files, and on the groups inside the Operator and Mimir files."""
    write(outputs, root)
    plain = sorted(rel for rel in outputs if rel.endswith(".rules.yaml"))
    assert plain
    report = check_rules(*(root / rel for rel in plain))
    rules = sum(int(line.split()[1]) for line in report.splitlines() if "SUCCESS" in line)
    for rel in plain:
        service = Path(rel).name.removesuffix(".rules.yaml")
        groups = yaml.safe_load(outputs[rel])["groups"]
        operator = yaml.safe_load(outputs[N.operator_rules_path(service)])
        assert operator["apiVersion"] == "monitoring.coreos.com/v1" and operator["kind"] == "PrometheusRule"
        assert operator["metadata"]["name"] == N.operator_rule_name(service)
        mimir = yaml.safe_load(outputs[N.mimir_rules_path(service)])
        assert mimir["namespace"] == N.mimir_namespace(service)
        thanos = yaml.safe_load(outputs[N.thanos_rules_path(service)])
        assert {g.pop("partial_response_strategy") for g in thanos["groups"]} == {"abort"}
        # The same groups, byte for byte once parsed, in all four formats.
        assert operator["spec"]["groups"] == groups and mimir["groups"] == groups and thanos["groups"] == groups
        for kind, doc in (("operator", operator["spec"]), ("mimir", {"groups": mimir["groups"]})):
            extracted = root / f"{service}.{kind}.extracted.yaml"
            extracted.write_text(yaml.safe_dump(doc), encoding="utf-8")
            check_rules(extracted)
    return rules


def test_example_rules_pass_promtool_in_every_format(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    outputs = build_outputs(load_project([Path("slos")]), ("operator", "mimir", "thanos"))
    assert check_every_format(outputs, tmp_path) > 300


def test_family_rules_pass_promtool_in_every_format(tmp_path):
    files = family.write_family(tmp_path / "specs")
    project = load_project(files, tmp_path / "specs" / "catalog.yaml")
    assert sum(len(s.spec.slos) for s in project.services) == len(family.KINDS) * 3 * 6
    outputs = build_outputs(project, ("operator", "mimir", "thanos"))
    assert check_every_format(outputs, tmp_path / "out") > 4000


def run_generated_tests(outputs: dict[str, str], root: Path) -> None:
    write(outputs, root)
    tests = sorted(root / rel for rel in outputs if rel.startswith("alerts/tests/"))
    assert tests
    proc = run_tests(*tests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(tests)


def test_generated_tests_of_the_example_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    run_generated_tests(build_outputs(load_project([Path("slos")])), tmp_path)


def test_generated_tests_of_a_small_family_pass(tmp_path):
    """Every SLI kind, 7d/28d/30d, 90% to 99.99%, group_by, guards, budgets by feature with a regression."""
    files = family.write_small_family(tmp_path / "specs")
    outputs = build_outputs(load_project(files, tmp_path / "specs" / "catalog.yaml"))
    assert N.budget_rule_tests_path("small-family") in outputs
    run_generated_tests(outputs, tmp_path / "out")


# --------------------------------------------------------------------------
# The generated tests test what their names say
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_tests() -> dict[str, dict]:
    import os

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        outputs = build_outputs(load_project([Path("slos")]))
    finally:
        os.chdir(cwd)
    return {rel: yaml.safe_load(text) for rel, text in outputs.items() if rel.startswith("alerts/tests/")}


def alerts_at(group: dict, alertname: str) -> dict[str, list[dict]]:
    return {t["eval_time"]: t["exp_alerts"] for t in group.get("alert_rule_test", []) if t["alertname"] == alertname}


def group_named(doc: dict, prefix: str) -> dict:
    found = [g for g in doc["tests"] if g["name"].startswith(prefix)]
    assert len(found) == 1, [g["name"] for g in doc["tests"]]
    return found[0]


def severities(alerts: list[dict]) -> set[str]:
    return {a["exp_labels"]["severity"] for a in alerts}


def test_timeline_blip_does_not_page_outage_pages_recovery_resolves(example_tests, repo_root):
    spec = yaml.safe_load((REPO / "slos" / "support-chatbot.yaml").read_text())
    paging = {s["name"] for s in spec["slos"] if s.get("alerting", {}).get("page", {}).get("enabled", True)}
    doc = example_tests[N.rule_tests_path("support-chatbot")]
    group = group_named(doc, "healthy for")
    burn = alerts_at(group, N.ALERT_BURN)
    healthy, blip, outage, recovered = list(burn)
    assert burn[healthy] == []
    assert N.SEVERITY_PAGE not in severities(burn[blip])
    pages = [a["exp_labels"] for a in burn[outage] if a["exp_labels"]["severity"] == N.SEVERITY_PAGE]
    assert {p["slo"] for p in pages} == paging
    # group_by SLOs page only for the broken group, with its label kept.
    ttft = [p for p in pages if p["slo"] == "ttft-under-1s"]
    assert ttft and {p["feature"] for p in ttft} == {"support_chat"}
    assert N.SEVERITY_PAGE not in severities(burn[recovered])
    for alert in burn[outage]:
        ann = alert["exp_annotations"]
        assert ann["summary"].endswith(".") and "{{" not in ann["description"]
        assert "Error budget left over" in ann["description"] and "unknown" not in ann["description"]
        # The SLO's own panel, its group selected, a time range around the evaluation (ms since the epoch).
        link = ann["dashboard"]
        assert link.startswith("http://127.0.0.1:3000/d/slokit-support-chatbot?viewPanel=")
        params = dict(p.split("=", 1) for p in link.split("?", 1)[1].split("&"))
        assert int(params["from"]) < int(params["to"])
        if "feature" in alert["exp_labels"]:
            assert params["var-feature"] == alert["exp_labels"]["feature"]
        assert alert["exp_labels"]["team"] == "assistant-team" and alert["exp_labels"]["tier"] == "1"


def test_slow_burn_tickets_without_pages_and_budget_overrun(example_tests):
    doc = example_tests[N.rule_tests_path("support-chatbot")]
    group = group_named(doc, "a slow burn")
    (burn,) = alerts_at(group, N.ALERT_BURN).values()
    assert burn and severities(burn) == {N.SEVERITY_TICKET}
    (overrun,) = alerts_at(group, N.ALERT_BUDGET_OVERRUN).values()
    assert {a["exp_labels"]["budget"] for a in overrun} == {"monthly-spend", "daily-spend-per-feature"}
    # by-feature budgets alert only for the overspending feature.
    assert [a["exp_labels"].get("feature") for a in overrun if a["exp_labels"]["budget"] == "daily-spend-per-feature"] \
        == ["support_chat"]


def test_low_traffic_stays_silent(example_tests):
    doc = example_tests[N.rule_tests_path("support-chatbot")]
    group = group_named(doc, "100% errors below min_events_per_hour")
    assert list(alerts_at(group, N.ALERT_BURN).values()) == [[]]
    # ... although those SLOs burn at 1 / error budget (they would page without the guard).
    (burn5m,) = [t for t in group["promql_expr_test"] if "burn_rate:rate5m" in t["expr"]]
    values = {s["labels"]: s["value"] for s in burn5m["exp_samples"]}
    assert values['{service="support-chatbot", slo="api-success"}'] == pytest.approx(200)


def test_zero_traffic_then_no_data(example_tests):
    doc = example_tests[N.rule_tests_path("support-chatbot")]
    group = group_named(doc, "zero traffic")
    nodata = alerts_at(group, N.ALERT_NO_DATA)
    before, after = list(nodata.values())[-2:]
    assert before == []
    assert {a["exp_labels"]["slo"] for a in after} == {
        s["name"] for s in yaml.safe_load((REPO / "slos" / "support-chatbot.yaml").read_text())["slos"]}
    nan_checks = [t for t in group["promql_expr_test"] if t["expr"].endswith(("!= 0", "!= 1"))]
    # ratios 0, budget left 1, budget not exhausted
    assert len(nan_checks) == 3 and all(t["exp_samples"] == [] for t in nan_checks)


def test_cost_regression_week(example_tests):
    doc = example_tests[N.budget_rule_tests_path("support-chatbot")]
    assert doc["evaluation_interval"] == "30m"
    (group,) = doc["tests"]
    # 0.8x the factor: silent; 1.25x: silent one evaluation before it fires (a factor of 3 would never fire).
    *before, after = alerts_at(group, N.ALERT_COST_REGRESSION).values()
    assert len(before) == 3 and all(b == [] for b in before)
    assert [a["exp_labels"]["budget"] for a in after] == ["monthly-spend"]
    assert "more than 1.5x its value 1w earlier" in after[0]["exp_annotations"]["description"]
