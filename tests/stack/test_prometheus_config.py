"""stack/prometheus/prometheus.yml: promtool accepts it together with the
rules `slokit generate` writes, and its targets are the compose services."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from support.compose import compose_config
from support.prometheus import binary

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "stack" / "prometheus" / "prometheus.yml"


def test_promtool_checks_the_config_with_the_generated_rules(tmp_path, generated):
    # Same layout as the repository: stack/prometheus/prometheus.yml loads
    # ../../alerts/*.rules.yaml relative to itself.
    root = tmp_path / "root"
    (root / "stack" / "prometheus").mkdir(parents=True)
    shutil.copy(CONFIG, root / "stack" / "prometheus" / "prometheus.yml")
    shutil.copytree(generated / "alerts", root / "alerts")
    rule_files = sorted((root / "alerts").glob("*.rules.yaml"))
    assert len(rule_files) == len(list((REPO / "slos").glob("*.yaml"))) - 1  # every spec but the catalog

    out = subprocess.run([binary("promtool"), "check", "config", "stack/prometheus/prometheus.yml"],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert f"SUCCESS: {len(rule_files)} rule files found" in text
    for path in rule_files:
        assert f"Checking ../alerts/{path.name}" in text or f"Checking {path}" in text or path.name in text


def test_scrape_targets_are_the_compose_services(tmp_path):
    prometheus = yaml.safe_load(CONFIG.read_text())
    services = compose_config(tmp_path).config["services"]
    targets = {job["job_name"]: target for job in prometheus["scrape_configs"]
               for static in job["static_configs"] for target in static["targets"]}
    assert targets == {"demo-app": "app:8000", "prometheus": "localhost:9090", "alertmanager": "alertmanager:9093",
                       "tempo": "tempo:3200", "otel-collector": "otel-collector:8888"}
    for job, target in targets.items():
        host = target.split(":")[0]
        assert host == "localhost" or host in services, f"{job} scrapes {target}: no such compose service"
    assert services["app"]["environment"]["SLOKIT_APP_PORT"] == "8000"
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "/alerts:/alerts:ro" in " ".join(str(v) for v in services["prometheus"]["volumes"])
    # Short, honest intervals: the shortest rule window (5m) spans 30 scrapes.
    assert prometheus["global"]["scrape_interval"] == "10s"
    assert prometheus["global"]["evaluation_interval"] == "10s"
