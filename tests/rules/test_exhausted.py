"""Exhausted budgets: the recorded `slo:error_budget_exhausted:bool` of every SLO, its opt-in
SLOErrorBudgetExhausted alert, and SLOBudgetExhausted for spend and token budgets.

The plan is checked as data; the generated promtool tests are run by the real promtool, on the rules as
generated (they pass) and on rules with the new thresholds changed (they must fail: the tests see the
threshold, not only that an alert exists).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slokit import naming as N
from slokit.explain import explain
from slokit.pipeline import build_outputs
from slokit.plan import build_plan
from slokit.project import load_project

from .promtool import check_rules, run_tests

REPO = Path(__file__).resolve().parents[2]
SERVICE = "exhaust"


def spec(slo_alerting: dict | None = None, file_alerting: dict | None = None, budget_alerting: dict | None = None):
    slo = {"name": "api", "objective": 99, "window": "30d",
           "sli": {"ratio": {"bad": {"metric": "llm_requests_total", "match": {"status": "server_error"}},
                             "total": {"metric": "llm_requests_total"}}}}
    if slo_alerting is not None:
        slo["alerting"] = slo_alerting
    budget = {"name": "daily", "metric": "llm_cost_usd_total", "limit": 50, "window": "1d", "by": ["feature"]}
    if budget_alerting is not None:
        budget["alerting"] = budget_alerting
    doc = {"version": 1, "service": SERVICE, "owner": "team-x", "scope": {"feature": ["support_chat", "order_agent"]},
           "slos": [slo], "budgets": [budget]}
    if file_alerting is not None:
        doc["alerting"] = file_alerting
    return doc


def project(tmp_path: Path, doc: dict):
    d = tmp_path / "specs"
    d.mkdir(parents=True, exist_ok=True)
    (d / "catalog.yaml").write_text((REPO / "slos" / "catalog.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (d / f"{SERVICE}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_project([d / f"{SERVICE}.yaml"], d / "catalog.yaml")


def alerts(plan, kind: str):
    return [r for s in plan.services for g in s.rule_groups for r in g.alerting_rules if r.what == kind]


# -- the plan -----------------------------------------------------------------


def test_every_slo_records_the_exhausted_signal_from_the_budget_left(tmp_path):
    plan = build_plan(project(tmp_path, spec()))
    (slo,) = plan.services[0].slos
    rules = {r.record: r for r in slo.rule_group.recording_rules}
    signal = rules[N.SLO_BUDGET_EXHAUSTED]
    assert signal.expr == f'{N.SLO_BUDGET_REMAINING}{{service="exhaust", slo="api"}} <= bool 0'
    assert dict(signal.labels) == {"service": "exhaust", "slo": "api"}
    order = [r.record for r in slo.rule_group.recording_rules]
    # Evaluated after the budget left it reads, in the same group.
    assert order.index(N.SLO_BUDGET_REMAINING) < order.index(N.SLO_BUDGET_EXHAUSTED)


def test_the_slo_alert_is_off_by_default(tmp_path):
    plan = build_plan(project(tmp_path, spec()))
    assert alerts(plan, N.ALERT_SLO_EXHAUSTED) == []
    assert plan.services[0].slos[0].exhausted_alert is False


@pytest.mark.parametrize("slo_alerting, file_alerting, expected", [
    ({"budget_exhausted": True}, None, True),
    (None, {"budget_exhausted": True}, True),
    ({"budget_exhausted": False}, {"budget_exhausted": True}, False),  # the SLO's word wins
    ({"budget_exhausted": True, "page": {"enabled": False}, "ticket": {"enabled": False}}, None, False),
])
def test_the_slo_alert_is_opt_in_per_slo_or_file(tmp_path, slo_alerting, file_alerting, expected):
    plan = build_plan(project(tmp_path, spec(slo_alerting, file_alerting)))
    assert bool(alerts(plan, N.ALERT_SLO_EXHAUSTED)) is expected


def test_the_slo_alert_reads_the_signal_and_goes_to_the_ticket_route(tmp_path):
    plan = build_plan(project(tmp_path, spec({"budget_exhausted": True, "labels": {"channel": "slo"},
                                              "severity_values": {"page": "critical", "ticket": "warning"}})))
    (rule,) = alerts(plan, N.ALERT_SLO_EXHAUSTED)
    assert rule.alert == "SLOErrorBudgetExhausted"
    assert rule.expr == f'{N.SLO_BUDGET_EXHAUSTED}{{service="exhaust", slo="api"}} == 1'
    assert rule.for_ is None
    labels = dict(rule.labels)
    assert labels["severity"] == "warning" and labels["channel"] == "slo" and labels["team"] == "team-x"
    assert "long_window" not in labels
    ann = dict(rule.annotations)
    assert ann["summary"] == "Error budget of SLO exhaust/api is exhausted."
    assert N.SLO_BUDGET_REMAINING in ann["description"] and ann["runbook_url"].endswith("#api")
    # With tickets off it goes to the page route, as SLONoData does.
    plan = build_plan(project(tmp_path, spec({"budget_exhausted": True, "ticket": {"enabled": False}})))
    (rule,) = alerts(plan, N.ALERT_SLO_EXHAUSTED)
    assert dict(rule.labels)["severity"] == "page"


def test_budgets_alert_once_used_up(tmp_path):
    plan = build_plan(project(tmp_path, spec()))
    (rule,) = alerts(plan, N.ALERT_BUDGET_EXHAUSTED)
    assert rule.expr == f'{N.BUDGET_USED_WINDOW}{{budget="daily", service="exhaust"}} > 50'
    assert dict(rule.labels)["severity"] == "ticket" and dict(rule.labels)["budget"] == "daily"
    assert "{{ $value | humanize }} usd over the last 1d, over its limit of 50 usd" in dict(rule.annotations)[
        "description"]
    assert "SLOBudgetExhausted when the use over the last 1d is over 50 usd" in explain(plan)
    plan = build_plan(project(tmp_path, spec(budget_alerting={"enabled": False})))
    assert alerts(plan, N.ALERT_BUDGET_EXHAUSTED) == []


def test_runbooks_show_the_signal_and_the_alerts(tmp_path):
    outputs = build_outputs(project(tmp_path, spec({"budget_exhausted": True})))
    runbook = outputs[N.runbook_path(SERVICE)]
    assert "| `SLOErrorBudgetExhausted` | ticket |" in runbook
    assert f'{N.SLO_BUDGET_EXHAUSTED}{{service="exhaust", slo="api"}}' in runbook
    assert "`SLOBudgetExhausted` (ticket)" in runbook
    assert f'{N.BUDGET_USED_WINDOW}{{budget="daily", service="exhaust"}}' in runbook


# -- the generated promtool tests -----------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("exhaust")
    outputs = build_outputs(project(root, spec({"budget_exhausted": True})))
    for rel, text in outputs.items():
        (root / "out" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "out" / rel).write_text(text, encoding="utf-8")
    return root / "out", outputs


def exp_alerts(doc: dict, group_prefix: str, alertname: str) -> dict[str, list[dict]]:
    (group,) = [g for g in doc["tests"] if g["name"].startswith(group_prefix)]
    return {t["eval_time"]: t["exp_alerts"] for t in group.get("alert_rule_test", []) if t["alertname"] == alertname}


def test_generated_tests_assert_silent_before_and_firing_after(generated):
    _, outputs = generated
    doc = yaml.safe_load(outputs[N.rule_tests_path(SERVICE)])
    before, after = exp_alerts(doc, "budget daily:", N.ALERT_BUDGET_EXHAUSTED).values()
    assert before == []
    # One feature overspends; the other spends a quarter of its pace and stays silent.
    assert len(after) == 1 and after[0]["exp_labels"]["budget"] == "daily" and "feature" in after[0]["exp_labels"]
    under, over = exp_alerts(doc, "the first group of each SLO errs", N.ALERT_SLO_EXHAUSTED).values()
    assert under == [] and [a["exp_labels"]["slo"] for a in over] == ["api"]
    timeline = exp_alerts(doc, "healthy for", N.ALERT_SLO_EXHAUSTED)
    healthy, outage = timeline.values()
    assert healthy == [] and [a["exp_labels"]["slo"] for a in outage] == ["api"]
    assert outage[0]["exp_labels"]["severity"] == "ticket"


def test_generated_tests_pass_on_the_generated_rules(generated):
    root, outputs = generated
    check_rules(root / N.rules_path(SERVICE))
    proc = run_tests(root / N.rule_tests_path(SERVICE))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("old, new", [
    # the budget's limit, 30% up: still under at 80m, so the firing expectation fails
    ('budget="daily", service="exhaust"} > 50', 'budget="daily", service="exhaust"} > 65'),
    # 30% down: over already at 40m
    ('budget="daily", service="exhaust"} > 50', 'budget="daily", service="exhaust"} > 35'),
    # the signal's threshold: "exhausted" while 10% of the budget is left
    ("} <= bool 0", "} <= bool 0.1"),
    ("} <= bool 0", "} <= bool -0.1"),
    # the alert's comparison
    ('slo="api"} == 1', 'slo="api"} == 0'),
], ids=["limit-up", "limit-down", "signal-early", "signal-late", "alert-flag"])
def test_generated_tests_catch_a_changed_threshold(generated, old, new):
    root, outputs = generated
    text = outputs[N.rules_path(SERVICE)]
    assert text.count(old) == 1
    (root / N.rules_path(SERVICE)).write_text(text.replace(old, new), encoding="utf-8")
    try:
        proc = run_tests(root / N.rule_tests_path(SERVICE))
    finally:
        (root / N.rules_path(SERVICE)).write_text(text, encoding="utf-8")
    assert proc.returncode != 0, f"the generated tests still pass with {new!r}"
