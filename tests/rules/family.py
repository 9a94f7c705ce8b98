"""A generated family of SLO specs: every SLI kind x windows 7d/28d/30d x objectives 90..99.99.

Written against the bundled catalog (slos/catalog.yaml), one service per SLI
kind, with group_by on the 28d SLOs, a min-traffic guard on the 7d ones, and
budgets (by feature, with a cost regression) on one service.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "slos" / "catalog.yaml"
WINDOWS = ("7d", "28d", "30d")
OBJECTIVES = (90, 95, 99, 99.5, 99.9, 99.99)

KINDS: dict[str, dict[str, Any]] = {
    "ratio-good": {"ratio": {"good": {"metric": "llm_requests_total", "match": {"status": "ok"}},
                             "total": {"metric": "llm_requests_total"}}},
    "ratio-bad": {"ratio": {"bad": {"metric": "llm_requests_total",
                                    "match": {"status": ["server_error", "timeout"]}},
                            "total": {"metric": "llm_requests_total"}}},
    "threshold-le": {"threshold": {"metric": "llm_ttft_seconds", "le": 1}},
    "threshold-gt": {"threshold": {"metric": "llm_eval_score", "gt": 0.8}},
    "raw": {"raw": {"bad": 'sum(rate(llm_refusals_total{model="sim-large"}[{{window}}]))',
                    "total": 'rate(llm_requests_total{model="sim-large", status="ok"}[{{window}}])'}},
}


def slo_name(kind: str, window: str, objective: float) -> str:
    return f"{kind}-{window}-{str(objective).replace('.', '-')}"


def slo(kind: str, window: str, objective: float) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": slo_name(kind, window, objective), "objective": objective, "window": window,
                            "sli": KINDS[kind]}
    alerting: dict[str, Any] = {}
    if objective <= 90:
        alerting["page"] = {"enabled": False}  # the default 1h page tier would need 144% errors
    if window == "7d":
        alerting["min_events_per_hour"] = 30
    if window == "28d":
        spec["group_by"] = ["feature"]
        alerting["budget_exhausted"] = True
    if alerting:
        spec["alerting"] = alerting
    return spec


BUDGETS = [
    {"name": "daily-spend", "metric": "llm_cost_usd_total", "limit": 200, "window": "1d", "by": ["feature"],
     "regression": {"per": {"metric": "llm_requests_total"}, "factor": 1.5, "min_events_per_hour": 60}},
    {"name": "monthly-tokens", "metric": "llm_output_tokens_total", "limit": 20000000, "window": "30d"},
]


def service(kind: str, objectives=OBJECTIVES, windows=WINDOWS, budgets: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 1, "service": f"family-{kind}", "owner": "family-team", "labels": {"tier": "2"},
        "scope": {"feature": ["support_chat", "order_agent"]},
        "slos": [slo(kind, w, o) for w in windows for o in objectives],
    }
    if budgets:
        spec["budgets"] = BUDGETS
    return spec


def dump(spec: dict[str, Any]) -> str:
    """YAML without anchors (slokit rejects aliases; shared dicts would otherwise become them)."""
    return yaml.safe_dump(json.loads(json.dumps(spec)), sort_keys=False)


def write_family(directory: Path) -> list[Path]:
    """One spec file per SLI kind in `directory`, plus the catalog; returns the spec files."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    files = []
    for i, kind in enumerate(KINDS):
        path = directory / f"{kind}.yaml"
        path.write_text(dump(service(kind, budgets=i == 0)), encoding="utf-8")
        files.append(path)
    return files


def write_small_family(directory: Path, catalog: Path = CATALOG) -> list[Path]:
    """A service per SLI kind with a handful of SLOs, small enough to run its generated promtool tests."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(catalog.read_text(encoding="utf-8"), encoding="utf-8")
    picks = {"ratio-good": [("28d", 99.99)], "ratio-bad": [("7d", 99.5)], "threshold-le": [("30d", 90)],
             "threshold-gt": [("28d", 95)], "raw": [("7d", 99)]}
    spec: dict[str, Any] = {"version": 1, "service": "small-family", "owner": "family-team",
                            "scope": {"feature": ["support_chat", "order_agent"]},
                            "slos": [slo(kind, w, o) for kind, items in picks.items() for w, o in items],
                            "budgets": BUDGETS}
    path = directory / "small-family.yaml"
    path.write_text(dump(spec), encoding="utf-8")
    return [path]
