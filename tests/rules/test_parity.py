"""Parity a migration from Sloth or hand-written rules needs: per-SLO labels (optionally on the recorded
series), renamed burn-rate alerts, mapped severity words, shared alerting labels and annotations, an
optional owner, and the hint for an objective written as a ratio. Rules and their generated tests run in
the real promtool."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main
from slokit.plan import build_plan
from slokit.project import load_project

from .promtool import check_rules, run_tests

REPO = Path(__file__).resolve().parents[2]

SPEC = """\
service: shop
owner: shop-team
alerting:
  labels: {channel: oncall, tier: "1"}
  annotations: {playbook: Fail over.}
  severity_values: {page: critical, ticket: warning}
  page: {alert_name: ShopPage, labels: {tier: "0"}}
slos:
  - name: requests
    objective: 99.5
    sli: {ratio: {good: {metric: llm_requests_total, match: {status: ok}}, total: {metric: llm_requests_total}}}
  - name: by-feature
    objective: 99
    group_by: [feature]
    labels: {category: availability}
    record_labels: true
    alerting: {alert_name: SlothErrorBudgetBurn}
    sli: {ratio: {bad: {metric: llm_requests_total, match: {status: timeout}}, total: {metric: llm_requests_total}}}
"""


def project(tmp_path: Path, text: str = SPEC) -> Path:
    d = tmp_path / "slos"
    d.mkdir(parents=True)
    shutil.copy(REPO / "slos" / "catalog.yaml", d / "catalog.yaml")
    (d / "shop.yaml").write_text(text, encoding="utf-8")
    return d


def rules_of(tmp_path: Path, text: str = SPEC):
    plan = build_plan(load_project([project(tmp_path, text)]))
    return {s.name: s for s in plan.services[0].slos}


def alerts(slo):
    return [r for r in slo.rule_group.alerting_rules]


def test_alert_names_per_route_and_per_slo_with_the_default_kept_elsewhere(tmp_path):
    slos = rules_of(tmp_path)
    names = {(dict(r.labels)[N.LABEL_SEVERITY], r.alert) for r in alerts(slos["requests"])}
    # The file's page route renames pages; tickets keep the default; no-data keeps its own name.
    assert names == {("critical", "ShopPage"), ("warning", N.ALERT_BURN), ("warning", N.ALERT_NO_DATA)}
    # The SLO's own alert_name wins over the file's page route for both severities.
    names = {(dict(r.labels)[N.LABEL_SEVERITY], r.alert) for r in alerts(slos["by-feature"])}
    assert names == {("critical", "SlothErrorBudgetBurn"), ("warning", "SlothErrorBudgetBurn"),
                     ("warning", N.ALERT_NO_DATA)}
    assert {r.what for r in alerts(slos["by-feature"])} == {N.ALERT_BURN, N.ALERT_NO_DATA}


def test_shared_labels_and_annotations_reach_both_routes_and_the_route_wins(tmp_path):
    slos = rules_of(tmp_path)
    for rule in alerts(slos["requests"]):
        labels, annotations = dict(rule.labels), dict(rule.annotations)
        assert labels["channel"] == "oncall"
        assert annotations["playbook"] == "Fail over."
        assert labels["tier"] == ("0" if labels[N.LABEL_SEVERITY] == "critical" else "1")
        assert labels[N.LABEL_TEAM] == "shop-team"


def test_slo_labels_on_alerts_and_with_record_labels_on_every_recorded_series(tmp_path):
    slos = rules_of(tmp_path)
    assert all(dict(r.labels)["category"] == "availability" for r in alerts(slos["by-feature"]))
    assert all(dict(r.labels).get("category") == "availability" for r in slos["by-feature"].rule_group.recording_rules)
    # Without record_labels (and without labels) nothing is added to recorded series.
    assert all("category" not in dict(r.labels) for r in slos["requests"].rule_group.recording_rules)


def test_generated_rules_and_their_tests_pass_promtool(tmp_path):
    d = project(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(d), "--out", str(out)])
    assert result.exit_code == 0, result.output
    check_rules(out / "alerts" / "shop.rules.yaml")
    proc = run_tests(*sorted((out / "alerts" / "tests").glob("*.yaml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = yaml.safe_load((out / "alerts" / "tests" / "shop.test.yaml").read_text())
    asked = {t["alertname"] for g in tests["tests"] for t in g.get("alert_rule_test", [])}
    # The tests ask for the alerts under the names the rules give them.
    assert {"ShopPage", "SlothErrorBudgetBurn"} <= asked
    fired = [a for g in tests["tests"] for t in g.get("alert_rule_test", []) for a in t["exp_alerts"]]
    assert {a["exp_labels"][N.LABEL_SEVERITY] for a in fired} <= {"critical", "warning"}
    assert any(a["exp_labels"].get("category") == "availability" for a in fired)


def test_same_word_for_both_tiers_is_rejected_with_position(tmp_path):
    text = SPEC.replace("{page: critical, ticket: warning}", "{page: high, ticket: high}")
    result = CliRunner().invoke(main, ["validate", str(project(tmp_path, text))])
    assert result.exit_code == 1
    assert "shop.yaml:6:20: page and ticket alerts would both say severity='high'" in result.output


def test_record_label_that_is_a_group_by_label_is_rejected(tmp_path):
    text = SPEC.replace("labels: {category: availability}", "labels: {feature: x}")
    result = CliRunner().invoke(main, ["validate", str(project(tmp_path, text))])
    assert result.exit_code == 1
    assert "label 'feature' is also in group_by" in result.output


def test_objective_written_as_a_ratio_gets_a_did_you_mean(tmp_path):
    text = SPEC.replace("objective: 99.5", "objective: 0.995")
    result = CliRunner().invoke(main, ["validate", str(project(tmp_path, text))])
    assert result.exit_code == 1
    assert "shop.yaml:10:16: objective 0.995 is a percentage here" in result.output
    assert "hint: did you mean 99.5?" in result.output
    # One mistake, one message: the default tiers are not also reported as unable to fire.
    assert "1 error" in result.output


def test_owner_is_optional_and_alerts_then_carry_no_team(tmp_path):
    slos = rules_of(tmp_path, SPEC.replace("owner: shop-team\n", ""))
    assert all(N.LABEL_TEAM not in dict(r.labels) for r in alerts(slos["requests"]))


def test_a_missing_owner_is_a_positioned_warning_that_fails_only_with_strict(tmp_path):
    path = project(tmp_path, SPEC.replace("owner: shop-team\n", ""))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "shop.yaml:1:1: warning: service 'shop' has no owner" in result.output
    assert "hint: add `owner: <team>`" in result.output
    assert CliRunner().invoke(main, ["--strict", "validate", str(path)]).exit_code == 1
    # An owner that is written but invalid is an error about that value, not also a missing-owner warning.
    invalid = project(tmp_path / "invalid", SPEC.replace("owner: shop-team", "owner: A B"))
    bad = CliRunner().invoke(main, ["validate", str(invalid)])
    assert bad.exit_code == 1 and "no owner" not in bad.output


def test_budget_alerts_keep_their_names(tmp_path):
    text = SPEC + ("budgets:\n  - name: spend\n    metric: llm_cost_usd_total\n    limit: 10\n"
                   "    alerting: {alert_name: Spend}\n")
    result = CliRunner().invoke(main, ["validate", str(project(tmp_path, text))])
    assert result.exit_code == 1
    assert "a budget's alerts keep their names" in result.output
