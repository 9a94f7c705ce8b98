"""`generate --format vmalert`: the plain groups with rates written for MetricsQL.

The rewrite itself (unit), that the file holds the plain file's rules with only
the rates changed, that the real vmalert accepts it (`vmalert -dryRun`), and
that the real promtool passes the generated unit tests on it: in Prometheus
increase(x[w]) / seconds is rate(x[w]), so the rewritten file must compute the
same values. tests/e2e/test_vmalert.py runs it in vmalert against a real
VictoriaMetrics.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project
from slokit.render.vmalert_rules import metricsql

from .promtool import run_tests

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("promql", "expected"), [
    ("sum(rate(x_total[5m]))", "sum(increase(x_total[5m]) / 300)"),
    ('sum by (feature) (rate(x_total{a="b"}[1h]))', 'sum by (feature) (increase(x_total{a="b"}[1h]) / 3600)'),
    # Label values may hold parentheses, brackets and the word rate(.
    ('sum(rate(h_bucket{le=~"1(\\\\.0)?", m="rate([x])"}[2h]))',
     'sum(increase(h_bucket{le=~"1(\\\\.0)?", m="rate([x])"}[2h]) / 7200)'),
    # Not alone in its parentheses: wrapped, so precedence cannot change.
    ("2 / rate(x_total[5m]) * 3", "2 / (increase(x_total[5m]) / 300) * 3"),
    ("rate(x_total[1h30m])", "(increase(x_total[1h30m]) / 5400)"),
    # Left as written: other functions, recorded names, subqueries, offsets.
    ("irate(x_total[5m])", "irate(x_total[5m])"),
    ("slo:burn_rate:rate1h{slo=\"a\"} > 14.4", "slo:burn_rate:rate1h{slo=\"a\"} > 14.4"),
    ("avg_over_time(slo:bad_events:rate5m{slo=\"a\"}[6h])", "avg_over_time(slo:bad_events:rate5m{slo=\"a\"}[6h])"),
    ("rate(x_total[5m:1m])", "rate(x_total[5m:1m])"),
    ("rate(x_total[5m] offset 1w)", "rate(x_total[5m] offset 1w)"),
    ("rate(x_total[5m]) / rate(y_total[5m])", "(increase(x_total[5m]) / 300) / (increase(y_total[5m]) / 300)"),
])
def test_rates_become_increase_over_the_window(promql, expected):
    assert metricsql(promql) == expected


@pytest.fixture(scope="module")
def outputs():
    import os
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return build_outputs(load_project([Path("slos")]), ("vmalert",))
    finally:
        os.chdir(cwd)


def services(outputs) -> list[str]:
    found = sorted(Path(rel).name.removesuffix(".rules.yaml") for rel in outputs if rel.endswith(".rules.yaml"))
    assert found
    return found


def test_same_rules_with_only_the_rates_rewritten(outputs):
    rewritten = 0
    for service in services(outputs):
        plain = yaml.safe_load(outputs[N.rules_path(service)])["groups"]
        vm = yaml.safe_load(outputs[N.vmalert_rules_path(service)])["groups"]
        assert [g["name"] for g in vm] == [g["name"] for g in plain]
        for pg, vg in zip(plain, vm):
            assert len(pg["rules"]) == len(vg["rules"])
            for p, v in zip(pg["rules"], vg["rules"]):
                assert {k: x for k, x in p.items() if k != "expr"} == {k: x for k, x in v.items() if k != "expr"}
                assert v["expr"] == metricsql(p["expr"])
                rewritten += v["expr"] != p["expr"]
                # Every raw-counter rate of the bundled SLOs is rewritten.
                assert not re.search(r"(?<![A-Za-z0-9_:])rate\(", v["expr"]), v["expr"]
    assert rewritten > 100


def test_vmalert_accepts_the_files(outputs, tmp_path):
    vmalert = shutil.which("vmalert")
    assert vmalert, "vmalert is not installed: run `make system-deps` (Debian package victoria-metrics)"
    for service in services(outputs):
        path = tmp_path / f"{service}.vmalert.yaml"
        path.write_text(outputs[N.vmalert_rules_path(service)])
        proc = subprocess.run([vmalert, "-dryRun", f"-rule={path}", "-loggerLevel=ERROR"], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # And it does reject a broken file (so the check above means something).
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(increase(x[5m]) / \n")
    proc = subprocess.run([vmalert, "-dryRun", f"-rule={broken}", "-loggerLevel=ERROR"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0


def test_generated_promtool_tests_pass_on_the_vmalert_file(outputs, tmp_path):
    """In Prometheus the rewritten expressions compute what rate() does, so the generated tests still pass."""
    for rel, text in outputs.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    tests = sorted((tmp_path / "alerts" / "tests").glob("*.test.yaml"))
    assert tests
    for test in tests:
        doc = yaml.safe_load(test.read_text())
        doc["rule_files"] = [f.replace(".rules.yaml", ".vmalert.yaml") for f in doc["rule_files"]]
        assert all(f.endswith(".vmalert.yaml") for f in doc["rule_files"])
        test.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = run_tests(*tests)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "SUCCESS" in proc.stdout
