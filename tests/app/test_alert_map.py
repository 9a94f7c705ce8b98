"""docs/demo-app.md's scenario -> alert map names real alerts of the bundled
specs, as the committed alerts/*.rules.yaml define them.

The map is what a user reads to know which alert a scenario should fire; a
renamed SLO, a disabled page or a new scenario must not leave it stale.
"""

from __future__ import annotations

import re

import pytest
import yaml

from slokit_app.appdata import load_app_data

from .helpers import REPO

ALERT_NAMES = {"SLOErrorBudgetBurn", "SLONoData", "SLOBudgetProjectedOverrun", "SLOCostRegression"}
REQUIRED_LABELS = {
    "SLOErrorBudgetBurn": {"service", "slo", "severity"},
    "SLONoData": {"service"},
    "SLOBudgetProjectedOverrun": {"service", "budget"},
    "SLOCostRegression": {"service", "budget"},
}
_ALERT = re.compile(r"`(SLO[A-Za-z]+)(?:\{([^}`]*)\})?`")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _map_rows() -> list[list[str]]:
    text = (REPO / "docs" / "demo-app.md").read_text(encoding="utf-8")
    section = text.split("## Fault scenarios and the alerts they should fire", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| scenario")]
    # Cells are split on pipes that are not escaped (`\|` inside PromQL regexes).
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def _specs() -> dict[str, dict]:
    specs = {}
    for name in ("support-chatbot", "rag-assistant"):
        data = yaml.safe_load((REPO / "slos" / f"{name}.yaml").read_text(encoding="utf-8"))
        specs[data["service"]] = data
    return specs


def _generated_alerts() -> list[tuple[str, dict]]:
    """(alertname, labels) of every alert rule in the committed alerts/*.rules.yaml."""
    alerts = []
    for path in sorted((REPO / "alerts").glob("*.rules.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            alerts += [(r["alert"], r.get("labels") or {}) for r in group["rules"] if "alert" in r]
    return alerts


def _page_enabled(spec: dict, slo: dict) -> bool:
    for alerting in (slo.get("alerting") or {}, spec.get("alerting") or {}):
        page = alerting.get("page") or {}
        if "enabled" in page:
            return bool(page["enabled"])
    return True


ROWS = _map_rows()


def test_every_bundled_scenario_is_mapped_once():
    names = [m.group(1) for row in ROWS if (m := re.fullmatch(r"`(\w+)`", row[0]))]
    assert sorted(names) == sorted(load_app_data().scenarios)


@pytest.mark.parametrize("row", ROWS, ids=[row[0].strip("`") for row in ROWS])
def test_alerts_exist_in_the_bundled_specs(row):
    specs = _specs()
    alerts = _ALERT.findall(row[-1])
    if row[0] == "`primary_model_outage`":
        assert not alerts and row[-1].startswith("none")
        return
    assert alerts, f"{row[0]} maps to no alert"
    generated = _generated_alerts()
    for name, label_text in alerts:
        assert name in ALERT_NAMES, name
        labels = dict(_LABEL.findall(label_text))
        # The rules `slokit generate` committed carry exactly this alert.
        assert any(a == name and labels.items() <= ls.items() for a, ls in generated), (name, labels)
        assert REQUIRED_LABELS[name] <= set(labels), (name, labels)
        spec = specs.get(labels["service"])
        assert spec is not None, f"no service {labels['service']!r}"
        slos = {s["name"]: s for s in spec.get("slos", [])}
        budgets = {b["name"]: b for b in spec.get("budgets", [])}
        if "slo" in labels:
            assert labels["slo"] in slos, f"{labels['service']} has no SLO {labels['slo']!r}"
        if "severity" in labels:
            assert labels["severity"] in ("page", "ticket")
            if labels["severity"] == "page":
                assert _page_enabled(spec, slos[labels["slo"]]), f"{labels['slo']} does not page"
        if "budget" in labels:
            assert labels["budget"] in budgets, f"{labels['service']} has no budget {labels['budget']!r}"
            if name == "SLOCostRegression":
                assert budgets[labels["budget"]].get("regression"), f"{labels['budget']} has no regression"
