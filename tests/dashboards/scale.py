"""Synthetic projects of any size, and their dashboards only.

Services of `slos_per_service` SLOs cycling through every SLI kind, window and
objective of tests/rules/family.py (group_by on the 28d ones), two budgets
per service (one with a cost regression), plus the largest services that
still get per-SLO and per-budget panels (COMPACT_SLOS SLOs, COMPACT_BUDGETS
budgets) and one just past each bound. Only the Grafana renderer runs, so a
10,000-SLO project takes seconds instead of a full `generate`.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from slokit.plan import build_plan
from slokit.project import load_project
from slokit.render import grafana
from slokit.render.grafana.service_dashboard import COMPACT_BUDGETS, COMPACT_SLOS
from tests.rules.family import BUDGETS, CATALOG, KINDS, OBJECTIVES, WINDOWS, dump, slo

COMBOS = list(itertools.product(KINDS, WINDOWS, OBJECTIVES))


def slos(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        kind, window, objective = COMBOS[i % len(COMBOS)]
        spec = slo(kind, window, objective)
        spec["name"] = f"{spec['name']}-{i}"
        out.append(spec)
    return out


def budgets(count: int) -> list[dict[str, Any]]:
    return [{**BUDGETS[i % len(BUDGETS)], "name": f"{BUDGETS[i % len(BUDGETS)]['name']}-{i}"} for i in range(count)]


def service_spec(name: str, slo_count: int, budget_count: int = 2) -> dict[str, Any]:
    return {"version": 1, "service": name, "owner": f"team-{name[-1]}",
            "scope": {"feature": ["support_chat", "order_agent"]},
            "slos": slos(slo_count), "budgets": budgets(budget_count)}


def write_project(directory: Path, total_slos: int, slos_per_service: int = 80) -> int:
    """Spec files for about `total_slos` SLOs; returns the exact number written."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    edge = [service_spec("edge-detailed", COMPACT_SLOS, COMPACT_BUDGETS),
            service_spec("edge-compact", COMPACT_SLOS + 1, COMPACT_BUDGETS + 1)]
    written = sum(len(s["slos"]) for s in edge)
    specs = list(edge)
    i = 0
    while written < total_slos:
        count = min(slos_per_service, total_slos - written)
        specs.append(service_spec(f"svc-{i:04d}", count))
        written += count
        i += 1
    for spec in specs:
        (directory / f"{spec['service']}.yaml").write_text(dump(spec), encoding="utf-8")
    return written


def dashboards(directory: Path) -> dict[str, str]:
    return grafana.render(build_plan(load_project([directory])))
