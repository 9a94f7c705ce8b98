"""The SLO overview: every service's SLOs, one query per column for all of them.

Its size does not grow with the project (a 10,000-SLO project gets the same
panels as the example): the `team` and `service` variables choose what is
shown, the summary counts and the table of all SLOs (worst first) cover the
whole selection, and one row, repeated by Grafana for each selected service, holds
that service's SLO table and burn rates. Adding, removing or changing a
service changes no panel here, only the header's list of sources.
"""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.promql import Matcher, Selector
from slokit.render.grafana.dashboard_json import Dashboard, DashboardLink, Link, Panel, Row, Variable
from slokit.render.grafana.queries import variable_matcher
from slokit.render.grafana.shared import TAG, datasource_variable, description
from slokit.render.grafana.slo_panels import AMBER, GREEN, RED, STATUS_AT_RISK, STATUS_BREACHED, STATUS_OK
from slokit.render.grafana.slo_tables import (
    Selection, burn_table, catalog_groups, severities, slo_table, status_count_panel,
)

SERVICE_DASHBOARDS = "/dashboards?tag=" + TAG + "&tag=${" + N.LABEL_SERVICE + "}"


def team_variable() -> Variable:
    query = f"label_values({Selector(N.SLO_INFO).render()}, {N.LABEL_TEAM})"
    return Variable(N.LABEL_TEAM, "Team", "query", query, multi=True, include_all=True, all_value=".*",
                    current="$__all", description="Owning teams whose services to show.")


def service_variable() -> Variable:
    info = Selector(N.SLO_INFO, (variable_matcher(N.LABEL_TEAM),)).render()
    return Variable(N.LABEL_SERVICE, "Service", "query", f"label_values({info}, {N.LABEL_SERVICE})", multi=True,
                    include_all=True, all_value=".*", current="$__all",
                    description="Services to show (narrowed by the team variable).")


def _selection(plan: ProjectPlan, *matchers: Matcher) -> Selection:
    page, ticket = severities(plan)
    return Selection(matchers, catalog_groups(plan.catalog), page, ticket)


def summary_row(sel: Selection) -> Row:
    panels: tuple[Panel, ...] = (
        status_count_panel(sel, STATUS_BREACHED, "SLOs breached", RED,
                           "SLOs (and group values) of the selected services whose error budget is gone or "
                           "whose page fires."),
        status_count_panel(sel, STATUS_AT_RISK, "SLOs at risk", AMBER,
                           "SLOs with under 25% of their error budget left, or a ticket firing."),
        status_count_panel(sel, STATUS_OK, "SLOs OK", GREEN, "SLOs with budget to spare and no alert firing."),
        slo_table(sel, "All selected SLOs, worst first", "Every SLO of the selected services, BREACHED and AT RISK "
                  "on top.", links=(Link("slokit dashboards", "/dashboards?tag=" + TAG),), height=12,
                  worst_first=True),
    )
    return Row("Summary of the selected services", panels)


def service_row(sel: Selection) -> Row:
    """Repeated by Grafana once per selected service (`$service` is then that one service)."""
    links = (Link("${service} dashboards", SERVICE_DASHBOARDS),)
    own = sel.narrowed(Matcher(N.LABEL_SERVICE, "=~", "$" + N.LABEL_SERVICE))
    return Row("Service ${service}", (
        slo_table(own, "${service}: SLOs", "The SLOs of ${service}.", links=links),
        burn_table(own, "${service}: burn rates by window", links=links),
    ), repeat=N.LABEL_SERVICE)


def overview_dashboard(plan: ProjectPlan) -> Dashboard:
    everything = _selection(plan, variable_matcher(N.LABEL_SERVICE))
    return Dashboard(
        uid=N.DASHBOARD_OVERVIEW_UID, title="slokit / SLO overview",
        description=description(plan.sources, "Every SLO of the selected teams and services: how many are "
                                              "breached or at risk, which ones, and per service the SLI over the "
                                              "window, error budget left and burn rates. Each service row links "
                                              "to its dashboard."),
        tags=(TAG, "overview"), rows=(summary_row(everything), service_row(everything)),
        variables=(datasource_variable(), team_variable(), service_variable()),
        links=(DashboardLink("slokit dashboards", tags=(TAG,)),
               DashboardLink("Cost", url=f"/d/{N.DASHBOARD_COST_UID}")),
        time_from="now-24h",
    )
