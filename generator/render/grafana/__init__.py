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
from slokit.render.grafana.cost_dashboard import cost_dashboard
from slokit.render.grafana.dashboard_json import render_dashboard
from slokit.render.grafana.overview_dashboard import overview_dashboard
from slokit.render.grafana.service_dashboard import service_dashboard


def render(plan: ProjectPlan) -> dict[str, str]:
    outputs = {
        N.OVERVIEW_DASHBOARD_PATH: render_dashboard(overview_dashboard(plan)),
        N.COST_DASHBOARD_PATH: render_dashboard(cost_dashboard(plan)),
    }
    for service in plan.services:
        outputs[N.service_dashboard_path(service.service)] = render_dashboard(service_dashboard(service, plan.catalog))
    return outputs
