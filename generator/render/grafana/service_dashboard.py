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
from slokit.promql import Matcher, Selector
from slokit.render.grafana.budget_panels import budget_panels, regression_panel
from slokit.render.grafana.shared import TAG, VARIABLE_LABELS, datasource_variable, description, label_variables
from slokit.render.grafana.dashboard_json import Annotation, Dashboard, DashboardLink, Panel, PromQuery, Row, Variable
from slokit.render.grafana.signal_panels import Context, change_annotation_exprs, middle_rows
from slokit.render.grafana.queries import Filters, legend, service_matcher
from slokit.render.grafana.slo_panels import budget_steps, slo_panels, sli_word
from slokit.render.grafana.slo_tables import (
    Selection, budget_table, budget_used_timeseries, burn_table, burn_timeseries, catalog_groups,
    cost_per_event_timeseries, slo_table,
)
from slokit.render.grafana.trace_panels import debug_panels

# Over this many SLOs (or budgets) a service dashboard shows them all in tables
# with one detail row repeated per chosen SLO, instead of panels per SLO.
COMPACT_SLOS = 20
COMPACT_BUDGETS = 20

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
    if len(service.budgets) > COMPACT_BUDGETS:
        own = (service_matcher(service.service),)
        panels: tuple[Panel, ...] = (budget_table(own, "Budgets", f"Every budget of {service.service}."),
                                     budget_used_timeseries(own))
        if any(b.regression_factor is not None for b in service.budgets):
            panels += (cost_per_event_timeseries(own),)
    else:
        panels = tuple(p for b in service.budgets
                       for p in (*budget_panels(b, filters), *filter(None, (regression_panel(b, filters),))))
    return (Row("Budgets", panels),) if panels else ()


def slo_variable(service: ServicePlan) -> Variable:
    info = Selector(N.SLO_INFO, (service_matcher(service.service),)).render()
    return Variable(N.LABEL_SLO, "SLO", "query", f"label_values({info}, {N.LABEL_SLO})", multi=True,
                    include_all=True, all_value=".*", current="$__all", description="SLOs to show in detail.")


def compact_rows(service: ServicePlan, catalog: Catalog) -> tuple[Row, ...]:
    """A service with many SLOs: one table of all of them, and one row repeated per chosen `$slo`.

    Per-SLO rows would grow the dashboard by about 21 KB per SLO (past 1 MiB, the
    ConfigMap limit, at about 45 SLOs); these panels read the recorded series of
    every SLO at once, so the size stays the same at any count.
    """
    groups = catalog_groups(catalog)
    everything = Selection((service_matcher(service.service),), groups)
    chosen = everything.narrowed(Matcher(N.LABEL_SLO, "=~", "$" + N.LABEL_SLO))
    own_groups = tuple(dict.fromkeys(g for slo in service.slos for g in slo.group_by))
    label = legend(*own_groups)
    return (
        Row("Are we OK? Every SLO", (slo_table(everything, f"{service.service}: SLOs",
                                               f"The {len(service.slos)} SLOs of {service.service}.", height=12),)),
        Row("SLO ${slo}", (
            Panel("timeseries", "SLI vs objective", "SLI over the SLO's window against its objective (dashed).",
                  unit="percentunit", decimals=3, width=12, height=7,
                  queries=(PromQuery(f"1 - {chosen.of(N.SLO_ERROR_RATIO_WINDOW)}", f"SLI {label}".strip()),
                           PromQuery(chosen.of(N.SLO_OBJECTIVE), "objective"))),
            Panel("timeseries", "Error budget burn-down",
                  "Error budget left over the rolling window (100% = untouched, 0 = exhausted).",
                  unit="percentunit", width=12, height=7, steps=budget_steps(), threshold_style="dashed",
                  queries=(PromQuery(chosen.of(N.SLO_BUDGET_REMAINING), f"left {label}".strip()),)),
            burn_timeseries(chosen, legend("window", *own_groups)),
            burn_table(chosen, "Burn rates by window, now"),
        ), repeat=N.LABEL_SLO),
    )


def annotations(context: Context) -> tuple[Annotation, ...]:
    """Prompt version changes and deploys, as events on every time series panel."""
    return tuple(Annotation(name, expr, legend(*tags), name, tags, "purple")
                 for name, expr, tags in change_annotation_exprs(context))


def service_dashboard(service: ServicePlan, catalog: Catalog) -> Dashboard:
    signals = S.Signals(catalog)
    compact = len(service.slos) > COMPACT_SLOS
    variables = (datasource_variable(),) + label_variables(service, signals)
    filters = filters_for(service, variables)
    context = Context(service, signals, filters)
    if compact:
        variables += (slo_variable(service),)
        slo_part: tuple[Row, ...] = compact_rows(service, catalog)
    else:
        slo_part = (top_row(service, filters), *slo_rows(service, filters))
    rows = (slo_part[0], *budget_row(service, filters), *slo_part[1:],
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
