"""Grafana dashboards: the SLO overview, the cost dashboard and one per service.

The dashboards are described in grafana_overview / grafana_cost /
grafana_service (panels in grafana_slo, grafana_budget, grafana_panels,
grafana_traces) and rendered to JSON by the thin layer over grafanalib
(grafana_layer).
"""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.render.grafana_cost import cost_dashboard
from slokit.render.grafana_layer import render_dashboard
from slokit.render.grafana_overview import overview_dashboard
from slokit.render.grafana_service import service_dashboard


def render(plan: ProjectPlan) -> dict[str, str]:
    outputs = {
        N.OVERVIEW_DASHBOARD_PATH: render_dashboard(overview_dashboard(plan)),
        N.COST_DASHBOARD_PATH: render_dashboard(cost_dashboard(plan)),
    }
    for service in plan.services:
        outputs[N.service_dashboard_path(service.service)] = render_dashboard(service_dashboard(service, plan.catalog))
    return outputs
