"""Rule files for the Mimir / Cortex and Thanos rulers, checked against the formats and rules those rulers
document (Mimir 2.17 and mimirtool's rule-file parser, Thanos docs/components/rule.md); see
docs/alerting.md, "Mimir / Cortex ruler" and "Thanos Ruler". mimirtool, Cortex and Thanos do not run here:
the structural rules are asserted on the files, and the groups inside them go through the real promtool.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main

from .promtool import check_rules, promtool

REPO = Path(__file__).resolve().parents[2]

SPEC = """\
service: shop
owner: shop-team
slos:
  - name: requests
    objective: 99.5
    group_by: [feature]
    sli: {ratio: {good: {metric: llm_requests_total, match: {status: ok}}, total: {metric: llm_requests_total}}}
budgets:
  - name: spend
    metric: llm_cost_usd_total
    limit: 100
    window: 1d
"""
# The rule group fields Mimir's ruler and mimirtool read (mimirtool's rwrulefmt.RuleGroup; `evaluation_delay`
# is Mimir's older name of query_offset) and the ones Thanos Ruler adds to Prometheus' (docs/components/rule.md).
MIMIR_GROUP_FIELDS = {"name", "interval", "query_offset", "evaluation_delay", "limit", "source_tenants", "rules"}
THANOS_GROUP_FIELDS = {"name", "interval", "query_offset", "limit", "partial_response_strategy", "rules"}
RULE_FIELDS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


def project(tmp_path: Path, config: str, spec: str = SPEC) -> Path:
    (tmp_path / "specs").mkdir()
    shutil.copy(REPO / "slos" / "catalog.yaml", tmp_path / "specs" / "catalog.yaml")
    (tmp_path / "specs" / "shop.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "slokit.yaml").write_text("version: 1\nspecs: [specs]\noutput: build\n" + config, encoding="utf-8")
    return tmp_path


def run(args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, args)


def load(root: Path, rel: str) -> dict:
    return yaml.safe_load((root / "build" / rel).read_text(encoding="utf-8"))


def plain_groups(root: Path) -> list[dict]:
    return load(root, N.rules_path("shop"))["groups"]


def test_mimir_files_follow_the_ruler_format_and_carry_source_tenants(tmp_path, monkeypatch):
    root = project(tmp_path, "formats: [mimir]\nmimir: {source_tenants: [team-a, \"ops.b_(eu)\"]}\n")
    result = run(["generate"], root, monkeypatch)
    assert result.exit_code == 0, result.output
    doc = load(root, N.mimir_rules_path("shop"))
    # One namespace per file, named in the file (mimirtool would fall back to the file name).
    assert set(doc) == {"namespace", "groups"} and doc["namespace"] == "slokit-shop"
    names = [g["name"] for g in doc["groups"]]
    assert len(names) == len(set(names)) == 2 and all(names)  # mimirtool: names non-empty, unique per namespace
    for group in doc["groups"]:
        assert set(group) <= MIMIR_GROUP_FIELDS
        assert group["source_tenants"] == ["team-a", "ops.b_(eu)"]
        assert all(set(r) <= RULE_FIELDS for r in group["rules"])
    # Apart from source_tenants, the very groups of the plain file, which promtool accepts.
    stripped = [{k: v for k, v in g.items() if k != "source_tenants"} for g in doc["groups"]]
    assert stripped == plain_groups(root)
    check_rules(root / "build" / N.rules_path("shop"))


def test_without_source_tenants_mimir_groups_are_the_plain_ones(tmp_path, monkeypatch):
    root = project(tmp_path, "formats: [mimir]\n")
    assert run(["generate"], root, monkeypatch).exit_code == 0
    assert load(root, N.mimir_rules_path("shop"))["groups"] == plain_groups(root)


def test_an_invalid_tenant_id_is_a_positioned_error(tmp_path, monkeypatch):
    root = project(tmp_path, "mimir:\n  source_tenants: [team-a, ..]\n")
    result = run(["validate"], root, monkeypatch)
    assert result.exit_code == 1
    assert "slokit.yaml:5:28: '..' is not a valid Mimir tenant ID" in result.output
    root2 = tmp_path / "two"
    root2.mkdir()
    project(root2, "mimir:\n  source_tenants: [team a]\n")
    result = run(["validate"], root2, monkeypatch)
    assert result.exit_code == 1 and "slokit.yaml:5:20:" in result.output


def test_a_group_over_the_mimir_rule_limit_fails_at_its_slo(tmp_path, monkeypatch):
    root = project(tmp_path, "formats: [mimir]\nmimir: {max_rules_per_rule_group: 20}\n")
    result = run(["generate"], root, monkeypatch)
    assert result.exit_code == 1
    assert "specs/shop.yaml:4:11: rule group 'slokit-shop-requests' has " in result.output
    assert "over the Mimir ruler's limit of 20" in result.output
    assert "raise ruler_max_rules_per_rule_group for the tenant to at least" in result.output
    assert "Traceback" not in result.output
    assert not (root / "build" / N.mimir_rules_path("shop")).exists()  # all or nothing
    # The number the error names is enough.
    needed = int(result.output.split("to at least ")[1].split()[0].rstrip(";"))
    (root / "slokit.yaml").write_text((root / "slokit.yaml").read_text().replace("20}", f"{needed}}}"))
    result = run(["generate"], root, monkeypatch)
    assert result.exit_code == 0, result.output
    assert max(len(g["rules"]) for g in load(root, N.mimir_rules_path("shop"))["groups"]) == needed


def test_more_groups_than_the_tenant_allows_is_an_error(tmp_path, monkeypatch):
    root = project(tmp_path, "mimir: {max_rule_groups_per_tenant: 1}\n")
    result = run(["validate"], root, monkeypatch)
    assert result.exit_code == 1
    assert "specs/shop.yaml:1:10: the project has 2 rule groups" in result.output
    assert "at least 2" in result.output


def test_thanos_files_carry_the_partial_response_strategy(tmp_path, monkeypatch):
    root = project(tmp_path, "formats: [thanos]\n")
    assert run(["generate"], root, monkeypatch).exit_code == 0
    doc = load(root, N.thanos_rules_path("shop"))
    assert set(doc) == {"groups"}
    assert all(set(g) <= THANOS_GROUP_FIELDS and g["partial_response_strategy"] == "abort" for g in doc["groups"])
    assert [{k: v for k, v in g.items() if k != "partial_response_strategy"} for g in doc["groups"]] \
        == plain_groups(root)
    # Prometheus does not know the field: the Thanos file is for Thanos only, the plain file for Prometheus.
    proc = subprocess.run([promtool(), "check", "rules", str(root / "build" / N.thanos_rules_path("shop"))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "partial_response_strategy" in proc.stdout + proc.stderr
    (root / "slokit.yaml").write_text((root / "slokit.yaml").read_text() + "thanos: {partial_response_strategy: warn}\n")
    assert run(["generate"], root, monkeypatch).exit_code == 0
    assert {g["partial_response_strategy"] for g in load(root, N.thanos_rules_path("shop"))["groups"]} == {"warn"}


def test_thanos_external_labels_may_not_replace_labels_slokit_writes(tmp_path, monkeypatch):
    root = project(tmp_path, "thanos:\n  external_labels: [replica, service]\n")
    result = run(["validate"], root, monkeypatch)
    assert result.exit_code == 1
    assert "slokit.yaml:5:30: external label 'service' would replace the label" in result.output
    root2 = tmp_path / "two"
    root2.mkdir()
    project(root2, "thanos:\n  external_labels: [replica, feature]\n")
    result = run(["validate"], root2, monkeypatch)
    assert result.exit_code == 1
    assert "specs/shop.yaml:6:16: group_by label 'feature' of SLO 'requests' is also an external label" \
        in result.output
    root3 = tmp_path / "three"
    root3.mkdir()
    project(root3, "formats: [thanos]\nthanos:\n  external_labels: [replica, ruler_cluster]\n")
    assert run(["generate"], root3, monkeypatch).exit_code == 0


def test_every_place_a_label_is_named_is_checked_against_the_external_labels(tmp_path, monkeypatch):
    spec = SPEC.replace("owner: shop-team\n", "owner: shop-team\nlabels: {region: eu}\n") \
        .replace("    group_by: [feature]\n", "    group_by: [feature]\n    labels: {tier: gold}\n") \
        + "    by: [feature, provider]\n"
    project(tmp_path, "thanos:\n  external_labels: [region, tier, provider, feature]\n", spec)
    result = run(["validate"], tmp_path, monkeypatch)
    assert result.exit_code == 1
    found = [line for line in result.output.splitlines() if "is also an external label" in line]
    assert [line.split(": ", 1)[0].rsplit(":", 2)[1:] for line in found] == \
        [["3", "10"], ["7", "16"], ["8", "14"], ["15", "10"], ["15", "19"]], result.output
    assert any("label 'region' is also" in line for line in found)
    assert any("label 'tier' of SLO 'requests' is also" in line for line in found)
    assert any("by label 'provider' of budget 'spend' is also" in line for line in found)
