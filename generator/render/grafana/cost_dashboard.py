"""The cost dashboard: spend, budgets, and where the money goes.

Top: spend over the last 24 hours, the 30-day projection at that rate, the
change against the same day a week earlier, and spend per day. Then the
`budgets:` of the selected services in one table and one graph (one query
each, so the dashboard does not grow with the project; each budget's own
panels, cost-regression checks included, are on its service dashboard). Then spend by model, feature and tenant, cost
per successful call, and the top movers against last week.

"Spend over a day" is `increase(...[1d])`, never `rate(...[1d])` (which is
per second).
"""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.promql import Matcher, Selector
from slokit.render.grafana import signals as S
from slokit.render.grafana.dashboard_json import (
    Dashboard, DashboardLink, Override, Panel, PromQuery, Row, Step, Variable,
)
from slokit.render.grafana.queries import Filters, increase, legend, quantile, rate, ratio, variable_matcher
from slokit.render.grafana.slo_tables import budget_table, budget_used_timeseries
from slokit.render.grafana.shared import TAG, datasource_variable, description, label_variables

USD = "currencyUSD"
DAY = "1d"
WEEK = "1w"
MONTH_S = 30 * 86400
TOP_TENANTS = 10
GREEN, AMBER, RED = "green", "orange", "red"


def service_variable() -> Variable:
    query = f"label_values({Selector(N.BUDGET_LIMIT).render()}, {N.LABEL_SERVICE})"
    return Variable(N.LABEL_SERVICE, "Service", "query", query, multi=True, include_all=True, all_value=".*",
                    current="$__all", description="Services whose budgets are shown.")


def spend_panels(cost: S.Metric, f: Filters) -> tuple[Panel, ...]:
    sel = f.raw(cost)
    day = increase(sel, window=DAY)
    return (
        Panel("stat", "Spend, last 24 hours", "LLM spend over the last 24 hours for the chosen features and "
              "models (the first question of a cost review). Compare with the daily budgets below.",
              unit=USD, decimals=2, width=6, height=5, queries=(PromQuery(day, "spend", instant=True),)),
        Panel("stat", "Projected 30-day spend", "The last 24 hours' spend times 30: what a month costs if today "
              "is typical. For budget projections with alerting, see the budget panels.",
              unit=USD, decimals=0, width=6, height=5,
              queries=(PromQuery(f"{day} * {MONTH_S // 86400}", "projected", instant=True),)),
        Panel("stat", "Change vs same day last week", "Spend over the last 24 hours against the same 24 hours a "
              "week earlier. Over +50% without a traffic increase: look at the top movers and the cost per call.",
              unit="percentunit", decimals=1, width=6, height=5, color_background=True,
              steps=(Step(None, GREEN), Step(0.2, AMBER), Step(0.5, RED)),
              queries=(PromQuery(f"{ratio(day, increase(sel, window=DAY, offset=WEEK))}\n- 1", "change",
                                 instant=True),)),
        Panel("timeseries", "Spend per day, last 7 days", "Spend per day (one bar per day) over the last week, "
              "by feature. A day that stands out: open the breakdowns below on that day.",
              unit=USD, width=6, height=5, bars=True, stacked=True, time_from="7d",
              queries=(PromQuery(increase(sel, cost.only(S.FEATURE), window=DAY), legend(*cost.only(S.FEATURE)),
                                 interval=DAY),)),
    )


def breakdown_panels(signals: S.Signals, cost: S.Metric, f: Filters) -> tuple[Panel, ...]:
    sel = f.raw(cost)
    panels = []
    for label in (S.MODEL, S.FEATURE):
        if cost.has(label):
            panels.append(Panel(
                "timeseries", f"Spend by {label}", f"Spend rate by {label}, in dollars per hour, stacked. The "
                f"{label} whose band grows is where a cost spike comes from.",
                unit=USD, width=12, stacked=True,
                queries=(PromQuery(f"{rate(sel, (label,))} * 3600", legend(label)),)))
    if cost.has(S.TENANT):
        panels.append(Panel(
            "table", f"Top {TOP_TENANTS} tenants by spend", f"The {TOP_TENANTS} tenants that spent most over the "
            "dashboard's time range. One tenant far ahead of the rest: check its traffic and token use (a "
            "runaway integration) before raising any budget.",
            unit=USD, decimals=2, width=12,
            queries=(PromQuery(f"topk({TOP_TENANTS}, {increase(sel, (S.TENANT,))})", instant=True, table=True),),
            overrides=(Override("byName", "Value", (("displayName", "Spend"),)),)))
    requests = signals.get(S.REQUESTS)
    if requests is not None and requests.has(S.STATUS) and signals.has_value(S.STATUS, S.STATUS_OK):
        by = tuple(label for label in cost.only(S.FEATURE) if requests.has(label))
        ok = f.raw(requests, Matcher(S.STATUS, "=", S.STATUS_OK))
        panels.append(Panel(
            "timeseries", "Cost per successful call", "Spend divided by successful model calls, by feature "
            "(failed calls still cost money, so this is what one useful answer costs). A step up after a prompt "
            "or model change is a cost regression.",
            unit=USD, decimals=4, width=12, queries=(PromQuery(ratio(rate(sel, by), rate(ok, by)), legend(*by)),)))
    per_request = signals.get(S.REQUEST_COST)
    if per_request is not None:
        by = per_request.only(S.FEATURE)
        bucket = f.raw(per_request, suffix="_bucket")
        panels.append(Panel(
            "timeseries", "Cost per user request", "Cost of one user request (all its model calls) at p50 and p95 "
            "by feature. The tail is where runaway loops and pasted documents show.",
            unit=USD, decimals=4, width=12,
            queries=tuple(PromQuery(quantile(q, bucket, by), legend(*by, prefix=f"p{int(q * 100)}"),
                                    exemplar=(q == 0.95)) for q in (0.5, 0.95))))
    return tuple(panels)


def mover_panels(cost: S.Metric, f: Filters) -> tuple[Panel, ...]:
    sel = f.raw(cost)
    panels = []
    for label in (S.FEATURE, S.MODEL):
        if not cost.has(label):
            continue
        now = increase(sel, (label,), window=DAY)
        before = increase(sel, (label,), window=DAY, offset=WEEK)
        panels.append(Panel(
            "table", f"Top movers by {label} vs last week", f"Spend per {label} over the last 24 hours, the same "
            "24 hours a week earlier, and the change, largest increase first. The top row is where to look first.",
            unit=USD, decimals=2, width=12, merge=True,
            queries=(PromQuery(f"sort_desc({now} - {before})", instant=True, table=True),
                     PromQuery(now, instant=True, table=True), PromQuery(before, instant=True, table=True)),
            overrides=(Override("byName", "Value #A", (("displayName", "Change"),)),
                       Override("byName", "Value #B", (("displayName", "Last 24h"),)),
                       Override("byName", "Value #C", (("displayName", "Same day last week"),)))))
    return tuple(panels)


def budget_rows(plan: ProjectPlan, labels: tuple[str, ...]) -> tuple[Row, ...]:
    """Every budget of the selected services in two panels (one query each, whatever their number);
    each budget's own panels, with its limit and alert lines, are on its service's dashboard.

    The label variables narrow budgets kept `by` that label (`label=~"$label|"`: the chosen values, or
    no such label, so budgets not split by it stay in view whole)."""
    if not any(s.budgets for s in plan.services):
        return ()
    matchers = (variable_matcher(N.LABEL_SERVICE), *(Matcher(label, "=~", f"${label}|") for label in labels))
    panels = (budget_table(matchers, "Budgets", "Every spend and token budget of the selected services."),
              budget_used_timeseries(matchers))
    return (Row("Budgets", panels),)


def cost_dashboard(plan: ProjectPlan) -> Dashboard:
    signals = S.Signals(plan.catalog)
    variables = (datasource_variable(), service_variable()) + label_variables(None, signals)
    labels = tuple(v.name for v in variables if v.name in (S.FEATURE, S.MODEL))
    f = Filters(variables=labels, service=variable_matcher(N.LABEL_SERVICE))
    cost = signals.get(S.COST)
    rows: list[Row] = []
    if cost is not None:
        rows.append(Row("Spend", spend_panels(cost, f)))
    rows += budget_rows(plan, labels)
    if cost is not None:
        rows.append(Row("Where the money goes", breakdown_panels(signals, cost, f)))
        rows.append(Row("Top movers vs last week", mover_panels(cost, f)))
    return Dashboard(
        uid=N.DASHBOARD_COST_UID, title="slokit / Cost",
        description=description(plan.sources, "LLM spend across services: the last day and the projection, every "
                                              "budget against its limit, and the breakdown by model, feature and "
                                              "tenant."),
        tags=(TAG, "cost"), rows=tuple(rows), variables=variables,
        links=(DashboardLink("SLO overview", url=f"/d/{N.DASHBOARD_OVERVIEW_UID}"),
               DashboardLink("slokit dashboards", tags=(TAG,))),
        time_from="now-24h",
    )

