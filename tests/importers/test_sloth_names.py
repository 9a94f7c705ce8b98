"""`generate --format sloth`: Sloth's recording-rule names and labels (as Sloth documents the rules it
generates: slo:sli_error:ratio_rate<window> with sloth_id/sloth_service/sloth_slo/sloth_window, and
slo:objective:ratio, slo:error_budget:ratio, slo:time_period:days, slo:current_burn_rate:ratio,
slo:period_burn_rate:ratio, slo:period_error_budget_remaining:ratio, sloth_slo_info), evaluated by the
real promtool beside slokit's own rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main

from tests.rules.promtool import check_rules, counter, measure

FIXTURES = Path(__file__).parent / "fixtures"
SLOTH_SLI_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
SLOTH_META = ["slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio",
              "slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio", "sloth_slo_info"]
SLOTH_LABELS = {"sloth_id", "sloth_service", "sloth_slo"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("sloth-names")
    specs = root / "slos"
    assert CliRunner().invoke(main, ["import", "sloth", str(FIXTURES / "sloth-services.yaml"),
                                     "--out", str(specs)]).exit_code == 0
    result = CliRunner().invoke(main, ["generate", str(specs), "--out", str(root), "--format", "sloth"])
    assert result.exit_code == 0, result.output
    return root


def rules(root: Path, service: str) -> list[dict]:
    data = yaml.safe_load((root / N.sloth_rules_path(service)).read_text(encoding="utf-8"))
    return [r for g in data["groups"] for r in g["rules"]]


def test_the_recording_rules_have_sloths_names_and_labels(generated):
    found = rules(generated, "checkout")
    by_slo: dict[str, list[dict]] = {}
    for rule in found:
        by_slo.setdefault(rule["labels"]["sloth_slo"], []).append(rule)
    assert sorted(by_slo) == ["requests-availability", "requests-latency"]
    for slo, rs in by_slo.items():
        assert [r["record"] for r in rs] == [f"slo:sli_error:ratio_rate{w}" for w in SLOTH_SLI_WINDOWS] + SLOTH_META
        for r in rs:
            assert SLOTH_LABELS <= set(r["labels"])
            assert r["labels"]["sloth_id"] == f"checkout-{slo}" and r["labels"]["sloth_service"] == "checkout"
            assert ("sloth_window" in r["labels"]) == r["record"].startswith("slo:sli_error:")
        assert [r["labels"]["sloth_window"] for r in rs if "sloth_window" in r["labels"]] == SLOTH_SLI_WINDOWS
    info = next(r for r in found if r["record"] == "sloth_slo_info" and r["labels"]["sloth_slo"] == "requests-latency")
    assert info["labels"]["sloth_objective"] == "99"
    check_rules(generated / N.sloth_rules_path("checkout"), generated / N.rules_path("checkout"))


def test_sloth_queries_read_the_same_values_and_slokits_own_queries_see_no_duplicates(generated, tmp_path):
    minutes = 120
    ok, bad = [99.0] * minutes, [1.0] * minutes  # 1% errors against a 0.1% budget: burn rate 10
    series = [{"series": 'http_requests_total{job="checkout",code="200"}', "values": counter(ok)},
              {"series": 'http_requests_total{job="checkout",code="500"}', "values": counter(bad)}]
    sel = '{sloth_service="checkout", sloth_slo="requests-availability"}'
    exprs = [f"slo:sli_error:ratio_rate5m{sel}", f"slo:current_burn_rate:ratio{sel}", f"slo:objective:ratio{sel}",
             f"slo:error_budget:ratio{sel}", f"slo:time_period:days{sel}",
             'count(slo:objective:ratio{service="checkout", slo="requests-availability"})']
    got = measure(tmp_path, [generated / N.rules_path("checkout"), generated / N.sloth_rules_path("checkout")],
                  series, exprs, "100m")
    assert got[exprs[0]][0].value == pytest.approx(0.01)
    assert got[exprs[1]][0].value == pytest.approx(10)
    assert got[exprs[2]][0].value == pytest.approx(0.999)
    assert got[exprs[3]][0].value == pytest.approx(0.001)
    assert got[exprs[4]][0].value == 30
    assert got[exprs[5]][0].value == 1  # the alias has no service/slo labels: slokit's selectors see one series
    assert set(got[exprs[0]][0].labels) >= SLOTH_LABELS | {"sloth_window"}
    assert "service" not in got[exprs[0]][0].labels
