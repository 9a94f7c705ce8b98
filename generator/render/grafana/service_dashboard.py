"""One dashboard per service, in three tiers.

Top (are we OK?): each SLO's SLI and error budget left, and the budgets.
Middle (what is moving?): per SLO the SLI against its objective, the budget
burn-down and the burn rates against the alert thresholds; then traffic,
errors, latency, tokens, cache, retrieval, tools, quality and the change strip.
Bottom (debug): Tempo searches for the service's slow, failed and expensive
calls; latency and error panels link there too, and histogram panels show
exemplars that open single traces.
"""

from __future__ import annotations

from slokit import naming as N
from slokit.model import Catalog
from slokit.plan import ServicePlan
from slokit.render.grafana import signals as S
from slokit.render.grafana.budget_panels import budget_panels
from slokit.render.grafana.shared import TAG, VARIABLE_LABELS, datasource_variable, description, label_variables
from slokit.render.grafana.dashboard_json import Annotation, Dashboard, DashboardLink, Panel, Row, Variable
from slokit.render.grafana.signal_panels import Context, change_annotation_exprs, middle_rows
from slokit.render.grafana.queries import Filters, legend
from slokit.render.grafana.slo_panels import slo_panels, sli_word
from slokit.render.grafana.trace_panels import debug_panels

def filters_for(service: ServicePlan, variables: tuple[Variable, ...]) -> Filters:
    labels = tuple(v.name for v in variables if v.name in VARIABLE_LABELS)
    return Filters(scope=service.scope, variables=labels)


def top_row(service: ServicePlan, filters: Filters) -> Row:
    panels: list[Panel] = []
    for slo in service.slos:
        panels += slo_panels(slo, filters)[:2]
    return Row("Are we OK? SLIs and error budgets", tuple(panels))


def slo_rows(service: ServicePlan, filters: Filters) -> tuple[Row, ...]:
    return tuple(Row(f"SLO {slo.name}: {sli_word(slo)}", slo_panels(slo, filters)[2:]) for slo in service.slos)


def budget_row(service: ServicePlan, filters: Filters) -> tuple[Row, ...]:
    panels = tuple(p for b in service.budgets for p in budget_panels(b, filters))
    return (Row("Budgets", panels),) if panels else ()


def annotations(context: Context) -> tuple[Annotation, ...]:
    """Prompt version changes and deploys, as events on every time series panel."""
    return tuple(Annotation(name, expr, legend(*tags), name, tags, "purple")
                 for name, expr, tags in change_annotation_exprs(context))


def service_dashboard(service: ServicePlan, catalog: Catalog) -> Dashboard:
    signals = S.Signals(catalog)
    variables = (datasource_variable(),) + label_variables(service, signals)
    filters = filters_for(service, variables)
    context = Context(service, signals, filters)
    rows = (top_row(service, filters), *budget_row(service, filters), *slo_rows(service, filters),
            *middle_rows(context), Row("Debug: traces", debug_panels(service, catalog)))
    scope = ", ".join(f"{k} in ({', '.join(v)})" for k, v in service.scope) or "all traffic"
    text = (f"Service {service.service} (owner {service.owner}): {service.description} Scope: {scope}. "
            "Top: are the SLOs met? Middle: what is moving. Bottom: traces of slow, failed and expensive calls.")
    return Dashboard(
        uid=service.dashboard_uid, title=f"slokit / {service.service}", description=description(service.sources, text),
        tags=(TAG, service.service, service.owner), rows=rows, variables=variables,
        annotations=annotations(context),
        links=(DashboardLink("SLO overview", url=f"/d/{N.DASHBOARD_OVERVIEW_UID}"),
               DashboardLink("Cost", url=f"/d/{N.DASHBOARD_COST_UID}"),
               DashboardLink("slokit dashboards", tags=(TAG,))),
    )
