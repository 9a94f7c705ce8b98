"""`slokit import openslo` on a fixture written from the OpenSLO v1 specification: every kind (DataSource,
Service, SLI, SLO, AlertPolicy, AlertCondition, AlertNotificationTarget), inline and referenced SLIs,
policies and conditions, ratio (good, bad, raw) and threshold metrics. The result validates, generates
rules promtool accepts, and decides like the source: same objective and window, the selectors of the
queries, and burn-rate conditions as tiers that fire when the source's condition holds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slokit.cli import main
from slokit.plan import build_plan
from slokit.project import load_project
from slokit.promql import number

from tests.rules.promtool import check_rules, counter, measure, run_tests

FIXTURE = Path(__file__).parent / "fixtures" / "openslo.yaml"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("openslo") / "slos"
    result = CliRunner().invoke(main, ["import", "openslo", str(FIXTURE), "--out", str(out)])
    return out, result


def slos(out: Path) -> dict[str, dict]:
    spec = yaml.safe_load((out / "web-shop.yaml").read_text(encoding="utf-8"))
    return {s["name"]: s for s in spec["slos"]}


def test_one_spec_file_per_service_and_it_validates(imported):
    out, result = imported
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["catalog.yaml", "web-shop.yaml"]
    spec = yaml.safe_load((out / "web-shop.yaml").read_text(encoding="utf-8"))
    assert spec["description"] == "The customer-facing shop."  # from the Service object
    assert spec["owner"] == "shop-team"  # from the `team` metadata label
    assert sorted(slos(out)) == ["cache-hits", "checkout-errors-internal", "checkout-errors-sla", "queue-depth",
                                 "search-latency", "shop-availability"]
    load_project([out])


def test_referenced_sli_ratio_target_and_window(imported):
    out, _ = imported
    shop = slos(out)["shop-availability"]
    assert shop["objective"] == 99.5  # target: 0.995
    assert shop["window"] == "28d"
    assert shop["sli"] == {"ratio": {"good": {"metric": "shop_requests_total",
                                              "match": {"code": ["2xx", "3xx"], "region": "eu"}},
                                     "total": {"metric": "shop_requests_total", "match": {"region": "eu"}}}}


def test_alert_conditions_become_tiers_with_the_sources_burn_rates_and_words(imported):
    out, _ = imported
    shop = slos(out)["shop-availability"]
    assert shop["alerting"]["severity_values"] == {"page": "critical", "ticket": "warning"}
    assert shop["alerting"]["labels"] == {"notification_target": "shop-oncall"}
    plan = build_plan(load_project([out]))
    slo = next(x for x in plan.services[0].slos if x.name == "shop-availability")
    assert [(t.severity, t.tier.long_window, t.tier.short_window, number(t.burn_factor)) for t in slo.tiers] == \
        [("page", "1h", "5m", "14.4"), ("ticket", "3d", "6h", "1")]


def test_other_metric_shapes(imported):
    out, _ = imported
    s = slos(out)
    # Several objectives: one SLO each; a plain counter and a `sum by` of one are rated over the window.
    assert s["checkout-errors-internal"]["objective"] == 99.9 and s["checkout-errors-sla"]["objective"] == 99
    assert s["checkout-errors-internal"]["sli"]["raw"] == {
        "bad": 'rate(checkout_errors_total{stage="payment"}[{{window}}])',
        "total": 'sum by (stage) (rate(checkout_attempts_total{stage="payment"}[{{window}}]))'}
    assert s["checkout-errors-internal"]["window"] == "30d"  # 1M
    assert s["search-latency"]["sli"] == {"threshold": {"metric": "search_duration_seconds", "le": 0.5,
                                                        "match": {"endpoint": "search"}}}
    assert s["queue-depth"]["sli"]["raw"]["good"].startswith("sum_over_time(((max(shop_queue_depth")
    assert s["cache-hits"]["sli"]["raw"]["error_ratio"].startswith("1 - (avg_over_time(")
    # 90% cannot use the default page tiers (they need over 100% errors): pages are turned off.
    assert s["cache-hits"]["alerting"]["page"] == {"enabled": False}
    catalog = yaml.safe_load((out / "catalog.yaml").read_text(encoding="utf-8"))
    assert catalog["metrics"]["search_duration_seconds"]["buckets"] == [0.5]
    assert catalog["metrics"]["shop_queue_depth"]["type"] == "gauge"


def test_warnings_name_the_source_position(imported):
    _, result = imported
    f = str(FIXTURE)
    for expected in (f"{f}:16:5: warning: connection details are not part of a slokit spec",
                     f"{f}:23:9: warning: DataSource 'datadog' is of type 'Datadog'",
                     f"{f}:69:17: warning: alertAfter 5m is not carried over",
                     f"{f}:102:7: warning: label 'tier' has several values",
                     f"{f}:161:7: warning: calendar-aligned windows are imported as rolling windows",
                     f"{f}:166:20: warning: budgetingMethod 'Timeslices' is imported as Occurrences",
                     f"{f}:266:11: warning: metric source of type 'Datadog' is not Prometheus; skipped"):
        assert expected in result.stderr, expected


def test_generated_rules_pass_promtool_and_their_tests(imported, tmp_path):
    out, _ = imported
    gen = tmp_path / "gen"
    assert CliRunner().invoke(main, ["generate", str(out), "--out", str(gen)]).exit_code == 0
    check_rules(gen / "alerts" / "web-shop.rules.yaml")
    proc = run_tests(*sorted((gen / "alerts" / "tests").glob("*.yaml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_page_tier_fires_while_the_sources_burn_rate_condition_holds(imported, tmp_path):
    """The source condition is `burn rate over 1h >= 14.4`; slokit also asks the 5m window to agree, so
    the two agree while an outage lasts and before it (after it, slokit resolves sooner, by design)."""
    out, _ = imported
    gen = tmp_path / "gen"
    assert CliRunner().invoke(main, ["generate", str(out), "--out", str(gen)]).exit_code == 0
    minutes = 240
    good = [60.0] * 60 + [0.0] * 30 + [60.0] * (minutes - 90)
    bad = [0.0] * 60 + [60.0] * 30 + [0.0] * (minutes - 90)
    series = [{"series": 'shop_requests_total{code="2xx",region="eu"}', "values": counter(good)},
              {"series": 'shop_requests_total{code="5xx",region="eu"}', "values": counter(bad)}]
    ours = ('count(count by (slo) (ALERTS{severity="critical",alertstate="firing",slo="shop-availability"}))'
            " or vector(0)")
    burn = ('(1 - sum(rate(shop_requests_total{code=~"2xx|3xx",region="eu"}[1h])) / '
            'sum(rate(shop_requests_total{region="eu"}[1h]))) / 0.005')
    source = f"count({burn} >= 14.4) or vector(0)"
    for minute in (50, 70, 85, 200):
        got = measure(tmp_path, [gen / "alerts" / "web-shop.rules.yaml"], series, [ours, source], f"{minute}m")
        assert got[ours][0].value == got[source][0].value == (1 if minute in (70, 85) else 0), (minute, got)
