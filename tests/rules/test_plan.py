"""Unit tests of the SLO math as data: windows and tiers, the recording-rule scheme, alert labels and
annotations, explain and the runbooks. No processes; promtool tests live beside these."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from slokit import naming as N
from slokit.explain import explain, human_duration
from slokit.model import Tier
from slokit.plan import AlertingRule, RecordingRule, build_plan
from slokit.project import load_project
from slokit.promql import number
from slokit.render import runbooks
from slokit.windows import burn_factor, format_duration, resolve_tiers

from . import family

REPO = Path(__file__).resolve().parents[2]
DAY = 86400


def table(slo_window_s: int, tiers=None):
    return [(t.severity, float(t.budget_percent), t.long_window, t.short_window, number(t.burn_factor))
            for t in resolve_tiers(slo_window_s, tiers)]


def test_default_tiers_for_30d_are_the_workbook_table():
    assert table(30 * DAY) == [("page", 2, "1h", "5m", "14.4"), ("page", 5, "6h", "30m", "6"),
                               ("ticket", 10, "1d", "2h", "3"), ("ticket", 10, "3d", "6h", "1")]


def test_default_tiers_scale_windows_with_7d_and_28d_and_keep_the_factors():
    assert table(7 * DAY) == [("page", 2, "14m", "5m", "14.4"), ("page", 5, "1h24m", "7m", "6"),
                              ("ticket", 10, "5h36m", "28m", "3"), ("ticket", 10, "16h48m", "1h24m", "1")]
    assert table(28 * DAY) == [("page", 2, "56m", "5m", "14.4"), ("page", 5, "5h36m", "28m", "6"),
                               ("ticket", 10, "22h24m", "1h52m", "3"), ("ticket", 10, "2d19h12m", "5h36m", "1")]


def test_user_tiers_are_taken_as_written_and_their_factor_follows_the_budget_share():
    tiers = [Tier(severity="ticket", budget_percent=10, long_window="12h", short_window="1h"),
             Tier(severity="page", budget_percent=2, long_window="1h")]
    assert table(7 * DAY, tiers) == [("ticket", 10, "12h", "1h", "1.4"), ("page", 2, "1h", "5m", "3.36")]
    assert burn_factor(Decimal(2), 30 * DAY, 3600) == Decimal("14.4")


def test_detection_time_is_the_workbook_formula():
    plan = example_plan()
    slo = slo_named(plan, "support-chatbot", "api-success")  # 99.5% / 30d
    page_1h = slo.tiers[0]
    # burn factor x (1 - objective) x window / error rate; never before the 5m short window agrees.
    assert page_1h.detection_seconds(1.0) == pytest.approx(14.4 * 0.005 * 3600)
    assert page_1h.detection_seconds(0.1) == pytest.approx(14.4 * 0.005 * 3600 / 0.1)
    assert page_1h.detection_seconds(0.072) is None  # exactly at the threshold it never fires
    assert human_duration(page_1h.detection_seconds(1.0)) == "4m19s"


def example_plan():
    import os

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return build_plan(load_project([Path("slos")]))
    finally:
        os.chdir(cwd)


def slo_named(plan, service, name):
    return next(s for sp in plan.services if sp.service == service for s in sp.slos if s.name == name)


def test_windows_up_to_2h_read_raw_counters_and_longer_ones_average_the_5m_base():
    slo = slo_named(example_plan(), "support-chatbot", "api-success")
    assert slo.windows == ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    rules = {r.record: r.expr for r in slo.rule_group.recording_rules}
    for w in ("5m", "30m", "1h", "2h"):
        assert f"rate(llm_requests_total" in rules[N.slo_total_rate(w)] and f"[{w}]" in rules[N.slo_total_rate(w)]
    for w in ("6h", "1d", "3d"):
        assert rules[N.slo_total_rate(w)] == (
            f'avg_over_time(slo:total_events:rate5m{{service="support-chatbot", slo="api-success"}}[{w}])')
        assert "llm_requests_total" not in rules[N.slo_bad_rate(w)]
    # The SLO window, which no alert reads, samples the base rate every 5m (the base rate alone until a 5m
    # boundary has passed since it was first recorded).
    base = 'slo:total_events:rate5m{service="support-chatbot", slo="api-success"}'
    assert rules[N.slo_total_rate("30d")] == f"avg_over_time({base}[30d:5m])\nor\n{base}"
    assert slo.coarse_windows == ("30d",)
    assert "llm_requests_total" not in rules[N.slo_bad_rate("30d")]


def test_a_slo_window_an_alert_reads_keeps_every_base_sample(tmp_path):
    from slokit.windows import uses_coarse_average

    assert uses_coarse_average(30 * 86400, 30 * 86400, set())
    assert not uses_coarse_average(30 * 86400, 30 * 86400, {30 * 86400})
    assert not uses_coarse_average(3 * 86400, 30 * 86400, set())  # only the SLO window


def test_zero_traffic_gives_ratio_zero_not_nan():
    slo = slo_named(example_plan(), "support-chatbot", "api-success")
    rules = {r.record: r.expr for r in slo.rule_group.recording_rules}
    assert rules[N.slo_error_ratio("1h")].endswith(
        '(slo:total_events:rate1h{service="support-chatbot", slo="api-success"} > 0)\n'
        'or\n0 * slo:total_events:rate1h{service="support-chatbot", slo="api-success"}')
    # A never-incremented counter of good events gives 0 bad events, not none; the fallback reads the total
    # recorded just before (the raw selector once per window, not twice).
    bad = rules[N.slo_bad_rate("5m")]
    assert bad.endswith('\nor on ()\n0 * slo:total_events:rate5m{service="support-chatbot", '
                        'slo="api-success"}')
    assert "rate(llm_requests_total" in bad and bad.count("rate(") == 1


@pytest.mark.parametrize("service, name", [("support-chatbot", "api-success"), ("rag-assistant", "answer-success")])
def test_bad_events_survive_a_ruler_that_stores_external_labels(tmp_path, service, name):
    """Thanos Ruler and vmalert store their external labels on what they record, so the recorded total read
    back carries a label the raw sums do not: the bad-events rule must still give one series, total - good
    (or bad), not the total itself (the sides of `ignoring (service, slo)` stopped matching)."""
    from .promtool import run_tests

    slo = slo_named(example_plan(), service, name)
    rules = {r.record: r.expr for r in slo.rule_group.recording_rules}
    bad_expr = rules[N.slo_bad_rate("5m")]
    raw = {"support-chatbot": 'llm_requests_total{feature="support_chat", status="server_error"}',
           "rag-assistant": 'llm_requests_total{feature="rag_answer", status="ok"}'}[service]
    assert raw.split("{")[0] in bad_expr
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "test:bad", "expr": bad_expr}]}]}))
    # 6 events/s of which the raw counter counts 2 (bad, or good): bad is 2 or 4, on one series.
    total = f'{N.slo_total_rate("5m")}{{service="{service}", slo="{name}", cluster="eu-1"}}'
    want = 2 if service == "support-chatbot" else 4
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [
            {"series": total, "values": "6x20"},
            {"series": raw, "values": "0+120x20"}],
            "promql_expr_test": [
                {"expr": "test:bad", "eval_time": "15m", "exp_samples": [{"labels": "test:bad", "value": want}]}]}]}))
    proc = run_tests(tmp_path / "test.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_threshold_sli_reads_its_count_once_per_window():
    slo = slo_named(example_plan(), "support-chatbot", "ttft-under-1s")
    rules = {r.record: r.expr for r in slo.rule_group.recording_rules}
    for w in ("5m", "30m", "1h", "2h"):
        assert rules[N.slo_total_rate(w)].count("_count") == 1
        assert "_count" not in rules[N.slo_bad_rate(w)] and rules[N.slo_bad_rate(w)].count("_bucket") == 1


def test_group_by_labels_reach_every_raw_rule_and_identity_labels_are_stable():
    plan = example_plan()
    slo = slo_named(plan, "support-chatbot", "ttft-under-1s")
    for rule in slo.rule_group.recording_rules:
        if "rate(llm_ttft_seconds" in rule.expr:
            assert rule.expr.count("sum by (feature) (") == rule.expr.count("sum")
        # Recording rules carry only service and slo: a user label added later must not fork the series.
        if rule.record != N.SLO_INFO:
            assert dict(rule.labels) == {"service": "support-chatbot", "slo": "ttft-under-1s"}


def test_adding_a_user_label_changes_no_recording_rule(tmp_path):
    files = family.write_small_family(tmp_path / "a")
    spec = yaml.safe_load(files[0].read_text())
    before = build_plan(load_project(files, tmp_path / "a" / "catalog.yaml"))
    spec["labels"] = {"cost_center": "cc-42"}
    files[0].write_text(family.dump(spec))
    after = build_plan(load_project(files, tmp_path / "a" / "catalog.yaml"))

    def recording(plan):
        return [(g.name, r) for g in plan.services[0].rule_groups for r in g.recording_rules if r.record != N.SLO_INFO]

    assert recording(before) == recording(after)
    alerts = [r for g in after.services[0].rule_groups for r in g.alerting_rules]
    assert alerts and all(dict(a.labels)["cost_center"] == "cc-42" for a in alerts)


def test_burn_alerts_carry_routing_labels_and_mixin_style_annotations():
    slo = slo_named(example_plan(), "support-chatbot", "ttft-under-1s")
    burn = [r for r in slo.rule_group.alerting_rules if r.alert == N.ALERT_BURN]
    assert [dict(r.labels)["long_window"] for r in burn] == ["1h", "6h", "1d", "3d"]
    for rule in burn:
        labels, ann = dict(rule.labels), dict(rule.annotations)
        assert labels["service"] == "support-chatbot" and labels["slo"] == "ttft-under-1s"
        assert labels["severity"] in ("page", "ticket") and labels["team"] == "assistant-team"
        assert labels["tier"] == "1"  # the file's own labels
        assert set(ann) == {"summary", "description", "runbook_url", "dashboard"}
        # A group_by alert's summary names the group, so the page says which feature burns.
        assert ann["summary"].endswith(" is burning too fast for feature={{ $labels.feature }}.")
        assert "{{ $value | humanize }}" in ann["description"] and "$labels.feature" in ann["description"]
        assert ann["runbook_url"] == "docs/runbooks/support-chatbot.md#ttft-under-1s"
        # The budget-left query passes the group label as a printf argument (a nested {{ }} would not expand).
        assert 'feature=%q}" $labels.feature | query' in ann["description"]
        assert "sum by (feature)" not in rule.expr and " and\n" not in rule.expr
        assert rule.expr.count("\nand\n") == 2  # long, short, min-traffic guard


def test_no_data_and_budget_alerts():
    plan = example_plan()
    service = next(s for s in plan.services if s.service == "support-chatbot")
    slo = service.slos[0]
    (no_data,) = [r for r in slo.rule_group.alerting_rules if r.alert == N.ALERT_NO_DATA]
    assert no_data.expr == 'absent(slo:total_events:rate5m{service="support-chatbot", slo="api-success"})'
    assert no_data.for_ == "10m"
    budget_rules = [r for r in service.rule_groups[-1].rules if isinstance(r, AlertingRule)]
    assert [r.alert for r in budget_rules] == [N.ALERT_BUDGET_OVERRUN, N.ALERT_BUDGET_EXHAUSTED, N.ALERT_COST_REGRESSION,
                                               N.ALERT_BUDGET_OVERRUN, N.ALERT_BUDGET_EXHAUSTED]
    regression = budget_rules[2]
    assert "offset 1w" in regression.expr and "* 3600 >= 30" in regression.expr and regression.for_ == "30m"
    recorded = [r for r in service.rule_groups[-1].rules if isinstance(r, RecordingRule)]
    assert {r.record for r in recorded} >= {N.BUDGET_PROJECTED, N.BUDGET_REMAINING, N.BUDGET_LIMIT}


def test_explain_shows_windows_factors_thresholds_detection_and_budget():
    text = explain(example_plan(), "support-chatbot/api-success")
    assert "objective 99.5% over 30d" in text
    assert "error budget: 0.5% of events (1 in 200)" in text and "spends it in 3h36m" in text
    assert "silent below 60 events/h" in text
    lines = [line.split() for line in text.splitlines() if line.strip().startswith(("page", "ticket"))]
    assert lines[0] == ["page", "2%", "1h", "5m", "14.4", "7.2%", "4m19s", "43m12s", "never"]
    assert lines[3] == ["ticket", "10%", "3d", "6h", "1", "0.5%", "21m36s", "3h36m", "1d12h"]
    assert "5m 30m 1h 2h from the raw counters; 6h 1d 3d 30d averaged" in text


def test_explain_budgets_and_unknown_targets():
    from slokit.explain import UnknownTarget

    plan = example_plan()
    assert "may increase by at most 5000 usd per 30d" in explain(plan, "support-chatbot/monthly-spend")
    with pytest.raises(UnknownTarget, match="did|has no SLO"):
        explain(plan, "support-chatbot/nope")
    with pytest.raises(UnknownTarget, match="no service"):
        explain(plan, "nope")


def test_runbooks_have_an_anchor_for_every_runbook_url():
    plan = example_plan()
    for service in plan.services:
        text = runbooks.render_service(service, plan.catalog)
        headings = {line[3:] for line in text.splitlines() if line.startswith("## ")}
        for group in service.rule_groups:
            for rule in group.alerting_rules:
                url = dict(rule.annotations)["runbook_url"]
                if url.startswith("docs/runbooks/"):
                    assert url.split("#")[1] in headings, url
        assert service.dashboard_url in text
        assert "```promql" in text and "slo:burn_rate:rate1h" in text or "slo:burn_rate:rate14m" in text


def test_format_duration():
    assert [format_duration(s) for s in (300, 3600, 20160, 86400 * 30, 5400)] == ["5m", "1h", "5h36m", "30d",
                                                                                  "1h30m"]


def test_the_documented_tier_table_is_what_the_plan_computes():
    doc = (REPO / "docs" / "alerting.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:-1] for line in doc.splitlines() if line.startswith(("| page |", "| ticket |"))]
    assert len(rows) == 4
    for i, (severity, share, w30, w28, w7, burn) in enumerate(rows):
        for cell, days in ((w30, 30), (w28, 28), (w7, 7)):
            t = resolve_tiers(days * DAY, None)[i]
            assert cell.strip() == f"{t.long_window} / {t.short_window}"
            assert burn.strip() == number(t.burn_factor) and severity.strip() == t.severity
            assert share.strip() == f"{number(t.budget_percent)}%"


def test_burn_rates_are_recorded_only_where_alerts_or_the_base_window_read_them():
    slo = slo_named(example_plan(), "support-chatbot", "api-success")
    recorded = {r.record for r in slo.rule_group.recording_rules}
    assert slo.burn_windows == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    assert N.slo_burn_rate("30d") not in recorded and N.slo_error_ratio("30d") in recorded
    assert {N.slo_burn_rate(w) for w in slo.alert_windows} <= recorded
