"""The classic-exporter example repo (docs/examples/exporters/): ingress-nginx and Istio metrics as they are
(a counter without _total, a histogram in milliseconds), typed selectors only. It validates, generates,
passes promtool and its generated tests, and its thresholds are converted to each histogram's unit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from slokit.cli import main
from slokit.plan import build_plan
from slokit.project import load_project
from support.fixtures import REPO_ROOT
from support.prometheus import binary

EXAMPLE = REPO_ROOT / "docs" / "examples" / "exporters"


def test_the_exporter_repo_validates_generates_and_passes_promtool_and_its_tests(tmp_path):
    project = load_project([EXAMPLE])
    assert not project.warnings  # third_party: no naming advice
    slos = {s.name: s for s in build_plan(project).services[0].slos}
    # bad is a subset of total: the same method exclusion on both sides (no SLK224 warning above).
    assert slos["ingress-availability"].sli.events_query == \
        'nginx_ingress_controller_requests{method!~"CONNECT|OPTIONS|TRACE", namespace="shop", status=~"5.."}'
    assert slos["ingress-availability"].sli.total_query == \
        'nginx_ingress_controller_requests{method!~"CONNECT|OPTIONS|TRACE", namespace="shop"}'
    assert slos["ingress-latency"].sli.threshold == "<= 0.5"  # 500ms on a seconds histogram
    assert slos["checkout-latency"].sli.threshold == "<= 250"  # milliseconds, as written
    assert slos["checkout-under-1s"].sli.threshold == "<= 1000"  # 1s on a milliseconds histogram
    assert 'le=~"1000(\\\\.0)?"' in slos["checkout-under-1s"].sli.events_query
    assert slos["checkout-success"].sli.events_query.startswith("istio_request_duration_milliseconds_count{")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--strict", "generate", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rules = sorted((out / "alerts").glob("*.rules.yaml"))
    assert [r.name for r in rules] == ["storefront.rules.yaml"]
    check = subprocess.run([binary("promtool"), "check", "rules", str(rules[0])], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0 and "SUCCESS" in check.stdout, check.stdout + check.stderr
    tests = out / "alerts" / "tests"
    assert "no synthetic input" not in "".join(p.read_text() for p in tests.glob("*.yaml"))
    tested = CliRunner().invoke(main, ["test", str(tests)])
    assert tested.exit_code == 0, tested.output


def test_without_third_party_the_exporter_names_are_warnings_not_errors(tmp_path):
    data = yaml.safe_load((EXAMPLE / "catalog.yaml").read_text())
    for metric in data["metrics"].values():
        metric.pop("third_party")
    for label in data["labels"].values():  # the series bound is a check of its own: keep it met
        if "max_cardinality" in label:
            label["max_cardinality"] = 5
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "storefront.yaml").write_text((EXAMPLE / "storefront.yaml").read_text())
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: counter nginx_ingress_controller_requests does not end in _total" in result.stderr
    assert "warning: unit 'milliseconds' is not a base unit" in result.stderr
    assert result.stderr.rstrip().endswith("2 warnings")
    strict = CliRunner().invoke(main, ["--strict", "validate", str(tmp_path)])
    assert strict.exit_code == 1 and strict.stderr.rstrip().endswith("2 errors")


def test_bad_without_totals_method_exclusion_is_the_subset_warning(tmp_path):
    """The example as it was: bad counted OPTIONS, CONNECT and TRACE 5xx, which total leaves out."""
    (tmp_path / "catalog.yaml").write_text((EXAMPLE / "catalog.yaml").read_text())
    spec = (EXAMPLE / "storefront.yaml").read_text()
    fixed = 'match: {status: {regex: "5.."}, method: {not: [OPTIONS, CONNECT, TRACE]}}'
    assert fixed in spec
    (tmp_path / "storefront.yaml").write_text(spec.replace(fixed, 'match: {status: {regex: "5.."}}'))
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ("warning: bad counts method OPTIONS, CONNECT, TRACE, which total leaves out (method: {not: [OPTIONS, "
            "CONNECT, TRACE]})") in result.stderr
    assert "hint: give bad the same filter as total: method: {not: [OPTIONS, CONNECT, TRACE]}" in result.stderr
    assert CliRunner().invoke(main, ["--strict", "validate", str(tmp_path)]).exit_code == 1
