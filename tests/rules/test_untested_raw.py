"""Raw SLIs the generated rule tests cannot feed: said so, and never an empty test."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project

FROZEN_CATALOG = Path(__file__).resolve().parents[1] / "language" / "corpus" / "catalog.yaml"

PLAIN = {"name": "plain", "objective": 99, "sli": {"raw": {
    "bad": 'sum(rate(llm_requests_total{status="server_error"}[{{window}}]))',
    "total": "rate(llm_requests_total[{{window}}])"}}}
UNTESTED = {"name": "untested", "objective": 98, "sli": {"raw": {
    "bad": "sum(increase(llm_refusals_total[{{window}}])) / 60",
    "total": 'rate(llm_requests_total{status="ok"}[{{window}}])'}}}


def outputs(tmp_path: Path, *slos: dict) -> dict[str, str]:
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump({"service": "demo", "owner": "team", "slos": list(slos)}))
    (tmp_path / "catalog.yaml").write_text(FROZEN_CATALOG.read_text())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        project = load_project([Path("demo.yaml")], Path("catalog.yaml"))
        return build_outputs(project), project
    finally:
        os.chdir(cwd)


def test_a_service_whose_slos_are_all_untested_gets_no_test_file_and_a_warning(tmp_path):
    out, project = outputs(tmp_path, UNTESTED)
    assert N.rules_path("demo") in out
    assert not [p for p in out if p.startswith("alerts/tests/")], "a test file that feeds and asserts nothing"
    warned = [d for d in project.warnings if d.code == "SLK223"]
    assert len(warned) == 1 and warned[0].line == 8


def test_untested_slos_beside_tested_ones_leave_only_groups_that_feed_and_assert(tmp_path):
    out, project = outputs(tmp_path, PLAIN, UNTESTED)
    text = out[N.rule_tests_path("demo")]
    assert "# SLO untested: its raw SLI is not a single rate(selector" in text
    tests = yaml.safe_load(text)["tests"]
    assert tests
    for group in tests:
        assert group["input_series"], group["name"]
        assert group.get("alert_rule_test") or group.get("promql_expr_test"), group["name"]
    assert [d.code for d in project.warnings] == ["SLK223"]  # the plain single-rate SLI is not warned about
