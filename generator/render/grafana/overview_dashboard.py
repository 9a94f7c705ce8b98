"""The SLO overview: every service's SLOs on one page, with links to each service.

Per service: a traffic light per SLO (and per group value), a table with the
objective, the SLI over the window, the error budget left (share, bad events
still allowed, and minutes of full outage) and the firing alerts, and a table
of burn rates over every alert window next to their thresholds.
"""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ProjectPlan, ServicePlan
from slokit.promql import Selector
from slokit.render.grafana.dashboard_json import (
    Dashboard, DashboardLink, Link, Override, Panel, PromQuery, Row, ValueText, Variable,
)
from slokit.render.grafana.queries import Filters, variable_matcher
from slokit.render.grafana.shared import TAG, datasource_variable, description
from slokit.render.grafana.slo_panels import (
    AMBER, BURN_UNIT, GREEN, RED, STATUS_AT_RISK, STATUS_BREACHED, STATUS_OK, budget_events_left_expr,
    budget_steps, budget_time_left_expr, burn_table_expr, firing_expr, objective_expr, of_service, sli_expr,
    status_expr,
)

STATUS_MAPPINGS = (ValueText(STATUS_OK, "OK", GREEN), ValueText(STATUS_AT_RISK, "AT RISK", AMBER),
                   ValueText(STATUS_BREACHED, "BREACHED", RED))


def service_variable() -> Variable:
    query = f"label_values({Selector(N.SLO_INFO).render()}, {N.LABEL_SERVICE})"
    return Variable(N.LABEL_SERVICE, "Service", "query", query, multi=True, include_all=True, all_value=".*",
                    current="$__all", description="Services to show.")


def _legend(groups: tuple[str, ...]) -> str:
    return " ".join(f"{{{{{label}}}}}" for label in (N.LABEL_SLO, *groups))


def _service_link(service: ServicePlan) -> Link:
    return Link(f"{service.service} dashboard", f"/d/{service.dashboard_uid}")


def status_panel(service: ServicePlan, filters: Filters) -> Panel:
    groups = of_service(service.service, service.slos, filters).group_by
    return Panel(
        "stat", f"{service.service}: SLO status",
        "One light per SLO (and per group value). OK; AT RISK when under 25% of the error budget is left or a "
        "ticket-severity burn alert fires; BREACHED when the budget is exhausted or a page fires. Click through "
        "to the service dashboard for the burn rates and the signals behind them.",
        unit="none", width=24, height=5, mappings=STATUS_MAPPINGS, color_background=True,
        queries=(PromQuery(status_expr(service.service, service.slos, filters), _legend(groups), instant=True),),
        links=(_service_link(service),))


def slo_table(service: ServicePlan, filters: Filters) -> Panel:
    s = of_service(service.service, service.slos, filters)
    queries = (objective_expr(s), sli_expr(s), s.grouped(N.SLO_BUDGET_REMAINING), budget_events_left_expr(s),
               budget_time_left_expr(s), firing_expr(service.service, service.slos, filters))
    columns = (("Objective", "percentunit", 3), ("SLI over window", "percentunit", 3), ("Budget left", "percentunit", 1),
               ("Bad events still allowed", "short", 0), ("Full outage allowed", "s", 0), ("Firing alerts", "none", 0))
    overrides = tuple(Override("byName", f"Value #{chr(ord('A') + i)}",
                               (("displayName", name), ("unit", unit), ("decimals", decimals)))
                      for i, (name, unit, decimals) in enumerate(columns))
    windows = ", ".join(f"{slo.name} {slo.window}" for slo in service.slos)
    return Panel(
        "table", f"{service.service}: SLOs",
        f"Per SLO (and group value): objective, SLI over the SLO's window ({windows}), share of the error budget "
        "left, the bad events the budget still allows, how long a full outage could last before it is gone, and "
        "the slokit alerts firing. Sort by budget left to see what needs attention first.",
        unit="none", width=24, height=8, queries=tuple(PromQuery(q, instant=True, table=True) for q in queries),
        merge=True, hide_columns=(N.LABEL_SERVICE,), overrides=overrides + (
            Override("byName", "Value #C", (("custom.cellOptions", {"type": "color-background"}),
                                            ("thresholds", {"mode": "absolute",
                                                            "steps": [{"color": s.color, "value": s.value}
                                                                      for s in budget_steps()]}))),),
        links=(_service_link(service),))


def burn_table(service: ServicePlan, filters: Filters) -> Panel:
    burn = "\nor\n".join(burn_table_expr(slo, filters, threshold=False) for slo in service.slos)
    threshold = "\nor\n".join(burn_table_expr(slo, filters, threshold=True) for slo in service.slos)
    return Panel(
        "table", f"{service.service}: burn rates by alert window",
        "Burn rate (error ratio / error budget; 1 spends the budget exactly over the SLO window) over each alert "
        "window, next to the alert's threshold. An alert fires when both windows of a tier (e.g. 1h and 5m) "
        "are above its threshold; '(off)' tiers are disabled for this SLO.",
        unit=BURN_UNIT, width=24, height=8, merge=True, hide_columns=(N.LABEL_SERVICE,),
        queries=(PromQuery(burn, instant=True, table=True), PromQuery(threshold, instant=True, table=True)),
        overrides=(Override("byName", "Value #A", (("displayName", "Burn rate"), ("decimals", 2))),
                   Override("byName", "Value #B", (("displayName", "Alert threshold"), ("decimals", 2)))),
        links=(_service_link(service),))


def service_row(service: ServicePlan, filters: Filters) -> Row:
    panels = (status_panel(service, filters), slo_table(service, filters), burn_table(service, filters))
    return Row(f"{service.service} (owner {service.owner})", panels)


def overview_dashboard(plan: ProjectPlan) -> Dashboard:
    filters = Filters(variables=(N.LABEL_SERVICE,), service=variable_matcher(N.LABEL_SERVICE))
    rows = tuple(service_row(s, filters) for s in plan.services if s.slos)
    return Dashboard(
        uid=N.DASHBOARD_OVERVIEW_UID, title="slokit / SLO overview",
        description=description(plan.sources, "Every SLO of every service: status, SLI over the window, error "
                                              "budget left and burn rates. Each service row links to its "
                                              "dashboard."),
        tags=(TAG, "overview"), rows=rows, variables=(datasource_variable(), service_variable()),
        links=tuple(DashboardLink(f"{s.service}", url=f"/d/{s.dashboard_uid}") for s in plan.services)
        + (DashboardLink("Cost", url=f"/d/{N.DASHBOARD_COST_UID}"),),
        time_from="now-24h",
    )
