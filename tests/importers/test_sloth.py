"""`slokit import sloth` on fixtures written from Sloth's documented formats (prometheus/v1 and the
PrometheusServiceLevel CRD): the files it writes, its positioned warnings, that the result validates and
generates rules promtool accepts, and that the imported SLOs decide like Sloth's (same objective, window,
selectors, and the SRE-workbook burn-rate alerts Sloth generates, evaluated side by side in promtool)."""

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

FIXTURES = Path(__file__).parent / "fixtures"
SERVICES = FIXTURES / "sloth-services.yaml"
CRD = FIXTURES / "sloth-crd.yaml"
# Sloth's alerts (docs: multiwindow-multiburn, 30-day period): page when 1h and 5m burn > 14.4 or 6h and
# 30m > 6; ticket when 1d and 2h > 3 or 3d and 6h > 1.
SLOTH_TIERS = [("page", "1h", "5m", "14.4"), ("page", "6h", "30m", "6"), ("ticket", "1d", "2h", "3"),
               ("ticket", "3d", "6h", "1")]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("sloth") / "slos"
    result = CliRunner().invoke(main, ["import", "sloth", str(SERVICES), str(CRD), "--out", str(out)])
    return out, result


def spec(out: Path, service: str) -> dict:
    return yaml.safe_load((out / f"{service}.yaml").read_text(encoding="utf-8"))


def slo(out: Path, service: str, name: str) -> dict:
    return next(s for s in spec(out, service)["slos"] if s["name"] == name)


def test_every_service_of_every_document_becomes_a_spec_file_and_the_result_validates(imported):
    out, result = imported
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["auth-service.yaml", "catalog.yaml", "checkout.yaml",
                                                    "payments-api.yaml", "search.yaml"]
    assert "imported 4 services, 5 SLOs" in result.output
    assert "ok: `slokit validate" in result.output
    project = load_project([out])
    assert sorted(s.spec.service for s in project.services) == ["auth-service", "checkout", "payments-api", "search"]


def test_what_cannot_be_carried_over_is_warned_at_its_source_position(imported):
    _, result = imported
    err = result.stderr
    services, crd = str(SERVICES), str(CRD)
    assert f"{services}:11:3: warning: SLO plugins are Sloth's Go extensions" in err
    assert f"{services}:31:18: warning: annotation 'summary' is written by slokit" in err
    assert f"{services}:47:7: warning: SLO plugins are not carried over" in err
    assert f"{services}:71:11: warning: SLO 'Query Success' is imported as 'query-success'" in err
    assert f"{services}:91:9: warning: SLI plugin 'sloth-common/coredns/availability'" in err
    assert f"{crd}:47:12: warning: service 'Auth Service' is imported as 'auth-service'" in err
    assert f"{crd}:61:1: warning: PrometheusRule is not a Sloth SLO spec" in err


def test_plain_rates_become_typed_slis_and_other_queries_stay_raw_with_the_window_renamed(imported):
    out, _ = imported
    ratio = slo(out, "checkout", "requests-availability")["sli"]["ratio"]
    assert ratio == {"bad": {"metric": "http_requests_total", "match": {"job": "checkout",
                                                                       "code": ["500", "502", "503"]}},
                     "total": {"metric": "http_requests_total", "match": {"job": "checkout"}}}
    # Sloth's latency idiom (count - bucket{le}) over count is a threshold SLI on the histogram.
    assert slo(out, "checkout", "requests-latency")["sli"] == {
        "threshold": {"metric": "http_request_duration_seconds", "le": 0.4, "match": {"job": "checkout"}}}
    raw = slo(out, "search", "query-success")["sli"]["raw"]
    assert set(raw) == {"error_ratio"}
    assert "{{.window}}" not in raw["error_ratio"] and raw["error_ratio"].count("[{{window}}]") == 2
    crd_raw = slo(out, "auth-service", "login-errors")["sli"]["raw"]["error_ratio"]
    assert crd_raw.startswith("sum(rate(auth_logins_failed_total[{{window}}]))")


def test_labels_alert_names_and_severity_words_carry_over(imported):
    out, _ = imported
    checkout = spec(out, "checkout")
    assert checkout["owner"] == "payments"
    availability = slo(out, "checkout", "requests-availability")
    assert availability["labels"] == {"owner": "payments", "repo": "example/checkout", "tier": "1",
                                      "category": "availability"}
    assert availability["record_labels"] is True
    alerting = availability["alerting"]
    assert alerting["alert_name"] == "CheckoutHighErrorRate"
    assert alerting["severity_values"] == {"page": "critical", "ticket": "warning"}
    assert alerting["page"]["labels"] == {"routing_key": "payments"}
    assert alerting["page"]["runbook_url"] == "https://runbooks.example.com/checkout"
    assert slo(out, "checkout", "requests-latency")["alerting"]["ticket"] == {"enabled": False}
    assert spec(out, "search")["owner"] == "discovery"  # from the `team` label
    auth = slo(out, "auth-service", "login-errors")["alerting"]
    assert auth["page"] == {"enabled": False} and auth["ticket"] == {"enabled": False}


def test_the_catalog_holds_what_the_queries_need_and_flags_it_for_review(imported):
    out, _ = imported
    text = (out / "catalog.yaml").read_text(encoding="utf-8")
    catalog = yaml.safe_load(text)
    assert catalog["labels"]["code"]["values"] == ["500", "502", "503"]
    assert sorted(catalog["labels"]["job"]["values"]) == ["checkout", "payments"]
    assert catalog["metrics"]["http_request_duration_seconds"]["type"] == "histogram"
    assert catalog["metrics"]["http_request_duration_seconds"]["buckets"] == [0.4]
    assert catalog["metrics"]["http_requests_total"]["labels"] == ["code", "job"]
    assert text.count("# review:") >= len(catalog["labels"]) + len(catalog["metrics"])


def test_imported_slos_keep_objective_window_and_sloths_alert_windows_and_factors(imported):
    out, _ = imported
    plan = build_plan(load_project([out]))
    slos = {(s.service, x.name): x for s in plan.services for x in s.slos}
    assert float(slos[("checkout", "requests-availability")].objective) == 99.9
    assert float(slos[("payments-api", "requests-availability")].objective) == 99.95
    for x in slos.values():
        assert x.window == "30d"
        assert [(t.severity, t.tier.long_window, t.tier.short_window, number(t.burn_factor)) for t in x.tiers] \
            == SLOTH_TIERS
    assert slos[("checkout", "requests-availability")].sli.events_query == \
        'http_requests_total{code=~"500|502|503", job="checkout"}'


def test_generated_rules_pass_promtool_and_their_tests(imported, tmp_path):
    out, _ = imported
    gen = tmp_path / "gen"
    result = CliRunner().invoke(main, ["generate", str(out), "--out", str(gen)])
    assert result.exit_code == 0, result.output
    check_rules(*sorted((gen / "alerts").glob("*.rules.yaml")))
    proc = run_tests(*sorted((gen / "alerts" / "tests").glob("*.yaml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_page_alert_fires_exactly_when_sloths_page_expression_does(imported, tmp_path):
    """A clean hour, a half-hour outage, then recovery: at each check the imported rules' page alert and
    Sloth's documented page condition agree."""
    out, _ = imported
    gen = tmp_path / "gen"
    assert CliRunner().invoke(main, ["generate", str(out), "--out", str(gen)]).exit_code == 0
    minutes = 300
    ok = [60.0] * minutes
    bad = [0.0] * 60 + [60.0] * 30 + [0.0] * (minutes - 90)
    series = [{"series": 'http_requests_total{job="checkout",code="200"}', "values": counter(ok)},
              {"series": 'http_requests_total{job="checkout",code="500"}', "values": counter(bad)}]
    # slokit writes one rule per tier where Sloth ors the two page windows into one: count firing SLOs.
    ours = ('count(count by (slo) (ALERTS{alertname="CheckoutHighErrorRate",severity="critical",'
            'alertstate="firing",slo="requests-availability"})) or vector(0)')

    def ratio(w):
        return (f'(sum(rate(http_requests_total{{job="checkout",code=~"500|502|503"}}[{w}])) / '
                f'sum(rate(http_requests_total{{job="checkout"}}[{w}])))')

    budget = 0.001
    sloth = (f"count(({ratio('1h')} > 14.4 * {budget} and {ratio('5m')} > 14.4 * {budget}) or "
             f"({ratio('6h')} > 6 * {budget} and {ratio('30m')} > 6 * {budget})) or vector(0)")
    for minute in (50, 70, 85, 100, 200):
        got = measure(tmp_path, [gen / "alerts" / "checkout.rules.yaml"], series, [ours, sloth], f"{minute}m")
        assert got[ours][0].value == got[sloth][0].value, (minute, got)
        assert got[ours][0].value == (1 if minute in (70, 85, 100) else 0), (minute, got)


def test_import_never_overwrites(imported):
    out, _ = imported
    result = CliRunner().invoke(main, ["import", "sloth", str(SERVICES), "--out", str(out)])
    assert result.exit_code == 1
    assert "file exists; slokit import never overwrites" in result.output
