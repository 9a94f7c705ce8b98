"""How much of the dashboards grafanalib writes, and how much slokit's layer rewrites.

For every dashboard `slokit generate` renders for slos/, compares grafanalib's
own JSON (dashboard_json.build(...).to_json_data()) with the final JSON
(dashboard_json.to_json). Counts leaves (scalars and empty containers, by
JSON path): kept unchanged, changed, dropped, and added by the layer. Prints
the counts and ratios; no assertion (this is evidence for the note, not a test).

Usage: python bench/grafanalib_weight.py [slos/]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

from grafanalib._gen import DashboardEncoder

from slokit.plan import build_plan
from slokit.project import load_project
from slokit.render.grafana import dashboard_json as L
from slokit.render.grafana.cost_dashboard import cost_dashboard
from slokit.render.grafana.overview_dashboard import overview_dashboard
from slokit.render.grafana.service_dashboard import service_dashboard


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def _panels(built: Any) -> Iterator[Any]:
    for panel in built.panels:
        yield panel
        yield from getattr(panel, "panels", [])


def supplied(built: Any) -> int:
    """Leaves slokit hands to grafanalib as raw JSON: extraJson, annotations, links, overrides,
    transformations, Tempo targets (grafanalib only copies them into place)."""
    count = 0
    for panel in _panels(built):
        count += sum(1 for _ in leaves(panel.extraJson or {}))
        count += sum(1 for _ in leaves(getattr(panel, "links", []) or []))
        count += sum(1 for _ in leaves(getattr(panel, "overrides", []) or []))
        count += sum(1 for _ in leaves(getattr(panel, "transformations", []) or []))
        for target in panel.targets:
            if target.get("queryType") == "traceql":
                count += sum(1 for _ in leaves(target))
            else:  # a grafanalib Target's JSON plus the keys grafanalib has no field for
                count += sum(1 for key in ("range", "exemplar", "editorMode") if key in target)
    count += sum(1 for _ in leaves(built.annotations.list))
    return count


def compare(dashboard: L.Dashboard) -> dict[str, int]:
    built = L.build(dashboard)
    raw = dict(leaves(json.loads(json.dumps(built.to_json_data(), cls=DashboardEncoder))))
    final = dict(leaves(L.to_json(dashboard)))
    kept = sum(1 for p, v in raw.items() if p in final and final[p] == v)
    changed = sum(1 for p, v in raw.items() if p in final and final[p] != v)
    dropped = sum(1 for p in raw if p not in final)
    nulls = sum(1 for p, v in raw.items() if p not in final and v is None)
    added = sum(1 for p in final if p not in raw)
    return {"grafanalib": len(raw), "kept": kept, "changed": changed, "dropped": dropped,
            "dropped_nulls": nulls, "final": len(final), "added_by_layer": added, "supplied": supplied(built)}


def main() -> None:
    specs = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("slos")
    plan = build_plan(load_project([specs]))
    boards = {"slokit-overview": overview_dashboard(plan), "slokit-cost": cost_dashboard(plan)}
    boards.update({s.service: service_dashboard(s, plan.catalog) for s in plan.services})
    total: dict[str, int] = {}
    print(f"{'dashboard':22} {'grafanalib':>10} {'kept':>7} {'changed':>7} {'dropped':>7} {'(nulls)':>7} "
          f"{'final':>7} {'added':>7}")
    for name, board in boards.items():
        c = compare(board)
        total = {k: total.get(k, 0) + v for k, v in c.items()}
        print(f"{name:22} {c['grafanalib']:>10} {c['kept']:>7} {c['changed']:>7} {c['dropped']:>7} "
              f"{c['dropped_nulls']:>7} {c['final']:>7} {c['added_by_layer']:>7}")
    t = total
    print(f"{'total':22} {t['grafanalib']:>10} {t['kept']:>7} {t['changed']:>7} {t['dropped']:>7} "
          f"{t['dropped_nulls']:>7} {t['final']:>7} {t['added_by_layer']:>7}")
    print(f"\nof grafanalib's leaves: kept {t['kept'] / t['grafanalib']:.0%}, changed "
          f"{t['changed'] / t['grafanalib']:.0%}, dropped {t['dropped'] / t['grafanalib']:.0%} "
          f"(nulls {t['dropped_nulls'] / t['grafanalib']:.0%})")
    print(f"of the final leaves: passed through grafanalib as raw JSON written by slokit (extraJson, links, "
          f"overrides, transformations, annotations, Tempo targets) {t['supplied'] / t['final']:.0%}; added after "
          f"grafanalib by the layer {t['added_by_layer'] / t['final']:.0%}; so grafanalib's own mapping of its "
          f"attributes accounts for at most {(t['kept'] - t['supplied']) / t['final']:.0%}")


if __name__ == "__main__":
    main()
