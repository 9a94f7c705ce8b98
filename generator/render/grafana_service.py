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
from slokit.promql import Selector, one_of
from slokit.render import grafana_signals as S
from slokit.render.common import header_lines
from slokit.render.grafana_budget import budget_panels
from slokit.render.grafana_layer import (
    Annotation, Dashboard, DashboardLink, Panel, Row, Variable,
)
from slokit.render.grafana_panels import Context, change_annotation_exprs, middle_rows
from slokit.render.grafana_queries import Filters, variable_matcher
from slokit.render.grafana_slo import slo_panels, sli_word
from slokit.render.grafana_traces import debug_panels

TAG = "slokit"
# Labels with a template variable on service dashboards, in display order.
VARIABLE_LABELS = (S.FEATURE, S.MODEL)


def datasource_variable() -> Variable:
    return Variable("datasource", "Data source", "datasource", "prometheus", current=N.DATASOURCE_PROMETHEUS_UID,
                    description="The Prometheus-compatible datasource every panel queries.")


def description(sources: tuple[str, ...], text: str) -> str:
    return " ".join(header_lines(sources)) + " " + text


def _variable_source(signals: S.Signals) -> S.Metric | None:
    """The metric variable values are read from: the one every model call increments."""
    return signals.get(S.REQUESTS)


def label_variables(service: ServicePlan | None, signals: S.Signals) -> tuple[Variable, ...]:
    """feature (limited to the service's scope) and model (limited to the chosen features)."""
    source = _variable_source(signals)
    if source is None:
        return ()
    variables, earlier = [], []
    for label in VARIABLE_LABELS:
        if not source.has(label):
            continue
        matchers = [one_of(k, list(v)) for k, v in (service.scope if service else ()) if source.has(k)]
        matchers += [variable_matcher(e) for e in earlier]
        query = f"label_values({Selector(source.name, tuple(matchers)).render()}, {label})"
        variables.append(Variable(label, label.capitalize(), "query", query, multi=True, include_all=True,
                                  all_value=".*", current="$__all",
                                  description=f"Narrows every panel whose series carry `{label}`."))
        earlier.append(label)
    return tuple(variables)


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


def annotations(context: Context, filters: Filters) -> tuple[Annotation, ...]:
    out = [Annotation(name, expr, legend_of(tags), name, tags, "purple")
           for name, expr, tags in change_annotation_exprs(context)]
    return tuple(out)


def legend_of(labels: tuple[str, ...]) -> str:
    return " ".join(f"{{{{{label}}}}}" for label in labels)


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
        annotations=annotations(context, filters),
        links=(DashboardLink("SLO overview", url=f"/d/{N.DASHBOARD_OVERVIEW_UID}"),
               DashboardLink("Cost", url=f"/d/{N.DASHBOARD_COST_UID}"),
               DashboardLink("slokit dashboards", tags=(TAG,))),
    )
