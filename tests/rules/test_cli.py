"""`slokit test`, `slokit explain` and `slokit generate --format`, through the real command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slokit import naming as N

REPO = Path(__file__).resolve().parents[2]


def slokit(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slokit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    shutil.copytree(REPO / "slos", root / "slos")
    proc = slokit(root, "generate")
    assert proc.returncode == 0, proc.stderr
    return root


def test_slokit_test_runs_generated_and_hand_written_tests(generated, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(generated, root)
    handwritten = {
        "rule_files": ["../rag-assistant.rules.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [], "promql_expr_test": [
            {"expr": 'slo:objective:ratio{slo="answer-success"}', "eval_time": "1m",
             "exp_samples": [{"labels": 'slo:objective:ratio{service="rag-assistant", slo="answer-success"}',
                              "value": 0.995}]}]}],
    }
    (root / "alerts" / "tests" / "mine.yaml").write_text(yaml.safe_dump(handwritten))
    # The support-chatbot tests run in test_promtool_outputs already; keep this one quick.
    for path in (root / "alerts" / "tests").glob("support-chatbot.*"):
        path.unlink()
    files = sorted(p.name for p in (root / "alerts" / "tests").iterdir())
    assert "mine.yaml" in files and "rag-assistant.test.yaml" in files
    proc = slokit(root, "test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ok: {len(files)} test files passed" in proc.stdout and "mine.yaml" in proc.stdout

    handwritten["tests"][0]["promql_expr_test"][0]["exp_samples"][0]["value"] = 0.9
    (root / "alerts" / "tests" / "mine.yaml").write_text(yaml.safe_dump(handwritten))
    proc = slokit(root, "test", "alerts/tests/mine.yaml")
    assert proc.returncode == 1
    assert "FAILED" in proc.stderr and "9.95E-01" in proc.stderr  # promtool's own report
    assert "promtool test rules failed (1 test file)" in proc.stderr


def test_slokit_test_without_promtool_or_tests(generated, tmp_path):
    proc = slokit(generated, "test", env={"PATH": str(Path(sys.executable).parent)})
    assert proc.returncode == 1 and "promtool is not installed" in proc.stderr and "Traceback" not in proc.stderr
    proc = slokit(tmp_path, "test")
    assert proc.returncode == 2 and "no alerts/tests/ directory" in proc.stderr


def test_explain(generated):
    proc = slokit(generated, "explain", "support-chatbot/ttft-under-1s")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("support-chatbot/ttft-under-1s: ")
    assert "one budget and one alert per feature" in proc.stdout
    assert "page      2%            1h    5m     14.4  72%          43m12s" in proc.stdout
    everything = slokit(generated, "explain")
    specs = [yaml.safe_load(f.read_text()) for f in sorted((generated / "slos").glob("*.yaml"))
             if f.name != "catalog.yaml"]
    shown = sum(len(s.get("slos") or []) + len(s.get("budgets") or []) for s in specs)
    assert everything.stdout.count("\n\n") == shown - 1  # one paragraph per SLO and budget
    proc = slokit(generated, "explain", "support-chatbot/latency")
    assert proc.returncode == 2 and "has no SLO or budget 'latency'" in proc.stderr


def test_generate_format_operator_and_mimir(generated, tmp_path):
    root = tmp_path / "fmt"
    shutil.copytree(generated, root)
    proc = slokit(root, "generate", "--format", "operator", "--format", "mimir")
    assert proc.returncode == 0, proc.stderr
    services = [yaml.safe_load(f.read_text())["service"] for f in sorted((root / "slos").glob("*.yaml"))
                if f.name != "catalog.yaml"]
    assert services
    for service in services:
        operator = yaml.safe_load((root / N.operator_rules_path(service)).read_text())
        assert operator["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "slokit"
        mimir = yaml.safe_load((root / N.mimir_rules_path(service)).read_text())
        assert mimir["namespace"] == f"slokit-{service}"
        assert (root / N.rules_path(service)).exists()  # plain rules stay: promtool and the tests read them
    assert slokit(root, "generate", "--check", "--format", "operator", "--format", "mimir").returncode == 0
    stale = slokit(root, "generate", "--check")  # without the formats, their files are stale
    assert stale.returncode == 1 and f"removed: {N.operator_rules_path('support-chatbot')}" in stale.stderr
    proc = slokit(root, "generate", "--format", "cortex")
    assert proc.returncode == 2 and "Invalid value for '--format'" in proc.stderr


def test_operator_names_are_dns_subdomains():
    assert N.operator_rule_name("support-chatbot") == "slokit-support-chatbot"
    a, b = N.operator_rule_name("a_b"), N.operator_rule_name("a-b")
    assert a != b and a.startswith("slokit-a-b-") and "_" not in a
    assert not N.operator_rule_name("svc_").endswith(("-", "_"))
