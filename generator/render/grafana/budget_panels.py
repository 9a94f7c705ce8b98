"""Spend and token budget panels, from the budget recording rules."""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import REGRESSION_WINDOW, BudgetPlan
from slokit.promql import number
from slokit.render.grafana.dashboard_json import Override, Panel, PromQuery, Step
from slokit.render.grafana.queries import Filters, legend
from slokit.windows import format_duration

GREEN, AMBER, RED = "green", "orange", "red"
# Display thresholds on the share of a budget used (DOMAIN.md section 11: 50/80/100%).
USED_WARN, USED_HIGH = 0.8, 1.0

# Grafana unit ids for the catalog's base units.
UNITS = {"usd": "currencyUSD", "seconds": "s", "tokens": "short", "ratio": "percentunit"}


def grafana_unit(catalog_unit: str) -> str:
    return UNITS.get(catalog_unit, "short")


def _legend(budget: BudgetPlan, prefix: str) -> str:
    return legend(*budget.by, prefix=prefix)


def budget_panels(budget: BudgetPlan, filters: Filters, width: int = 12) -> tuple[Panel, ...]:
    unit = grafana_unit(budget.unit)
    per = f" per {', '.join(budget.by)}" if budget.by else ""
    limit = f"{number(budget.limit)} {budget.unit} per {budget.window}{per}"
    used = filters.budget(budget, N.BUDGET_USED_WINDOW)
    projected = filters.budget(budget, N.BUDGET_PROJECTED)
    remaining = filters.budget(budget, N.BUDGET_REMAINING)
    what = budget.description or budget.name
    return (
        Panel("stat", f"{budget.service}/{budget.name}: budget used",
              f"{what} Share of the limit ({limit}) used over the last {budget.window}, the amount used, and "
              f"the amount projected over {budget.window} at the rate of the last {budget.long_window}. Amber "
              f"from {int(USED_WARN * 100)}%, red at the limit: see the spend breakdown for the feature or model "
              "that grew.",
              unit="percentunit", decimals=1, width=width, height=6, color_background=True,
              steps=(Step(None, GREEN), Step(USED_WARN, AMBER), Step(USED_HIGH, RED)),
              queries=(PromQuery(f"1 - {remaining}", _legend(budget, "used"), instant=True),
                       PromQuery(used, _legend(budget, "used"), instant=True),
                       PromQuery(projected, _legend(budget, "projected"), instant=True)),
              overrides=(Override("byFrameRefID", "B", (("unit", unit),)),
                         Override("byFrameRefID", "C", (("unit", unit),)))),
        Panel("timeseries", f"{budget.service}/{budget.name}: used and projected vs limit",
              f"Amount used over the rolling {budget.window} and the projection at the last "
              f"{budget.long_window}'s rate; the dashed line is the limit ({limit}). The projected-overrun alert "
              f"fires when the projections over {budget.long_window} and {budget.short_window} both cross it.",
              unit=unit, width=width, height=6, threshold_style="dashed",
              steps=(Step(None, GREEN), Step(float(budget.limit), RED)),
              queries=(PromQuery(used, _legend(budget, "used")),
                       PromQuery(projected, _legend(budget, "projected")))),
    )


def regression_panel(budget: BudgetPlan, filters: Filters) -> Panel | None:
    if budget.regression_factor is None or budget.regression_offset is None:
        return None
    window = format_duration(REGRESSION_WINDOW)
    now = filters.budget(budget, N.budget_cost_per_event(window))
    factor = number(budget.regression_factor)
    return Panel(
        "timeseries", f"{budget.service}/{budget.name}: cost per event vs {budget.regression_offset} ago",
        f"{budget.unit} per event over the last {window}, against {factor}x its value {budget.regression_offset} "
        "earlier (the cost-regression alert fires above that line for 30 minutes). A jump right after a prompt "
        "or model change (see the change strip of the service dashboard) is a regression to roll back.",
        unit=grafana_unit(budget.unit), decimals=4, width=12,
        queries=(PromQuery(now, _legend(budget, "now")),
                 PromQuery(f"{factor} * {now} offset {budget.regression_offset}", _legend(budget, "alert above"))))
