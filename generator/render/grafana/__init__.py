"""The Grafana backend: the SLO overview, the cost dashboard and one per service.

The dashboards are described in overview_dashboard / cost_dashboard /
service_dashboard (panels in slo_panels, budget_panels, signal_panels,
trace_panels; PromQL helpers in queries, the catalog's signals in signals)
and rendered to JSON by the thin layer over grafanalib (dashboard_json).
The demo stack's datasources and dashboard provider are in provisioning.
"""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ProjectPlan
# Modules, not their functions: a function imported here under its module's
# name would shadow the submodule as an attribute of this package.
from slokit.render.grafana import cost_dashboard, overview_dashboard, service_dashboard
from slokit.render.grafana.dashboard_json import render_dashboard


def render(plan: ProjectPlan) -> dict[str, str]:
    outputs = {
        N.OVERVIEW_DASHBOARD_PATH: render_dashboard(overview_dashboard.overview_dashboard(plan)),
        N.COST_DASHBOARD_PATH: render_dashboard(cost_dashboard.cost_dashboard(plan)),
    }
    for service in plan.services:
        board = service_dashboard.service_dashboard(service, plan.catalog)
        outputs[N.service_dashboard_path(service.service)] = render_dashboard(board)
    return outputs
